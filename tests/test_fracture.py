"""The fracture module: FracAtlas layout and quirks, COCO metrics, training on a synthetic tree, API and CLI."""
import csv
import json

import cv2
import numpy as np
import pytest
import torch

from bone_age.training.fracture_data import read_fracatlas

SPLITS = {"train": range(0, 8), "valid": range(8, 10), "test": range(10, 12)}


def make_fracatlas(root, seed=0):
    """12 fractured films (a bright crack each, polygon + box in the COCO file) and 12 non-fractured ones;
    IMG0000011 is listed with fractured=0 although it lies in Fractured (the real release's quirk)."""
    rng = np.random.default_rng(seed)
    for d in ("images/Fractured", "images/Non_fractured", "Annotations/COCO JSON", "Utilities/Fracture Split"):
        (root / d).mkdir(parents=True)
    images, anns, rows = [], [], []
    for k in range(24):
        name = f"IMG{k:07d}.jpg"
        img = np.clip(rng.normal(70, 10, (160, 128)), 0, 255).astype(np.uint8)
        cv2.rectangle(img, (44, 10), (84, 150), 150, -1)  # a bone
        fractured = k < 12
        if fractured:
            y = int(rng.integers(40, 110))
            poly = np.array([[40, y], [88, y + 6], [88, y + 12], [40, y + 6]], np.float32)
            cv2.fillPoly(img, [poly.astype(np.int32)], 255)
            images.append({"id": k + 1, "width": 128, "height": 160, "file_name": name})
            anns.append({"id": k + 1, "image_id": k + 1, "category_id": 0, "iscrowd": 0, "segmentation": [poly.ravel().tolist()],
                         "bbox": [40.0, float(y), 48.0, 12.0], "area": 48 * 9.0})
        cv2.imwrite(str(root / "images" / ("Fractured" if fractured else "Non_fractured") / name), img)
        rows.append({"image_id": name, "fractured": int(fractured and k != 11), "hand": int(k % 2 == 0), "leg": int(k % 2 == 1),
                     "hardware": int(k % 3 == 0)})
    (root / "Annotations/COCO JSON/COCO_fracture_masks.json").write_text(
        json.dumps({"images": images, "annotations": anns, "categories": [{"id": 0, "name": "fractured"}]}))
    with open(root / "dataset.csv", "w", newline="") as f:
        w = csv.DictWriter(f, ["image_id", "fractured", "hand", "leg", "hardware"])
        w.writeheader()
        w.writerows(rows)
    for split, ids in SPLITS.items():
        (root / "Utilities/Fracture Split" / f"{split}.csv").write_text("image_id\n" + "".join(f"IMG{k:07d}.jpg\n" for k in ids))


def test_layout_reads_instances_official_split_and_the_quirk(tmp_path):
    make_fracatlas(tmp_path)
    imgs = {i.id: i for i in read_fracatlas(tmp_path)}
    assert len(imgs) == 24 and sum(i.fractured for i in imgs.values()) == 12
    assert imgs["IMG0000011.jpg"].fractured and imgs["IMG0000011.jpg"].split == "test"
    assert imgs["IMG0000009.jpg"].split == "val" and imgs["IMG0000020.jpg"].split is None
    one = imgs["IMG0000003.jpg"]
    assert one.boxes.shape == (1, 4) and one.boxes[0, 2] == 88 and one.polygons[0][0].shape == (4, 2)
    assert one.tags == {"leg", "hardware"} and imgs["IMG0000002.jpg"].tags == {"hand"}
    with pytest.raises(FileNotFoundError, match="not a FracAtlas folder"):
        read_fracatlas(tmp_path / "images")


