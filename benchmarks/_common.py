"""Helpers for the benchmark scripts: where the data is, and a machine description for every result file."""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("BONE_AGE_DATA", REPO.parent / "shared" / "data"))
RESULTS = REPO / "benchmarks" / "results"
AGE_BANDS_YEARS = ((0, 5), (5, 9), (9, 12), (12, 15), (15, 20))  # label ages the bone-age benchmarks report apart


def machine() -> dict:
    return {"platform": platform.platform(), "python": sys.version.split()[0], "torch": torch.__version__,
            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def portable_command(argv: list[str]) -> str:
    """The command as run, the script named from the repository and every path outside it as ``<DATA>/name``: the
    folder that holds the datasets (``../shared/data`` and the public repositories fetched beside it) differs by
    machine."""
    script = Path(argv[0]).resolve()
    words = [script.relative_to(REPO).as_posix() if script.is_relative_to(REPO) else script.name]
    for a in argv[1:]:
        p = Path(a)
        outside = (p.is_absolute() or a.startswith("..")) and not p.resolve().is_relative_to(REPO)
        words.append(f"<DATA>/{p.name}" if outside else a)
    return "python " + " ".join(words)


def write_result(name: str, payload: dict) -> Path:
    """``results/<name>.json`` beside the script (standing benchmarks: ``benchmarks/results``; studies:
    ``benchmarks/studies/results``), with the command, date and machine."""
    results = Path(sys.argv[0]).resolve().parent / "results"
    results.mkdir(parents=True, exist_ok=True)
    out = results / f"{name}.json"
    payload = {"command": portable_command(sys.argv),
               "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine(), **payload}
    out.write_text(json.dumps(payload, indent=1))
    print(f"wrote {out}")
    return out


def reading_change(a, b) -> dict:
    """Two RUS-CHN readings of one film (``Assessment``s): their totals, bone ages and how many bones changed stage."""
    return {"points": [a.total_score, b.total_score], "age_years": [round(a.bone_age_years, 2), round(b.bone_age_years, 2)],
            "bones_changed": sum(x.stage != y.stage for x, y in zip(a.stages, b.stages))}


def reading_change_summary(rows: list[dict]) -> dict:
    """Over ``reading_change`` rows: films, mean and largest |points difference|, mean and 90th percentile |bone age
    difference| (months), share of bones read at another stage."""
    if not rows:
        return {"films_read_both_ways": 0}
    points = np.array([abs(r["points"][0] - r["points"][1]) for r in rows])
    months = np.array([abs(r["age_years"][0] - r["age_years"][1]) * 12 for r in rows])
    return {"films_read_both_ways": len(rows), "abs_points_diff_mean": round(float(points.mean()), 2),
            "abs_points_diff_max": int(points.max()), "abs_age_diff_months_mean": round(float(months.mean()), 2),
            "abs_age_diff_months_p90": round(float(np.quantile(months, 0.9)), 2),
            "bones_changed_share": round(sum(r["bones_changed"] for r in rows) / (13 * len(rows)), 4)}


def update_card_metrics(model: str, metrics: dict, command: str, key: str = "test_metrics") -> None:
    """Write held-out ``metrics`` (and the command that measured them) into the model's card under ``key``."""
    from bone_age._resources import models_dir
    from bone_age.card import record_card

    path = models_dir() / f"{model}.json"
    card = json.loads(path.read_text())
    card[key] = dict(metrics, command=command)
    path.write_text(json.dumps(card, indent=1))
    record_card(path)  # the card's new sha256 beside it, or the next load refuses it as edited


def contact_sheet(tiles: list[np.ndarray], path: Path, tile: int = 320) -> None:
    """Colour tiles, each fitted into a ``tile`` square, four to a row, written to ``path``."""
    cells = []
    for t in tiles:
        s = tile / max(t.shape[:2])
        t = cv2.resize(t, (int(t.shape[1] * s), int(t.shape[0] * s)))
        cell = np.zeros((tile, tile, 3), np.uint8)
        cell[:t.shape[0], :t.shape[1]] = t
        cells.append(cell)
    while len(cells) % 4:
        cells.append(np.zeros_like(cells[0]))
    rows = [np.hstack(cells[i:i + 4]) for i in range(0, len(cells), 4)]
    cv2.imwrite(str(path), np.vstack(rows))
    print(f"wrote {path}")


def whole_film_args(task: str, splits: bool = False) -> tuple[argparse.Namespace, str]:
    """Arguments of the whole-film classifier benchmarks (hand gate, polarity): --data (rsna_hands, FracAtlas and
    JSRT roots), --model (default: the task's shipped one), --update-card, with ``splits`` --split (val or test);
    with the model's name."""
    from bone_age.registry import default_model

    ap = argparse.ArgumentParser()
    ap.add_argument("--data", nargs="+", type=Path, required=True, help="rsna_hands, FracAtlas and JSRT roots")
    ap.add_argument("--model", default=None)
    ap.add_argument("--update-card", action="store_true", help="write the test figures into the model card")
    if splits:
        ap.add_argument("--split", default="test", choices=["val", "test"])
    args = ap.parse_args()
    return args, args.model or default_model(task)


def readable_films(imgs: list, desc: str):
    """(image, pixels) of each film of ``imgs`` (``FracAtlasImage``s) that decodes, one at a time; truncated files
    (a few FracAtlas films) are left out, as the training commands leave them out."""
    from tqdm import tqdm

    from bone_age.errors import UnreadableFilm
    from bone_age.io import read_film

    for img in tqdm(imgs, desc=desc, mininterval=10):
        try:
            yield img, read_film(img.path).pixels
        except UnreadableFilm:
            continue
