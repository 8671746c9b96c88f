"""The rsna_hands package (films with Greulich-Pyle bone age and sex) and the 299 px RSNA copy."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from .splits import reserved_ids


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
