"""Does the kind of film (a hand, as the hand-film gate sees it) shift the fracture classifier's logit enough to be
worth a Platt offset of its own?

    python benchmarks/studies/fracture_kind_offset.py --data DIR

On the official valid films (the films the shipped Platt and threshold were fitted on; test is not read): the shipped
film probability's logit and the shipped hand gate's verdict of each readable film. Fits ``sigmoid(a * logit + b +
c * hand)`` by logistic regression and reports c with a bootstrap interval over films, the out-of-fold AUC of that
recalibration (stratified 10-fold) against the AUC of the probability as shipped, the AUC within each kind, and how
the gate's verdict agrees with FracAtlas's own hand flag. Writes benchmarks/results/fracture_kind_offset.json.
"""
from __future__ import annotations

import sys

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from bone_age.fracture import FractureDetector
from bone_age.hand.gate import HandGate
from bone_age.registry import default_model, load_model
from bone_age.training.fracture import image_split
from bone_age.training.fracture_data import read_fracatlas

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for _common

from _common import readable_films, write_result  # noqa: E402

FOLDS, BOOT = 10, 1000


def fit(x: np.ndarray, y: np.ndarray) -> LogisticRegression:
    return LogisticRegression(C=1e6, max_iter=1000).fit(x, y)  # unpenalised in effect


def kind_offset(logit: np.ndarray, hand: np.ndarray, y: np.ndarray, seed: int = 0) -> dict:
    """The hand offset c (with its bootstrap interval) and the out-of-fold AUC of the recalibrated probability."""
    x = np.c_[logit, hand.astype(float)]
    oof = np.zeros(len(y))
    for tr, te in StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(x, y):
        oof[te] = fit(x[tr], y[tr]).decision_function(x[te])
    rng = np.random.default_rng(seed)
    boot = [fit(x[i], y[i]).coef_[0, 1] for i in (rng.integers(0, len(y), len(y)) for _ in range(BOOT))]
    m = fit(x, y)
    return {"a": round(float(m.coef_[0, 0]), 4), "b": round(float(m.intercept_[0]), 4), "c": round(float(m.coef_[0, 1]), 4),
            "c_ci95_bootstrap": [round(float(v), 3) for v in np.percentile(boot, [2.5, 97.5])],
            "auc_as_shipped": round(float(roc_auc_score(y, logit)), 4),
            "auc_recalibrated_out_of_fold": round(float(roc_auc_score(y, oof)), 4)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True, help="FracAtlas root")
    args = ap.parse_args()
    clf = FractureDetector(device="cpu").film
    gate = HandGate(load_model(default_model("hand_gate"), "cpu"))
    logit, hand, flagged, y = [], [], [], []
    for img, px in readable_films([i for i in read_fracatlas(args.data) if image_split(i) == "val"], "official_valid"):
        p = np.clip(clf.probability(px), 1e-7, 1 - 1e-7)
        logit.append(float(np.log(p / (1 - p))))
        hand.append(gate.verdict(px)[0])
        flagged.append("hand" in img.tags)
        y.append(int(img.fractured))
    logit, hand, flagged, y = map(np.array, (logit, hand, flagged, y))
    within = {name: {"n_films": int(m.sum()), "n_fractured": int(y[m].sum()), "auc": round(float(roc_auc_score(y[m], logit[m])), 4)}
              for name, m in (("gate_hand", hand), ("gate_other", ~hand))}
    result = {"model": clf.model.name, "gate": gate.model.name, "split": "official_valid", "folds": FOLDS, "bootstrap": BOOT,
              "n_films": len(y), "n_fractured": int(y.sum()), **kind_offset(logit, hand, y), "by_gate_verdict": within,
              "gate_vs_dataset_hand_flag": {"flagged_hand": int(flagged.sum()), "flagged_and_passed": int((flagged & hand).sum()),
                                            "passed_not_flagged": int((hand & ~flagged).sum())}}
    write_result("fracture_kind_offset", result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
