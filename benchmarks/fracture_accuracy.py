"""Fracture detector on FracAtlas: COCO box/mask mAP on the official valid and test fractures, film-level AUC.

    python benchmarks/fracture_accuracy.py --data DIR [--model NAME] [--update-card] [--sheet]

mAP (pycocotools) over the official split's fractured images; film-level AUC, sensitivity and specificity at the
module's threshold over every film of the split (the fractured ones plus the non-fractured films hashed into it), for
the probability the module reports (the whole-film classifier's when one is installed) and for the detector's
highest instance score; the median time of one ``detect`` call on this machine.
``--sheet`` writes a contact sheet of test predictions (benchmarks/results/fracture_contact_sheet.png).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np
from sklearn.metrics import roc_auc_score

from bone_age.fracture import FractureDetector
from bone_age.fracture.report import write_overlay
from bone_age.io import read_film
from bone_age.registry import default_model
from bone_age.training.detection import coco_metrics, predict
from bone_age.training.fracture import image_split, sample
from bone_age.training.fracture_data import read_fracatlas
from bone_age.training.metrics import auc_interval, sensitivity_at_specificity

from _common import RESULTS, contact_sheet, update_card_metrics, write_result


def film_metrics(probs: np.ndarray, labels: np.ndarray, threshold: float | None) -> dict:
    out = {"auc": round(float(roc_auc_score(labels, probs)), 4), "auc_ci95_bootstrap": list(auc_interval(probs, labels)),
           "sensitivity_at_90_specificity": round(sensitivity_at_specificity(probs, labels, 0.9), 4)}
    if threshold is not None:
        pred = probs >= threshold
        out.update(threshold=threshold, sensitivity=round(float(pred[labels == 1].mean()), 4),
                   specificity=round(float((~pred[labels == 0]).mean()), 4))
    return out


def evaluate(det: FractureDetector, imgs) -> dict:
    """Box/mask mAP over the fractured films; film-level metrics of the probability the module reports (the
    whole-film classifier's when one is installed) and of the detector's highest instance score."""
    frac = [i for i in imgs if i.fractured]
    kept, preds = predict(det.model.module, [sample(i) for i in frac], det.max_side, det.device)
    out = {"n_fractured_images": len(kept), "n_instances": int(sum(len(s.boxes) for s in kept)),
           **coco_metrics(kept, preds, ["fracture"], masks=True)}
    others, other_preds = predict(det.model.module, [sample(i) for i in imgs if not i.fractured], det.max_side, det.device)
    top = np.array([float(p["scores"].max()) if len(p["scores"]) else 0.0 for p in preds + other_preds])
    labels = np.array([1] * len(kept) + [0] * len(others))
    out.update(n_films=len(labels), n_unreadable_left_out=len(imgs) - len(labels))
    if det.film is None:
        out.update(film_metrics(top, labels, det.threshold))
    else:
        probs = np.array([det.film.probability(read_film(s.path).pixels) for s in kept + others])
        out.update(film_metrics(probs, labels, det.threshold), film_probability=det.film.model.name, film_views=det.film.views,
                   detector_top_score=film_metrics(top, labels, None))
    return out


def latency_ms(det: FractureDetector, paths: list[Path]) -> float:
    """Median milliseconds of one ``detect`` call (film already decoded)."""
    times = []
    for p in paths:
        px = read_film(p).pixels
        t = time.perf_counter()
        det.detect(px)
        times.append((time.perf_counter() - t) * 1000)
    return round(float(np.median(times)), 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--model", default=None)
    ap.add_argument("--update-card", action="store_true")
    ap.add_argument("--sheet", action="store_true")
    args = ap.parse_args()
    name = args.model or default_model("fracture")
    det = FractureDetector(name, device="cpu")
    imgs = read_fracatlas(args.data)
    result = {"model": name, **{split: evaluate(det, [i for i in imgs if image_split(i) == key])
                                for split, key in (("official_valid", "val"), ("official_test", "test"))},
              "detect_ms_per_film_cpu": latency_ms(det, [i.path for i in imgs if image_split(i) == "test"][:20])}
    write_result("fracture_accuracy", result)
    print(json.dumps(result, indent=1))
    if args.sheet:
        tiles = []
        for i in [i for i in imgs if image_split(i) == "test" and i.fractured][:16]:
            px = read_film(i.path).pixels
            tile = cv2.imread(str(write_overlay(RESULTS / "fracture_sheet_tmp", Path(i.id).stem, px, det.detect(px))))
            for b in i.boxes:
                s = tile.shape[1] / px.shape[1]
                cv2.rectangle(tile, tuple(int(v * s) for v in b[:2]), tuple(int(v * s) for v in b[2:]), (0, 255, 0), 2)
            tiles.append(tile)
        for f in (RESULTS / "fracture_sheet_tmp").iterdir():
            f.unlink()
        (RESULTS / "fracture_sheet_tmp").rmdir()
        contact_sheet(tiles, RESULTS / "fracture_contact_sheet.png")  # green: annotated boxes; red: predicted
    if args.update_card:
        command = "python benchmarks/fracture_accuracy.py --data <FracAtlas root> --update-card"
        update_card_metrics(name, {k: v for k, v in result.items() if k != "model"}, command)
        if det.film:
            film_keys = ("n_films", "n_unreadable_left_out", "auc", "auc_ci95_bootstrap", "threshold", "sensitivity",
                         "specificity", "sensitivity_at_90_specificity", "detector_top_score")
            update_card_metrics(det.film.model.name, {split: {k: result[split][k] for k in film_keys}
                                                      for split in ("official_valid", "official_test")}, command)


if __name__ == "__main__":
    main()
