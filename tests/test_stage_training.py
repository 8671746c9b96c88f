"""The supervised stage path, end to end on a synthetic tree in the RUS-CHN crop set's layout."""
import json

import cv2
import numpy as np
import pytest
import torch

from bone_age.hand.standard import load_standard
from bone_age.training.stage_data import load_rus_chn_tree
from bone_age.training.stages import prior_stages, train_supervised


def make_tree(root, categories=("DIP", "Radius"), stages=(1, 2, 3, 4), per_stage=24, seed=0):
    """Crops whose bright 'epiphysis' bar grows with the stage; train.txt/test.txt list relative paths."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for cat in categories:
        for s in stages:
            d = root / "images" / cat / str(s)
            d.mkdir(parents=True)
            for i in range(per_stage):
                img = (rng.random((48, 40)) * 60).astype(np.uint8)
                w = 2 + 7 * s
                cv2.rectangle(img, (20 - w // 2, 10), (20 + w // 2, 16), 230, -1)
                name = f"{cat}_{s}_{i}.png"
                cv2.imwrite(str(d / name), img)
                (test if i % 4 == 0 else train).append(f"{cat}/{s}/{name}")
    (root / "train.txt").write_text("\n".join(train))
    (root / "test.txt").write_text("\n".join(test))
    return len(train), len(test)


def test_tree_loader_reads_the_layout(tmp_path):
    n_train, n_test = make_tree(tmp_path, per_stage=4)
    splits = load_rus_chn_tree(tmp_path, list(load_standard().categories))
    assert (len(splits["train"]), len(splits["test"])) == (n_train, n_test)
    assert {c.category for c in splits["train"]} == {"DIP", "Radius"}
    assert {c.stage for c in splits["test"]} == {1, 2, 3, 4}


def test_tree_loader_without_crops_fails_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="no crops"):
        load_rus_chn_tree(tmp_path, ["DIP"])


@pytest.mark.slow
def test_supervised_training_learns(tmp_path):
    make_tree(tmp_path / "tree")
    weights, metrics = train_supervised(tmp_path / "tree", tmp_path / "stage.synthetic", epochs=15, crop=32, batch=16,
                                        device="cpu")
    assert weights.is_file()
    card = json.loads((tmp_path / "stage.synthetic.json").read_text())
    assert card["training_mode"] == "supervised" and card["test_metrics"]["all"]["n"] == 48
    assert set(metrics) == {"DIP", "Radius", "all"}
    assert metrics["all"]["accuracy"] > 0.8  # chance: 1/4 even when guessing among the 4 stages used
    assert metrics["all"]["within_one"] >= metrics["all"]["accuracy"]
    with pytest.raises(FileExistsError):
        train_supervised(tmp_path / "tree", tmp_path / "stage.synthetic", epochs=1, crop=32, device="cpu")


def test_prior_spreads_a_common_maturity_over_bones():
    std = load_standard()
    young, old = prior_stages(std, "female", 150), prior_stages(std, "female", 900)
    assert (old > young).all()
    assert all(1 <= s <= std.n_stages(b) for s, b in zip(old, std.bones))


def test_age_of_total_follows_the_standard_table_with_a_usable_gradient():
    import torch

    from bone_age.training.stages import age_curve, age_of_total

    std = load_standard()
    totals = torch.tensor([150.0, 400.0, 650.0, 900.0, 150.0, 400.0, 650.0, 900.0, 1000.0], requires_grad=True)
    sex = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 0])
    ages = age_of_total(totals, sex, age_curve(std))
    table = [std.age_for_score(("female", "male")[s], float(t))[0] for t, s in zip(totals.detach(), sex)]
    assert np.allclose(ages.detach().numpy(), table, atol=0.15)  # the table's 0.1 y steps, interpolated
    assert ages[-1].item() == 17.0  # the girls' table ends at 17 y: clipped, not extrapolated
    ages[:-1].sum().backward()
    assert (totals.grad[:-1] > 0).all()  # a higher total means an older hand wherever the table rises


class _FakeLocalizer:
    """Puts the synthetic hand's keypoints on any film and records the film shapes it was given."""

    gate = None
    UPRIGHT_DEG, TWO_HANDS_ASPECT, SEARCH = 20.0, 1.5, "stand-in"  # the search settings a keypoint cache records

    def __init__(self):
        from types import SimpleNamespace

        self.model = SimpleNamespace(name="fake", sha256="f0")
        self.shapes = []

    def __call__(self, film):
        from types import SimpleNamespace

        from test_regions import synthetic_hand

        h, w = film.pixels.shape
        self.shapes.append((h, w))
        kp = synthetic_hand(scale=min(h, w) / 6, origin=(0.4 * w, 0.85 * h))
        return SimpleNamespace(keypoints=kp, is_hand=True, hand_side="left")


