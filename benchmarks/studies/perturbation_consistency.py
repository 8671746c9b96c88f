"""Does the RUS-CHN reading hold when the same film comes a little differently? Full-resolution RSNA films
(``rsna_hands``) read as stored and again turned by 10 degrees either way, brighter and darker (gamma), saved as a
JPEG at quality 50, and with grain added, each read with the film's sex.

    python benchmarks/studies/perturbation_consistency.py [--split test|val] [--rows FILE]

Per change: films read both ways (and refused), mean and 90th percentile |bone age difference| (months), mean |total
points difference|, share of bones read at another stage, and the mean |bone age - label| (months) as stored and
changed. Writes benchmarks/results/perturbation_consistency[_val].json; ``--rows FILE`` also each film's readings, to a
new file outside the repository (two models compared film by film).
"""
from __future__ import annotations

import sys

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
from localizer_turned import turned
from tqdm import tqdm

from bone_age.errors import NotAHandFilm
from bone_age.hand.pipeline import Engine
from bone_age.io import read_film
from bone_age.io.film import film_from_array
from bone_age.training.rsna import load_rsna_hands
from bone_age.training.splits import split_of

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for _common

from _common import DATA, reading_change, reading_change_summary, write_result  # noqa: E402

NO_POINTS = np.zeros((0, 2))


def _jpeg(pixels: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", np.round(pixels * 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255


CHANGES = {
    "turned_+10deg": lambda x: turned(x, NO_POINTS, 10)[0],
    "turned_-10deg": lambda x: turned(x, NO_POINTS, -10)[0],
    "brighter_gamma_0.8": lambda x: x ** 0.8,
    "darker_gamma_1.25": lambda x: x ** 1.25,
    "jpeg_quality_50": lambda x: _jpeg(x, 50),
    "grain_sd_0.02": lambda x: np.clip(x + np.random.default_rng(0).normal(0, 0.02, x.shape), 0, 1).astype(np.float32),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="test", choices=["test", "val"])
    ap.add_argument("--rows", type=Path, help="also write each film's readings to this new file outside the repository")
    args = ap.parse_args()
    if args.rows and args.rows.exists():
        ap.error(f"--rows {args.rows}: the file exists; give a new path")
    films = [f for f in load_rsna_hands(DATA / "rsna_hands") if split_of(f.id) == args.split]
    engine = Engine(gp=False, device="cpu")  # the RUS-CHN reading alone
    rows = {name: [] for name in CHANGES}
    refused = {name: 0 for name in ("as_stored", *CHANGES)}
    for f in tqdm(films, desc="films", unit="film", mininterval=10):
        film, sex = read_film(f.path), "M" if f.male else "F"
        try:
            stored = engine.assess(film, sex=sex)
        except NotAHandFilm:
            refused["as_stored"] += 1
            continue
        for name, change in CHANGES.items():
            try:
                changed = engine.assess(film_from_array(change(film.pixels), f.path.name), sex=sex)
            except NotAHandFilm:
                refused[name] += 1
                continue
            rows[name].append({"film": f.id, "label_years": round(f.boneage_months / 12, 3),
                               **reading_change(stored, changed)})
    result = {"split": args.split, "films": len(films), "refused": refused, "changes": {}}
    for name, r in rows.items():
        label = np.array([x["label_years"] for x in r])
        ages = np.array([x["age_years"] for x in r]).reshape(-1, 2)
        result["changes"][name] = {**reading_change_summary(r),
                                   "mae_months_as_stored": round(float(np.abs(ages[:, 0] - label).mean() * 12), 2) if r else None,
                                   "mae_months_changed": round(float(np.abs(ages[:, 1] - label).mean() * 12), 2) if r else None}
    write_result("perturbation_consistency" if args.split == "test" else "perturbation_consistency_val", result)
    if args.rows:
        args.rows.write_text(json.dumps(rows))
    print(result["refused"])
    for name, s in result["changes"].items():
        print(name, s)


if __name__ == "__main__":
    main()
