"""How many annotated FracAtlas fractures the shipped detector proposes at all, on the official valid films.

    python benchmarks/studies/fracture_recall.py --data DIR

Share of annotated instances overlapped by some detection at IoU >= 0.1 / 0.3 / 0.5, among all the detector's instances
(up to 50 per film) and among those the module shows (its card's instance_score_threshold); the films' own long sides,
and the share of train fractures at most 512 px (from the file headers); the annotated box sizes as the network sees
them. Tells whether its mAP is lost to fractures never proposed or to false instances ranked above true ones. The
detector reads the validation films only; the test films are not read.
"""
from __future__ import annotations

import sys

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.ops import box_iou

from bone_age.fracture import FractureDetector
from bone_age.training.detection import predict
from bone_age.training.fracture import image_split, sample
from bone_age.training.fracture_data import read_fracatlas

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for _common

from _common import write_result  # noqa: E402

IOUS = (0.1, 0.3, 0.5)


def recall(samples, preds, iou: float, min_score: float) -> float:
    """Share of annotated boxes with a detection scoring >= ``min_score`` at IoU >= ``iou`` (boxes in film pixels)."""
    hit = total = 0
    for s, p in zip(samples, preds):
        truth = torch.as_tensor(np.asarray(s.boxes, np.float32)).reshape(-1, 4)
        found = p["boxes"][p["scores"] >= min_score]
        total += len(truth)
        if len(found):
            hit += int((box_iou(truth, found).max(1).values >= iou).sum())
    return round(hit / total, 3)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    args = ap.parse_args()
    det = FractureDetector(device="cpu", film_model=False)
    imgs = read_fracatlas(args.data)
    frac = [i for i in imgs if image_split(i) == "val" and i.fractured]
    train_sides = np.array([max(Image.open(i.path).size) for i in imgs if image_split(i) == "train" and i.fractured])
    kept, preds = predict(det.model.module, [sample(i) for i in frac], det.max_side, det.device)
    # torchvision's transform then enlarges every film so that its long side is max_side: the size the network sees
    sizes = np.concatenate([(np.asarray(s.boxes)[:, 2:] - np.asarray(s.boxes)[:, :2]) * p["scale"] * det.max_side / max(p["hw"])
                            for s, p in zip(kept, preds)])
    long_sides = np.array([max(p["hw"]) / p["scale"] for p in preds])
    result = {"model": det.model.name, "n_films": len(kept), "n_instances": len(sizes), "input_long_side": det.max_side,
              "recall_all_instances": {str(t): recall(kept, preds, t, 0.0) for t in IOUS},
              "recall_shown_instances": {str(t): recall(kept, preds, t, det.show_score) for t in IOUS},
              "shown_score_threshold": det.show_score,
              "film_long_side_px": {q: float(np.quantile(long_sides, k)) for q, k in (("min", 0), ("median", 0.5), ("max", 1))},
              "train_fractured_share_long_side_le_512": round(float((train_sides <= 512).mean()), 3),
              "box_width_height_px_at_input": {q: [round(float(v), 1) for v in np.quantile(sizes, k, axis=0)]
                                      for q, k in (("p10", 0.1), ("median", 0.5), ("p90", 0.9))}}
    write_result("fracture_recall", result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
