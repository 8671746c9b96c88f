"""Results of the bone-scan module (JSON round trip like every result here)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from .._serial import JsonMixin
from ..results import Shape, SummaryLine, row_for

__all__ = ["RegionFinding", "Hotspot", "BoneScanResult"]


@dataclass(frozen=True)
class RegionFinding(JsonMixin):
    """A region's calibrated probability of abnormal uptake; ``box_xyxy`` where it was cut from a whole-body scan."""

    region: str
    view: str
    probability: float
    abnormal: bool
    threshold: float
    box_xyxy: tuple[int, int, int, int] | None = None


@dataclass(frozen=True)
class Hotspot(JsonMixin):
    """A hot spot found by the whole-body detector."""

    label: str
    score: float
    box_xyxy: tuple[float, float, float, float]


@dataclass(frozen=True)
class BoneScanResult(JsonMixin):
    """``kind`` 'region' (a region crop) or 'wholebody'. ``detector`` names the whole-body model used, or says why
    none ran; ``notes`` say what the numbers do and do not cover."""

    source: str
    kind: str
    view: str
    regions: tuple[RegionFinding, ...]
    hotspots: tuple[Hotspot, ...] = ()
    detector: str = ""
    notes: tuple[str, ...] = ()
    model_versions: dict[str, str] = field(default_factory=dict)

    BATCH_FIELDS: ClassVar[list[str]] = ["path", "status", "reason", "kind", "view", "region", "p_abnormal", "abnormal",
                                         "threshold", "region_box", "hotspots", "detector", "notes"]

    def summary_lines(self) -> list[SummaryLine]:
        lines = [(f"{f.region} ({f.view or 'view unknown'})", f"P(abnormal uptake) {f.probability:.2f} -> "
                  f"{'abnormal' if f.abnormal else 'normal'}") for f in self.regions]
        if self.kind == "wholebody":
            lines.append(("Whole-body detector", self.detector))
        return lines + [("", n) for n in self.notes]

    def shapes(self) -> list[Shape]:
        shapes = [Shape("rect", f.box_xyxy, (255, 60, 60) if f.abnormal else (0, 200, 0), f"{f.region} {f.probability:.2f}")
                  for f in self.regions if f.box_xyxy]
        return shapes + [Shape("rect", h.box_xyxy, (255, 0, 255), f"{h.label} {h.score:.2f}") for h in self.hotspots]

    def batch_row(self, path: str) -> dict:
        """The first region's finding (a crop has one; a whole-body scan has its chest region)."""
        values = dict(kind=self.kind, view=self.view, detector=self.detector, notes="; ".join(self.notes),
                      hotspots=" ".join(f"{h.label}:{h.score:.2f}@{','.join(f'{v:.0f}' for v in h.box_xyxy)}"
                                        for h in self.hotspots))
        if self.regions:
            f = self.regions[0]
            values.update(region=f.region, p_abnormal=f.probability, abnormal=f.abnormal, threshold=f.threshold,
                          region_box=",".join(map(str, f.box_xyxy)) if f.box_xyxy else "")
        return row_for(self.BATCH_FIELDS, path, **values)
