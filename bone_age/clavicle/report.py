"""Rows of the ``bone-age clavicle`` batch output, and the optional mask / overlay images."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .._atomic import write_image
from ..batch import blank_row
from .results import ClavicleResult

__all__ = ["BATCH_FIELDS", "batch_row", "write_masks"]

BATCH_FIELDS = ["path", "status", "reason", "pixel_spacing_mm"] + [
    f"{s}_{k}" for s in ("right", "left") for k in ("found", "area_px", "length_px", "area_mm2", "length_mm")] + ["warnings"]


def batch_row(path: str, r: ClavicleResult | None = None, status: str = "scored", reason: str = "") -> dict:
    row = blank_row(BATCH_FIELDS, path, status, reason)
    if r is not None:
        row.update(pixel_spacing_mm=r.pixel_spacing_mm, warnings="; ".join(r.warnings))
        for s in r.sides:
            row.update({f"{s.side}_found": s.found, f"{s.side}_area_px": s.area_px, f"{s.side}_length_px": s.length_px,
                        f"{s.side}_area_mm2": s.area_mm2, f"{s.side}_length_mm": s.length_mm})
    return {k: ("" if v is None else v) for k, v in row.items()}


def write_masks(folder: Path, stem: str, r: ClavicleResult) -> Path:
    """``<stem>_clavicles.png``: 0 background, 1 patient's right, 2 patient's left (written atomically)."""
    label = np.zeros((r.height_px, r.width_px), np.uint8)
    for value, side in ((1, "right"), (2, "left")):
        label[r.mask(side) > 0] = value
    return write_image(Path(folder) / f"{stem}_clavicles.png", label)
