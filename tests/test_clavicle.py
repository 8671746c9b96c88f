"""The clavicle module: both layouts, masks by side, measurements, training on a synthetic tree, API and CLI."""
import csv
import json

import cv2
import numpy as np
import pytest
from PIL import Image

from bone_age.clavicle.segmenter import measure
from bone_age.training.clavicle_data import load_masks, read_cases, read_crass, read_jsrt

BARS = {"right": ((30, 70), (120, 50)), "left": ((226, 70), (136, 50))}  # image left = patient's right


def _film(rng, size=256) -> np.ndarray:
    """A chest-like film: mid-gray with noise, two bright oblique bars (clavicles) near the top."""
    img = np.full((size, size), 90, np.float32) + rng.normal(0, 8, (size, size))
    for p, q in BARS.values():
        cv2.line(img, p, q, 220, 9)
    return np.clip(img, 0, 255).astype(np.uint8)


def _mask(side: str, size: int) -> np.ndarray:
    m = np.zeros((256, 256), np.uint8)
    cv2.line(m, *BARS[side], 255, 9)
    return cv2.resize(m, (size, size), interpolation=cv2.INTER_NEAREST)


def make_jsrt(root, n=10, seed=0):
    """JSRT/SCR layout: inverted-palette PNG films and half-size GIF + PNG masks per side."""
    rng = np.random.default_rng(seed)
    (root / "jsrt_images" / "images").mkdir(parents=True)
    inverted = [v for i in range(256) for v in (255 - i,) * 3]
    for k in range(1, n + 1):
        im = Image.frombytes("P", (256, 256), (255 - _film(rng)).tobytes())  # stored indices are inverted...
        im.putpalette(inverted)  # ...and the palette turns them back
        im.save(root / "jsrt_images" / "images" / f"JPCLN{k:03d}.IMG.png")
        for side in ("left", "right"):
            for sub, ext in ((f"{side}_clavicle", ".gif"), (f"{side}_clavicle_png", ".png")):
                d = root / "masks" / sub
                d.mkdir(parents=True, exist_ok=True)
                Image.fromarray(_mask(side, 128)).save(d / f"JPCLN{k:03d}{ext}")


def test_jsrt_layout_reads_palette_films_and_pairs_masks(tmp_path):
    make_jsrt(tmp_path, n=3)
    cases = read_cases(tmp_path)
    assert [c.id for c in cases] == ["JPCLN001", "JPCLN002", "JPCLN003"]
    assert cases[0].right.suffix == ".png" and cases[0].left.parent.name == "left_clavicle_png"
    from bone_age.io import read_film

    px = read_film(cases[0].image).pixels
    assert px[60, 75] > 0.7 and px[200, 128] < 0.5  # through the palette: bars bright, background darker
    m = load_masks(cases[0], (256, 256))
    assert m.shape == (2, 256, 256)
    assert m[0, :, :128].sum() > 0 and m[0, :, 128:].sum() == 0  # patient's right on the image's left
    assert m[1, :, 128:].sum() > 0 and m[1, :, :128].sum() == 0


def test_crass_layout_splits_one_mask_into_sides(tmp_path):
    rng = np.random.default_rng(1)
    (tmp_path / "image").mkdir()
    (tmp_path / "mask").mkdir()
    for name in ("a", "b"):
        cv2.imwrite(str(tmp_path / "image" / f"{name}.png"), _film(rng))
        cv2.imwrite(str(tmp_path / "mask" / f"{name}.png"), np.maximum(_mask("right", 256), _mask("left", 256)))
    (tmp_path / "train.txt").write_text("a.png\n")
    (tmp_path / "val.txt").write_text("b.png\n")
    cases = read_cases(tmp_path)
    assert [(c.id, c.split) for c in cases] == [("a", "train"), ("b", "val")]
    m = load_masks(cases[0], (256, 256))
    assert (m[0] > 0).sum() == (_mask("right", 256) > 0).sum() and (m[1] > 0).sum() == (_mask("left", 256) > 0).sum()
    (tmp_path / "mask" / "b.png").unlink()
    with pytest.raises(FileNotFoundError, match="b.png"):
        read_crass(tmp_path)
    with pytest.raises(FileNotFoundError, match="JSRT"):
        read_jsrt(tmp_path / "mask")


