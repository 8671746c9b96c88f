"""The rsna_hands package (films with Greulich-Pyle bone age and sex) and the 299 px RSNA copy."""
from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

from .splits import reserved_ids

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AgedFilm:
    id: str
    path: Path
    boneage_months: float
    male: bool


def load_rsna_hands(root: Path, drop_reserved: bool = True) -> list[AgedFilm]:
    """Rows of ``labels.csv`` (id, file, boneage_months, male, ...) minus the reserved evaluation ids."""
    drop = reserved_ids() if drop_reserved else frozenset()
    with open(Path(root) / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return [AgedFilm(r["id"], Path(root) / "images" / r["file"], float(r["boneage_months"]), r["male"].strip().lower() == "true")
            for r in rows if r["id"] not in drop]


def load_rsna_299(root: Path, drop_reserved: bool = True) -> list[AgedFilm]:
    """``boneage-training-dataset.csv`` (id, boneage, male) and the images under ``data/299x299.../*_signs``."""
    root = Path(root)
    images = {p.stem: p for p in root.glob("data/299x299boneage-training-dataset/*_signs/*.png")}
    drop = reserved_ids() if drop_reserved else frozenset()
    with open(root / "boneage-training-dataset.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    films = [AgedFilm(r["id"], images[r["id"]], float(r["boneage"]), r["male"].strip().lower() == "true")
             for r in rows if r["id"] in images and r["id"] not in drop]
    _logger.info("RSNA 299 px: %d films (%d reserved dropped)", len(films), sum(r["id"] in drop for r in rows))
    return films


def load_rsna_test(root: Path) -> list[AgedFilm]:
    """The official RSNA 2017 test set (200 films) with its ground truth: for the benchmark only."""
    root = Path(root)
    with open(root / "test_csv.csv", newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    img = root / "data/299x299boneage-training-dataset/test_signs"
    return [AgedFilm(r["Case ID"], img / f"{r['Case ID']}.png", float(r["Ground truth bone age (months)"]), r["Sex"] == "M")
            for r in rows]
