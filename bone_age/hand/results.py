"""The bone-age reading's results: regions, stages, score and the whole assessment; each has a JSON round trip."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from .._serial import JsonMixin
from ..io.film import Film
from ..overlay import stage_color
from ..results import FilmMeta, Shape, SummaryLine, row_for
from ..summary import fmt_age
from .interpretation import Interpretation

HANDS = ("left", "right")  # a Localization's hand_side; the hand read when a film holds both

__all__ = ["HANDS", "BoneScore", "ScoreResult", "Region", "Localization", "BoneStage", "Agreement",
           "Assessment", "FilmInFlight"]


@dataclass(frozen=True)
class BoneScore(JsonMixin):
    bone: str
    category: str
    stage: int
    points: int
    overridden: bool = False


@dataclass(frozen=True)
class ScoreResult(JsonMixin):
    """RUS-CHN total for one sex; ``range_flag`` is 'below', 'within' or 'above' the range the method can tell."""

    standard: str
    sex: str
    bones: tuple[BoneScore, ...]
    total_score: int
    bone_age_years: float
    range_flag: str

    @property
    def bone_age_text(self) -> str:
        prefix = {"below": "<= ", "above": ">= "}.get(self.range_flag, "")
        return f"{prefix}{self.bone_age_years:.1f} y"


@dataclass(frozen=True)
class Region(JsonMixin):
    """One RUS bone's region in film pixels: axis-aligned box (x1, y1, x2, y2), and the rectangle the crop is
    taken from (centre (x, y), size (width across, length along the bone), bone axis angle in degrees,
    0 = distal end up), the side of the square classifier crop; confidence in [0, 1]."""

    bone: str
    category: str
    box_xyxy: tuple[float, float, float, float]
    center_xy: tuple[float, float]
    confidence: float
    angle_deg: float = 0.0
    size_wh: tuple[float, float] = (0.0, 0.0)
    crop_side_px: float = 0.0


@dataclass(frozen=True)
class Localization(JsonMixin):
    """Localizer output in film pixels: named keypoints (x, y, confidence) and the 13 regions."""

    keypoints: dict[str, tuple[float, float, float]]
    regions: tuple[Region, ...]
    hand_confidence: float
    hand_side: str
    is_hand: bool
    reason: str = ""
    hand_film_probability: float | None = None  # from the hand-film gate, when one is loaded
    note: str = ""  # what a reader should know about how the hand was found (one of two hands on a wide film)


@dataclass(frozen=True)
class BoneStage(JsonMixin):
    """Stage estimate for one bone: probabilities over stages 1..N, the stage read (their median), its probability
    (``confidence``), points, and whether that probability is below the stage model's low-confidence threshold."""

    bone: str
    category: str
    stage: int
    probabilities: tuple[float, ...]
    confidence: float
    points: int
    overridden: bool = False
    low_confidence: bool = False


MIN_BAND_FILMS = 20  # a band of read ages is stated only when at least this many held-out films fall in it


@dataclass(frozen=True)
class AgreementBand(JsonMixin):
    """The held-out films whose RUS-CHN bone age was read in ``read_years`` [low, high) and how they agreed."""

    read_years: tuple[float, float]
    films: int
    half_within_months: float
    most_within_months: float
    mean_difference_months: float  # RUS-CHN minus the radiologist's reading


@dataclass(frozen=True)
class Agreement(JsonMixin):
    """How closely the stage model's RUS-CHN bone age agreed with radiologists' Greulich-Pyle readings on held-out
    films (from its card): half of the films within ``half_within_months``, 90 % within ``most_within_months``;
    ``bands``: the same by band of the bone age read (what is known when a film is read), over ``band_reference``."""

    films: int
    half_within_months: float
    most_within_months: float
    mae_months: float
    reference: str  # which films, and the card the figures come from
    bands: tuple[AgreementBand, ...] = ()
    band_reference: str = ""

    def band_for(self, bone_age_years: float) -> AgreementBand | None:
        """The band holding ``bone_age_years`` when it has at least ``MIN_BAND_FILMS`` films."""
        for b in self.bands:
            if b.read_years[0] <= bone_age_years < b.read_years[1] and b.films >= MIN_BAND_FILMS:
                return b
        return None

    def within_months(self, bone_age_years: float) -> tuple[float, float]:
        """(half within, 90 % within), months: of the band holding ``bone_age_years``, else of all the films."""
        band = self.band_for(bone_age_years) or self
        return band.half_within_months, band.most_within_months

    def sentence(self, bone_age_years: float | None = None) -> str:
        """The overall figures; with ``bone_age_years``, also those of the films read at about that age."""
        text = (f"On {self.films} held-out films ({self.reference}) the RUS-CHN bone age lay "
                f"within {self.half_within_months:.0f} months of the radiologist's Greulich-Pyle reading for half of "
                f"them and within {self.most_within_months:.0f} months for 90 %")
        band = None if bone_age_years is None else self.band_for(bone_age_years)
        if band is None:
            return text
        (lo, hi), d = band.read_years, band.mean_difference_months
        side = (f"on average {abs(d):.0f} months {'above' if d > 0 else 'below'} the radiologist" if round(abs(d))
                else "on average level with the radiologist")
        return (f"{text}; of the {band.films} read at {lo:g}-{hi:g} y ({self.band_reference}), half within "
                f"{band.half_within_months:.0f} and 90 % within {band.most_within_months:.0f} months, {side}")


