"""Localizer accuracy on the held-out test films of hand_landmarks, and rejection of real non-hand films.

    python benchmarks/localizer_accuracy.py [--model NAME] [--fracatlas DIR] [--jsrt DIR] [--no-gate] [--split val|test]

Non-hand films are the held-out (test-split) films of FracAtlas and JSRT, none seen by the hand-film gate in training.

Writes benchmarks/results/localizer_accuracy.json and benchmarks/results/localizer_contact_sheet.png.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from bone_age.hand.gate import HandGate
from bone_age.hand.localize import Localizer
from bone_age.hand.regions import load_region_rule
from bone_age.io import read_film
from bone_age.io.film import film_from_array
from bone_age.registry import default_model, list_models, load_model
from bone_age.training.common import keep_readable
from bone_age.training.hand_gate import gate_films
from bone_age.training.landmarks import KEYPOINTS, MAX_SOURCE_DISAGREEMENT_PCT, load_landmark_films
from bone_age.training.region_fit import box_iou
from bone_age.training.splits import split_of

from _common import DATA, RESULTS, contact_sheet, update_card_metrics, write_result


def inside_crop(region, xy, margin: float = 0.05) -> bool:
    """Is point ``xy`` inside the region's square crop, at least ``margin`` x side from its edges?"""
    a = np.deg2rad(region.angle_deg)
    d = np.asarray(xy) - np.asarray(region.center_xy)
    along, across = d @ np.array([np.sin(a), -np.cos(a)]), d @ np.array([np.cos(a), np.sin(a)])
    half = region.crop_side_px * (0.5 - margin)
    return abs(along) <= half and abs(across) <= half


