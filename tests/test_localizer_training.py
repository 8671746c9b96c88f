"""Localizer training runs end to end on a few real films (skips without the shared data)."""
import json

import numpy as np
import pytest

from conftest import DATA_ROOT, needs_shared_data


@needs_shared_data("hand_landmarks", "annotations.json")
def test_landmark_films_drop_reserved_and_keep_geometry():
    from bone_age.training.landmarks import KEYPOINTS, load_landmark_films
    from bone_age.training.splits import reserved_ids

    films = load_landmark_films(DATA_ROOT / "hand_landmarks")
    assert len(films) > 700 and not {f.id for f in films} & reserved_ids()
    f = films[0]
    assert f.keypoints.shape == (len(KEYPOINTS), 2)
    h, w = f.image.shape
    assert (f.keypoints >= -0.05 * max(h, w)).all() and (f.keypoints[:, 0] <= 1.05 * w).all()
    mcp, pip = (f.keypoints[KEYPOINTS.index(k)] for k in ("middle_finger_mcp", "middle_finger_pip"))
    assert np.linalg.norm(mcp - pip) > 0.05 * max(h, w)  # joints are distinct points on the finger


def test_training_films_are_averaged_down_like_the_pipeline_reads_them_and_keep_their_keypoints():
    """A 1024 px film fitted into the 224 px input reads as the pipeline's INTER_AREA letterbox makes it: detail
    finer than the input averages out (instead of being sampled one pixel in five), the film stays in its place,
    and the keypoints land where the film moved."""
    from bone_age.training.landmarks import KEYPOINTS, LandmarkFilm
    from bone_age.training.localizer import STRIDE, _sample
    from bone_age.transforms import Letterbox

    yy, xx = np.mgrid[0:1024, 0:758]
    film = 0.5 * (0.5 + 0.4 * np.sin(xx / 60.0) * np.cos(yy / 45.0)) + 0.5 * (xx % 2)  # shading + 1 px stripes
    image = np.round(film * 255).astype(np.uint8)
    kps = np.tile([[305.0, 405.0]], (len(KEYPOINTS), 1))
    x, pts, vis = _sample(LandmarkFilm("x", image, kps, {}, None, None), 224, None)
    reference = Letterbox(224)(image.astype(np.float32) / 255)
    inside = np.s_[8:-8, 40:180]  # the film lies at columns 29-194; bilinear sampling alone is off by 0.11 there
    assert np.abs((x[0] * 0.25 + 0.5) - reference.image)[inside].mean() < 0.03  # back from the standardised input
    assert vis.all()
    np.testing.assert_allclose(pts[0] * STRIDE, reference.scale * kps[0] + reference.offset_xy, atol=1.0)


@pytest.mark.slow
@needs_shared_data("hand_landmarks", "annotations.json")
def test_train_localizer_smoke(tmp_path):
    from bone_age.training.localizer import train_localizer

    out = tmp_path / "loc.smoke"
    train_localizer(DATA_ROOT / "hand_landmarks", out, epochs=1, size=96, batch=4, limit=12, device="cpu")
    card = json.loads((tmp_path / "loc.smoke.json").read_text())
    assert card["task"] == "localizer" and card["n_train"] > 0 and card["hand_threshold"] > 0
    assert card["usual_hand_confidence"] == pytest.approx(2 * card["hand_threshold"], abs=1e-3)
    assert card["augmentation"]["rotate_deg"] == 25.0 and card["initialised_from"].startswith("ImageNet")
    with pytest.raises(FileExistsError):
        train_localizer(DATA_ROOT / "hand_landmarks", out, epochs=1, limit=4)


@pytest.mark.slow
@needs_shared_data("hand_landmarks", "annotations.json")
def test_train_localizer_goes_on_from_a_shipped_one_with_wider_turns(tmp_path):
    from bone_age.registry import default_model, list_models, load_model
    from bone_age.training.localizer import train_localizer

    if not list_models("localizer"):
        pytest.skip("no shipped localizer")
    start = default_model("localizer")
    with pytest.raises(ValueError, match="not a 'localizer' model"):
        train_localizer(DATA_ROOT / "hand_landmarks", tmp_path / "bad", epochs=1, limit=4, init=default_model("stages"))
    train_localizer(DATA_ROOT / "hand_landmarks", tmp_path / "loc.more", epochs=1, size=96, batch=4, limit=12,
                    device="cpu", init=start, rotate_deg=45, min_scale=0.4, lr=1e-5)
    card = json.loads((tmp_path / "loc.more.json").read_text())
    assert card["initialised_from"] == f"{start} (sha256 {load_model(start).sha256})"
    assert card["augmentation"] == {"rotate_deg": 45, "scale": [0.4, 1.15], "mirror": True}


