"""Two film-level fracture classifiers on the same films of an official split (test by default): each AUC and the
paired bootstrap interval of their difference.

    python benchmarks/studies/fracture_film_paired.py --data DIR --a NAME [--a-models DIR] [--b NAME] [--split test|val]

A is typically the model a new one replaced (kept outside models/, e.g. restored with ``git show``), B the shipped
one (default). Both read every readable film of the split as the fracture module does (Platt-calibrated, the card's
test-time views). Writes benchmarks/results/fracture_film_paired.json.
"""
from __future__ import annotations

import sys

import argparse
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score
from tqdm import tqdm

from bone_age.errors import UnreadableFilm
from bone_age.fracture.film import FilmClassifier
from bone_age.io import read_film
from bone_age.registry import default_model, load_model
from bone_age.training.fracture import image_split
from bone_age.training.fracture_data import read_fracatlas
from bone_age.training.metrics import auc_interval, paired_auc_interval

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for _common

from _common import write_result  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True, help="FracAtlas root")
    ap.add_argument("--a", required=True, help="the film classifier compared against (e.g. the one replaced)")
    ap.add_argument("--a-models", type=Path, help="folder holding A's weights and card (default: models/)")
    ap.add_argument("--b", default=None, help="the other film classifier (default: the shipped one)")
    ap.add_argument("--split", default="test", choices=["test", "val"])
    args = ap.parse_args()
    models = {"a": FilmClassifier(load_model(args.a, "cpu", args.a_models)),
              "b": FilmClassifier(load_model(args.b or default_model("fracture_film"), "cpu"))}
    probs, labels = {k: [] for k in models}, []
    for img in tqdm([i for i in read_fracatlas(args.data) if image_split(i) == args.split], desc="films", mininterval=10):
        try:
            px = read_film(img.path).pixels
        except UnreadableFilm:
            continue
        labels.append(int(img.fractured))
        for k, clf in models.items():
            probs[k].append(clf.probability(px))
    y, p = np.array(labels), {k: np.array(v) for k, v in probs.items()}
    auc = {k: round(float(roc_auc_score(y, v)), 4) for k, v in p.items()}
    write_result("fracture_film_paired", {
        "split": args.split, "n_films": len(y), "n_fractured": int(y.sum()),
        **{k: {"model": models[k].model.name, "auc": auc[k], "auc_ci95_bootstrap": list(auc_interval(v, y))}
           for k, v in p.items()},
        "auc_b_minus_a": round(auc["b"] - auc["a"], 4),
        "b_minus_a_ci95_paired_bootstrap": list(paired_auc_interval(p["a"], p["b"], y))})


if __name__ == "__main__":
    main()
