"""Greulich-Pyle regressor on the official RSNA 2017 test set (200 films, reported once) and on rsna_hands.

    python benchmarks/gp_accuracy.py --rsna299 DIR [--model NAME] [--update-card]

The official test films come from the 299 px copy (squashed, as the model was trained); rsna_hands films
(unsquashed, up to 1024 px, ids hashing to 'test') check that the resize rule carries to real film shapes.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from _common import DATA, update_card_metrics, write_result
from bone_age.gp import GPRegressor
from bone_age.io import read_film
from bone_age.registry import default_model, load_model
from bone_age.training.gp import load_rsna_test
from bone_age.training.metrics import mae_interval
from bone_age.training.rsna import load_rsna_hands
from bone_age.training.splits import split_of


def evaluate(gp: GPRegressor, films) -> dict:
    pred, true = [], []
    for i in range(0, len(films), 32):
        chunk = films[i:i + 32]
        m, _ = gp.predict_months([read_film(f.path).pixels for f in chunk], [f.male for f in chunk])
        pred += list(m)
        true += [f.boneage_months for f in chunk]
    err = np.array(pred) - np.array(true)
    return {"n": len(true), "mae_months": round(float(np.abs(err).mean()), 2), "mae_ci95_bootstrap": mae_interval(err),
            "rmse_months": round(float(np.sqrt((err**2).mean())), 2),
            "bias_months": round(float(err.mean()), 2), "pearson_r": round(float(np.corrcoef(pred, true)[0, 1]), 4)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rsna299", type=Path, required=True, help="root of the 299 px RSNA copy (official test set)")
    ap.add_argument("--model", default=None)
    ap.add_argument("--update-card", action="store_true")
    args = ap.parse_args()
    name = args.model or default_model("gp")
    gp = GPRegressor(load_model(name))
    test = load_rsna_test(args.rsna299)
    hands = [f for f in load_rsna_hands(DATA / "rsna_hands") if split_of(f.id) == "test"]
    result = {"model": name, "test_time_flip": gp.flip,
              "rsna2017_official_test": evaluate(gp, test),
              "rsna_hands_heldout_unsquashed": evaluate(gp, hands)}
    if gp.flip:  # the same films read once, for comparison (the flip was chosen on validation films, not here)
        plain = GPRegressor(gp.model, flip=False)
        result["without_test_time_flip"] = {"rsna2017_official_test": evaluate(plain, test),
                                            "rsna_hands_heldout_unsquashed": evaluate(plain, hands)}
    write_result("gp_accuracy", result)
    print(json.dumps(result, indent=1))
    if args.update_card:
        keys = ("rsna2017_official_test", "rsna_hands_heldout_unsquashed", "without_test_time_flip")
        update_card_metrics(name, {k: result[k] for k in keys if k in result},
                            "python benchmarks/gp_accuracy.py --rsna299 <RSNA 299 root> --update-card")


if __name__ == "__main__":
    main()