def test_fingers_are_chained_bone_to_bone_not_ordered_by_distance_from_the_thumb():
    """A spread hand whose middle-finger phalanges lie nearer the thumb than the forefinger's: each finger must
    still get its own bones, and the derived joints must run in line."""
    from bone_age.training.landmarks import FINGERS, _fingers_from_boxes, chains_consistent, keypoints_from_boxes

    def box(label, cx, cy, w=6, h=14):
        return {"label": label, "x1": cx - w / 2, "y1": cy - h / 2, "x2": cx + w / 2, "y2": cy + h / 2}

    # finger -> (x of the finger, y of its metacarpal centre); y grows downwards, bones 16 px apart
    fingers = {"forefinger": (30, 60), "middle_finger": (45, 40), "ring_finger": (60, 50), "pinky_finger": (75, 62)}
    boxes = [box("MCPFirst", 10, 80), box("ProximalPhalanx", 4, 64), box("DistalPhalanx", -2, 48),
             box("Radius", 35, 110), box("Ulna", 60, 110)]
    for x, y in fingers.values():
        boxes += [box("MCP", x, y), box("ProximalPhalanx", x, y - 16), box("MiddlePhalanx", x, y - 32),
                  box("DistalPhalanx", x, y - 48)]
    f = _fingers_from_boxes(boxes)
    for name in FINGERS[1:]:
        xs = {round((b[0] + b[2]) / 2) for b in (f[name][k] for k in ("mc", "pp", "mp", "dp"))}
        assert xs == {fingers[name][0]}, name
    assert f["thumb"]["dp"][0] < 0 and chains_consistent(keypoints_from_boxes(f))
    assert _fingers_from_boxes(boxes[:-1]) is None  # an incomplete set is refused


def test_source_disagreement_flags_boxes_drawn_for_another_film():
    from bone_age.training.landmarks import _SHARED_JOINTS, KEYPOINTS, MAX_SOURCE_DISAGREEMENT_PCT, source_disagreement

    names = ["wrist"] + [f"{f}{i}" for f in ("thumb", "forefinger", "middle_finger", "ring_finger", "pinky_finger") for i in range(1, 5)]
    rng = np.random.default_rng(0)
    box_kp = rng.uniform(50, 250, (len(KEYPOINTS), 2))
    kp = np.zeros((21, 3))
    for n, k in _SHARED_JOINTS.items():
        kp[names.index(n), :2] = box_kp[KEYPOINTS.index(k)] + rng.normal(0, 3, 2)  # the same joints, marked a little off
    entry = {"keypoints": kp.tolist(), "hand_box": [40, 40, 260, 260]}
    assert source_disagreement(entry, names, box_kp) < MAX_SOURCE_DISAGREEMENT_PCT / 2
    assert source_disagreement(entry, names, box_kp[::-1]) > MAX_SOURCE_DISAGREEMENT_PCT  # boxes of another hand
    assert source_disagreement({"keypoints": None}, names, box_kp) is None


@needs_shared_data("hand_landmarks", "annotations.json")
def test_films_whose_annotation_sources_disagree_are_dropped():
    from bone_age.training.landmarks import MAX_SOURCE_DISAGREEMENT_PCT, load_landmark_films

    every = load_landmark_films(DATA_ROOT / "hand_landmarks", max_side=64, agreeing_only=False)
    kept = {f.id for f in load_landmark_films(DATA_ROOT / "hand_landmarks", max_side=64)}
    flagged = {f.id for f in every if (f.source_disagreement_pct or 0) > MAX_SOURCE_DISAGREEMENT_PCT}
    assert 0 < len(flagged) < 0.05 * len(every) and not flagged & kept and len(kept) == len(every) - len(flagged)
