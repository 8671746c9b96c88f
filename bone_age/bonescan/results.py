"""Results of the bone-scan module (JSON round trip like every result here)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .._serial import JsonMixin

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
