"""Cutting named body regions out of a whole-body bone scan by the rule in ``assets/standards/bonescan_regions.json``."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .._resources import assets_dir

__all__ = ["RegionRule", "load_region_rule", "cut_regions", "view_of"]


@dataclass(frozen=True)
class RegionRule:
    foreground_fraction: float
    regions: dict[str, dict]


@lru_cache(maxsize=4)
def load_region_rule(path: Path | None = None) -> RegionRule:
    raw = json.loads(Path(path or assets_dir() / "standards" / "bonescan_regions.json").read_text())
    return RegionRule(float(raw["foreground_fraction"]), dict(raw["regions"]))


def cut_regions(pixels: np.ndarray, view: str, rule: RegionRule | None = None) -> dict[str, tuple[int, int, int, int]]:
    """Region name -> box (x1, y1, x2, y2) in scan pixels; a region whose band holds no body is left out.

    ``view`` 'ANT' or 'POST' decides on which side of the image the patient's right lies.
    """
    if view not in ("ANT", "POST"):
        raise ValueError(f"view must be 'ANT' or 'POST' to tell the patient's sides apart, got {view!r}")
    rule = rule or load_region_rule()
    fg = pixels > rule.foreground_fraction * max(float(np.percentile(pixels, 99.5)), 1e-6)
    rows = np.flatnonzero(fg.any(1))
    if rows.size == 0:
        return {}
    top, height = int(rows[0]), int(rows[-1] - rows[0] + 1)
    out = {}
    for name, spec in rule.regions.items():
        y1, y2 = (top + int(round(f * height)) for f in spec["y_band"])
        band = fg[y1:y2]
        cols = np.flatnonzero(band.any(0))
        if cols.size == 0 or y2 <= y1:
            continue
        mid = int(round(float(np.nonzero(band)[1].mean())))
        on_image_left = (spec["side"] == "right") == (view == "ANT")
        x1, x2 = (int(cols[0]), mid) if on_image_left else (mid, int(cols[-1]) + 1)
        if x2 - x1 >= 4:
            out[name] = (x1, y1, x2, y2)
    return out


def view_of(name: str) -> str:
    """'ANT' or 'POST' from a region or folder name (``chestRPOST`` -> POST), '' when it does not say."""
    upper = name.upper()
    return next((v for v in ("POST", "ANT") if upper.endswith(v) or f"{v}/" in upper or f"_{v}" in upper), "")
