"""Clavicle segmentation on the held-out JSRT/SCR test films: Jaccard, Dice, mean contour distance (mm).

    python benchmarks/clavicle_accuracy.py --data DIR [--model NAME] [--update-card] [--sheet] [--split val|test]

Predictions come from the full inference path (top band, resized back to the film), both as the thresholded
probability map ("pixels") and as the API's output, the filled outline of each side's largest part ("outline"), and
are compared with the SCR masks at the masks' 1024 x 1024 resolution, where a pixel is 0.35 mm (JSRT: 0.175 mm at 2048 px). Contour distance:
the mean over both outlines of each outline point's distance to the other outline. ``--sheet`` writes an overlay
contact sheet (not committed: the films are JSRT's).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from bone_age.clavicle import ClavicleSegmenter
from bone_age.io import read_film
from bone_age.registry import default_model
from bone_age.training.clavicle import case_split
from bone_age.training.clavicle_data import SIDES, load_masks, read_cases

from _common import RESULTS, contact_sheet, update_card_metrics, write_result

MASK_HW, MM_PER_PX = (1024, 1024), 0.35


def _outline(m: np.ndarray) -> np.ndarray:
    return m.astype(np.uint8) - cv2.erode(m.astype(np.uint8), np.ones((3, 3), np.uint8))


def contour_distance_px(pred: np.ndarray, true: np.ndarray) -> float:
    """Symmetric mean distance between the two outlines (nan when either mask is empty)."""
    if not pred.any() or not true.any():
        return float("nan")
    op, ot = _outline(pred), _outline(true)
    dt_true = cv2.distanceTransform(1 - ot, cv2.DIST_L2, 5)
    dt_pred = cv2.distanceTransform(1 - op, cv2.DIST_L2, 5)
    return float((dt_true[op > 0].sum() + dt_pred[ot > 0].sum()) / (op.sum() + ot.sum()))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--model", default=None)
    ap.add_argument("--update-card", action="store_true")
    ap.add_argument("--sheet", action="store_true", help="write benchmarks/results/clavicle_contact_sheet.png")
    ap.add_argument("--split", default="test", choices=["val", "test"], help="val for choosing inference options, test to report")
    args = ap.parse_args()
    name = args.model or default_model("clavicle")
    seg = ClavicleSegmenter(name, device="cpu")
    test = [c for c in read_cases(args.data) if case_split(c) == args.split]
    outputs = ("pixels", "outline")  # thresholded probability map / the filled outline of the largest part (the API's)
    per = {o: {s: {"jaccard": [], "dice": [], "contour_mm": []} for s in SIDES} for o in outputs}
    tiles = []
    for c in test:
        px = read_film(c.image).pixels
        prob = seg.probabilities(px)
        outline = seg.segment(px)
        true = load_masks(c, MASK_HW) > 0
        for i, s in enumerate(SIDES):
            preds = {"pixels": cv2.resize(prob[i], MASK_HW[::-1], interpolation=cv2.INTER_LINEAR) >= seg.rule["mask_threshold"],
                     "outline": cv2.resize(outline.mask(s), MASK_HW[::-1], interpolation=cv2.INTER_NEAREST) > 0}
            for o, p in preds.items():
                inter, union = (p & true[i]).sum(), (p | true[i]).sum()
                per[o][s]["jaccard"].append(inter / max(union, 1))
                per[o][s]["dice"].append(2 * inter / max(p.sum() + true[i].sum(), 1))
                per[o][s]["contour_mm"].append(contour_distance_px(p, true[i]) * MM_PER_PX)
        if args.sheet and len(tiles) < 16:
            tile = cv2.cvtColor((cv2.resize(px, (256, 256)) * 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
            for i, color in ((0, (0, 200, 255)), (1, (255, 120, 0))):
                for m, col in ((outline.mask(SIDES[i]), color), (true[i].astype(np.uint8), (0, 255, 0))):
                    cnts, _ = cv2.findContours(cv2.resize(m, (256, 256), interpolation=cv2.INTER_NEAREST),
                                               cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
                    cv2.drawContours(tile, cnts, -1, col, 1)
            tiles.append(tile)
    summary = {o: {s: {k: {"mean": round(float(np.nanmean(v)), 4), "median": round(float(np.nanmedian(v)), 4),
                           "min": round(float(np.nanmin(v)), 4)} for k, v in d.items()} for s, d in per[o].items()}
               for o in outputs}
    result = {"model": name, "split": args.split, "n_test_films": len(test), "mask_resolution": list(MASK_HW), "mm_per_px": MM_PER_PX,
              "per_side": summary,
              "jaccard_mean_both": {o: round(float(np.mean([np.mean(per[o][s]["jaccard"]) for s in SIDES])), 4)
                                    for o in outputs}}
    write_result("clavicle_accuracy" if args.split == "test" else "clavicle_accuracy_val", result)
    print(json.dumps(result, indent=1))
    if tiles:  # green: SCR outline; orange / blue: predicted right / left
        contact_sheet(tiles, RESULTS / "clavicle_contact_sheet.png", tile=256)
    if args.update_card and args.split == "test":
        update_card_metrics(name, {k: v for k, v in result.items() if k != "model"},
                            "python benchmarks/clavicle_accuracy.py --data <JSRT root> --update-card")


if __name__ == "__main__":
    main()
