"""Shared fixtures: synthetic films and DICOM files, the shared-data root (tests that need it skip without it)."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
DATA_ROOT = Path(os.environ.get("BONE_AGE_DATA", REPO.parent / "shared" / "data"))


def needs_shared_data(*parts: str):
    path = DATA_ROOT.joinpath(*parts)
    return pytest.mark.skipif(not path.exists(), reason=f"shared data not present at {path}")


@pytest.fixture
def gradient() -> np.ndarray:
    """A 64x48 uint16 ramp with a bright block: known values to check polarity and scaling."""
    img = np.tile(np.linspace(0, 4095, 48, dtype=np.float64), (64, 1))
    img[20:30, 10:20] = 4095
    return img.astype(np.uint16)


@contextmanager
def reserved_list(root: Path, ids: tuple[str, ...] = ()):
    """Training on a synthetic RSNA-like tree where ``../shared`` is absent: a reserved-id list of our own."""
    from bone_age.training import splits

    root.mkdir(parents=True, exist_ok=True)
    (root / "reserved_ids.txt").write_text("".join(f"{i}\n" for i in ids))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(splits, "DEFAULT_DATA_ROOT", root)
        splits.reserved_ids.cache_clear()
        yield
    splits.reserved_ids.cache_clear()


def rsna_299_tree(root: Path, n: int = 12) -> None:
    """The layout of the RSNA 299 px copy: the training CSV and PNGs under data/299x299.../<sign>_signs/."""
    import cv2

    rng = np.random.default_rng(0)
    d = root / "data" / "299x299boneage-training-dataset" / "all_signs"
    d.mkdir(parents=True)
    rows = ["id,boneage,male"]
    for k in range(n):
        age = 20 + 15 * k
        img = np.clip(rng.normal(40, 5, (64, 64)) + np.linspace(0, age, 64)[None], 0, 255).astype(np.uint8)
        cv2.imwrite(str(d / f"{90000 + k}.png"), img)
        rows.append(f"{90000 + k},{age},{'True' if k % 2 else 'False'}")
    (root / "boneage-training-dataset.csv").write_text("\n".join(rows) + "\n")
