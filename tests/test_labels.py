"""The label store: reviewed bones as crops in the RUS-CHN crop layout plus an index; replaced on re-review, written
atomically, refused clearly where it cannot be written; read by the supervised trainer as it is; and fine-tuning
from it that ships only by its rule."""
import json
from dataclasses import replace

import numpy as np
import pytest

from bone_age.hand.labels import LabelStore, LabelStoreError, agreement_by_category, summary_lines
from bone_age.hand.results import Assessment, BoneStage, Region
from bone_age.hand.scoring import override_stages
from bone_age.hand.standard import load_standard
from bone_age.io.film import film_from_array


def _film(seed: int = 0):
    return film_from_array(np.random.default_rng(seed).random((400, 360)).astype(np.float32), f"film{seed}.png")


def _assessment(stage: int = 3) -> Assessment:
    std = load_standard()
    regions, stages = [], []
    for i, bone in enumerate(std.bones):
        x, y = 40 + 55 * (i % 5), 40 + 110 * (i // 5)
        regions.append(Region(bone, std.category_of(bone), (x, y, x + 40, y + 60), (x + 20.0, y + 30.0), 0.9,
                              size_wh=(40.0, 60.0), crop_side_px=70.0))
        n = std.n_stages(bone)
        stages.append(BoneStage(bone, std.category_of(bone), stage, tuple([1.0 / n] * n), 0.5,
                                std.points_for("F", bone, stage)))
    total = sum(s.points for s in stages)
    age, flag = std.age_for_score("F", total)
    return Assessment(source="film0.png", sex="female", regions=tuple(regions), stages=tuple(stages),
                      total_score=total, bone_age_years=age, range_flag=flag, model_versions={"stage.v1": "a" * 64})


def _review(store, film, a, corrections):
    model = {s.bone: s.stage for s in a.stages}
    reviewed = override_stages(a, corrections) if corrections else a
    return store.save_review(film, reviewed, "dr_li", [s.bone for s in a.stages], model)


def test_a_review_stores_13_bones_with_both_crops_and_an_index(tmp_path):
    store = LabelStore(tmp_path / "labels", crop_size=80)
    saved = _review(store, _film(), _assessment(), {"Radius": 5, "DIPFifth": 4})
    entries = store.entries()
    assert len(saved) == len(entries) == 13 and {e.bone for e in entries} == set(load_standard().bones)
    by_bone = {e.bone: e for e in entries}
    assert by_bone["Radius"].status == "corrected" and (by_bone["Radius"].stage_model, by_bone["Radius"].stage_reader) == (3, 5)
    assert by_bone["Ulna"].status == "confirmed" and by_bone["Ulna"].reader == "dr_li"
    assert by_bone["Radius"].crop == f"images/Radius/5/{entries[0].film_sha256[:16]}_Radius.png"
    import cv2

    crop = cv2.imread(str(store.root / by_bone["Radius"].crop), cv2.IMREAD_GRAYSCALE)
    context = cv2.imread(str(store.root / by_bone["Radius"].context), cv2.IMREAD_GRAYSCALE)
    assert crop.shape == (80, 80) and context.shape == (240, 240) and crop.std() > 0
    assert all(json.loads(line)["model_versions"] == {"stage.v1": "a" * 64}
               for line in (store.root / "index.jsonl").read_text().splitlines())
    assert not list(store.root.rglob("*.tmp")) and not (store.root / ".lock").exists()


def test_reviewing_the_same_film_again_replaces_its_entries(tmp_path):
    store = LabelStore(tmp_path / "labels")
    film, a = _film(), _assessment()
    _review(store, film, a, {"Radius": 5})
    _review(store, _film(1), replace(a, source="film1.png"), {})
    _review(store, film, a, {"Radius": 6})
    entries = store.entries()
    assert len(entries) == 26 and len({e.film_sha256 for e in entries}) == 2
    radius = [e for e in entries if e.bone == "Radius" and e.status == "corrected"]
    assert [e.stage_reader for e in radius] == [6]
    assert not list((store.root / "images" / "Radius" / "5").glob("*.png"))  # the replaced crop is gone
    assert len(list((store.root / "images").rglob("*.png"))) == 26


def test_a_killed_index_write_leaves_the_old_index_whole(tmp_path, monkeypatch):
    import bone_age._atomic as atomic

    store = LabelStore(tmp_path / "labels")
    _review(store, _film(), _assessment(), {})
    before = (store.root / "index.jsonl").read_bytes()
    real = atomic.os.replace

    def dies_on_the_index(src, dst):
        if str(dst).endswith("index.jsonl"):
            raise KeyboardInterrupt  # the process stopped between writing the new index and renaming it
        return real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", dies_on_the_index)
    with pytest.raises(KeyboardInterrupt):
        _review(store, _film(1), replace(_assessment(), source="film1.png"), {})
    monkeypatch.undo()
    assert (store.root / "index.jsonl").read_bytes() == before and len(store.entries()) == 13
    assert not list(store.root.rglob("*.tmp"))


def test_a_store_that_cannot_be_written_is_refused_before_anything_changes(tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the store's folder would be")
    with pytest.raises(LabelStoreError, match="cannot be written"):
        _review(LabelStore(blocker / "labels"), _film(), _assessment(), {})
    assert blocker.read_text().startswith("a file")


def test_the_store_is_read_by_the_supervised_trainer_as_it_is(tmp_path):
    from bone_age.training.stage_data import load_rus_chn_tree

    store = LabelStore(tmp_path / "labels")
    _review(store, _film(), _assessment(), {"Radius": 5})
    tree = load_rus_chn_tree(store.root, list(load_standard().categories))
    assert len(tree["train"]) == 13
    assert {(c.category, c.stage) for c in tree["train"] if c.category == "Radius"} == {("Radius", 5)}


def test_the_summary_counts_and_measures_agreement(tmp_path):
    store = LabelStore(tmp_path / "labels")
    _review(store, _film(), _assessment(), {"Radius": 5, "Ulna": 4})
    agree = agreement_by_category(store.entries())
    assert agree["Radius"].exact == 0.0 and agree["Ulna"].within_one == 1.0 and agree["all"].n == 13
    assert agree["all"].exact == pytest.approx(11 / 13, abs=1e-4)
    lines = summary_lines(store)
    assert "13 bones of 1 films" in lines[0] and "dr_li (13 bones)" in lines[0] and "2 bones corrected" in lines[1]
    assert summary_lines(LabelStore(tmp_path / "empty"))[0].endswith("no labels yet")


@pytest.mark.slow
@pytest.mark.skipif(not __import__("bone_age.registry", fromlist=["list_models"]).list_models("stages"),
                    reason="no shipped stage model")
def test_fine_tuning_ships_only_by_its_rule_and_names_the_held_out_films(tmp_path, capsys):
    import torch

    from bone_age.registry import default_model, load_model
    from bone_age.training.reader_labels import ShipRule, fine_tune_stages, split_by_film

    shipped = load_model(default_model("stages"), "cpu")
    before = {k: v.clone() for k, v in shipped.module.state_dict().items()}

    store = LabelStore(tmp_path / "labels")
    for seed in range(4):
        _review(store, _film(seed), replace(_assessment(), source=f"film{seed}.png"), {"Radius": 5})
    films = [e.film_sha256 for e in store.entries()]
    held = split_by_film(films)
    assert held and len(held) < 4 and split_by_film(list(reversed(films))) == held  # by film, stable

    out = tmp_path / "models" / "stage.clinic_v1"
    weights, report = fine_tune_stages(store.root, out, init=default_model("stages"), epochs=1, device="cpu",
                                       rule=ShipRule(min_gain=2.0))  # a rise no model can make: refused
    printed = capsys.readouterr().out
    assert weights is None and not report["passes"] and not out.with_suffix(".json").exists()
    assert printed.index("rule (fixed before training)") < printed.index("exact agreement gain")
    assert set(report["held_out_films"]) == held and report["old"]["all"]["n"] == 13 * len(held)
    weights, report = fine_tune_stages(store.root, out, init=default_model("stages"), epochs=1, device="cpu",
                                       rule=ShipRule(min_gain=2.0), force=True)
    card = json.loads(out.with_name(out.name + ".json").read_text())
    assert weights.is_file() and card["reader_label_metrics"]["forced"] and "written with --force" in card["choice"]
    assert card["default"] is False and sorted(card["reader_label_metrics"]["held_out_films"]) == sorted(held)
    from bone_age.hand.stage import StageClassifier

    StageClassifier(load_model("stage.clinic_v1", root=tmp_path / "models"))  # the app reads it by name
    after = shipped.module.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # the shipped model in memory was not trained