def test_coco_metrics_perfect_and_wrong_predictions(tmp_path):
    from bone_age.training.detection import coco_metrics
    from bone_age.training.fracture import sample

    make_fracatlas(tmp_path)
    imgs = [i for i in read_fracatlas(tmp_path) if i.fractured][:4]
    samples = [sample(i) for i in imgs]
    perfect, wrong = [], []
    for s in samples:
        m = np.zeros((1, 1, 160, 128), np.float32)
        cv2.fillPoly(m[0, 0], [s.polygons[0][0].astype(np.int32)], 1)
        base = {"labels": torch.tensor([1]), "scores": torch.tensor([0.9]), "scale": 1.0, "hw": (160, 128)}
        perfect.append(dict(base, boxes=torch.from_numpy(s.boxes), masks=torch.from_numpy(m)))
        wrong.append(dict(base, boxes=torch.tensor([[0.0, 0.0, 20.0, 20.0]]), masks=torch.zeros(1, 1, 160, 128)))
    good = coco_metrics(samples, perfect, ["fracture"], masks=True)
    assert good["bbox_map50"] == pytest.approx(1.0) and good["segm_map50"] > 0.9
    assert coco_metrics(samples, wrong, ["fracture"], masks=True)["bbox_map50"] == 0


def test_paired_auc_interval_is_zero_for_one_reading_and_above_zero_for_a_better_one():
    from bone_age.training.metrics import paired_auc_interval

    rng = np.random.default_rng(2)
    labels = np.r_[np.ones(60), np.zeros(300)]
    weak = labels * 0.5 + rng.normal(0, 1, labels.size)
    strong = labels * 2.0 + rng.normal(0, 1, labels.size)
    assert paired_auc_interval(weak, weak, labels) == (0.0, 0.0)
    lo, hi = paired_auc_interval(weak, strong, labels)
    assert 0 < lo < hi
    assert paired_auc_interval(strong, weak, labels) == (-hi, -lo)


def test_proportion_interval_is_wilson_s():
    from bone_age.training.metrics import proportion_interval

    assert proportion_interval(5, 10) == (0.2366, 0.7634)  # Wilson's interval for 5 of 10
    lo, hi = proportion_interval(0, 20)
    assert lo == 0.0 and 0.1 < hi < 0.2 and proportion_interval(0, 0) == (0.0, 1.0)


def test_zoom_crop_keeps_pixels_boxes_and_masks_together():
    """Windows cut from the film scaled to the inference side: the instance's bright pixels, box and mask move
    together, most windows hold the instance, small films are padded to the window."""
    from bone_age.training.detection import zoom_crop

    px = np.full((150, 100), 0.2, np.float32)
    px[90:110, 40:70] = 1.0
    boxes = np.array([[40, 90, 70, 110]], np.float32)
    mask = np.zeros((1, 150, 100), np.uint8)
    mask[0, 90:110, 40:70] = 1
    rng, held = np.random.default_rng(0), 0
    for _ in range(60):
        out, b, m, kept = zoom_crop(px, boxes, mask, 300, 96, rng)
        assert out.shape == (96, 96) and m.shape == (len(kept), 96, 96) and len(b) == len(kept)
        if len(kept):
            held += 1
            x1, y1, x2, y2 = b[0]
            assert 0 <= x1 < x2 <= 96 and 0 <= y1 < y2 <= 96
            assert out[m[0] > 0].mean() > 0.9 and m[0].sum() >= 0.8 * (x2 - x1) * (y2 - y1)
    assert held >= 36
    small, b, m, kept = zoom_crop(px, boxes, mask, 60, 96, rng)
    assert small.shape == (96, 96) and small[70:].max() == 0  # scaled to 60 x 40, padded with black


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from bone_age.training.fracture import train_fracture

    root = tmp_path_factory.mktemp("frac")
    make_fracatlas(root / "fa")
    train_fracture(root / "fa", root / "models" / "frac_test", epochs=2, max_side=160, negatives=0.5, batch=4, device="cpu",
                   crop=96, average_last=2)
    return root


