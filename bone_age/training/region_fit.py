"""Fit the region rule's length/width scales to the annotated whole-bone boxes (training films only)."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from ..hand.regions import load_region_rule
from .landmarks import KEYPOINTS, load_landmark_films
from .splits import split_of

_logger = logging.getLogger(__name__)


def box_iou(a, b) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def fit_region_rule(data: Path, rule_path: Path, bones: list[str] | None = None) -> dict[str, tuple[float, float, float]]:
    """Grid-search (length_scale, width_scale) per bone for the best mean IoU; writes them into ``rule_path``."""
    films = [f for f in load_landmark_films(Path(data), consistent_only=True) if split_of(f.id) == "train"]
    rule = load_region_rule(rule_path)
    kps = [{k: tuple(f.keypoints[i]) for i, k in enumerate(KEYPOINTS)} for f in films]
    grid_l, grid_w = np.arange(0.2, 2.01, 0.05), np.arange(0.1, 1.81, 0.05)
    fitted = {}
    for bone in bones or list(rule.bones):
        best = (-1.0, 1.0, 1.0)
        for ls in grid_l:
            for ws in grid_w:
                ious = [box_iou(rule.rectangle(bone, kp, (ls, ws)).box_xyxy(), f.bone_boxes[bone])
                        for kp, f in zip(kps[::4], films[::4])]
                m = float(np.mean(ious))
                if m > best[0]:
                    best = (m, float(ls), float(ws))
        fitted[bone] = (round(best[1], 3), round(best[2], 3), round(best[0], 4))
        _logger.info("%s: length_scale %.2f width_scale %.2f mean IoU %.3f", bone, best[1], best[2], best[0])
    raw = json.loads(Path(rule_path).read_text())
    for bone, (ls, ws, iou) in fitted.items():
        raw["bones"][bone].update(length_scale=ls, width_scale=ws, fit_mean_iou_train=iou)
    raw["fitted"] = (f"length_scale and width_scale fitted by `bone-age train regions --data hand_landmarks` on "
                     f"{len(films)} training films (every 4th in the grid search): best mean IoU of the box with the "
                     f"annotated RUS-bone box, using the keypoints derived from those boxes.")
    Path(rule_path).write_text(json.dumps(raw, indent=1))
    load_region_rule.cache_clear()
    return fitted
