"""Greulich-Pyle regressor on the official RSNA 2017 test set (200 films, reported once) and on rsna_hands.

    python benchmarks/gp_accuracy.py --rsna299 DIR [--model NAME] [--update-card]

The official test films come from the 299 px copy (squashed, as the model was trained); rsna_hands films
(unsquashed, up to 1024 px, ids hashing to 'test') check that the resize rule carries to real film shapes. Each film
is read as the pipeline reads it: when the card asks for the hand's frame, the shipped localizer (with the hand-film
gate) finds the hand first (a 299 px copy is stretched back to height / width 1.32 for that, as in stage training);
a film on which no hand is located is read whole and counted. ``--framing film`` reads every film whole.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from bone_age.hand.gp import GPRegressor
from bone_age.hand.localize import Localizer
from bone_age.hand.pipeline import Engine
from bone_age.io import read_film
from bone_age.registry import default_model, load_model
from bone_age.training.metrics import mae_interval
from bone_age.training.rsna import load_rsna_hands, load_rsna_test
from bone_age.training.splits import split_of
from bone_age.training.stage_data import unsquash

from _common import DATA, update_card_metrics, write_result


def model_inputs(gp: GPRegressor, films, squashed: bool, localizer: Localizer | None) -> tuple[list[np.ndarray], int]:
    """What the model reads of each film (``localizer``: None when the card reads films whole), and how many films
    had no hand located (read whole)."""
    out, whole = [], 0
    for f in films:
        film = read_film(f.path)
        if localizer is None:
            out.append(film.pixels)
            continue
        if squashed:
            film = unsquash(film)
        loc = localizer(film)
        whole += not loc.is_hand
        out.append(gp.frame(film.pixels, loc))
    return out, whole


def evaluate(gp: GPRegressor, films, inputs: list[np.ndarray]) -> dict:
    pred = np.concatenate([gp.predict_months(inputs[i:i + 32], [f.male for f in films[i:i + 32]])[0]
                           for i in range(0, len(films), 32)])
    true = np.array([f.boneage_months for f in films])
    err = pred - true
    return {"n": len(true), "mae_months": round(float(np.abs(err).mean()), 2), "mae_ci95_bootstrap": mae_interval(err),
            "rmse_months": round(float(np.sqrt((err**2).mean())), 2),
            "bias_months": round(float(err.mean()), 2), "pearson_r": round(float(np.corrcoef(pred, true)[0, 1]), 4)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rsna299", type=Path, required=True, help="root of the 299 px RSNA copy (official test set)")
    ap.add_argument("--model", default=None)
    ap.add_argument("--update-card", action="store_true")
    ap.add_argument("--framing", choices=("card", "film"), default="card", help="film: read every film whole")
    args = ap.parse_args()
    name = args.model or default_model("gp")
    gp = GPRegressor(load_model(name))
    if args.framing == "film":
        gp.framing = {"rule": "film"}
    test = load_rsna_test(args.rsna299)
    hands = [f for f in load_rsna_hands(DATA / "rsna_hands") if split_of(f.id) == "test"]
    localizer = Engine(gp=False, device="cpu").localizer if gp.framing["rule"] == "hand" else None
    (test_x, test_whole), (hands_x, hands_whole) = (model_inputs(gp, test, True, localizer),
                                                    model_inputs(gp, hands, False, localizer))
    result = {"model": name, "test_time_flip": gp.flip, "input_framing": gp.framing,
              "read_whole_for_want_of_a_hand": {"rsna2017_official_test": test_whole, "rsna_hands_heldout_unsquashed": hands_whole},
              "rsna2017_official_test": evaluate(gp, test, test_x),
              "rsna_hands_heldout_unsquashed": evaluate(gp, hands, hands_x)}
    if gp.flip:  # the same films read once, for comparison (the flip was chosen on validation films, not here)
        plain = GPRegressor(gp.model, flip=False)  # reads the same inputs, already framed
        result["without_test_time_flip"] = {"rsna2017_official_test": evaluate(plain, test, test_x),
                                            "rsna_hands_heldout_unsquashed": evaluate(plain, hands, hands_x)}
    write_result("gp_accuracy", result)
    print(json.dumps(result, indent=1))
    if args.update_card:
        keys = ("rsna2017_official_test", "rsna_hands_heldout_unsquashed", "without_test_time_flip", "input_framing",
                "read_whole_for_want_of_a_hand")
        located_by = {"localizer": localizer.model.name} if localizer else {}
        update_card_metrics(name, {**{k: result[k] for k in keys if k in result}, **located_by},
                            "python benchmarks/gp_accuracy.py --rsna299 <RSNA 299 root> --update-card")


if __name__ == "__main__":
    main()
