"""Bone age against chronological age: advanced, within normal limits or delayed, by the convention in
``assets/standards/interpretation.json`` (its rule and source are written there)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .._resources import assets_dir
from .._serial import JsonMixin

__all__ = ["Convention", "Interpretation", "load_convention", "interpret", "ADVANCED", "NORMAL", "DELAYED"]

ADVANCED, NORMAL, DELAYED = "advanced", "within normal limits", "delayed"


@dataclass(frozen=True)
class Convention:
    sd_years: float
    limit_sd: float
    rule: str
    source: str

    @property
    def limit_years(self) -> float:
        return self.sd_years * self.limit_sd


@dataclass(frozen=True)
class Interpretation(JsonMixin):
    """``verdict``: 'advanced', 'within normal limits' or 'delayed'; the difference in years and in standard
    deviations; the limit used (years)."""

    verdict: str
    difference_years: float
    difference_sd: float
    limit_years: float

    def sentence(self) -> str:
        return (f"{self.verdict} (bone age {self.difference_years:+.1f} y from chronological age, "
                f"{self.difference_sd:+.1f} SD; limits ±{self.limit_years:.1f} y)")


@lru_cache(maxsize=2)
def load_convention(path: str | None = None) -> Convention:
    raw = json.loads(Path(path or assets_dir() / "standards" / "interpretation.json").read_text(encoding="utf-8"))
    conv = Convention(float(raw["sd_years"]), float(raw["limit_sd"]), raw["rule"], raw["source"])
    if conv.sd_years <= 0 or conv.limit_sd <= 0:
        raise ValueError("interpretation.json: sd_years and limit_sd must be positive")
    return conv


def interpret(difference_years: float | None, range_flag: str, convention: Convention | None = None) -> Interpretation | None:
    """The verdict for a bone age ``difference_years`` from the chronological age; None when that is unknown or the
    bone age is at an end of the method's range (its true value may lie further out)."""
    if difference_years is None or range_flag != "within":
        return None
    c = convention or load_convention()
    sd = difference_years / c.sd_years
    verdict = ADVANCED if sd > c.limit_sd else DELAYED if sd < -c.limit_sd else NORMAL
    return Interpretation(verdict, round(difference_years, 2), round(sd, 2), c.limit_years)