@dataclass(frozen=True)
class Assessment(JsonMixin):
    """The whole result for one film."""

    source: str
    sex: str
    regions: tuple[Region, ...]
    stages: tuple[BoneStage, ...]
    total_score: int
    bone_age_years: float
    range_flag: str
    chronological_age_years: float | None = None
    bone_age_minus_chronological_years: float | None = None
    gp_bone_age_years: float | None = None
    hand_side: str = ""
    warnings: tuple[str, ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict)
    model_versions: dict[str, str] = field(default_factory=dict)
    film: FilmMeta | None = None
    read_inverted: bool = False  # the file stores bone dark; the film was read (and is drawn) inverted
    agreement: Agreement | None = None  # the stage model's held-out agreement, to read the bone age with
    interpretation: Interpretation | None = None  # advanced / within normal limits / delayed, when the age is known

    BATCH_FIELDS: ClassVar[list[str]] = [
        "path", "status", "reason", "sex", "chronological_age_years", "bone_age_years", "range_flag", "total_score",
        "bone_age_minus_chronological_years", "gp_bone_age_years", "held_out_half_within_months",
        "held_out_90pct_within_months", "interpretation", "hand_side", "warnings", "stages", "time_ms"]

    def summary_lines(self) -> list[SummaryLine]:
        prefix = {"below": "≤ ", "above": "≥ "}.get(self.range_flag, "")
        flag = {"below": " (below the range the method can tell)", "above": " (above the range: mature)"}.get(self.range_flag, "")
        lines = [("RUS-CHN total score", str(self.total_score)),
                 ("Bone age (RUS-CHN)", f"{prefix}{fmt_age(self.bone_age_years)}{flag}")]
        if self.bone_age_minus_chronological_years is not None:
            lines.append(("Bone age minus chronological age", f"{self.bone_age_minus_chronological_years:+.1f} y"))
        if self.interpretation is not None:
            lines.append(("Bone age against chronological age", self.interpretation.sentence()))
        if self.gp_bone_age_years is not None:
            lines.append(("Greulich-Pyle estimate (second opinion)", fmt_age(self.gp_bone_age_years)))
        if self.agreement is not None:
            lines.append(("", self.agreement.sentence(self.bone_age_years) + "."))
        return lines

    def shapes(self) -> list[Shape]:
        """Each region's box in its stage's colour (``overlay.stage_color``), labelled with bone and stage."""
        return [Shape("rect", r.box_xyxy, stage_color(s), f"{r.bone} {s.stage}") for r, s in zip(self.regions, self.stages)]

    def batch_row(self, path: str) -> dict:
        values = dict(sex=self.sex, chronological_age_years=self.chronological_age_years,
                      bone_age_years=self.bone_age_years, range_flag=self.range_flag, total_score=self.total_score,
                      bone_age_minus_chronological_years=self.bone_age_minus_chronological_years,
                      gp_bone_age_years=self.gp_bone_age_years, hand_side=self.hand_side,
                      interpretation=self.interpretation and self.interpretation.verdict,
                      warnings="; ".join(self.warnings), stages=" ".join(f"{s.bone}={s.stage}" for s in self.stages),
                      time_ms=self.timings_ms.get("total"))
        if self.agreement is not None:  # how close held-out films read at about this age came to the radiologist
            values["held_out_half_within_months"], values["held_out_90pct_within_months"] = \
                self.agreement.within_months(self.bone_age_years)
        return row_for(self.BATCH_FIELDS, path, **values)


@dataclass
class FilmInFlight:
    """One film between localization and scoring: the film with bone bright, who it is, where its bones are, their
    crops, the seconds each step took, and the polarity check's probability when the film was read inverted."""

    film: Film
    sex: str
    age: float | None
    localization: Localization
    crops: np.ndarray
    seconds: dict[str, float]
    inverted_probability: float | None
