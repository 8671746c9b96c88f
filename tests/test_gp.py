"""The GP second opinion: the resize rule, and a plausible estimate on a real film."""
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from bone_age.hand.gp import squash
from bone_age.registry import list_models

from conftest import reserved_list, rsna_299_tree

REPO = Path(__file__).resolve().parents[1]


def test_squash_rule_maps_any_shape_to_the_training_square():
    film = np.zeros((1024, 758), np.float32)  # an unsquashed RSNA film shape
    film[:512, :379] = 1.0  # top-left quarter bright
    out = squash(film, 192)
    assert out.shape == (192, 192)
    assert out[:90, :90].mean() > 0.99 and out[100:, 100:].mean() < 0.01  # the quarter stays a quarter: aspect not kept
    small = squash(np.ones((120, 90), np.float32), 192)
    assert small.shape == (192, 192) and np.allclose(small, 1.0)


def test_hand_frame_cuts_the_located_hand_at_the_training_shape():
    from bone_age.hand.gp import hand_frame
    from bone_age.hand.results import Localization, Region

    film = np.zeros((1000, 800), np.float32)
    film[400:600, 300:400] = 1.0  # the "hand": keypoints span it, a region box reaches its bottom
    loc = Localization(keypoints={"a": (300.0, 400.0, 1.0), "b": (400.0, 500.0, 1.0)},
                       regions=(Region("Radius", "Radius", (320.0, 550.0, 380.0, 600.0), (350.0, 575.0), 1.0),),
                       hand_confidence=1.0, hand_side="left", is_hand=True)
    out = hand_frame(film, loc, margin=0.1, aspect=1.5)
    assert out.shape == (240, 160)  # 200 tall + 2 x 10 %, widened to height / width 1.5
    assert out[20:220, 30:130].mean() > 0.99 and out[:, :25].max() == 0  # the hand centred, the rest of the film gone
    edge = hand_frame(film, Localization({"a": (0.0, 0.0, 1.0), "b": (100.0, 100.0, 1.0)}, (), 1.0, "left", True), 0.5, 1.0)
    assert edge.shape == (200, 200) and np.isfinite(edge).all()  # beyond the film: its edge repeated


@pytest.mark.skipif(not list_models("gp"), reason="no shipped GP model")
def test_gp_reads_the_hand_frame_when_its_card_asks():
    from bone_age.hand.gp import GPRegressor
    from bone_age.hand.pipeline import Engine
    from bone_age.io import read_film
    from bone_age.registry import default_model, load_model

    gp = GPRegressor(load_model(default_model("gp")))
    engine = Engine(device="cpu")
    child = read_film(REPO / "assets/samples/IMG0000111.jpg")  # a small hand on a large film
    loc = engine.localizer(child)
    framed = gp.frame(child.pixels, loc)
    if gp.framing.rule == "hand":
        assert framed.size < 0.5 * child.pixels.size
        a = engine.assess(child, sex="M")
        assert a.gp_bone_age_years == pytest.approx(round(float(gp.predict_months([framed], [True])[0][0]) / 12, 2), abs=0.01)
    else:
        assert framed is child.pixels


@pytest.mark.skipif(not list_models("gp"), reason="no shipped GP model")
def test_gp_estimate_is_in_months_and_plausible():
    from bone_age.hand.gp import GPRegressor
    from bone_age.io import read_film
    from bone_age.registry import default_model, load_model

    gp = GPRegressor(load_model(default_model("gp")))
    film = read_film(REPO / "assets/samples/IMG0000035.jpg")
    months, sd = gp.predict_months([film.pixels, film.pixels], [True, False])
    assert 120 < months[0] < 240 and 0 < sd[0] < 60  # a late adolescent (closing radius plate)
    assert months[0] != months[1]  # sex is an input


def test_gp_training_goes_on_from_a_saved_model(tmp_path, monkeypatch):
    import json

    from bone_age.registry import load_model
    from bone_age.training.gp import train_gp

    rsna_299_tree(tmp_path / "rsna")
    monkeypatch.setenv("BONE_AGE_MODELS", str(tmp_path / "models"))
    with reserved_list(tmp_path / "shared"):
        train_gp(tmp_path / "rsna", tmp_path / "models" / "gp_a", epochs=1, size=64, batch=4, device="cpu")
        train_gp(tmp_path / "rsna", tmp_path / "models" / "gp_b", epochs=1, batch=4, device="cpu", init="gp_a", lr=1e-4)
        train_gp(tmp_path / "rsna", tmp_path / "models" / "gp_c", epochs=1, size=96, batch=4, device="cpu", init="gp_a", lr=1e-4)
    cards = {n: json.loads((tmp_path / "models" / f"{n}.json").read_text()) for n in ("gp_b", "gp_c")}
    assert cards["gp_b"]["input_size"] == 64 and cards["gp_c"]["input_size"] == 96  # the start's size unless given
    assert cards["gp_b"]["initialised_from"].startswith("gp_a (sha256 ")
    a, b = (load_model(n, "cpu", tmp_path / "models").module.state_dict() for n in ("gp_a", "gp_b"))
    assert any(not np.allclose(a[k].numpy(), b[k].numpy()) for k in a if a[k].dtype.is_floating_point)