def test_evidence_map_lands_on_the_film_where_the_hot_cell_is():
    """A map hot in one cell over a tall film letterboxed into a square: the grid spans the film alone, and the
    peak and the outline lie where that cell falls on the film."""
    from bone_age.fracture.evidence import film_evidence
    from bone_age.transforms import Letterbox

    lb = Letterbox(256)(np.zeros((400, 200), np.float32))  # film 256 x 128 in the square, from x = 64
    cam = np.full((8, 8), -1.0, np.float32)
    cam[5, 3] = 4.0  # square cell x 96-128, y 160-192 -> film x 50-100, y 250-300 (scale 0.64)
    ev = film_evidence(cam, lb, (400, 200))
    assert (len(ev.grid), len(ev.grid[0])) == (8, 4) and max(map(max, ev.grid)) > 0 > min(map(min, ev.grid))
    assert 50 <= ev.peak_xy[0] <= 100 and 250 <= ev.peak_xy[1] <= 300 and ev.peak > 0
    xs, ys = np.array(ev.outline_xy).T
    assert xs.min() < ev.peak_xy[0] < xs.max() and ys.min() < ev.peak_xy[1] < ys.max()
    assert 0 <= xs.min() and xs.max() <= 200 and ys.max() - ys.min() < 200  # on the film, around the one cell
    assert film_evidence(-np.abs(cam), lb, (400, 200)).outline_xy == ()  # no positive evidence: nothing outlined


def test_weight_mean_averages_floats_and_keeps_the_last_count():
    from bone_age.training.detection import WeightMean

    mean = WeightMean()
    for w, n in ((1.0, 3), (2.0, 5), (6.0, 7)):
        mean.add({"w": torch.full((2,), w), "bn.num_batches_tracked": torch.tensor(n)})
    out = mean.mean()
    assert torch.allclose(out["w"], torch.full((2,), 3.0)) and out["w"].dtype == torch.float32
    assert int(out["bn.num_batches_tracked"]) == 7


def test_trained_detector_and_card(trained, monkeypatch):
    from bone_age.fracture import FractureDetector
    from bone_age.fracture.results import FractureResult

    monkeypatch.setenv("BONE_AGE_MODELS", str(trained / "models"))
    card = json.loads((trained / "models" / "frac_test.json").read_text())
    assert card["task"] == "fracture" and card["masks"] and card["n_train_fractured"] == 8 and 0 <= card["threshold"] <= 1
    assert card["train_crop"] == 96 and card["max_size"] == 160
    assert len(card["val_metrics_per_epoch"]) == 2 and card["average_last"] == 2
    candidates = [*card["val_metrics_per_epoch"], card["val_metrics_weight_mean"]]
    assert card["val_metrics"]["bbox_map50"] == max(m["bbox_map50"] for m in candidates)
    r = FractureDetector(device="cpu").detect(trained / "fa" / "images" / "Fractured" / "IMG0000010.jpg")
    assert 0 <= r.probability <= 1 and r.fractured == (r.probability >= r.threshold)
    assert all(0 <= i.box_xyxy[0] <= i.box_xyxy[2] <= 128 for i in r.instances)
    assert FractureResult.from_json(r.to_json()) == r


