"""Bone-scan region classifier on the held-out (test) patients of the BS-80K chest crops.

    python benchmarks/bonescan_accuracy.py --data DIR [--model NAME] [--update-card]

DIR holds chestRANT/ and chestRPOST/ (e.g. `dataset project` of GitHub webmasters777/BoneScanCEP). Reports AUC,
sensitivity/specificity at the card's threshold (set for 90 % specificity on validation), the best sensitivity at
90 % specificity on the test ROC, Brier score, expected calibration error and the reliability table, overall and
per view.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from bone_age.bonescan.classify import RegionClassifier
from bone_age.io import read_film
from bone_age.registry import default_model, load_model
from bone_age.training.bonescan import crop_split
from bone_age.training.bonescan_data import read_region_crops
from bone_age.training.metrics import binary_report

from _common import update_card_metrics, write_result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--model", default=None)
    ap.add_argument("--update-card", action="store_true")
    args = ap.parse_args()
    name = args.model or default_model("bonescan_region")
    clf = RegionClassifier(load_model(name))
    test = [c for c in read_region_crops(args.data, list(clf.regions)) if crop_split(c) == "test"]
    probs = np.concatenate([clf.probabilities([read_film(c.path).pixels for c in test[i:i + 128]])
                            for i in range(0, len(test), 128)])
    labels = np.array([c.label for c in test])
    views = np.array([c.view for c in test])
    result = {"model": name, "test_patients": len({c.file_id for c in test}),
              "all_views": binary_report(probs, labels, clf.threshold),
              **{f"view_{v}": binary_report(probs[views == v], labels[views == v], clf.threshold) for v in sorted(set(views))}}
    write_result("bonescan_accuracy", result)
    print(json.dumps({k: {m: v for m, v in r.items() if m != "reliability"} if isinstance(r, dict) else r
                      for k, r in result.items()}, indent=1))
    if args.update_card:
        update_card_metrics(name, {k: v for k, v in result.items() if k != "model"},
                            "python benchmarks/bonescan_accuracy.py --data <chest crops> --update-card")


if __name__ == "__main__":
    main()
