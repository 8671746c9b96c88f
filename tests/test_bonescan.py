"""The bone-scan module: BS-80K layouts, region cutting, training both models on synthetic trees, API and CLI."""
import csv
import hashlib
import json

import numpy as np
import pytest

from bone_age.bonescan.regions import cut_regions
from bone_age.training.bonescan_data import read_region_crops, read_voc, read_wholebody, view_of

from bonescan_factory import body, crop, make_region_tree, make_wholebody_tree


def test_region_layout_reads_labels_views_and_patient_ids(tmp_path):
    make_region_tree(tmp_path, per_view=8)
    crops = read_region_crops(tmp_path)
    assert len(crops) == 16
    assert {c.view for c in crops} == {"ANT", "POST"}
    assert sum(c.label for c in crops) == 4
    assert {c.file_id for c in crops if c.view == "ANT"} == {c.file_id for c in crops if c.view == "POST"}


def test_region_layout_refuses_bad_lines_and_missing_files(tmp_path):
    make_region_tree(tmp_path, per_view=4)
    txt = tmp_path / "chestRANT" / "chestRANT.txt"
    txt.write_text(txt.read_text() + "5.jpg\tmaybe\n")
    with pytest.raises(ValueError, match="chestRANT.txt:5"):
        read_region_crops(tmp_path, ["chestRANT"])
    txt.write_text("99.jpg\t1\n")
    with pytest.raises(FileNotFoundError, match="99.jpg"):
        read_region_crops(tmp_path, ["chestRANT"])
    with pytest.raises(FileNotFoundError, match="no region folders"):
        read_region_crops(tmp_path / "chestRANT")


def test_wholebody_layout_and_voc(tmp_path):
    make_wholebody_tree(tmp_path, n=3)
    scans = read_wholebody(tmp_path)
    assert [s.view for s in scans].count("ANT") == 3 and [s.view for s in scans].count("POST") == 3
    one = read_voc(tmp_path / "wholeBodyPOST" / "post" / "1.xml")
    assert [b.label for b in one] == ["abnormal", "normal"] and one[1].box_xyxy == (115, 527, 141, 553)
    assert view_of("chestRPOST") == "POST" and view_of("wholeBodyANT") == "ANT" and view_of("crops") == ""


def test_chest_region_lies_on_the_patients_right_in_each_view():
    px = body().astype(np.float32) / 255
    ant, post = cut_regions(px, "ANT")["chestR"], cut_regions(px, "POST")["chestR"]
    assert ant[2] <= 129 and ant[0] < 70  # image left, from the body edge to the midline
    assert post[0] >= 127 and post[2] > 186  # image right
    assert ant[1] == post[1] and 130 < ant[1] < 250 and ant[3] - ant[1] > 120
    with pytest.raises(ValueError, match="view"):
        cut_regions(px, "")
    assert cut_regions(np.zeros((1024, 256), np.float32), "ANT") == {}


def test_specificity_threshold_and_calibration_metrics():
    from bone_age.training.metrics import binary_report, fit_platt, threshold_at_specificity

    rng = np.random.default_rng(0)
    labels = (rng.random(400) < 0.2).astype(int)
    logits = rng.normal(labels * 2.0, 1.0)
    probs = 1 / (1 + np.exp(-logits))
    t = threshold_at_specificity(probs, labels, 0.9)
    assert ((probs[labels == 0] < t).mean()) >= 0.9
    a, b = fit_platt(logits, labels)
    rep = binary_report(1 / (1 + np.exp(-(a * logits + b))), labels, t)
    assert 0.8 < rep["auc"] < 0.98 and rep["ece"] < 0.1 and rep["sensitivity_at_90_specificity"] > 0.3
    lo, hi = rep["auc_ci95_bootstrap"]
    assert lo < rep["auc"] < hi and hi - lo < 0.2


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A region classifier and a whole-body detector trained on synthetic trees, in their own models folder."""
    from bone_age.training.bonescan import train_region_classifier, train_wholebody_detector

    root = tmp_path_factory.mktemp("bonescan")
    make_region_tree(root / "crops", per_view=48)
    make_wholebody_tree(root / "wb", n=6)
    models = root / "models"
    train_region_classifier(root / "crops", models / "bs_test", epochs=4, device="cpu")
    train_wholebody_detector(root / "wb", models / "wb_test", epochs=1, max_side=256, batch=2, device="cpu")
    return root, models


def test_trained_classifier_separates_hot_spots(trained, monkeypatch):
    from bone_age.bonescan import BoneScanReader

    root, models = trained
    monkeypatch.setenv("BONE_AGE_MODELS", str(models))
    card = json.loads((models / "bs_test.json").read_text())
    assert card["regions"] == ["chestRANT", "chestRPOST"] and card["n_test"] > 0 and 0 < card["threshold"] < 1
    reader = BoneScanReader(device="cpu", detector=False)
    rng = np.random.default_rng(7)
    hot = reader.classifier.probabilities([crop(rng, True) / 255.0 for _ in range(12)])
    cold = reader.classifier.probabilities([crop(rng, False) / 255.0 for _ in range(12)])
    assert hot.mean() > cold.mean() + 0.2


def test_reader_on_crops_and_whole_body(trained, monkeypatch):
    from bone_age.bonescan import BoneScanReader
    from bone_age.bonescan.results import BoneScanResult

    root, models = trained
    monkeypatch.setenv("BONE_AGE_MODELS", str(models))
    reader = BoneScanReader(device="cpu")
    r = reader.read(root / "crops" / "chestRPOST" / "4.jpg")
    assert r.kind == "region" and r.view == "POST" and r.regions[0].region == "chestRPOST" and not r.notes
    wb = reader.read(root / "wb" / "wholeBodyANT" / "0.jpg")
    assert wb.kind == "wholebody" and wb.view == "ANT" and wb.detector == "wb_test"
    assert wb.regions[0].region == "chestR" and wb.regions[0].box_xyxy is not None
    assert all(h.label in ("abnormal", "normal") for h in wb.hotspots)
    assert BoneScanResult.from_json(wb.to_json()) == wb
    with pytest.raises(ValueError, match="view"):
        reader.read(body(), kind="wholebody")
    without = BoneScanReader(device="cpu", detector=False).read(body(), view="POST")
    assert "needs the BS-80K whole-body release" in without.detector and without.hotspots == ()


def test_bonescan_command_rows_resume_and_inputs_untouched(trained, monkeypatch, tmp_path, capsys):
    from bone_age.cli import main

    root, models = trained
    monkeypatch.setenv("BONE_AGE_MODELS", str(models))
    folder = root / "crops" / "chestRANT"
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    out = tmp_path / "bs.csv"
    assert main(["bonescan", str(folder), "--out", str(out), "--device", "cpu"]) == 0
    rows = list(csv.DictReader(open(out)))
    assert len(rows) == 48 and all(r["status"] == "scored" and r["view"] == "ANT" for r in rows)
    assert 0 <= float(rows[0]["p_abnormal"]) <= 1
    assert main(["bonescan", str(folder), "--out", str(out), "--device", "cpu"]) == 0
    assert "already done 48" in capsys.readouterr().out
    assert before == {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    bad = tmp_path / "bad.csv"
    assert main(["bonescan", str(tmp_path / "bad"), "--out", str(bad), "--device", "cpu"]) == 0
    row = next(csv.DictReader(open(bad)))
    assert row["status"] == "failed" and "UnreadableFilm" in row["reason"]