class _SquareLocalizer:
    """Stands in for the localizer: the 'hand' is the bright square of ``_square_tree``; film 1 has none."""

    model, gate = SimpleNamespace(card={"name": "square_finder"}, name="square_finder", sha256="a1"), None
    UPRIGHT_DEG, TWO_HANDS_ASPECT, SEARCH = 20.0, 1.5, "square"  # the search settings a keypoint cache records

    def __init__(self):
        self.calls = 0

    def __call__(self, film):
        from bone_age.hand.results import Localization

        self.calls += 1
        ys, xs = np.nonzero(film.pixels > 0.5)
        if not len(xs):
            return Localization({}, (), 0.0, "left", False, "no hand")
        pts = {"a": (float(xs.min()), float(ys.min()), 1.0), "b": (float(xs.max()), float(ys.max()), 1.0)}
        return Localization(pts, (), 1.0, "left", True)


def _square_tree(root: Path) -> None:
    """The 299 px layout (``rsna_299_tree``) with dark films, a bright square in one corner of all but film 1."""
    import cv2

    rsna_299_tree(root)
    for p in sorted(root.glob("data/*/*/*.png")):
        img = np.full((64, 64), 20, np.uint8)
        if p.stem != "90001":
            img[4:20, 40:56] = 230
        cv2.imwrite(str(p), img)


def test_hand_frames_for_training_are_the_located_hand_and_cached(tmp_path):
    from bone_age.training.gp import _load, hand_boxes
    from bone_age.training.rsna import load_rsna_299

    _square_tree(tmp_path / "rsna")
    films = load_rsna_299(tmp_path / "rsna", drop_reserved=False)[:3]
    cache, loc = tmp_path / "boxes.json", _SquareLocalizer()
    boxes = hand_boxes(films, loc, cache)
    assert boxes["90001"] is None and boxes["90000"] is not None and loc.calls == 3
    assert hand_boxes(films, loc, cache) == boxes and loc.calls == 3  # read back from the cache, not located again
    other = _SquareLocalizer()
    other.model = SimpleNamespace(name="square_finder", sha256="b2")
    assert hand_boxes(films, other, cache) == boxes and other.calls == 3  # other weights: located again, not reused
    framed, whole = _load(films, 32, boxes).astype(np.float32), _load(films, 32).astype(np.float32)
    assert framed[0, 8:24, 8:24].mean() > 0.8 and whole[0].mean() < 0.3  # the square fills the frame; whole, it is small
    assert np.allclose(framed[1], whole[1], atol=0.02)  # no hand located: read whole


def test_gp_trained_on_hand_frames_asks_for_them_at_inference(tmp_path, monkeypatch):
    import json

    import bone_age.hand.pipeline
    from bone_age.hand.gp import GPRegressor
    from bone_age.registry import load_model
    from bone_age.training.gp import train_gp

    _square_tree(tmp_path / "rsna")
    monkeypatch.setattr(bone_age.hand.pipeline, "Engine", lambda **_: type("E", (), {"localizer": _SquareLocalizer()})())
    with reserved_list(tmp_path / "shared"):
        with pytest.raises(ValueError, match="framing"):
            train_gp(tmp_path / "rsna", tmp_path / "models" / "gp_x", framing="crop", device="cpu")
        train_gp(tmp_path / "rsna", tmp_path / "models" / "gp_h", epochs=1, size=64, batch=4, device="cpu", framing="hand")
    card = json.loads((tmp_path / "models" / "gp_h.json").read_text())
    assert card["input_framing"]["rule"] == "hand" and card["test_time_flip"] is True
    assert "square_finder (11 of 12 films" in card["input_framing_training"]
    gp = GPRegressor(load_model("gp_h", "cpu", tmp_path / "models"))
    assert (gp.framing.rule, gp.framing.margin, gp.framing.aspect) == tuple(card["input_framing"][k] for k in ("rule", "margin", "aspect"))
    assert gp.flip


@pytest.mark.skipif(not list_models("gp"), reason="no shipped GP model")
def test_test_time_flip_averages_the_film_and_its_mirror():
    from bone_age.hand.gp import GPRegressor
    from bone_age.io import read_film
    from bone_age.registry import default_model, load_model

    model = load_model(default_model("gp"))
    film = read_film(REPO / "assets/samples/IMG0000035.jpg").pixels
    mirror = np.ascontiguousarray(film[:, ::-1])
    plain = GPRegressor(model, flip=False)
    (a, b), _ = plain.predict_months([film, mirror], [True, True])
    both, _ = GPRegressor(model, flip=True).predict_months([film], [True])
    assert a != b and both[0] == pytest.approx((a + b) / 2, abs=0.05)


def test_mae_interval_brackets_the_mean_and_narrows_with_cases():
    from bone_age.training.metrics import mae_interval

    rng = np.random.default_rng(1)
    small, large = rng.normal(0, 8, 50), rng.normal(0, 8, 2000)
    lo, hi = mae_interval(small)
    assert lo < np.abs(small).mean() < hi
    lo2, hi2 = mae_interval(large)
    assert hi2 - lo2 < (hi - lo) / 3
    assert mae_interval(np.full(10, -4.0)) == (4.0, 4.0)
