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
    """``probability``: the film's fracture probability, from the whole-film classifier when one is installed
    (``classifier_probability``), else the detector's highest instance score (``detector_score``); ``fractured``
    compares it with ``threshold``, the threshold of the model it came from. ``instances`` above the display
    score, strongest first. ``read_inverted``: the file stores bone dark and was read inverted."""

    source: str
    probability: float
    fractured: bool
    threshold: float
    instances: tuple[FractureInstance, ...]
    model_versions: dict[str, str] = field(default_factory=dict)
    detector_score: float = 0.0
    classifier_probability: float | None = None
    read_inverted: bool = False
