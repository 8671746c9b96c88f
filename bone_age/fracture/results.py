"""Results of the fracture module."""
from __future__ import annotations

from dataclasses import dataclass, field

from .._serial import JsonMixin

__all__ = ["FractureInstance", "FractureResult"]


@dataclass(frozen=True)
class FractureInstance(JsonMixin):
    """One detected fracture: score, box (x1, y1, x2, y2) and outline in film pixels."""

    score: float
    box_xyxy: tuple[float, float, float, float]
    contour_xy: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class FractureResult(JsonMixin):
    """``probability``: the film's fracture probability (its highest instance score); ``fractured`` compares it
    with the model's threshold. ``instances`` above the display score, strongest first."""

    source: str
    probability: float
    fractured: bool
    threshold: float
    instances: tuple[FractureInstance, ...]
    model_versions: dict[str, str] = field(default_factory=dict)
