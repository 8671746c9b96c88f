"""Grey-scale polarity check on the held-out test films of every source, each as stored and inverted: films as
stored called inverted and inverted films missed, per source; then, end to end on the rsna_hands test films stored
inverted, the bone age read with the check against the film as stored, and what the pipeline reads without it; and on
FracAtlas: every official valid and test film (all parts and views) as stored, and the fracture module on 40 fractured
and 40 other valid films stored inverted, with and without the check; and on JSRT: every film as stored, and the
clavicle module's Dice on the validation and test films stored inverted, with and without the check.

    python benchmarks/polarity_accuracy.py --data ../shared/data/rsna_hands /work/data/fracatlas /work/data/JSRT [--update-card]
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from bone_age import BoneAgeError, read_film
from bone_age.hand.pipeline import Engine
from bone_age.polarity import PolarityCheck
from bone_age.registry import load_model
from bone_age.training.common import keep_readable
from bone_age.training.hand_gate import gate_films
from bone_age.training.polarity import polarity_metrics

from _common import update_card_metrics, whole_film_args, write_result


def end_to_end(paths: list[Path], male: list[bool]) -> dict:
    """Bone age of each film stored inverted, read with and without the check, against the film as stored (read
    without it)."""
    with_check, without = Engine(device="cpu"), Engine(device="cpu", polarity=False)
    rows = []
    for path, m in zip(paths, male):
        film = read_film(path)
        sex = "M" if m else "F"
        try:
            upright = without.assess(film, sex=sex).bone_age_years
        except BoneAgeError:
            continue
        inverted = replace(film, pixels=np.ascontiguousarray(1.0 - film.pixels))  # as the file stored inverted reads
        checked = with_check.assess(inverted, sex=sex)
        try:
            unchecked = abs(without.assess(inverted, sex=sex).bone_age_years - upright)
        except BoneAgeError:
            unchecked = None  # turned away without the check
        rows.append((checked.read_inverted, abs(checked.bone_age_years - upright), unchecked))
    n = len(rows)
    accepted = [u for _, _, u in rows if u is not None]
    return {
        "n_films_read_as_stored": n,
        "with_check": {"read_inverted": sum(r for r, _, _ in rows),
                       "same_bone_age_within_0.05_y": sum(d < 0.05 for _, d, _ in rows),
                       "mean_abs_difference_years": round(float(np.mean([d for _, d, _ in rows])), 3)},
        "without_check": {"accepted_as_hands": len(accepted),
                          "same_bone_age_within_0.05_y": sum(d < 0.05 for d in accepted),
                          "mean_abs_difference_years": round(float(np.mean(accepted)), 3) if accepted else None},
    }


def fracture_end_to_end(root: Path, check: PolarityCheck, n: int = 40) -> dict:
    """FracAtlas official valid + test films as stored called inverted; the fracture module on ``n`` fractured and
    ``n`` other valid films stored inverted: film AUC and readings with the check against the film as stored."""
    from sklearn.metrics import roc_auc_score

    from bone_age.fracture import FractureDetector
    from bone_age.training.fracture import image_split
    from bone_age.training.fracture_data import read_fracatlas

    imgs = [i for i in read_fracatlas(root) if image_split(i) in ("val", "test")]
    kept, films = keep_readable(imgs, lambda i: read_film(i.path))
    called = [(i.id, round(p, 4)) for i, f in zip(kept, films) if (p := check.probability(f.pixels)) >= check.threshold]
    val = [(i, f) for i, f in zip(kept, films) if image_split(i) == "val"]
    rng = np.random.default_rng(0)
    neg = [v for v in val if not v[0].fractured]
    chosen = [v for v in val if v[0].fractured][:n] + [neg[k] for k in rng.permutation(len(neg))[:n]]
    with_check, without = FractureDetector(device="cpu"), FractureDetector(device="cpu", polarity=False)
    rows = []
    for img, film in chosen:
        inverted = replace(film, pixels=np.ascontiguousarray(1.0 - film.pixels))
        stored, checked, unchecked = without.detect(film), with_check.detect(inverted), without.detect(inverted)
        rows.append((img.fractured, stored.probability, checked.probability, unchecked.probability, checked.read_inverted))
    y, stored, checked, unchecked, read_inv = (np.array(c) for c in zip(*rows))
    return {
        "valid_and_test_films_as_stored": len(kept), "called_inverted": called,
        "valid_films_stored_inverted": {
            "n": len(rows), "read_inverted_with_check": int(read_inv.sum()),
            "same_probability_as_stored_with_check": int((np.abs(checked - stored) < 1e-3).sum()),
            "film_auc": {"as_stored": round(float(roc_auc_score(y, stored)), 3),
                         "inverted_with_check": round(float(roc_auc_score(y, checked)), 3),
                         "inverted_without_check": round(float(roc_auc_score(y, unchecked)), 3)}},
    }


def clavicle_end_to_end(root: Path, check: PolarityCheck) -> dict:
    """JSRT films as stored called inverted (all splits); the clavicle module's mean Dice (both sides) on the
    validation and test films as stored, and stored inverted with and without the check."""
    from bone_age.clavicle import ClavicleSegmenter
    from bone_age.training.clavicle import case_split
    from bone_age.training.clavicle_data import SIDES, load_masks, read_cases

    cases = read_cases(root)
    films = {c.image.name: read_film(c.image) for c in cases}
    called = [(n, round(p, 4)) for n, f in films.items() if (p := check.probability(f.pixels)) >= check.threshold]
    with_check, without = ClavicleSegmenter(device="cpu"), ClavicleSegmenter(device="cpu", polarity=False)
    dice = {"as_stored": [], "inverted_with_check": [], "inverted_without_check": []}
    for c in (c for c in cases if case_split(c) in ("val", "test")):
        film = films[c.image.name]
        inverted = replace(film, pixels=np.ascontiguousarray(1.0 - film.pixels))
        for key, r in (("as_stored", without.segment(film)), ("inverted_with_check", with_check.segment(inverted)),
                       ("inverted_without_check", without.segment(inverted))):
            for i, side in enumerate(SIDES):
                m = r.mask(side) > 0
                t = load_masks(c, m.shape)[i] > 0
                dice[key].append(2 * (m & t).sum() / max(m.sum() + t.sum(), 1))
    return {"films_as_stored": len(films), "called_inverted": called,
            "val_and_test_films": len(dice["as_stored"]) // 2,
            "mean_dice": {k: round(float(np.mean(v)), 4) for k, v in dice.items()}}


def main() -> None:
    args, name = whole_film_args("polarity")
    check = PolarityCheck(load_model(name))
    films = [f for f in gate_films(args.data) if f.split == "test"]
    test, pixels = keep_readable(films, lambda f: read_film(f.path).pixels)  # judged as the pipeline judges them
    p = np.array([check.probability(px) for px in pixels] + [check.probability(1.0 - px) for px in pixels])
    n = len(test)
    result = {
        "model": name, "n_test_films": n, **polarity_metrics(test, p, check.threshold),
        "stored_called_inverted_files": sorted(f.path.name for f, v in zip(test, p[:n]) if v >= check.threshold),
        "inverted_missed_files": sorted(f.path.name for f, v in zip(test, p[n:]) if v < check.threshold),
    }
    from bone_age.training.rsna import load_rsna_hands
    from bone_age.training.splits import split_of

    hands = next((r for r in args.data if (r / "labels.csv").is_file()), None)
    if hands:
        rsna = [f for f in load_rsna_hands(hands) if split_of(f.id) == "test"]
        result["end_to_end_rsna_hands_test_stored_inverted"] = end_to_end([f.path for f in rsna], [f.male for f in rsna])
    fracatlas = next((r for r in args.data if (r / "dataset.csv").is_file()), None)
    if fracatlas:
        result["fracture_module_fracatlas"] = fracture_end_to_end(fracatlas, check)
    jsrt = next((r for r in args.data if r not in (hands, fracatlas)), None)
    if jsrt:
        result["clavicle_module_jsrt"] = clavicle_end_to_end(jsrt, check)
    write_result("polarity_accuracy", result)
    if args.update_card:
        update_card_metrics(name, {k: v for k, v in result.items() if k != "model"},
                            "python benchmarks/polarity_accuracy.py --data <rsna_hands> <FracAtlas> <JSRT> --update-card")
    print(result)


if __name__ == "__main__":
    main()
