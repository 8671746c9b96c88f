"""Localizer on turned and small hands: held-out hand_landmarks films turned by an angle, or shrunk into a corner of a
larger black film (a child's hand on an adult's cassette), then located by the pipeline's Localizer (gate included).

    python benchmarks/studies/localizer_turned.py [--model NAME] [--split val|test] [--limit N] [--update-card]

Per condition: the share of films accepted as a hand, and the keypoint error (% of hand length) of those accepted.
``--split val`` is for choosing (search rules, training runs); ``test`` is read to report.
Writes benchmarks/results/localizer_turned.json (localizer_turned_val.json for val); ``--update-card`` writes the test
figures into the localizer's card as ``test_metrics_turned_and_small``.
"""
from __future__ import annotations

import sys
from pathlib import Path

import argparse

import cv2
import numpy as np

from bone_age.hand.gate import HandGate
from bone_age.hand.localize import Localizer
from bone_age.io.film import film_from_array
from bone_age.registry import default_model, list_models, load_model
from bone_age.training.landmarks import KEYPOINTS, load_landmark_films
from bone_age.training.splits import split_of

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for _common

from _common import DATA, update_card_metrics, write_result  # noqa: E402

ANGLES = (0, 30, 45, 60, 90, 135)  # degrees, clockwise
SHRINK = 0.45  # the small condition: the film at this share of a black film's side, in its lower left corner


def turned(image: np.ndarray, pts: np.ndarray, deg: float) -> tuple[np.ndarray, np.ndarray]:
    """``image`` turned clockwise by ``deg`` on a canvas that holds all of it, with ``pts`` moved along."""
    h, w = image.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), -deg, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * s + w * c), int(h * c + w * s)
    m[:, 2] += (nw - w) / 2, (nh - h) / 2
    out = cv2.warpAffine(image, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=0)
    return out, pts @ m[:, :2].T + m[:, 2]


def shrunk(image: np.ndarray, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``image`` at ``SHRINK`` of a black canvas of the same size, in its lower left corner."""
    h, w = image.shape
    small = cv2.resize(image, (int(w * SHRINK), int(h * SHRINK)), interpolation=cv2.INTER_AREA)
    out = np.zeros_like(image)
    out[h - small.shape[0]:, :small.shape[1]] = small
    return out, pts * SHRINK + np.array([0, h - small.shape[0]])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--split", default="test", choices=["val", "test"])
    ap.add_argument("--limit", type=int, default=None, help="first N films only (a quick look)")
    ap.add_argument("--update-card", action="store_true", help="write the test figures into the localizer's card")
    args = ap.parse_args()
    name = args.model or default_model("localizer")
    gate = HandGate(load_model(default_model("hand_gate"))) if list_models("hand_gate") else None
    loc = Localizer(load_model(name), gate)
    films = [f for f in load_landmark_films(DATA / "hand_landmarks", consistent_only=True) if split_of(f.id) == args.split]
    films = films[:args.limit] if args.limit else films
    tip, radius = KEYPOINTS.index("middle_finger_tip"), KEYPOINTS.index("radius")
    conditions = {}
    for small in (False, True):
        for deg in ANGLES:
            accepted, errs = [], []
            for f in films:
                img, pts = shrunk(f.image, f.keypoints) if small else (f.image, f.keypoints)
                img, pts = turned(img, pts, deg)
                out = loc(film_from_array(img, f.id))
                accepted.append(out.is_hand)
                if out.is_hand:
                    pred = np.array([out.keypoints[k][:2] for k in KEYPOINTS])
                    errs.append(float(np.mean(np.linalg.norm(pred - pts, axis=1)) / np.linalg.norm(pts[tip] - pts[radius]) * 100))
            key = f"{'small' if small else 'full'}_{deg}deg"
            conditions[key] = {"accepted": round(float(np.mean(accepted)), 4),
                               "kp_error_pct_mean_accepted": round(float(np.mean(errs)), 3) if errs else None,
                               "kp_error_pct_p95_accepted": round(float(np.percentile(errs, 95)), 3) if errs else None}
            print(key, conditions[key], flush=True)
    result = {"model": name, "hand_gate": gate.model.name if gate else None, "split": args.split, "films": len(films),
              "shrink": SHRINK, "conditions": conditions,
              "accepted_mean_over_conditions": round(float(np.mean([c["accepted"] for c in conditions.values()])), 4)}
    write_result("localizer_turned" if args.split == "test" else "localizer_turned_val", result)
    if args.update_card and args.split == "test" and not args.limit:
        update_card_metrics(name, {k: v for k, v in result.items() if k != "model"},
                            "python benchmarks/studies/localizer_turned.py --split test --update-card", key="test_metrics_turned_and_small")


if __name__ == "__main__":
    main()
