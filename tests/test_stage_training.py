"""The supervised stage path, end to end on a synthetic tree in the RUS-CHN crop set's layout."""
import json

import cv2
import numpy as np
import pytest

from bone_age.training.stage_data import load_rus_chn_tree
from bone_age.training.stages import prior_stages, train_supervised
from bone_age.standard import load_standard


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
