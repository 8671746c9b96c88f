"""The hand-film gate: sources recognised by layout, training on synthetic hands and chests, and its verdict
turning away a film the localizer would accept."""
import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from test_clavicle import make_jsrt

from conftest import reserved_list


def _hand(rng, h=300, w=240) -> np.ndarray:
    """A hand-like film: a palm and five bright finger bars fanning up from it."""
    img = np.clip(rng.normal(40, 8, (h, w)), 0, 255).astype(np.float32)
    cv2.ellipse(img, (w // 2, int(h * 0.72)), (w // 4, h // 7), 0, 0, 360, 170, -1)
    for k, dx in enumerate((-0.32, -0.16, 0.0, 0.14, 0.28)):
        x0, y0 = int(w * (0.5 + dx * 0.6)), int(h * 0.62)
        cv2.line(img, (x0, y0), (int(w * (0.5 + dx)), int(h * (0.12 + 0.05 * abs(k - 2)))), 200, 12)
    return img.astype(np.uint8)


def make_rsna_hands(root, n=16, seed=0):
    """The rsna_hands layout: images/<id>.jpg and labels.csv."""
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True)
    rows = []
    for k in range(n):
        cv2.imwrite(str(root / "images" / f"{90000 + k}.jpg"), _hand(rng))
        rows.append({"id": 90000 + k, "file": f"{90000 + k}.jpg", "boneage_months": 100, "male": True, "width": 240, "height": 300})
    with open(root / "labels.csv", "w", newline="") as f:
        w = csv.DictWriter(f, list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_sources_are_recognised_by_layout(tmp_path):
    from bone_age.training.hand_gate import gate_films

    make_rsna_hands(tmp_path / "rsna", n=5)
    make_jsrt(tmp_path / "jsrt", n=3)
    with reserved_list(tmp_path / "shared", ("90004",)):
        films = gate_films([tmp_path / "rsna", tmp_path / "jsrt"])
    assert sorted((f.source, f.hand) for f in films) == [("chest", False)] * 3 + [("rsna_hand", True)] * 4
    assert "90004.jpg" not in {f.path.name for f in films}  # reserved ids are dropped
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="neither"):
        gate_films([tmp_path / "empty"])


def test_small_share_shrinks_films_into_a_black_one():
    from bone_age.training.hand_gate import SMALL_SCALE, augment_film

    rng = np.random.default_rng(0)
    film = np.ones((160, 160), np.float32)
    shown = lambda small: np.array([(augment_film(rng, film, invert=0.0, small=small) > 0).mean() for _ in range(40)])
    whole, shrunk = shown(0.0), shown(1.0)
    assert whole.min() > 0.7 and shrunk.max() < SMALL_SCALE[1] ** 2 + 0.02 and shrunk.mean() < 0.45
    corners = [augment_film(rng, film, invert=0.0, small=1.0) for _ in range(40)]
    centres = np.array([np.argwhere(c > 0).mean(0) for c in corners])
    assert centres.std(0).min() > 8  # placed at different spots, not always the middle


def train_on_hands_and_chests(root, train, name: str, n: int, **kw):
    """Synthetic rsna_hands and JSRT trees of ``n`` films each under ``root``, and ``train`` run on them into
    ``root/models/<name>`` (64 px, on the CPU)."""
    make_rsna_hands(root / "rsna", n=n)
    make_jsrt(root / "jsrt", n=n)
    with reserved_list(root / "shared"):
        train([root / "rsna", root / "jsrt"], root / "models" / name, size=64, batch=16, device="cpu", **kw)
    return root


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from bone_age.training.hand_gate import train_hand_gate

    return train_on_hands_and_chests(tmp_path_factory.mktemp("gate"), train_hand_gate, "gate_test", 40, epochs=4)


def test_gate_learns_hands_from_chests(trained):
    from bone_age.hand.gate import HandGate
    from bone_age.registry import load_model

    card = json.loads((trained / "models" / "gate_test.json").read_text())
    assert card["task"] == "hand_gate" and 0 < card["threshold"] < 1 and card["val_metrics"]["auc"] > 0.5
    assert card["augmentation"]["small_share"] == 0.3
    gate = HandGate(load_model("gate_test", "cpu", trained / "models"))
    rng = np.random.default_rng(7)
    from test_clavicle import _film

    hands = [gate.probability(_hand(rng) / 255.0) for _ in range(6)]
    chests = [gate.probability(_film(rng) / 255.0) for _ in range(6)]
    assert np.mean(hands) > np.mean(chests) + 0.3
    ok, p, why = gate.verdict(np.zeros((200, 160), np.float32))
    assert isinstance(p, float) and (ok or "not a hand-and-wrist film" in why)


def test_a_failing_gate_turns_away_what_the_localizer_accepts(trained):
    from bone_age.hand.gate import HandGate
    from bone_age.hand.localize import Localizer
    from bone_age.io import read_film
    from bone_age.registry import default_model, list_models, load_model

    if not list_models("localizer"):
        pytest.skip("no shipped localizer")
    film = read_film(Path(__file__).resolve().parents[1] / "assets" / "samples" / "IMG0000035.jpg")
    localizer = load_model(default_model("localizer"), "cpu")
    assert Localizer(localizer)(film).is_hand
    strict = HandGate(load_model("gate_test", "cpu", trained / "models"))
    strict.threshold = 1.01  # nothing passes
    gated = Localizer(localizer, strict)
    passes = []
    one_pass = gated.keypoints
    gated.keypoints = lambda images: passes.append(len(images)) or one_pass(images)
    out = gated(film)
    assert not out.is_hand and out.reason.startswith("not a hand-and-wrist film") and out.hand_film_probability is not None
    assert passes == [1]  # turned away before the orientation search: one upright pass only


def test_a_passing_gate_explains_a_hand_whose_joints_were_not_found(trained):
    from bone_age.hand.gate import HandGate
    from bone_age.hand.localize import Localizer
    from bone_age.io.film import film_from_array
    from bone_age.registry import default_model, list_models, load_model

    if not list_models("localizer"):
        pytest.skip("no shipped localizer")
    lenient = HandGate(load_model("gate_test", "cpu", trained / "models"))
    lenient.threshold = -1.0  # everything passes
    noise = film_from_array(np.random.default_rng(3).random((400, 300)).astype(np.float32))
    out = Localizer(load_model(default_model("localizer"), "cpu"), lenient)(noise)
    assert not out.is_hand and out.reason.startswith("a hand film (gate") and "not located reliably" in out.reason
    assert out.reason.endswith("whole hand and wrist in a PA view")
