"""Localizer accuracy on the held-out test films of hand_landmarks, and rejection of real non-hand films.

    python benchmarks/localizer_accuracy.py [--model NAME] [--fracatlas DIR] [--jsrt DIR]

Writes benchmarks/results/localizer_accuracy.json and benchmarks/results/localizer_contact_sheet.png.
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

import cv2
import numpy as np

from _common import DATA, RESULTS, contact_sheet, update_card_metrics, write_result
from bone_age.io import read_film
from bone_age.io.film import film_from_array
from bone_age.localize import Localizer
from bone_age.registry import default_model, load_model
from bone_age.regions import load_region_rule
from bone_age.training.landmarks import KEYPOINTS, chains_consistent, load_landmark_films
from bone_age.training.region_fit import box_iou
from bone_age.training.splits import split_of


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
    ap.add_argument("--fracatlas", type=Path, default=Path("/work/data/fracatlas"), help="FracAtlas root (non-hand and hand films)")
    ap.add_argument("--jsrt", type=Path, default=Path("/work/data/jsrt/JSRT/jsrt_images/images"), help="JSRT chest PNGs")
    ap.add_argument("--n-negative", type=int, default=40)
    ap.add_argument("--split", default="test", choices=["val", "test"], help="val for tuning the region rule, test to report")
    ap.add_argument("--update-card", action="store_true", help="write the held-out metrics into the model card")
    args = ap.parse_args()
    name = args.model or default_model("localizer")
    loc = Localizer(load_model(name))
    rule = load_region_rule()
    films = [f for f in load_landmark_films(DATA / "hand_landmarks") if split_of(f.id) == args.split]
    errs, contained, ious, accepted, tiles = [], {b: [] for b in rule.bones}, {b: [] for b in rule.bones}, 0, []
    consistent = np.array([chains_consistent(f.keypoints) for f in films])
    for i, f in enumerate(films):
        out = loc(film_from_array(f.image, f.id))
        accepted += out.is_hand
        pred = np.array([out.keypoints[k][:2] for k in KEYPOINTS])
        hand = np.linalg.norm(f.keypoints[KEYPOINTS.index("middle_finger_tip")] - f.keypoints[KEYPOINTS.index("radius")])
        errs.append(np.linalg.norm(pred - f.keypoints, axis=1) / hand * 100)
        gt = {k: f.keypoints[j] for j, k in enumerate(KEYPOINTS)}
        for r in out.regions:
            contained[r.bone].append(inside_crop(r, gt[rule.bones[r.bone]["growth"]]))
            ious[r.bone].append(box_iou(r.box_xyxy, f.bone_boxes[r.bone]))
        if i < 16:
            tiles.append(draw(f.image, out))
    errs = np.array(errs)
    contact_sheet(tiles, RESULTS / "localizer_contact_sheet.png")
    all_contained = np.concatenate([np.array(v) for v in contained.values()])
    clean_contained = np.concatenate([np.array(v)[consistent] for v in contained.values()])

    negatives = {}
    jsrt = sorted(args.jsrt.glob("*.png"))[: args.n_negative] if args.jsrt.is_dir() else []
    if jsrt:
        negatives["jsrt_chest"] = [not loc(read_film(p)).is_hand for p in jsrt]
    fa_hands = []
    if (args.fracatlas / "dataset.csv").is_file():
        rows = list(csv.DictReader(open(args.fracatlas / "dataset.csv")))
        non_hand = [r for r in rows if r["hand"] == "0" and r["mixed"] == "0"][: args.n_negative]
        hands = [r for r in rows if r["hand"] == "1" and r["mixed"] == "0" and r["frontal"] == "1" and r["fractured"] == "0"][: args.n_negative]

        def path(r):
            sub = "Fractured" if r["fractured"] == "1" else "Non_fractured"
            return args.fracatlas / "images" / sub / r["image_id"]

        negatives["fracatlas_leg_hip_shoulder"] = [not loc(read_film(path(r))).is_hand for r in non_hand]
        fa_hands = [loc(read_film(path(r))).is_hand for r in hands]
    rng = np.random.default_rng(0)
    negatives["synthetic_noise"] = [not loc(film_from_array(rng.random((512, 400)).astype(np.float32))).is_hand for _ in range(10)]
    negatives["synthetic_blank"] = [not loc(film_from_array(np.full((512, 400), v, np.float32))).is_hand for v in (0.0, 0.5, 1.0)]

    result = {
        "model": name, "split": args.split, "films": len(films),
        "keypoint_error_pct_hand_length": {"mean": round(float(errs.mean()), 3), "median": round(float(np.median(errs)), 3),
                                           "p95": round(float(np.percentile(errs, 95)), 3),
                                           "per_keypoint_mean": {k: round(float(errs[:, j].mean()), 2) for j, k in enumerate(KEYPOINTS)}},
        "growth_region_in_crop": {"all_13": round(float(all_contained.mean()), 4),
                                  "per_bone": {b: round(float(np.mean(v)), 4) for b, v in contained.items()},
                                  "films_with_consistent_annotation": int(consistent.sum()),
                                  "all_13_on_consistent_films": round(float(clean_contained.mean()), 4),
                                  "per_bone_on_consistent_films": {b: round(float(np.mean(np.array(v)[consistent])), 4) for b, v in contained.items()}},
        "keypoint_error_pct_on_consistent_films": {"mean": round(float(errs[consistent].mean()), 3),
                                                   "median": round(float(np.median(errs[consistent])), 3)},
        "box_iou_with_annotated_bone_box": {b: round(float(np.mean(v)), 3) for b, v in ious.items()},
        "films_accepted_as_hand": round(accepted / len(films), 4),
        "non_hand_rejected": {k: {"n": len(v), "rejected": round(float(np.mean(v)), 4)} for k, v in negatives.items()},
        "fracatlas_hand_films_accepted": {"n": len(fa_hands), "accepted": round(float(np.mean(fa_hands)), 4) if fa_hands else None},
        "notes": "hand length = distance from the middle finger tip to the radius keypoint (from the annotated boxes); "
                 "growth region in crop = the annotated growth keypoint lies inside the square classifier crop, 5 % of "
                 "its side from the edges",
    }
    write_result("localizer_accuracy" if args.split == "test" else "localizer_accuracy_val", result)
    if args.update_card:
        update_card_metrics(name, {k: v for k, v in result.items() if k != "model"},
                            "python benchmarks/localizer_accuracy.py --update-card")
    print({k: v for k, v in result.items() if k not in ("keypoint_error_pct_hand_length",)})
    print("keypoint error", result["keypoint_error_pct_hand_length"]["mean"], "% mean")


if __name__ == "__main__":
    main()