def _rsna_hands_tree(root, ids):
    """The rsna_hands layout: labels.csv (id, file, boneage_months, male, width, height) and images/."""
    rng = np.random.default_rng(1)
    (root / "images").mkdir(parents=True)
    rows = ["id,file,boneage_months,male,width,height"]
    for k, i in enumerate(ids):
        cv2.imwrite(str(root / "images" / f"{i}.png"), (rng.random((160, 120)) * 255).astype(np.uint8))
        rows.append(f"{i},{i}.png,{30 + 20 * k},{'True' if k % 2 else 'False'},120,160")
    (root / "labels.csv").write_text("\n".join(rows) + "\n")


def test_weak_films_mix_full_resolution_and_unsquashed_299px_films(tmp_path):
    from bone_age.training.splits import split_of
    from bone_age.training.stage_data import RSNA_ASPECT
    from bone_age.training.stages import weak_films

    from conftest import reserved_list, rsna_299_tree

    rsna_299_tree(tmp_path / "rsna299", n=20)
    hands_ids = ["90001", "90002", "80000", "80001", "80002"]
    _rsna_hands_tree(tmp_path / "hands", hands_ids)
    loc = _FakeLocalizer()
    with reserved_list(tmp_path / "shared", ids=("80002",)):
        full, low = weak_films([tmp_path / "hands", tmp_path / "rsna299"], loc, None, None)
        with pytest.raises(FileNotFoundError, match="rsna_hands"):
            weak_films([tmp_path / "rsna299"], loc, None, None)
        with pytest.raises(FileNotFoundError, match="neither"):
            weak_films([tmp_path], loc, None, None)
    assert [f.id for f in full] == hands_ids[:4]  # the reserved id dropped
    expected = {str(90000 + k) for k in range(20)} - set(hands_ids)
    assert {f.id for f in low} == {i for i in expected if split_of(i) != "test"} and low  # train + val ids
    assert all(f.pixels.shape == (round(64 * RSNA_ASPECT), 64) for f in low)  # stretched back before localizing
    assert all(f.pixels.shape == (160, 120) for f in full)
    assert set(loc.shapes) == {(160, 120), (round(64 * RSNA_ASPECT), 64)}
    assert all(len(f.regions) == 13 for f in full + low)


@pytest.mark.slow
def test_weak_training_mixes_sources_and_goes_on_from_a_saved_model(tmp_path, monkeypatch):
    from bone_age.training import stages

    from conftest import reserved_list, rsna_299_tree

    rsna_299_tree(tmp_path / "rsna299", n=12)
    _rsna_hands_tree(tmp_path / "hands", [str(80000 + k) for k in range(8)])
    monkeypatch.setattr(stages, "Localizer", lambda model: _FakeLocalizer())
    monkeypatch.setattr(stages, "load_model", lambda name, device=None: None)
    monkeypatch.setenv("BONE_AGE_MODELS", str(tmp_path / "models"))
    roots = [tmp_path / "hands", tmp_path / "rsna299"]
    with reserved_list(tmp_path / "shared"):
        stages.train_weak(roots, tmp_path / "models" / "stage_a", localizer="fake", epochs=1, crop=32, device="cpu")
        stages.train_weak(roots, tmp_path / "models" / "stage_b", localizer="fake", epochs=1, device="cpu",
                          init="stage_a", lr=1e-4, read_weight=0.5, consistency=0.5, age_balance=0.5,
                          age_balance_below=5.0)
    a, b = (json.loads((tmp_path / "models" / f"stage_{n}.json").read_text()) for n in "ab")
    assert a["initialised_from"] == "ImageNet EfficientNet-Lite0" and b["initialised_from"].startswith("stage_a (sha256 ")
    assert a["crop_size"] == b["crop_size"] == 32  # the crop side goes on from --init's unless given
    assert a["n_train_299px"] > 0 and "299 px RSNA copy" in a["data"] and b["learning_rate"] == 1e-4
    assert a["n_train"] > a["n_train_299px"] and (a["read_weight"], b["read_weight"]) == (0.0, 0.5)
    assert (a["consistency"], b["consistency"]) == (0.0, 0.5) and (a["age_balance"], b["age_balance"]) == (0.0, 0.5)
    assert (a["age_balance_below"], b["age_balance_below"]) == (None, 5.0)
    assert 0 < a["low_confidence_threshold"] <= 1 and "quantile" in a["low_confidence_rule"]
    assert set(a["paired_disagreement_stages"]) == {"MCP", "PIP", "MIP", "DIP"} and "1%" in a["paired_disagreement_rule"]


