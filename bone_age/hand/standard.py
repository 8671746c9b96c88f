"""RUS-CHN scoring: stages + sex -> points -> total maturity score -> bone age, all from the table file."""
from __future__ import annotations

import bisect
import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from .._resources import assets_dir
from .results import BoneScore, ScoreResult

__all__ = ["RusChnStandard", "load_standard", "parse_sex"]

_logger = logging.getLogger(__name__)

_SEX_ALIASES = {"f": "female", "female": "female", "girl": "female", "m": "male", "male": "male", "boy": "male"}


def parse_sex(sex: str | None) -> str:
    """Normalise 'F'/'M'/'female'/'male' (any case) to 'female' or 'male'; anything else is a ValueError."""
    key = str(sex).strip().lower() if sex is not None else ""
    if key not in _SEX_ALIASES:
        raise ValueError(f"unknown sex {sex!r}: use F/female or M/male")
    return _SEX_ALIASES[key]


@dataclass(frozen=True)
class RusChnStandard:
    """The standard's numbers, checked on load. Stages are 1-based as in the published tables."""

    name: str
    version: str
    sources: tuple[str, ...]
    bones: tuple[str, ...]
    categories: dict[str, tuple[str, ...]]
    stages_per_category: dict[str, int]
    points: dict[str, dict[str, tuple[int, ...]]]
    age_table: dict[str, tuple[tuple[float, int, int], ...]]

    def __post_init__(self) -> None:
        covered = [b for bones in self.categories.values() for b in bones]
        if sorted(covered) != sorted(self.bones):
            raise ValueError("categories do not cover each bone exactly once")
        for sex, table in self.points.items():
            for bone in self.bones:
                if len(table[bone]) != self.n_stages(bone):
                    raise ValueError(f"{sex} {bone}: {len(table[bone])} point values, {self.n_stages(bone)} stages")
                if list(table[bone]) != sorted(table[bone]):
                    raise ValueError(f"{sex} {bone}: points fall with stage")
            lo, hi = self.score_bounds(sex)
            if self.age_for_score(sex, hi)[0] < self.age_for_score(sex, lo)[0]:
                raise ValueError(f"{sex}: age table falls with score")

    @property
    def sexes(self) -> tuple[str, ...]:
        return tuple(self.points)

    @property
    def paired(self) -> dict[str, tuple[str, str]]:
        """Categories read on two bones (fingers III and V), which mature together: category -> (bone, bone)."""
        return {c: (bones[0], bones[1]) for c, bones in self.categories.items() if len(bones) == 2}

    def category_of(self, bone: str) -> str:
        for category, bones in self.categories.items():
            if bone in bones:
                return category
        raise ValueError(f"unknown bone {bone!r}; the standard's bones are {', '.join(self.bones)}")

    def n_stages(self, bone: str) -> int:
        return self.stages_per_category[self.category_of(bone)]

    def points_for(self, sex: str, bone: str, stage: int) -> int:
        n = self.n_stages(bone)
        if not (isinstance(stage, int) or float(stage).is_integer()) or not 1 <= int(stage) <= n:
            raise ValueError(f"{bone}: stage {stage!r} is out of range 1..{n}")
        return self.points[parse_sex(sex)][bone][int(stage) - 1]

    def score_bounds(self, sex: str) -> tuple[int, int]:
        """Lowest and highest attainable totals (every bone at stage 1; every bone at its last stage)."""
        table = self.points[parse_sex(sex)]
        return sum(table[b][0] for b in self.bones), sum(table[b][-1] for b in self.bones)

    def age_bounds(self, sex: str) -> tuple[float, float]:
        """Youngest and oldest bone ages the method can tell for this sex: the ages of the lowest and highest totals."""
        lo, hi = self.score_bounds(sex)
        return self.age_for_score(sex, lo)[0], self.age_for_score(sex, hi)[0]

    def age_for_score(self, sex: str, score: float) -> tuple[float, str]:
        """Bone age in years for a total score, and 'below' / 'within' / 'above' the range the method can tell."""
        sex = parse_sex(sex)
        rows = self.age_table[sex]
        s = int(round(score))
        lo, hi = self.score_bounds(sex)
        age = next((a for a, smin, smax in rows if smin <= s <= smax), None)
        if age is None:  # a gap in the table: the last age whose interval starts at or below the score
            age = max((a for a, smin, _ in rows if smin <= s), default=rows[0][0])
        flag = "below" if s <= lo else "above" if s >= hi else "within"
        return float(age), flag

    def score_for_age(self, sex: str, age_years: float) -> float:
        """Inverse of the table: the (interpolated) total score whose bone age is ``age_years``; clipped to the table."""
        rows = self.age_table[parse_sex(sex)]
        ages = [r[0] for r in rows]
        mids = [(r[1] + r[2]) / 2 for r in rows]
        mids = [max(mids[: i + 1]) for i in range(len(mids))]  # keep monotone across table anomalies
        if age_years <= ages[0]:
            return mids[0]
        if age_years >= ages[-1]:
            return mids[-1]
        i = bisect.bisect_right(ages, age_years)
        t = (age_years - ages[i - 1]) / (ages[i] - ages[i - 1])
        return mids[i - 1] + t * (mids[i] - mids[i - 1])

    def score(self, sex: str, stages: Mapping[str, int], overridden: frozenset[str] | set[str] = frozenset()) -> ScoreResult:
        """Points per bone, total, bone age and range flag for one stage per bone (all 13 required)."""
        sex = parse_sex(sex)
        unknown = set(stages) - set(self.bones)
        if unknown:
            raise ValueError(f"unknown bone(s) {', '.join(sorted(unknown))}; expected {', '.join(self.bones)}")
        missing = [b for b in self.bones if b not in stages]
        if missing:
            raise ValueError(f"missing stage for bone(s) {', '.join(missing)}")
        per_bone = tuple(
            BoneScore(bone=b, category=self.category_of(b), stage=int(stages[b]),
                      points=self.points_for(sex, b, stages[b]), overridden=b in overridden)
            for b in self.bones
        )
        total = sum(p.points for p in per_bone)
        age, flag = self.age_for_score(sex, total)
        return ScoreResult(standard=f"{self.name} {self.version}", sex=sex, bones=per_bone,
                           total_score=total, bone_age_years=age, range_flag=flag)


def _from_file(path: Path) -> RusChnStandard:
    raw = json.loads(path.read_text(encoding="utf-8"))
    table = raw["score_to_age_table"]
    return RusChnStandard(
        name=raw["name"],
        version=raw["version"],
        sources=tuple(raw["sources"]),
        bones=tuple(raw["bones"]),
        categories={k: tuple(v) for k, v in raw["categories"].items()},
        stages_per_category=dict(raw["stages_per_category"]),
        points={sex: {b: tuple(v) for b, v in bones.items()} for sex, bones in raw["points"].items()},
        age_table={sex: tuple((float(a), int(lo), int(hi)) for a, lo, hi in table[sex]) for sex in raw["sexes"]},
    )


@lru_cache(maxsize=4)
def load_standard(path: str | Path | None = None) -> RusChnStandard:
    """Load and check the RUS-CHN table (default: ``assets/standards/rus_chn.json``)."""
    path = Path(path) if path else assets_dir() / "standards" / "rus_chn.json"
    _logger.debug("loading standard from %s", path)
    return _from_file(path)