def test_measure_area_length_and_spacing():
    m = np.zeros((100, 200), np.uint8)
    m[40:50, 20:120] = 1
    m[80:82, 150:152] = 1  # a speck: only the largest part counts
    s = measure("right", m, m.astype(np.float32), 0.5)
    assert s.found and s.area_px == 1000 and s.length_px == pytest.approx(99, abs=1.5)
    assert s.area_mm2 == 250 and s.length_mm == pytest.approx(49.5, abs=1)
    assert not measure("left", np.zeros_like(m), m.astype(np.float32), None).found


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from bone_age.training.clavicle import train_clavicle

    root = tmp_path_factory.mktemp("clav")
    make_jsrt(root / "jsrt", n=14)
    train_clavicle(root / "jsrt", root / "models" / "clav_test", epochs=6, device="cpu", input_wh=(256, 128))
    return root


def test_training_learns_the_synthetic_clavicles(trained, monkeypatch):
    from bone_age.clavicle import ClavicleSegmenter

    monkeypatch.setenv("BONE_AGE_MODELS", str(trained / "models"))
    card = json.loads((trained / "models" / "clav_test.json").read_text())
    assert card["classes"] == ["right_clavicle", "left_clavicle"] and card["n_test"] > 0
    seg = ClavicleSegmenter(device="cpu")
    assert card["band_rule"]["input_wh"] == [256, 128] and seg.rule == card["band_rule"]  # inference frames as trained
    film = _film(np.random.default_rng(5))
    prob = seg.probabilities(film / 255.0)
    for i, side in enumerate(("right", "left")):
        inside = _mask(side, 256) > 0
        assert prob[i][inside].mean() > prob[i][~inside].mean() + 0.3
    r = seg.segment(film, pixel_spacing_mm=0.7)
    assert r.sides[0].side == "right" and r.sides[0].found and r.sides[0].length_mm > 0
    from bone_age.clavicle.results import ClavicleResult

    assert ClavicleResult.from_json(r.to_json()) == r


def test_a_film_judged_inverted_is_segmented_the_right_way_round(trained):
    from test_polarity import _Judged

    from bone_age.clavicle import ClavicleSegmenter
    from bone_age.registry import load_model

    seg = ClavicleSegmenter(load_model("clav_test", "cpu", trained / "models"), device="cpu", polarity=False)
    film = _film(np.random.default_rng(5)) / 255.0
    plain = seg.segment(film)
    seg.polarity = _Judged(0.9)
    flipped = seg.segment(1.0 - film)
    assert flipped.read_inverted and not plain.read_inverted and flipped.warnings[0].startswith("grey scale inverted")
    assert flipped.sides == plain.sides and "polarity_stub" in flipped.model_versions


def test_clavicle_command_rows_masks_and_resume(trained, monkeypatch, tmp_path, capsys):
    from bone_age.cli import main

    monkeypatch.setenv("BONE_AGE_MODELS", str(trained / "models"))
    folder = trained / "jsrt" / "jsrt_images" / "images"
    out = tmp_path / "c.csv"
    assert main(["clavicle", str(folder), "--out", str(out), "--masks", str(tmp_path / "m"), "--pixel-spacing", "0.7",
                 "--device", "cpu"]) == 0
    rows = list(csv.DictReader(open(out)))
    assert len(rows) == 14 and all(r["status"] == "scored" for r in rows) and float(rows[0]["right_length_mm"]) > 0
    label = cv2.imread(str(tmp_path / "m" / "JPCLN001.IMG_clavicles.png"), cv2.IMREAD_UNCHANGED)
    assert label.shape == (256, 256) and set(np.unique(label)) <= {0, 1, 2}
    assert main(["clavicle", str(folder), "--out", str(out), "--device", "cpu"]) == 0
    assert "already done 14" in capsys.readouterr().out

