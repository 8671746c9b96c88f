"""Results of the clavicle module."""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .._serial import JsonMixin

__all__ = ["ClavicleSide", "ClavicleResult"]


@dataclass(frozen=True)
class ClavicleSide(JsonMixin):
    """One clavicle (``side``: the patient's 'right' or 'left'): outline in film pixels, area and length
    (the long side of the minimum-area rectangle around it), in mm where the pixel spacing is known."""

    side: str
    found: bool
    contour_xy: tuple[tuple[float, float], ...] = ()
    area_px: float = 0.0
    length_px: float = 0.0
    area_mm2: float | None = None
    length_mm: float | None = None
    mean_probability: float = 0.0


@dataclass(frozen=True)
class ClavicleResult(JsonMixin):
    source: str
    height_px: int
    width_px: int
    sides: tuple[ClavicleSide, ...]
    pixel_spacing_mm: float | None = None
    warnings: tuple[str, ...] = ()
    model_versions: dict[str, str] = field(default_factory=dict)
    read_inverted: bool = False  # the file stores bone dark and was read inverted

    def mask(self, side: str) -> np.ndarray:
        """The filled outline of ``side`` as a uint8 mask of the film's size."""
        out = np.zeros((self.height_px, self.width_px), np.uint8)
        s = next(s for s in self.sides if s.side == side)
        if s.contour_xy:
            cv2.fillPoly(out, [np.round(np.array(s.contour_xy)).astype(np.int32)], 1)
        return out
