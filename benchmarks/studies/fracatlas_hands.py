"""The RUS-CHN path on films it never saw from another source: FracAtlas's single-view frontal 'hand' films.

    python benchmarks/studies/fracatlas_hands.py --data FRACATLAS_ROOT

FracAtlas (CC BY 4.0) gives no ages, so this measures coverage, not accuracy: how many films are read, refused by
the hand-film gate, refused because the hand's joints were not located (FracAtlas's 'hand' covers the forearm and
elbow too), or unreadable; and, on the films read within the RUS-CHN range, how the RUS-CHN bone age and the Greulich-Pyle second opinion agree
(each film read once per assumed sex, as the release has no sex), the share the tool flags for disagreeing by more than
a year, all together and for the films the second opinion reads as children (< 14 y). Films of the gate's training split are reported
apart: the gate learned from them. Writes benchmarks/results/fracatlas_hands.json.
"""
from __future__ import annotations

import sys

import argparse
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bone_age.errors import NotAHandFilm, UnreadableFilm
from bone_age.hand.pipeline import Engine
from bone_age.hand.warnings import UNSURE_HAND
from bone_age.io import read_film
from bone_age.training.hand_gate import fracatlas_films

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for _common

from _common import write_result  # noqa: E402


def outcome(engine: Engine, path: Path) -> tuple[str, dict[str, tuple[float, float | None, str]], bool]:
    """('read' | 'gate' | 'joints' | 'unreadable', {sex: (RUS-CHN years, GP years, range flag)}, whether the hand
    was located less surely than usual)."""
    try:
        film = read_film(path)
        ages = {}
        for sex in ("F", "M"):
            a = engine.assess(film, sex=sex)
            ages[sex] = (a.bone_age_years, a.gp_bone_age_years, a.range_flag)
        return "read", ages, any(w.startswith(UNSURE_HAND.split("(")[0]) for w in a.warnings)  # one hand, either sex
    except UnreadableFilm:
        return "unreadable", {}, False
    except NotAHandFilm as exc:
        return ("joints" if exc.reason.startswith("a hand film") else "gate"), {}, False


def agreement(readings: list[tuple[float, float | None, str]]) -> dict:
    pairs = [(rus, gp) for rus, gp, flag in readings if gp is not None and flag == "within"]
    rus, gp = np.array(pairs, float).T
    d = np.abs(rus - gp)
    return {"n": len(d), "median_abs_difference_years": round(float(np.median(d)), 2),
            "share_over_1_year": round(float((d > 1).mean()), 3), "pearson_r": round(float(np.corrcoef(rus, gp)[0, 1]), 3)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True, help="FracAtlas root")
    args = ap.parse_args()
    engine = Engine(device="cpu")
    films = [f for f in fracatlas_films(args.data) if f.hand]
    rows = []
    for f in tqdm(films, desc="FracAtlas hands", mininterval=10):
        kind, ages, unsure = outcome(engine, f.path)
        rows.append({"id": f.path.name, "gate_split": f.split, "outcome": kind, "ages": ages, "unsure": unsure})
    result = {}
    for group, sel in (("gate_held_out", [r for r in rows if r["gate_split"] != "train"]),
                       ("gate_train", [r for r in rows if r["gate_split"] == "train"])):
        result[group] = {"n_films": len(sel), **{k: sum(r["outcome"] == k for r in sel) for k in ("read", "gate", "joints", "unreadable")}}
    read = [r for r in rows if r["outcome"] == "read"]
    result["read_with_the_unsure_hand_warning"] = sum(r["unsure"] for r in read)
    result["rus_vs_gp_within_range_by_unsure_hand_warning"] = {
        label: {sex: agreement([r["ages"][sex] for r in read if r["unsure"] == flag]) for sex in ("F", "M")}
        for label, flag in (("warned", True), ("not_warned", False))}
    result["rus_vs_gp_within_range"] = {sex: agreement([r["ages"][sex] for r in read]) for sex in ("F", "M")}
    result["rus_vs_gp_children"] = {sex: agreement([a for a in (r["ages"][sex] for r in read) if a[1] is not None and a[1] < 14])
                                    for sex in ("F", "M")}
    result["above_range"] = {sex: sum(r["ages"][sex][2] == "above" for r in read) for sex in ("F", "M")}
    result["youngest_as_boy"] = [{"id": r["id"], "rus_years": r["ages"]["M"][0], "gp_years": r["ages"]["M"][1]}
                                 for r in sorted(read, key=lambda r: r["ages"]["M"][0])[:10]]
    result["refused_joints"] = [r["id"] for r in rows if r["outcome"] == "joints"]
    result["refused_gate"] = [r["id"] for r in rows if r["outcome"] == "gate"]
    write_result("fracatlas_hands", result)
    print({k: v for k, v in result.items() if not k.startswith("refused")})


if __name__ == "__main__":
    main()
