"""The ``hand_landmarks`` package: films, 21 joint keypoints, ossification boxes and RUS-bone boxes.

Every film is brought back to its original aspect ratio (the 299x299 copies were squashed). The localizer's
keypoints are derived from the 21 RUS-bone boxes: finger joints where adjacent bone boxes meet, finger ends
reflected through the end bone's centre, radius and ulna at their box centres.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from .splits import reserved_ids

_logger = logging.getLogger(__name__)

FINGERS = ("thumb", "forefinger", "middle_finger", "ring_finger", "pinky_finger")


@dataclass
class LandmarkFilm:
    id: str
    image: np.ndarray  # uint8, original aspect, long side <= max_side
    keypoints: np.ndarray  # (K, 2) in the pixels of ``image``, order of KEYPOINTS
    bone_boxes: dict[str, tuple[float, float, float, float]]  # RUS bone name -> annotated whole-bone box
    boneage_months: float | None
    male: bool | None
    source_disagreement_pct: float | None = None  # see ``source_disagreement``; None: only one source

    @property
    def sources_agree(self) -> bool:
        return sources_agree(self.source_disagreement_pct)


KEYPOINTS = (
    ["thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip"]
    + [f"{f}_{j}" for f in FINGERS[1:] for j in ("base", "mcp", "pip", "dip", "tip")]
    + ["radius", "ulna"]
)


def _center(b) -> np.ndarray:
    return np.array([(b[0] + b[2]) / 2, (b[1] + b[3]) / 2])


def _joint(a, b) -> np.ndarray:
    """Where two adjacent bone boxes meet: the centre of their overlap (or of the gap between them)."""
    return np.array([(max(a[0], b[0]) + min(a[2], b[2])) / 2, (max(a[1], b[1]) + min(a[3], b[3])) / 2])


def _link(ends: list, boxes: list) -> list:
    """``boxes`` reordered so that boxes[i] is the one that continues ends[i]: the matching of least total
    centre-to-centre distance (adjacent bones of one finger are nearer than bones of neighbouring fingers)."""
    cost = np.array([[np.linalg.norm(_center(a) - _center(b)) for b in boxes] for a in ends])
    rows, cols = linear_sum_assignment(cost)
    return [boxes[c] for _, c in sorted(zip(rows, cols))]


def _fingers_from_boxes(rus_boxes: list[dict]) -> dict | None:
    """Assign the 21 RUS-bone boxes to fingers by chaining each metacarpal to its phalanges (least-distance
    matching layer by layer), fingers ordered by their metacarpal's distance from the thumb's; None if incomplete."""
    by: dict[str, list] = {}
    for b in rus_boxes:
        by.setdefault(b["label"], []).append((b["x1"], b["y1"], b["x2"], b["y2"]))
    need = {"MCPFirst": 1, "MCP": 4, "ProximalPhalanx": 5, "MiddlePhalanx": 4, "DistalPhalanx": 5, "Radius": 1, "Ulna": 1}
    if any(len(by.get(k, [])) != n for k, n in need.items()):
        return None
    thumb_mc = by["MCPFirst"][0]
    mc = [thumb_mc] + sorted(by["MCP"], key=lambda b: float(np.linalg.norm(_center(b) - _center(thumb_mc))))
    pp = _link(mc, by["ProximalPhalanx"])
    mp = _link(pp[1:], by["MiddlePhalanx"])
    dp = _link([pp[0]] + mp, by["DistalPhalanx"])
    fingers = {"thumb": {"mc": thumb_mc, "pp": pp[0], "dp": dp[0]}, "Radius": by["Radius"][0], "Ulna": by["Ulna"][0]}
    for i, name in enumerate(FINGERS[1:]):
        fingers[name] = {"mc": mc[i + 1], "pp": pp[i + 1], "mp": mp[i], "dp": dp[i + 1]}
    return fingers


def keypoints_from_boxes(f: dict) -> np.ndarray:
    """The localizer's keypoints from one film's bone boxes: joints where boxes meet, ends reflected through
    the end bone's centre, radius and ulna at their box centres. Returns (len(KEYPOINTS), 2)."""
    pts: dict[str, np.ndarray] = {}
    t = f["thumb"]
    pts["thumb_mcp"], pts["thumb_ip"] = _joint(t["mc"], t["pp"]), _joint(t["pp"], t["dp"])
    pts["thumb_cmc"] = 2 * _center(t["mc"]) - pts["thumb_mcp"]
    pts["thumb_tip"] = 2 * _center(t["dp"]) - pts["thumb_ip"]
    for name in FINGERS[1:]:
        g = f[name]
        pts[f"{name}_mcp"], pts[f"{name}_pip"], pts[f"{name}_dip"] = (
            _joint(g["mc"], g["pp"]), _joint(g["pp"], g["mp"]), _joint(g["mp"], g["dp"]))
        pts[f"{name}_base"] = 2 * _center(g["mc"]) - pts[f"{name}_mcp"]
        pts[f"{name}_tip"] = 2 * _center(g["dp"]) - pts[f"{name}_dip"]
    pts["radius"], pts["ulna"] = _center(f["Radius"]), _center(f["Ulna"])
    return np.stack([pts[k] for k in KEYPOINTS]).astype(np.float32)


