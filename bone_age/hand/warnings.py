"""The warnings of a bone-age reading: each rule a small function of what was read, in the order they are shown."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from ..polarity import INVERTED_WARNING
from .results import Assessment, BoneStage, Localization
from .standard import RusChnStandard

__all__ = ["Reading", "RULES", "reading_warnings", "gp_warnings", "settled", "LOW_REGION_CONFIDENCE",
           "DISAGREEMENT_YEARS"]

LOW_REGION_CONFIDENCE = 0.5
DISAGREEMENT_YEARS = 1.0
LOW_STAGE_WARNING = "{bone}: low stage confidence"  # followed by the confidence; cleared when the stage is set by hand
UNSURE_HAND = ("hand located less surely than 98 % of the localizer's validation hands (confidence {conf:.2f} < "
               "{usual:.2f}): check its regions on the film before trusting the stages")
PAIRED_APART = ("{a} and {b}: stages {sa} and {sb}, {d} apart, though fingers III and V mature together (on the "
                "stage model's validation films rarely {limit} or more): check both")
NO_HAND_CHECK = ("read without the hand-film check: make sure this is a hand-and-wrist film in a PA view (a foot's "
                 "toes can keep a hand's joint layout)")
YOUNGER_THAN_METHOD = ("{what} {age:.1f} y is below {floor:.1f} y, the youngest bone age RUS-CHN tells for {sex}s: "
                       "its figure cannot go lower and over-reads this child")
DISAGREEMENT = "RUS-CHN and Greulich-Pyle estimates differ by {d:.1f} y (> {limit:.0f} y): review the stages"
GP_PREFIXES = ("RUS-CHN and Greulich-Pyle", "Greulich-Pyle estimate")  # the warnings ``gp_warnings`` writes


@dataclass(frozen=True)
class Reading:
    """What the rules look at: the film's reading and the engine's settings."""

    std: RusChnStandard
    sex: str
    chronological_age: float | None
    localization: Localization
    stages: tuple[BoneStage, ...]
    inverted_probability: float | None  # the polarity check's, when the film was read inverted
    hand_checked: bool  # the hand-film gate looked at the film
    usual_hand_confidence: float
    paired_limits: Mapping[str, int]


def read_inverted(r: Reading) -> list[str]:
    return [] if r.inverted_probability is None else [INVERTED_WARNING.format(p=r.inverted_probability)]


def how_the_hand_was_found(r: Reading) -> list[str]:
    return [r.localization.note] if r.localization.note else []


def hand_not_checked(r: Reading) -> list[str]:
    return [] if r.hand_checked else [NO_HAND_CHECK]


def hand_found_unsurely(r: Reading) -> list[str]:
    conf = r.localization.hand_confidence
    return [UNSURE_HAND.format(conf=conf, usual=r.usual_hand_confidence)] if conf < r.usual_hand_confidence else []


def child_younger_than_method(r: Reading) -> list[str]:
    young = younger_than_method(r.std, "chronological age", r.chronological_age, r.sex)
    return [young] if young else []


def stages_read_unsurely(r: Reading) -> list[str]:
    return [f"{LOW_STAGE_WARNING.format(bone=s.bone)} ({s.confidence:.2f})" for s in r.stages if s.low_confidence]


def paired_bones_apart(r: Reading) -> list[str]:
    return paired_apart(r.std, r.stages, r.paired_limits)


def paired_apart(std: RusChnStandard, stages: Sequence[BoneStage], limits: Mapping[str, int]) -> list[str]:
    """Each pair of bones read in one category (``std.paired``) whose stages are ``limits`` or more apart; a pair
    with a stage set by hand is the reader's decision and is not warned about."""
    read = {s.bone: s for s in stages}
    out = []
    for category, (a, b) in std.paired.items():
        sa, sb, limit = read[a], read[b], limits.get(category)
        if limit is not None and abs(sa.stage - sb.stage) >= limit and not (sa.overridden or sb.overridden):
            out.append(PAIRED_APART.format(a=a, b=b, sa=sa.stage, sb=sb.stage, d=abs(sa.stage - sb.stage), limit=limit))
    return out


def regions_found_unsurely(r: Reading) -> list[str]:
    return [f"{g.bone}: region found with low confidence ({g.confidence:.2f})" for g in r.localization.regions
            if g.confidence < LOW_REGION_CONFIDENCE]


RULES: tuple[Callable[[Reading], list[str]], ...] = (
    read_inverted, how_the_hand_was_found, hand_not_checked, hand_found_unsurely, child_younger_than_method,
    stages_read_unsurely, paired_bones_apart, regions_found_unsurely)


def reading_warnings(r: Reading) -> tuple[str, ...]:
    return tuple(w for rule in RULES for w in rule(r))


def younger_than_method(std: RusChnStandard, what: str, age: float | None, sex: str) -> str | None:
    """A warning when ``age`` (years) is below the youngest bone age the standard can tell for ``sex``."""
    floor = std.age_bounds(sex)[0]
    if age is None or age >= floor:
        return None
    return YOUNGER_THAN_METHOD.format(what=what, age=age, floor=floor, sex={"female": "girl", "male": "boy"}[sex])


def gp_warnings(std: RusChnStandard, a: Assessment, gp_years: float) -> tuple[str, ...]:
    """``a``'s warnings with those comparing the Greulich-Pyle estimate ``gp_years`` with RUS-CHN made afresh: the
    estimate below the method's range, or (within the range) a disagreement of more than ``DISAGREEMENT_YEARS``."""
    warnings = [w for w in a.warnings if not w.startswith(GP_PREFIXES)]
    young = younger_than_method(std, "Greulich-Pyle estimate", gp_years, a.sex)
    if young:
        warnings.append(young)
    elif a.range_flag == "within" and abs(gp_years - a.bone_age_years) > DISAGREEMENT_YEARS:
        warnings.append(DISAGREEMENT.format(d=abs(gp_years - a.bone_age_years), limit=DISAGREEMENT_YEARS))
    return tuple(warnings)


def settled(std: RusChnStandard, warnings: Sequence[str], bones: Mapping[str, int] | Sequence[str]) -> tuple[str, ...]:
    """``warnings`` without those the reader settled by setting the stages of ``bones``: their low confidence, and
    the pairs they belong to."""
    done = tuple(LOW_STAGE_WARNING.format(bone=b) for b in bones)
    done += tuple(f"{a} and {b}:" for a, b in std.paired.values() if a in bones or b in bones)
    return tuple(w for w in warnings if not w.startswith(done))
