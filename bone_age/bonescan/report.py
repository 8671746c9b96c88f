"""Rows of the ``bone-age bonescan`` batch output."""
from __future__ import annotations

from ..batch import blank_row
from .results import BoneScanResult

__all__ = ["BATCH_FIELDS", "batch_row"]

BATCH_FIELDS = ["path", "status", "reason", "kind", "view", "region", "p_abnormal", "abnormal", "threshold",
                "region_box", "hotspots", "detector", "notes"]


def batch_row(path: str, r: BoneScanResult | None = None, status: str = "scored", reason: str = "") -> dict:
    """One output row: the first region's finding (a crop has one; a whole-body scan has its chest region)."""
    row = blank_row(BATCH_FIELDS, path, status, reason)
    if r is not None:
        f = r.regions[0] if r.regions else None
        row.update(kind=r.kind, view=r.view, detector=r.detector, notes="; ".join(r.notes),
                   hotspots=" ".join(f"{h.label}:{h.score:.2f}@{','.join(f'{v:.0f}' for v in h.box_xyxy)}" for h in r.hotspots))
        if f is not None:
            row.update(region=f.region, p_abnormal=f.probability, abnormal=f.abnormal, threshold=f.threshold,
                       region_box=",".join(map(str, f.box_xyxy)) if f.box_xyxy else "")
    return row
