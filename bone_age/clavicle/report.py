"""The optional label images of ``bone-age clavicle --masks``."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .._atomic import write_image
from .results import ClavicleResult

__all__ = ["write_masks"]

def write_masks(folder: Path, stem: str, r: ClavicleResult) -> Path:
    """``<stem>_clavicles.png``: 0 background, 1 patient's right, 2 patient's left (written atomically)."""
    label = np.zeros((r.height_px, r.width_px), np.uint8)
    for value, side in ((1, "right"), (2, "left")):
        label[r.mask(side) > 0] = value
    return write_image(Path(folder) / f"{stem}_clavicles.png", label)