def test_film_classifier_trains_and_gives_the_film_probability(trained, tmp_path, monkeypatch):
    """Every film (fractured or not) trains the whole-film classifier; with it installed, the film-level
    probability and threshold are the classifier's and the detector's top score is still reported."""
    from bone_age.fracture import FractureDetector
    from bone_age.fracture.results import FractureResult
    from bone_age.registry import load_model
    from bone_age.training.fracture import image_split
    from bone_age.training.fracture_film import train_fracture_film

    train_fracture_film(trained / "fa", tmp_path / "ff_test", epochs=2, size=64, negatives=1.0, batch=8, device="cpu")
    card = json.loads((tmp_path / "ff_test.json").read_text())
    n_train = sum(image_split(i) == "train" for i in read_fracatlas(trained / "fa"))
    assert card["task"] == "fracture_film" and card["n_train"] == n_train and card["n_train_fractured"] == 8
    n_neg = min(n_train - 8, 8)  # negatives=1.0: as many non-fractured films per epoch as fractured ones, if there are
    assert f"pos_weight {n_neg / 8:.2f}" in card["class_weighting"] and len(card["platt"]) == 2 and 0 <= card["threshold"] <= 1
    det = FractureDetector(load_model("frac_test", "cpu", trained / "models"), device="cpu",
                           film_model=load_model("ff_test", "cpu", tmp_path), polarity=False)
    r = det.detect(trained / "fa" / "images" / "Fractured" / "IMG0000010.jpg")
    assert r.probability == r.classifier_probability and 0 <= r.probability <= 1
    assert r.threshold == card["threshold"] and r.fractured == (r.probability >= card["threshold"])
    scores = [i.score for i in r.instances]
    assert 0 <= r.detector_score <= 1 and (not scores or r.detector_score == max(scores))
    assert set(r.model_versions) == {"frac_test", "ff_test"} and FractureResult.from_json(r.to_json()) == r
    by_views = card["val_metrics"]["auc_by_views"]
    assert set(by_views) == {"1", "2", "8"} and by_views[str(card["test_time_views"])] == card["val_metrics"]["auc"]
    assert det.film.views == card["test_time_views"]
    assert (len(r.evidence.grid), len(r.evidence.grid[0])) == (2, 2)  # 2 x 2 cells on the 64 px square; the film 64 x 51 of it
    assert 0 <= r.evidence.peak_xy[0] <= 128 and 0 <= r.evidence.peak_xy[1] <= 160
    assert r.evidence_outline == (r.evidence.outline_xy if r.fractured else ())
    alone = FractureDetector(det.model, device="cpu", film_model=False, polarity=False)
    bare = alone.detect(trained / "fa" / "images" / "Fractured" / "IMG0000010.jpg")
    assert alone.film is None and bare.classifier_probability is None and bare.probability == bare.detector_score
    assert bare.evidence is None and bare.evidence_outline == ()
    monkeypatch.setenv("BONE_AGE_MODELS", str(tmp_path))  # go on training from the model just made
    train_fracture_film(trained / "fa", tmp_path / "ff_next", epochs=1, size=64, batch=8, device="cpu", init="ff_test")
    assert json.loads((tmp_path / "ff_next.json").read_text())["initialised_from"].startswith("ff_test (sha256 ")
    with pytest.raises(ValueError, match="is an efficientnet_lite0"):
        train_fracture_film(trained / "fa", tmp_path / "ff_other", epochs=1, size=64, device="cpu", init="ff_test",
                            backbone="efficientnet_lite1")
    assert not (tmp_path / "ff_other.json").exists()


def test_film_classifier_on_another_efficientnet_lite(trained, tmp_path):
    """--backbone: the ImageNet weights of that EfficientNet-Lite start the run; the card names it and the registry
    builds it back."""
    from bone_age.nets import ImageClassifier
    from bone_age.registry import load_model
    from bone_age.training.fracture_film import train_fracture_film
    from bone_age.training.pretrained import imagenet_state_dict, load_imagenet_encoder

    fresh = ImageClassifier(1, backbone="efficientnet_lite1")
    assert load_imagenet_encoder(fresh.encoder) == len(fresh.encoder.state_dict())
    assert torch.equal(fresh.encoder.conv_stem.weight, imagenet_state_dict("efficientnet_lite1")["conv_stem.weight"])
    train_fracture_film(trained / "fa", tmp_path / "ff_l1", epochs=1, size=64, batch=8, device="cpu",
                        backbone="efficientnet_lite1")
    card = json.loads((tmp_path / "ff_l1.json").read_text())
    assert card["backbone"] == "efficientnet_lite1" and card["initialised_from"] == "ImageNet EfficientNet-Lite1"
    back = load_model("ff_l1", "cpu", tmp_path).module
    assert sum(p.numel() for p in back.parameters()) == sum(p.numel() for p in fresh.parameters())


