"""The fracture module by kind of film: body part, metal hardware, view (FracAtlas's own flags).

    python benchmarks/studies/fracture_subgroups.py --data DIR

Every readable film of the official valid and test splits (fractured films of the official split plus the
non-fractured films hashed into it) is read as the fracture module reads it (the shipped film classifier: Platt-
calibrated, the card's test-time views, the card's threshold). Per split and per flag of ``dataset.csv`` (a film can
carry several, e.g. hand and frontal): films, fractured films, AUC with its bootstrap interval (only with at least
``MIN_CLASS`` films of each kind), sensitivity and specificity at the threshold with Wilson intervals; and, with at
least ``MIN_CLASS`` fractured films, the shipped detector's box and mask mAP50 (pycocotools) on them. A measurement:
nothing is chosen by it. Writes benchmarks/results/fracture_subgroups.json.
"""
from __future__ import annotations

import sys

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from bone_age.fracture import FractureDetector
from bone_age.training.detection import coco_metrics, predict
from bone_age.training.fracture import image_split, sample
from bone_age.training.fracture_data import TAGS, read_fracatlas
from bone_age.training.metrics import auc_interval, proportion_interval

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for _common

from _common import readable_films, write_result  # noqa: E402

MIN_CLASS = 5  # fewer fractured (or intact) films than this: no AUC, only the counts and rates


def rate(hits: int, n: int) -> dict:
    return {"n": n, "share": round(hits / n, 4) if n else None, "ci95": [round(v, 4) for v in proportion_interval(hits, n)]}


def group_metrics(probs: np.ndarray, labels: np.ndarray, threshold: float) -> dict:
    pos, neg = labels == 1, labels == 0
    called = probs >= threshold
    out = {"n_films": int(len(labels)), "n_fractured": int(pos.sum()),
           "sensitivity": rate(int(called[pos].sum()), int(pos.sum())),
           "specificity": rate(int((~called[neg]).sum()), int(neg.sum()))}
    if pos.sum() >= MIN_CLASS and neg.sum() >= MIN_CLASS:
        out.update(auc=round(float(roc_auc_score(labels, probs)), 4), auc_ci95_bootstrap=list(auc_interval(probs, labels)))
    return out


def box_metrics(det: FractureDetector, fractured: list) -> dict[str, tuple]:
    """The detector's readable samples and outputs on the fractured films, by file name (``FracAtlasImage.id``)."""
    kept, preds = predict(det.model.module, [sample(i) for i in fractured], det.max_side, det.device)
    return {s.path.name: (s, p) for s, p in zip(kept, preds)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True, help="FracAtlas root")
    args = ap.parse_args()
    det = FractureDetector(device="cpu")
    clf, threshold = det.film, det.threshold
    result = {"model": clf.model.name, "detector": det.model.name, "views": clf.views, "threshold": threshold,
              "min_class": MIN_CLASS}
    imgs = read_fracatlas(args.data)
    for split, key in (("official_valid", "val"), ("official_test", "test")):
        films, probs = [], []
        for img, px in readable_films([i for i in imgs if image_split(i) == key], split):
            films.append(img)
            probs.append(clf.probability(px))
        p, y = np.array(probs), np.array([int(f.fractured) for f in films])
        groups = {"all": np.ones(len(films), bool),
                  **{t: np.array([t in f.tags for f in films]) for t in TAGS},
                  "no hardware": np.array(["hardware" not in f.tags for f in films])}
        result[split] = {name: group_metrics(p[m], y[m], threshold) for name, m in groups.items() if m.any()}
        boxes = box_metrics(det, [f for f in films if f.fractured])
        for name, m in groups.items():
            pairs = [boxes[f.id] for f, inside in zip(films, m) if inside and f.id in boxes]
            if len(pairs) >= MIN_CLASS:
                got = coco_metrics([s for s, _ in pairs], [o for _, o in pairs], ["fracture"], masks=True)
                result[split][name].update(box_map50=got["bbox_map50"], mask_map50=got["segm_map50"])
    write_result("fracture_subgroups", result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