def test_epoch_order_shuffles_or_favours_rare_ages():
    from bone_age.training.stages import epoch_order

    ages = np.concatenate([np.full(20, 2.5), np.full(980, 11.5)])
    plain = epoch_order(ages, 0.0, np.random.default_rng(0))
    assert sorted(plain) == list(range(1000))
    drawn = epoch_order(ages, 0.5, np.random.default_rng(0))
    assert len(drawn) == 1000 and drawn.max() < 1000
    # weights 20**-0.5 vs 980**-0.5: the young films' share is 20*sqrt(980/20)/(20*sqrt(980/20)+980) = 12.5 %, not 2 %
    assert 0.09 < (ages[drawn] < 5).mean() < 0.16
    assert np.array_equal(drawn, epoch_order(ages, 0.5, np.random.default_rng(0)))
    full = epoch_order(ages, 1.0, np.random.default_rng(1))
    assert 0.45 < (ages[full] < 5).mean() < 0.55  # power 1: each age bin drawn equally often
    # only the young favoured: 20 films at 2.5 y weigh (20 / 680) ** -0.5 = 5.8 each, the older ones 1 whatever their bin
    ages = np.concatenate([np.full(20, 2.5), np.full(300, 8.5), np.full(680, 11.5)])
    young = epoch_order(ages, 0.5, np.random.default_rng(2), below=5)
    share = 20 * (20 / 680) ** -0.5 / (20 * (20 / 680) ** -0.5 + 980)
    assert abs((ages[young] < 5).mean() - share) < 0.03
    older = ages[young][ages[young] >= 5]
    assert abs((older == 8.5).mean() - 300 / 980) < 0.04  # the two older bins keep their own proportions


def test_paired_limits_warn_about_at_most_the_requested_share_of_films():
    from bone_age.training.stages import paired_disagreement_limits

    std = load_standard()
    third, fifth = std.bones.index("MIPThird"), std.bones.index("MIPFifth")
    stages = np.full((200, 13), 5)
    stages[:, fifth] = 5 + np.repeat([0, 1, 2, 3, 6], [150, 30, 14, 4, 2])  # 2 films 6 apart, 4 more 3 apart, ...
    limits = paired_disagreement_limits(std, stages, share=0.01)
    assert limits["MIP"] == 4 and limits["MCP"] == limits["PIP"] == limits["DIP"] == 2  # 2: the floor, none apart
    assert paired_disagreement_limits(std, stages, share=0.03)["MIP"] == 3  # 6 of 200 films at 3 or more
    assert np.mean(np.abs(stages[:, third] - stages[:, fifth]) >= limits["MIP"]) <= 0.01


def test_low_confidence_threshold_flags_the_requested_share_of_bones():
    from bone_age.training.stages import low_confidence_threshold

    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(6), size=(200, 13))
    t = low_confidence_threshold(probs, 0.05)
    read = (np.cumsum(probs, -1) < 0.5).sum(-1)
    conf = np.take_along_axis(probs, read[..., None], -1)[..., 0]
    assert abs(np.mean(conf < t) - 0.05) < 0.005
    assert low_confidence_threshold(probs, 0.01) < t


def test_read_total_is_the_pipelines_reading_and_the_read_loss_has_a_gradient():
    from bone_age.hand.scoring import median_stage
    from bone_age.nets import StageNet
    from bone_age.training.stages import _tables, age_curve, read_total, weak_loss

    std = load_standard()
    cats, bone_cat, pts = _tables(std)
    net = StageNet([std.stages_per_category[c] for c in cats])
    sex = torch.tensor([0, 1, 1])
    cat = bone_cat.repeat(3)
    z = torch.linspace(-4, 4, 39, requires_grad=True)
    read = median_stage(net.probabilities(z, cat).detach().numpy().reshape(3, 13, -1))
    expect = [std.score(("female", "male")[int(s)], dict(zip(std.bones, map(int, r)))).total_score for s, r in zip(sex, read)]
    assert read_total(net.cumulative_logits(z, cat), pts[sex]).tolist() == expect
    target = torch.tensor([300.0, 500.0, 900.0])
    prior = torch.full((3, 13, pts.shape[-1] - 1), 0.5)
    loss, _ = weak_loss(net, z, cat, sex, target, prior, pts, torch.tensor([[3, 4]]), age_curve(std), w_read=1.0, w_prior=0.0, w_pair=0.0)
    loss.backward()
    assert z.grad.abs().sum() > 0