def test_a_film_judged_inverted_is_read_the_right_way_round(trained, tmp_path):
    from dataclasses import replace

    from test_polarity import _Judged

    from bone_age import read_film
    from bone_age.fracture import FractureDetector
    from bone_age.fracture.report import write_overlay
    from bone_age.registry import load_model

    det = FractureDetector(load_model("frac_test", "cpu", trained / "models"), device="cpu", polarity=False)
    film = read_film(trained / "fa" / "images" / "Fractured" / "IMG0000010.jpg")
    inverted = np.ascontiguousarray(1.0 - film.pixels)
    film = replace(film, pixels=1.0 - inverted)  # what the check restores, bit for bit (1 - (1 - x) need not be x)
    plain = det.detect(film)
    det.polarity = _Judged(0.9)
    flipped = det.detect(replace(film, pixels=inverted))
    assert flipped.read_inverted and not plain.read_inverted and "polarity_stub" in flipped.model_versions
    assert flipped.probability == plain.probability and flipped.instances == plain.instances
    assert flipped.batch_row("x.jpg")["read_inverted"] is True and plain.batch_row("x.jpg")["read_inverted"] is False
    drawn = [cv2.imread(str(write_overlay(tmp_path / k, "f", px, r))).astype(int)
             for k, px, r in (("plain", film.pixels, plain), ("flipped", 1.0 - film.pixels, flipped))]
    assert np.abs(drawn[0] - drawn[1]).max() <= 1  # drawn as read, bone bright


def test_fracture_command_rows_overlays_resume(trained, monkeypatch, tmp_path, capsys):
    from bone_age.cli import main

    monkeypatch.setenv("BONE_AGE_MODELS", str(trained / "models"))
    folder = trained / "fa" / "images" / "Non_fractured"
    out = tmp_path / "f.csv"
    assert main(["fracture", str(folder), "--out", str(out), "--overlays", str(tmp_path / "ov"), "--device", "cpu"]) == 0
    rows = list(csv.DictReader(open(out)))
    assert len(rows) == 12 and all(r["status"] == "scored" for r in rows)
    assert (tmp_path / "ov" / "IMG0000012_fracture.png").is_file()
    assert main(["fracture", str(folder), "--out", str(out), "--device", "cpu"]) == 0
    assert "already done 12" in capsys.readouterr().out


def test_unreadable_films_are_left_out_not_fatal(tmp_path):
    from bone_age.training.detection import readable
    from bone_age.training.fracture import sample

    make_fracatlas(tmp_path)
    imgs = read_fracatlas(tmp_path)
    bad = imgs[20].path
    bad.write_bytes(bad.read_bytes()[:200])  # truncated, as IMG0004084.jpg is in the real release
    kept, images = readable([sample(i) for i in imgs], 128)
    assert len(kept) == 23 and bad not in [s.path for s in kept] and len(images) == 23


def test_fracture_training_goes_on_from_a_saved_model(trained, monkeypatch):
    from bone_age.registry import load_model
    from bone_age.training.fracture import train_fracture
    from bone_age.training.gp import train_gp

    models = trained / "models"
    monkeypatch.setenv("BONE_AGE_MODELS", str(models))
    train_fracture(trained / "fa", models / "frac_more", epochs=1, max_side=160, batch=4, device="cpu",
                   init="frac_test", lr=1e-12)  # a step too small to move the weights: the start must be kept
    card = json.loads((models / "frac_more.json").read_text())
    assert card["initialised_from"].startswith("frac_test (sha256 ") and card["learning_rate"] == 1e-12
    a, b = (load_model(n, "cpu", models).module for n in ("frac_test", "frac_more"))
    pa, pb = dict(a.named_parameters()), dict(b.named_parameters())
    assert all(torch.allclose(pa[k], pb[k], atol=1e-6) for k in pa)
    with pytest.raises(ValueError, match="not a 'gp' model"):
        train_gp(trained / "fa", models / "gp_wrong", init="frac_test", device="cpu")