def chains_consistent(kp: np.ndarray, tolerance: float = 0.6) -> bool:
    """Do the box-derived joints of fingers I, III and V run on in line? Each joint must lie within ``tolerance``
    x the previous segment of where the previous segment, continued at its median ratio, puts it. Films whose
    boxes were assigned to the wrong finger (or boxed loosely) fail."""
    k = {n: kp[i] for i, n in enumerate(KEYPOINTS)}
    for chain, ratio in ((("thumb_cmc", "thumb_mcp", "thumb_ip"), 0.69), (("middle_finger_mcp", "middle_finger_pip", "middle_finger_dip"), 0.98),
                         (("pinky_finger_mcp", "pinky_finger_pip", "pinky_finger_dip"), 1.09)):
        a, b, c = (k[n] for n in chain)
        seg = np.linalg.norm(b - a)
        if seg <= 0 or np.linalg.norm(c - (b + (b - a) * ratio)) > tolerance * seg:
            return False
    return True


def bone_boxes_from_fingers(f: dict) -> dict[str, tuple]:
    """The 13 RUS bones' annotated boxes, named as in the standard."""
    out = {"MCPFirst": f["thumb"]["mc"], "PIPFirst": f["thumb"]["pp"], "DIPFirst": f["thumb"]["dp"]}
    for ordinal, name in (("Third", "middle_finger"), ("Fifth", "pinky_finger")):
        g = f[name]
        out.update({f"MCP{ordinal}": g["mc"], f"PIP{ordinal}": g["pp"], f"MIP{ordinal}": g["mp"], f"DIP{ordinal}": g["dp"]})
    for k in ("Radius", "Ulna"):
        if k in f:
            out[k] = f[k]
    return out


# Joints marked by both sources: the 21-keypoint names of annotations.json -> KEYPOINTS.
_SHARED_JOINTS = {"thumb2": "thumb_mcp", "thumb3": "thumb_ip"} | {
    f"{f}{i}": f"{f}_{j}" for f in FINGERS[1:] for i, j in ((1, "mcp"), (2, "pip"), (3, "dip"))}
# Over the 321 films with both sources the median disagreement is 4.0 % (the keypoint source sits a little off
# the joints) and 99 % of films are below 6.1 %; twice the median flags the films whose boxes belong elsewhere.
MAX_SOURCE_DISAGREEMENT_PCT = 8.0


def source_disagreement(entry: dict, names: list[str], box_keypoints: np.ndarray) -> float | None:
    """Median distance between the joints of the two annotation sources (21 keypoints vs RUS boxes) in % of the
    keypoint source's hand box, or None when the film has only the boxes."""
    if not entry.get("keypoints") or not entry.get("hand_box"):
        return None
    kp = np.asarray(entry["keypoints"], np.float64)[:, :2]
    a = np.array([kp[names.index(n)] for n in _SHARED_JOINTS])
    b = np.array([box_keypoints[KEYPOINTS.index(n)] for n in _SHARED_JOINTS.values()])
    x1, y1, x2, y2 = entry["hand_box"]
    return float(np.median(np.linalg.norm(a - b, axis=1)) / max(x2 - x1, y2 - y1, 1e-6) * 100)


def sources_agree(disagreement_pct: float | None) -> bool:
    """True unless the two sources disagree by more than ``MAX_SOURCE_DISAGREEMENT_PCT`` (one source: True)."""
    return disagreement_pct is None or disagreement_pct <= MAX_SOURCE_DISAGREEMENT_PCT


def load_landmark_films(root: Path, max_side: int = 512, drop_reserved: bool = True, consistent_only: bool = False,
                        agreeing_only: bool = True) -> list[LandmarkFilm]:
    """Films of ``root`` (the hand_landmarks folder) with a complete set of RUS-bone boxes, minus reserved ids,
    minus (if ``agreeing_only``) films whose two annotation sources disagree by more than
    ``MAX_SOURCE_DISAGREEMENT_PCT`` (boxes drawn for another film or orientation), and minus (if
    ``consistent_only``) films whose finger chains do not run in line: see ``chains_consistent``.

    The 21 "hand keypoints" of the other source only check the boxes, they are not targets: overlays show them off
    the joints (finger tips inside the distal phalanx, thumb CMC mid-shaft), while the bone boxes sit on the bones.
    """
    ann = json.loads((root / "annotations.json").read_text())
    drop = reserved_ids() if drop_reserved else set()
    films = []
    for e in ann["images"]:
        fingers = _fingers_from_boxes(e.get("rus_boxes") or [])
        if e["id"] in drop or fingers is None:
            continue
        box_kp = keypoints_from_boxes(fingers)
        disagreement = source_disagreement(e, ann["keypoint_names"], box_kp)
        if agreeing_only and not sources_agree(disagreement):
            continue
        img = cv2.imread(str(root / e["file"]), cv2.IMREAD_GRAYSCALE)
        if img is None:
            _logger.warning("skipping unreadable %s", e["file"])
            continue
        h, w = img.shape
        ow, oh = (e["original_width"], e["original_height"]) if e.get("squashed_299") else (w, h)
        s = max(w, h) / max(ow, oh) if e.get("squashed_299") else min(1.0, max_side / max(ow, oh))
        tw, th = round(ow * s), round(oh * s)
        sx, sy = tw / w, th / h
        img = cv2.resize(img, (tw, th), interpolation=cv2.INTER_AREA if min(sx, sy) < 1 else cv2.INTER_LINEAR)
        kp = box_kp * np.array([sx, sy], np.float32)
        if consistent_only and not chains_consistent(kp):
            continue
        boxes = {k: (b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy) for k, b in bone_boxes_from_fingers(fingers).items()}
        films.append(LandmarkFilm(e["id"], img, kp, boxes, e.get("boneage_months"), e.get("male"), disagreement))
    _logger.info("%d landmark films with complete RUS-bone boxes", len(films))
    return films
