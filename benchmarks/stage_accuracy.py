"""RUS-CHN path vs the films' Greulich-Pyle bone age, on held-out RSNA films; per-bone stage vs age.

    python benchmarks/stage_accuracy.py [--rsna299 DIR] [--stages NAME] [--localizer NAME] [--update-card] [--validation]
    python benchmarks/stage_accuracy.py --rsna299 DIR --validation-only [--localizer NAME] [--rows FILE]

Held-out: rsna_hands films whose id hashes to 'test' (never trained or tuned on) and, separately, the reserved
evaluation films from the 299 px RSNA copy (--rsna299; low resolution, stretched back from the copy's 1:1 squash to the
typical RSNA height/width of 1.32), reported all together and for the official RSNA test set alone (its 200 films carry
the consensus readings the Greulich-Pyle benchmark uses). A per-sex linear calibration (label ~ a * RUS age + b) is fitted on the
training films only. Every figure is given for all films and again for the films whose label lies within the ages the
method can tell for the sex (RUS-CHN totals span 2.2-17.0 y for girls, 3.6-18.0 y for boys: a younger child is read at
least at the floor), with a calibration fitted on such training films. ``--validation`` adds, as a diagnostic and never as a held-out figure (these films chose the
models), the bias on the validation films per source and per age band. Writes benchmarks/results/stage_accuracy.json
and stage_vs_age.png. ``--validation-only`` reads the validation films alone (choosing between localizers or stage
models without touching the held-out films), the Greulich-Pyle model's reading beside, and the card's low-confidence
threshold as its rule derives it from these films (the 1 % quantile of the read stage's probability), likewise the
paired-bone limits (``paired_disagreement_stages``), and writes stage_accuracy_val.json. Every group also gets
``paired_apart``: the films warned for paired bones far apart and the error of those and of the others.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.stats import pearsonr, spearmanr
from tqdm import tqdm

from bone_age.errors import NotAHandFilm
from bone_age.hand.pipeline import Engine
from bone_age.hand.standard import load_standard
from bone_age.io import read_film
from bone_age.training.rsna import load_rsna_299, load_rsna_hands, load_rsna_test
from bone_age.training.splits import reserved_ids, split_of
from bone_age.training.stage_data import unsquash
from bone_age.training.stages import LOW_CONFIDENCE_QUANTILE, paired_disagreement_limits, paired_gaps

from _common import AGE_BANDS_YEARS, DATA, RESULTS, update_card_metrics, write_result

GROUPS = {"test": ("test",), "reserved": ("reserved", "official_test"), "official_test": ("official_test",)}
VALIDATION = ("val", "val_299px")


def metrics(pred: np.ndarray, true: np.ndarray) -> dict:
    err = pred - true
    return {"n": int(len(true)), "mae_months": round(float(np.abs(err).mean() * 12), 2),
            "rmse_months": round(float(np.sqrt((err**2).mean()) * 12), 2),
            "bias_months": round(float(err.mean() * 12), 2),
            "abs_error_p50_months": round(float(np.quantile(np.abs(err), 0.5) * 12), 1),
            "abs_error_p90_months": round(float(np.quantile(np.abs(err), 0.9) * 12), 1),
            "pearson_r": round(float(pearsonr(pred, true)[0]), 4) if len(true) > 2 else None}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stages", default=None)
    ap.add_argument("--update-card", action="store_true", help="write the held-out metrics into the stage model's card")
    ap.add_argument("--rsna299", type=Path, help="root of the 299 px RSNA copy (reserved films; left out without it)")
    ap.add_argument("--validation", action="store_true", help="also the validation films' bias per source and age band")
    ap.add_argument("--validation-only", action="store_true", help="the validation films alone (for choosing models)")
    ap.add_argument("--localizer", default=None, help="localizer model (default: the shipped default)")
    ap.add_argument("--rows", type=Path, help="also write each film's reading (id, group, label, RUS-CHN age, GP age, "
                                              "stages) to this new file outside the repository, for paired_difference.py")
    args = ap.parse_args()
    if args.rows and args.rows.exists():
        ap.error(f"--rows {args.rows}: the file exists; give a new path")
    args.validation |= args.validation_only
    engine = Engine(localizer=args.localizer, stages=args.stages, gp=None if args.validation_only else False, device="cpu")
    std = load_standard()
    reserved = reserved_ids()
    hands = load_rsna_hands(DATA / "rsna_hands")
    films = [(f, split_of(f.id)) for f in hands if args.validation or split_of(f.id) != "val"]
    if args.rsna299:
        films += [(f, "reserved") for f in load_rsna_299(args.rsna299, drop_reserved=False) if f.id in reserved]
        films += [(f, "official_test") for f in load_rsna_test(args.rsna299)]
        if args.validation:
            held = {f.id for f in hands}
            films += [(f, "val_299px") for f in load_rsna_299(args.rsna299) if split_of(f.id) == "val" and f.id not in held]
    if args.validation_only:
        films = [(f, g) for f, g in films if g in VALIDATION]
    rows = []
    for f, group in tqdm(films, desc="assessing", mininterval=10):
        try:
            film = read_film(f.path) if group in ("train", "test", "val") else unsquash(read_film(f.path))
            a = engine.assess(film, sex="M" if f.male else "F")
        except NotAHandFilm:
            rows.append({"id": f.id, "group": group, "rejected": True})
            continue
        age = f.boneage_months / 12
        lo, hi = std.age_bounds("male" if f.male else "female")
        rows.append({"id": f.id, "group": group, "rejected": False, "male": f.male, "age": age,
                     "label_range": "below" if age < lo else "above" if age > hi else "within",
                     "rus": a.bone_age_years, "gp": a.gp_bone_age_years, "score": a.total_score,
                     "stages": [s.stage for s in a.stages], "confidences": [s.confidence for s in a.stages]})
    ok = [r for r in rows if not r["rejected"]]
    if args.rows:
        args.rows.write_text(json.dumps([{k: r[k] for k in ("id", "group", "male", "age", "rus", "gp", "stages")} for r in ok]))
    if args.validation_only:
        val = [r for r in ok if r["group"] in VALIDATION]
        write_result("stage_accuracy_val", {
            "model": engine.classifier.model.name, "localizer": engine.localizer.model.name,
            "rejected_as_not_hand": {g: sum(r["rejected"] for r in rows if r["group"] == g) for g in VALIDATION},
            "pooled": metrics(np.array([r["rus"] for r in val]), np.array([r["age"] for r in val])),
            "gp_pooled": metrics(np.array([r["gp"] for r in val]), np.array([r["age"] for r in val])),
            "validation_bias_diagnostic": validation_bias(val),
            "low_confidence_threshold": round(float(np.quantile([c for r in val for c in r["confidences"]],
                                                               LOW_CONFIDENCE_QUANTILE)), 4),
            "paired_disagreement_stages": (limits := paired_disagreement_limits(std, np.array([r["stages"] for r in val]))),
            "paired_apart": paired_apart(std, val, limits)})
        return
    calib = calibration([r for r in ok if r["group"] == "train"])
    calib_in = calibration([r for r in ok if r["group"] == "train" and r["label_range"] == "within"])
    result = {"model": engine.classifier.model.name, "localizer": engine.localizer.model.name,
              "rejected_as_not_hand": {g: sum(r["rejected"] for r in rows if r["group"] == g) for g in ("train", *GROUPS)},
              "calibration_fitted_on_train": calib, "calibration_fitted_on_train_within_range": calib_in}
    for group, members in GROUPS.items():
        sel = [r for r in ok if r["group"] in members]
        if not sel:
            continue
        out = by_sex(sel, calib)
        out["within_method_range"] = {f"n_label_{k}": sum(r["label_range"] == k for r in sel) for k in ("below", "above")}
        out["within_method_range"].update(by_sex([r for r in sel if r["label_range"] == "within"], calib_in))
        stages = np.array([r["stages"] for r in sel])
        ages = np.array([r["age"] for r in sel])
        out["paired_apart"] = paired_apart(std, sel, engine.classifier.paired_limits)
        out["per_bone_spearman_stage_vs_age"] = {b: round(float(spearmanr(stages[:, i], ages)[0]), 4) for i, b in enumerate(std.bones)}
        result[group] = out
    result["agreement_by_read_age"] = by_read_age([r for r in ok if r["group"] not in ("train", *VALIDATION)])
    if args.validation:
        result["validation_bias_diagnostic"] = validation_bias([r for r in ok if r["group"] in VALIDATION])
    test = [r for r in ok if r["group"] == "test"]
    _plot(std, np.array([r["stages"] for r in test]), np.array([r["age"] for r in test]), np.array([r["male"] for r in test]))
    write_result("stage_accuracy", result)
    print(json.dumps({k: v for k, v in result.items() if k in GROUPS}, indent=1)[:4000])
    if args.update_card:
        update_card_metrics(engine.classifier.model.name,
                            {**{k: result[k] for k in GROUPS if k in result}, "calibration_fitted_on_train": calib,
                             "agreement_by_read_age": result["agreement_by_read_age"],
                             "localizer": engine.localizer.model.name},
                            "python benchmarks/stage_accuracy.py --rsna299 <RSNA 299 root> --update-card"
                            if args.rsna299 else "python benchmarks/stage_accuracy.py --update-card")


def calibration(rows: list[dict]) -> dict:
    """Per sex, the least-squares line label ~ a * RUS age + b over ``rows``."""
    calib = {}
    for male in (False, True):
        tr = [r for r in rows if r["male"] == male]
        a, b = np.polyfit([r["rus"] for r in tr], [r["age"] for r in tr], 1)
        calib["male" if male else "female"] = {"a": round(float(a), 4), "b_years": round(float(b), 4), "n_train": len(tr)}
    return calib


def by_sex(rows: list[dict], calib: dict) -> dict:
    """Uncalibrated and calibrated metrics for all ``rows`` and per sex."""
    out = {}
    for sex, cond in (("all", lambda r: True), ("female", lambda r: not r["male"]), ("male", lambda r: r["male"])):
        s = [r for r in rows if cond(r)]
        line = [calib["male" if r["male"] else "female"] for r in s]
        pred, true = np.array([r["rus"] for r in s]), np.array([r["age"] for r in s])
        cal = np.array([c["a"] * r["rus"] + c["b_years"] for c, r in zip(line, s)])
        out[sex] = {"uncalibrated": metrics(pred, true), "calibrated": metrics(cal, true)}
    return out


def paired_apart(std, rows: list[dict], limits: dict[str, int]) -> dict:
    """The films warned about for paired bones ``limits`` or more stages apart, and the RUS-CHN error (months) of
    those films and of the others: whether the warning marks worse readings."""
    gaps = paired_gaps(std, np.array([r["stages"] for r in rows]).reshape(len(rows), len(std.bones)))
    apart = np.zeros(len(rows), dtype=bool)
    for c, d in limits.items():
        apart |= gaps[c] >= d
    err = np.abs(np.array([r["rus"] - r["age"] for r in rows])) * 12
    return {"films": len(rows), "warned": int(apart.sum()),
            "mae_months_warned": round(float(err[apart].mean()), 2) if apart.any() else None,
            "mae_months_others": round(float(err[~apart].mean()), 2) if (~apart).any() else None}


def by_read_age(rows: list[dict]) -> dict:
    """The held-out films' RUS-CHN error by band of the bone age read (``AGE_BANDS_YEARS``): what a reader of one
    film can be told, knowing only its reading (``stage.agreement`` states a band's figures)."""
    n_full = sum(r["group"] == "test" for r in rows)
    words = f"{len(rows)} held-out RSNA films" + (f": {n_full} full-resolution, {len(rows) - n_full} at 299 px"
                                                  if n_full < len(rows) else "")
    bands = [(lo, hi, [r for r in rows if lo <= r["rus"] < hi]) for lo, hi in AGE_BANDS_YEARS]
    return {"films": words, "bands": [{"read_years": [lo, hi], **metrics(np.array([r["rus"] for r in sel]),
                                                                         np.array([r["age"] for r in sel]))}
                                      for lo, hi, sel in bands if sel]}


def validation_bias(rows: list[dict]) -> dict:
    """Error of the validation films per source and, pooled, per age band (years of the label)."""
    def of(sel: list[dict]) -> dict:
        return metrics(np.array([r["rus"] for r in sel]), np.array([r["age"] for r in sel])) if sel else {"n": 0}

    out = {"rsna_hands" if g == "val" else "rsna_299px": of([r for r in rows if r["group"] == g]) for g in VALIDATION}
    out["pooled_by_age_years"] = {f"{lo}-{hi}": of([r for r in rows if lo <= r["age"] < hi]) for lo, hi in AGE_BANDS_YEARS}
    out["pooled_by_age_years_within_method_range"] = {
        f"{lo}-{hi}": of([r for r in rows if lo <= r["age"] < hi and r["label_range"] == "within"]) for lo, hi in AGE_BANDS_YEARS}
    out["label_below_method_range"] = of([r for r in rows if r["label_range"] == "below"])
    return out


def _plot(std, stages: np.ndarray, ages: np.ndarray, male: np.ndarray) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 5, figsize=(16, 9), sharex=True)
    rng = np.random.default_rng(0)
    for i, (bone, ax) in enumerate(zip(std.bones, axes.flat)):
        jitter = rng.uniform(-0.15, 0.15, len(ages))
        ax.scatter(ages[~male], stages[~male, i] + jitter[~male], s=6, alpha=0.6, label="female", c="tab:red")
        ax.scatter(ages[male], stages[male, i] + jitter[male], s=6, alpha=0.6, label="male", c="tab:blue")
        ax.set_title(bone, fontsize=9)
        ax.set_ylim(0.5, std.n_stages(bone) + 0.5)
    for ax in axes.flat[len(std.bones):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.supxlabel("film's bone age label (years, Greulich-Pyle)")
    fig.supylabel("predicted RUS-CHN stage")
    fig.suptitle(f"Predicted stage vs age on {len(ages)} held-out RSNA films")
    fig.tight_layout()
    fig.savefig(RESULTS / "stage_vs_age.png", dpi=80)


if __name__ == "__main__":
    main()
