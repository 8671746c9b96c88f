"""Results of the clavicle module."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import cv2
import numpy as np

from .._serial import JsonMixin
from ..results import Shape, SummaryLine, row_for

__all__ = ["SIDES", "ClavicleSide", "ClavicleResult"]

SIDES = ("right", "left")  # the patient's; channel order of every mask stack and model output


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

    BATCH_FIELDS: ClassVar[list[str]] = ["path", "status", "reason", "pixel_spacing_mm"] + [
        f"{s}_{k}" for s in SIDES for k in ("found", "area_px", "length_px", "area_mm2", "length_mm")] + ["warnings"]
    COLORS: ClassVar[dict[str, tuple[int, int, int]]] = {"right": (0, 200, 255), "left": (255, 120, 0)}

    def summary_lines(self) -> list[SummaryLine]:
        lines = []
        for s in self.sides:
            name = f"{s.side.capitalize()} clavicle"
            if not s.found:
                lines.append((name, "not found"))
            elif s.length_mm is not None:
                lines.append((name, f"length {s.length_mm:.1f} mm, area {s.area_mm2:.0f} mm²"))
            else:
                lines.append((name, f"length {s.length_px:.0f} px, area {s.area_px:.0f} px"))
        return lines + [("", w) for w in self.warnings]

    def shapes(self) -> list[Shape]:
        return [Shape("poly", s.contour_xy, self.COLORS[s.side], f"{s.side} clavicle") for s in self.sides if s.found]

    def batch_row(self, path: str) -> dict:
        values = {f"{s.side}_{k}": getattr(s, k) for s in self.sides
                  for k in ("found", "area_px", "length_px", "area_mm2", "length_mm")}
        return row_for(self.BATCH_FIELDS, path, pixel_spacing_mm=self.pixel_spacing_mm,
                       warnings="; ".join(self.warnings), **values)

    def mask(self, side: str) -> np.ndarray:
        """The filled outline of ``side`` as a uint8 mask of the film's size."""
        out = np.zeros((self.height_px, self.width_px), np.uint8)
        s = next(s for s in self.sides if s.side == side)
        if s.contour_xy:
            cv2.fillPoly(out, [np.round(np.array(s.contour_xy)).astype(np.int32)], 1)
        return out
