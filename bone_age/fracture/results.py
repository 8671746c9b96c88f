"""Results of the fracture module."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from .._serial import JsonMixin
from ..results import Shape, SummaryLine, row_for

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

    BATCH_FIELDS: ClassVar[list[str]] = [
        "path", "status", "reason", "probability", "fractured", "threshold", "classifier_probability", "detector_score",
        "n_instances", "boxes", "read_inverted", "evidence_peak_xy"]

    @property
    def evidence_outline(self) -> tuple[tuple[float, float], ...]:
        """The evidence outline to draw: only on a film called fractured."""
        return self.evidence.outline_xy if self.fractured and self.evidence is not None else ()

    def summary_lines(self) -> list[SummaryLine]:
        verdict = "fracture suspected" if self.fractured else "no fracture found"
        source = "whole-film classifier" if self.classifier_probability is not None else "highest instance score"
        lines = [("Fracture probability", f"{self.probability:.2f} ({verdict}; threshold {self.threshold:.2f}; {source})"),
                 ("Detector", f"highest instance score {self.detector_score:.2f}, instances shown: {len(self.instances)}")]
        if self.evidence_outline:
            lines.append(("Cyan outline", "where the whole-film classifier's evidence for a fracture is strongest (a "
                                          "pointer, not a segmentation)"))
        if self.read_inverted:
            lines.append(("Grey scale inverted", "the file shows bone dark, so it was read inverted"))
        return lines

    def shapes(self) -> list[Shape]:
        shapes = [Shape("poly", self.evidence_outline, (0, 255, 255), "classifier evidence")] if self.evidence_outline else []
        for i in self.instances:
            shapes.append(Shape("rect", i.box_xyxy, (255, 60, 60), f"fracture {i.score:.2f}"))
            if i.contour_xy:
                shapes.append(Shape("poly", i.contour_xy, (255, 200, 0)))
        return shapes

    def batch_row(self, path: str) -> dict:
        return row_for(self.BATCH_FIELDS, path, probability=self.probability, fractured=self.fractured,
                       threshold=self.threshold, classifier_probability=self.classifier_probability,
                       detector_score=self.detector_score, n_instances=len(self.instances),
                       read_inverted=self.read_inverted,
                       boxes=" ".join(f"{i.score:.2f}@{','.join(f'{v:.0f}' for v in i.box_xyxy)}" for i in self.instances),
                       evidence_peak_xy=None if self.evidence is None else "{:.0f},{:.0f}".format(*self.evidence.peak_xy))
