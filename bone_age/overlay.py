"""How the regions are drawn on a film, shared by the report and the viewer: a stage's colour and label placement."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .hand.results import BoneStage

__all__ = ["STAGE_COLORS", "stage_color", "raise_clear"]

STAGE_COLORS = {"model": (0, 200, 0), "low_confidence": (255, 140, 0), "set_by_hand": (60, 170, 255)}  # RGB
Rect = tuple[float, float, float, float]  # x, y (top), width, height


def stage_color(stage: BoneStage) -> tuple[int, int, int]:
    """RGB: blue for a stage set by hand, orange for one the model read with low confidence, else green."""
    key = "set_by_hand" if stage.overridden else "low_confidence" if stage.low_confidence else "model"
    return STAGE_COLORS[key]


def raise_clear(labels: list[Rect], gap: float = 1.0) -> list[Rect]:
    """The label rectangles in drawing order, each raised (y made smaller) until it overlaps none placed before
    it, so that neighbouring bones' labels (radius and ulna, say) stay readable."""
    placed: list[Rect] = []
    for x, y, w, h in labels:
        while hit := next((p for p in placed if x < p[0] + p[2] and p[0] < x + w and y < p[1] + p[3] and p[1] < y + h),
                          None):
            y = hit[1] - h - gap
        placed.append((x, y, w, h))
    return placed
