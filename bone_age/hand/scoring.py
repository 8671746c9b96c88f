"""Stage distributions -> the stages read; stages -> RUS-CHN points, total, bone age and range flag; stages set by a
reader. Points come from the standard's table (``standard.py``), once per stage."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping, Sequence

import numpy as np

from .interpretation import Interpretation, interpret
from .results import Assessment, BoneStage, Region
from .standard import RusChnStandard, load_standard
from .warnings import gp_warnings, settled

__all__ = ["median_stage", "read_stages", "Totals", "totals", "override_stages", "with_gp"]


def median_stage(probabilities: np.ndarray) -> np.ndarray:
    """The stage read from each distribution (..., K), stage 1 in column 0: its median, the first stage whose
    cumulative probability reaches 0.5. For the ordinal head this is 1 + the number of thresholds the bone's latent
    exceeds; unlike the most probable stage it never skips a stage whose interval is narrow. Returns ints (...)."""
    cum = np.cumsum(probabilities, axis=-1)
    return (cum < 0.5 * cum[..., -1:]).sum(axis=-1) + 1


def read_stages(std: RusChnStandard, sex: str, regions: Sequence[Region], probabilities: np.ndarray,
                low_confidence: float) -> tuple[BoneStage, ...]:
    """Each region's stage: its distribution cut to the bone's stages and renormalised, read at the median, its
    probability as confidence (flagged below ``low_confidence``), and its points for ``sex``."""
    stages = []
    for region, p in zip(regions, probabilities):
        n = std.n_stages(region.bone)
        p = p[:n] / p[:n].sum()
        k = int(median_stage(p))
        stages.append(BoneStage(bone=region.bone, category=region.category, stage=k,
                                probabilities=tuple(round(float(v), 5) for v in p), confidence=float(p[k - 1]),
                                points=std.points_for(sex, region.bone, k), low_confidence=bool(p[k - 1] < low_confidence)))
    return tuple(stages)


@dataclass(frozen=True)
class Totals:
    """What the stages add up to: the RUS-CHN total, its bone age and range flag, and the difference to the
    chronological age (years) with its interpretation when that is known."""

    total_score: int
    bone_age_years: float
    range_flag: str
    bone_age_minus_chronological_years: float | None
    interpretation: Interpretation | None


def totals(std: RusChnStandard, sex: str, stages: Sequence[BoneStage], chronological_age: float | None) -> Totals:
    total = sum(s.points for s in stages)
    age, flag = std.age_for_score(sex, total)
    diff = None if chronological_age is None else round(age - chronological_age, 2)
    return Totals(total, age, flag, diff, interpret(diff, flag))


def override_stages(assessment: Assessment, stages: Mapping[str, int]) -> Assessment:
    """A new, recomputed assessment with the given bones' stages set by hand (marked as overridden); the warnings the
    reader has settled by setting them are dropped."""
    std = load_standard()
    unknown = set(stages) - {s.bone for s in assessment.stages}
    if unknown:
        raise ValueError(f"unknown bone(s) {', '.join(sorted(unknown))}")
    new = tuple(replace(s, stage=int(stages[s.bone]), points=std.points_for(assessment.sex, s.bone, stages[s.bone]),
                        overridden=True, low_confidence=False) if s.bone in stages else s for s in assessment.stages)
    result = replace(assessment, stages=new, warnings=settled(std, assessment.warnings, stages),
                     **vars(totals(std, assessment.sex, new, assessment.chronological_age_years)))
    return result if result.gp_bone_age_years is None else with_gp(result, result.gp_bone_age_years)


def with_gp(a: Assessment, gp_years: float) -> Assessment:
    """The assessment with the Greulich-Pyle estimate (years) and the warnings that compare it with RUS-CHN."""
    return replace(a, gp_bone_age_years=gp_years, warnings=gp_warnings(load_standard(), a, gp_years))
