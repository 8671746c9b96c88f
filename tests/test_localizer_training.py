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


@pytest.mark.slow
@needs_shared_data("hand_landmarks", "annotations.json")
def test_train_localizer_smoke(tmp_path):
    from bone_age.training.localizer import train_localizer

    out = tmp_path / "loc.smoke"
    train_localizer(DATA_ROOT / "hand_landmarks", out, epochs=1, size=96, batch=4, limit=12, device="cpu")
    card = json.loads((tmp_path / "loc.smoke.json").read_text())
    assert card["task"] == "localizer" and card["n_train"] > 0 and card["hand_threshold"] > 0
    with pytest.raises(FileExistsError):
        train_localizer(DATA_ROOT / "hand_landmarks", out, epochs=1, limit=4)
