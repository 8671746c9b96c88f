"""Does the RUS-CHN reading depend on the film's pixel size? FracAtlas frontal hand films of at least 2000 px (long
side) read as stored and shrunk to a 1024 px long side (area-averaged, the size of the RSNA films the stage model
learnt from), read as a boy's film.

    python benchmarks/studies/resolution_consistency.py --data FRACATLAS_ROOT [--split test|choose]

No ages are needed: the same film should get the same stages at either size. Per split: films read both ways, mean
and largest |total points difference|, mean |bone age difference| (months), share of bones read at another stage.
``--split choose`` reads the films outside FracAtlas's test split (for choosing); ``test`` reads its test split.
Writes benchmarks/results/resolution_consistency[_choose].json.
"""
from __future__ import annotations

import sys

import argparse
from pathlib import Path

from tqdm import tqdm

from bone_age.detection import fit_long_side
from bone_age.errors import NotAHandFilm, UnreadableFilm
from bone_age.hand.pipeline import Engine
from bone_age.io import read_film
from bone_age.io.film import film_from_array
from bone_age.training.hand_gate import fracatlas_films

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for _common

from _common import reading_change, reading_change_summary, write_result  # noqa: E402

LARGE = 2000  # px, long side of the films kept
SHRUNK = 1024  # px, long side they are shrunk to


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True, help="FracAtlas root")
    ap.add_argument("--split", default="test", choices=["test", "choose"])
    args = ap.parse_args()
    films = [f for f in fracatlas_films(args.data) if f.hand and (f.split == "test") == (args.split == "test")]
    engine = Engine(gp=False, device="cpu")  # the RUS-CHN reading alone
    rows, skipped = [], {"small": 0, "refused": 0, "unreadable": 0}
    for f in tqdm(films, desc="films", unit="film", mininterval=10):
        try:
            film = read_film(f.path)
        except UnreadableFilm:
            skipped["unreadable"] += 1
            continue
        if max(film.pixels.shape) < LARGE:
            skipped["small"] += 1
            continue
        try:
            big = engine.assess(film, sex="M")
            small = engine.assess(film_from_array(fit_long_side(film.pixels, SHRUNK)[0], f.path.name), sex="M")
        except NotAHandFilm:
            skipped["refused"] += 1
            continue
        rows.append({"film": f.path.name, **reading_change(big, small)})
    result = {"split": args.split, "large_px": LARGE, "shrunk_px": SHRUNK, "skipped": skipped,
              **reading_change_summary(rows), "films": rows}
    write_result("resolution_consistency" if args.split == "test" else "resolution_consistency_choose", result)
    print({k: v for k, v in result.items() if k != "films"})


if __name__ == "__main__":
    main()
