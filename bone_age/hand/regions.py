"""The documented geometric rule: localizer keypoints -> the 13 RUS-CHN regions (rule parameters are data)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .._resources import assets_dir
from ..transforms import crop_rotated
from .results import Region
from .standard import load_standard

__all__ = ["RegionRule", "load_region_rule", "RotatedRect"]


@dataclass(frozen=True)
class RotatedRect:
    """A rectangle in film pixels: centre, length along the bone, width across, and the bone axis angle
    (degrees, image coordinates; 0 = distal end pointing up)."""

    center_xy: tuple[float, float]
    length: float
    width: float
    angle_deg: float

    def corners(self) -> np.ndarray:
        a = np.deg2rad(self.angle_deg)
        up = np.array([np.sin(a), -np.cos(a)])  # unit vector towards the distal end
        across = np.array([np.cos(a), np.sin(a)])
        c = np.asarray(self.center_xy)
        return np.array([c + sl * up * self.length / 2 + sw * across * self.width / 2 for sl, sw in ((1, 1), (1, -1), (-1, -1), (-1, 1))])

    def box_xyxy(self) -> tuple[float, float, float, float]:
        q = self.corners()
        return float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max())


_KEYS = {"segment": ("proximal", "distal"), "extend": ("from", "through"), "point": ("point", "toward")}


def _angle(p: np.ndarray, d: np.ndarray) -> float:
    v = d - p
    return float(np.degrees(np.arctan2(v[0], -v[1])))


@dataclass(frozen=True)
class RegionRule:
    bones: dict[str, dict]
    crop_context: float

    def rectangle(self, bone: str, keypoints: dict[str, tuple[float, ...]], scales: tuple[float, float] | None = None) -> RotatedRect:
        """One bone's rectangle from named keypoints (x, y[, conf]); ``scales`` overrides (length, width) scale."""
        spec = self.bones[bone]
        ls, ws = scales or (spec["length_scale"], spec["width_scale"])
        first, second = self._ends(bone, keypoints)
        center = first if spec["kind"] == "point" else (first + second) / 2
        length = float(np.linalg.norm(second - first))
        return RotatedRect((float(center[0]), float(center[1])), length * ls, length * ws, _angle(first, second))

    def keypoints_of(self, bone: str) -> tuple[str, ...]:
        spec = self.bones[bone]
        return tuple(spec[k] for k in _KEYS[spec["kind"]])

    def _ends(self, bone: str, keypoints: dict) -> tuple[np.ndarray, np.ndarray]:
        """The two points that define a bone's axis (segment: its joints; extend: the joint and a point beyond it
        along the finger; point: the bone's point and the point it faces)."""
        spec = self.bones[bone]
        a, b = (np.asarray(keypoints[k][:2], dtype=np.float64) for k in self.keypoints_of(bone))
        if spec["kind"] == "extend":
            return b, b + (b - a) * float(spec["ratio"])
        return a, b

    def regions(self, keypoints: dict[str, tuple[float, float, float]]) -> tuple[Region, ...]:
        """Regions in the standard's bone order; confidence = the lower confidence of the two defining keypoints."""
        std = load_standard()
        out = []
        for bone in std.bones:
            r = self.rectangle(bone, keypoints)
            conf = min(float(keypoints[k][2]) for k in self.keypoints_of(bone))
            first, second = self._ends(bone, keypoints)
            span = float(np.linalg.norm(second - first)) if self.bones[bone]["kind"] != "point" else 0.0
            side = self.crop_context * max(r.length, r.width, span)
            out.append(Region(bone=bone, category=std.category_of(bone), box_xyxy=r.box_xyxy(), center_xy=r.center_xy,
                              confidence=conf, angle_deg=r.angle_deg, size_wh=(r.width, r.length), crop_side_px=side))
        return tuple(out)


def crop_region(pixels: np.ndarray, region: Region, out_size: int, mirror: bool = False) -> np.ndarray:
    """The classifier's crop: a square of ``region.crop_side_px`` around the region, distal end up, resampled to
    ``out_size``; ``mirror`` flips it left-right (right hands are mirrored to look like left hands)."""
    side = region.crop_side_px
    crop = crop_rotated(pixels, region.center_xy, (side, side), region.angle_deg, (out_size, out_size))
    return crop[:, ::-1].copy() if mirror else crop


@lru_cache(maxsize=2)
def load_region_rule(path: str | Path | None = None) -> RegionRule:
    path = Path(path) if path else assets_dir() / "standards" / "rus_regions.json"
    raw = json.loads(Path(path).read_text())
    missing = set(load_standard().bones) - set(raw["bones"])
    if missing:
        raise ValueError(f"{path}: no region rule for {', '.join(sorted(missing))}")
    return RegionRule(raw["bones"], float(raw["crop_context"]))
