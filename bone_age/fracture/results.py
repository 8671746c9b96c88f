"""Results of the fracture module."""
from __future__ import annotations

from dataclasses import dataclass, field

from .._serial import JsonMixin

__all__ = ["FractureEvidence", "FractureInstance", "FractureResult"]


@dataclass(frozen=True)
class FractureInstance(JsonMixin):
    """One detected fracture: score, box (x1, y1, x2, y2) and outline in film pixels."""

    score: float
    box_xyxy: tuple[float, float, float, float]
    contour_xy: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class FractureEvidence(JsonMixin):
    """Where the whole-film classifier's logit comes from (its class activation map, averaged over its test-time
    views): ``grid`` rows x cols cells spanning the film, each the logit the head reads there (positive: towards
    fracture); ``peak_xy`` the film pixel where the map is highest and ``peak`` its value; ``outline_xy`` the region
    around the peak where the map reaches half the peak (empty when the peak is not positive). A pointer for the
    reader, not a segmentation."""

    grid: tuple[tuple[float, ...], ...]
    peak_xy: tuple[float, float]
    peak: float
    outline_xy: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class FractureResult(JsonMixin):
    """``probability``: the film's fracture probability, from the whole-film classifier when one is installed
    (``classifier_probability``), else the detector's highest instance score (``detector_score``); ``fractured``
    compares it with ``threshold``, the threshold of the model it came from. ``instances`` above the display
    score, strongest first. ``read_inverted``: the file stores bone dark and was read inverted. ``evidence``: where the
    whole-film classifier's logit comes from (None without the classifier)."""

    source: str
    probability: float
    fractured: bool
    threshold: float
    instances: tuple[FractureInstance, ...]
    model_versions: dict[str, str] = field(default_factory=dict)
    detector_score: float = 0.0
    classifier_probability: float | None = None
    read_inverted: bool = False
    evidence: FractureEvidence | None = None

    @property
    def evidence_outline(self) -> tuple[tuple[float, float], ...]:
        """The evidence outline to draw: only on a film called fractured."""
        return self.evidence.outline_xy if self.fractured and self.evidence is not None else ()