def draw(film_u8: np.ndarray, loc) -> np.ndarray:
    img = cv2.cvtColor(film_u8, cv2.COLOR_GRAY2BGR)
    for r in loc.regions:
        x1, y1, x2, y2 = map(int, r.box_xyxy)
        cv2.rectangle(img, (x1, y1), (x2, y2), (0, 200, 0), max(1, img.shape[0] // 300))
        cv2.putText(img, r.bone, (x1, max(10, y1 - 2)), cv2.FONT_HERSHEY_SIMPLEX, img.shape[0] / 1500, (0, 255, 255), 1)
    for x, y, _ in loc.keypoints.values():
        cv2.circle(img, (int(x), int(y)), max(2, img.shape[0] // 200), (0, 0, 255), -1)
    return img


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--fracatlas", type=Path, help="FracAtlas root: its test-split leg, hip, shoulder and frontal hand films")
    ap.add_argument("--jsrt", type=Path, help="JSRT/SCR root: its test-split chest films")
    ap.add_argument("--no-gate", action="store_true", help="judge hands by the localizer alone, without the hand-film gate")
    ap.add_argument("--split", default="test", choices=["val", "test"], help="val for tuning the region rule, test to report")
    ap.add_argument("--update-card", action="store_true", help="write the held-out metrics into the model card")
    args = ap.parse_args()
    name = args.model or default_model("localizer")
    gate = None if args.no_gate or not list_models("hand_gate") else load_model(default_model("hand_gate"))
    loc = Localizer(load_model(name), gate and HandGate(gate))
    rule = load_region_rule()
    every = [f for f in load_landmark_films(DATA / "hand_landmarks", agreeing_only=False) if split_of(f.id) == args.split]
    agree = np.array([f.sources_agree for f in every])
    films = [f for f, a in zip(every, agree) if a]  # as training: films whose two annotation sources agree
    errs, contained, ious, accepted, tiles = [], {b: [] for b in rule.bones}, {b: [] for b in rule.bones}, 0, []
    for i, f in enumerate(every):
        out = loc(film_from_array(f.image, f.id))
        accepted += out.is_hand
        pred = np.array([out.keypoints[k][:2] for k in KEYPOINTS])
        hand = np.linalg.norm(f.keypoints[KEYPOINTS.index("middle_finger_tip")] - f.keypoints[KEYPOINTS.index("radius")])
        errs.append(np.linalg.norm(pred - f.keypoints, axis=1) / hand * 100)
        gt = {k: f.keypoints[j] for j, k in enumerate(KEYPOINTS)}
        for r in out.regions:
            contained[r.bone].append(inside_crop(r, gt[rule.bones[r.bone]["growth"]]))
            ious[r.bone].append(box_iou(r.box_xyxy, f.bone_boxes[r.bone]))
        if agree[i] and len(tiles) < 16:
            tiles.append(draw(f.image, out))
    all_errs = np.array(errs)
    errs = all_errs[agree]
    contact_sheet(tiles, RESULTS / "localizer_contact_sheet.png")
    contained_all = {b: np.array(v) for b, v in contained.items()}
    contained = {b: v[agree] for b, v in contained_all.items()}
    all_contained = np.concatenate(list(contained.values()))

    negatives = {}
    held_out = [f for root in (args.fracatlas, args.jsrt) if root for f in gate_films([root]) if f.split == "test"]
    judged = dict(zip(*keep_readable(held_out, lambda f: loc(read_film(f.path)).is_hand)))  # FracAtlas has truncated files
    for group, sources in (("jsrt_chest", ("chest",)), ("fracatlas_leg_hip_shoulder", ("fracatlas_leg", "fracatlas_hip", "fracatlas_shoulder"))):
        if any(f.source in sources for f in judged):
            negatives[group] = [not ok for f, ok in judged.items() if f.source in sources]
    fa_hands = [ok for f, ok in judged.items() if f.source == "fracatlas_hand"]
    rng = np.random.default_rng(0)
    negatives["synthetic_noise"] = [not loc(film_from_array(rng.random((512, 400)).astype(np.float32))).is_hand for _ in range(10)]
    negatives["synthetic_blank"] = [not loc(film_from_array(np.full((512, 400), v, np.float32))).is_hand for v in (0.0, 0.5, 1.0)]

    result = {
        "model": name, "hand_gate": gate.name if gate else None, "split": args.split, "films": len(films),
        "films_left_out_annotation_sources_disagree": sorted(f.id for f, a in zip(every, agree) if not a),
        "keypoint_error_pct_hand_length": {"mean": round(float(errs.mean()), 3), "median": round(float(np.median(errs)), 3),
                                           "p95": round(float(np.percentile(errs, 95)), 3),
                                           "per_keypoint_mean": {k: round(float(errs[:, j].mean()), 2) for j, k in enumerate(KEYPOINTS)}},
        "growth_region_in_crop": {"all_13": round(float(all_contained.mean()), 4),
                                  "per_bone": {b: round(float(np.mean(v)), 4) for b, v in contained.items()},
                                  "all_13_with_the_films_left_out": round(float(np.concatenate(list(contained_all.values())).mean()), 4)},
        "keypoint_error_pct_with_the_films_left_out": {"mean": round(float(all_errs.mean()), 3),
                                                       "median": round(float(np.median(all_errs)), 3)},
        "box_iou_with_annotated_bone_box": {b: round(float(np.mean(np.array(v)[agree])), 3) for b, v in ious.items()},
        "films_accepted_as_hand": round(accepted / len(every), 4),
        "non_hand_rejected": {k: {"n": len(v), "rejected": round(float(np.mean(v)), 4)} for k, v in negatives.items()},
        "fracatlas_test_frontal_hand_films_accepted": {"n": len(fa_hands), "accepted": round(float(np.mean(fa_hands)), 4) if fa_hands else None},
        "notes": "hand length = distance from the middle finger tip to the radius keypoint (from the annotated boxes); "
                 "growth region in crop = the annotated growth keypoint lies inside the square classifier crop, 5 % of "
                 "its side from the edges; films whose two annotation sources (21 keypoints, RUS boxes) disagree by more "
                 f"than {MAX_SOURCE_DISAGREEMENT_PCT} % of the hand are left out of training and of these figures "
                 "(training/landmarks.py: source_disagreement); the *_with_the_films_left_out figures include them",
    }
    write_result("localizer_accuracy" if args.split == "test" else "localizer_accuracy_val", result)
    if args.update_card:
        update_card_metrics(name, {k: v for k, v in result.items() if k != "model"},
                            "python benchmarks/localizer_accuracy.py --update-card")
    print({k: v for k, v in result.items() if k not in ("keypoint_error_pct_hand_length",)})
    print("keypoint error", result["keypoint_error_pct_hand_length"]["mean"], "% mean")


if __name__ == "__main__":
    main()
