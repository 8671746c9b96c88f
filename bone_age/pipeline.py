"""Wires reader -> localizer -> stage classifier -> RUS-CHN scoring; holds no logic of its own beyond the wiring."""
from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from .errors import BoneAgeError, FilmTooSmall, MissingSex, NotAHandFilm
from .gp import GPRegressor
from .hand_gate import HandGate
from .io import Film
from .io.film import as_film
from .localize import Localizer
from .polarity import INVERTED_WARNING, bone_bright, polarity_check
from .registry import default_model, load_model, optional_model, resolve_device
from .results import Assessment, BoneStage
from .stage import StageClassifier, median_stage
from .standard import RusChnStandard, load_standard, parse_sex

__all__ = ["Engine", "assess", "override_stages"]

_logger = logging.getLogger(__name__)
LOW_REGION_CONFIDENCE = 0.5
MIN_SIDE_PX = 256  # shorter side; the smallest films the models were validated on are the 299 px RSNA copy
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


class Engine:
    """Loads the models once and assesses many films. ``device``: 'auto' (GPU when present), 'cpu' or 'cuda'.

    ``gp``: the Greulich-Pyle second-opinion model, ``gate``: the hand-film gate, ``polarity``: the check for films
    stored inverted (each: default the shipped one if present; ``False`` for none).
    """

    def __init__(self, localizer: str | None = None, stages: str | None = None, gp: str | bool | None = None,
                 device: str = "auto", gate: str | bool | None = None, polarity: str | bool | None = None):
        self.device = resolve_device(device)
        gate_model = optional_model("hand_gate", gate, self.device)
        self.localizer = Localizer(load_model(localizer or default_model("localizer"), self.device),
                                   HandGate(gate_model) if gate_model else None)
        self.classifier = StageClassifier(load_model(stages or default_model("stages"), self.device))
        gp_model = optional_model("gp", gp, self.device)
        self.gp = GPRegressor(gp_model) if gp_model else None
        self.polarity = polarity_check(polarity, self.device)
        self.standard = load_standard()

    @property
    def model_versions(self) -> dict[str, str]:
        models = [self.localizer.model, self.classifier.model] + [x.model for x in (self.localizer.gate, self.gp, self.polarity) if x]
        return {m.name: m.sha256 for m in models}

    def assess(self, source: str | Path | np.ndarray | Film, sex: str | None = None,
               chronological_age: float | None = None, hand: str = "left") -> Assessment:
        """Assess one film. Sex and age come from DICOM tags when present; explicit arguments win. ``hand``: the
        hand read on a film that holds both side by side (RUS-CHN reads the left).

        Raises ``MissingSex`` when no sex is known, ``NotAHandFilm`` when no hand is found (``FilmTooSmall`` when
        the film is too small to read), ``UnreadableFilm``.
        """
        t0 = time.perf_counter()
        film = as_film(source)
        read_s = time.perf_counter() - t0
        result, = self.assess_many([film], [sex], [chronological_age], hand)
        if isinstance(result, BoneAgeError):
            raise result
        timings = dict(result.timings_ms, read=round(read_s * 1000, 2), total=round(result.timings_ms["total"] + read_s * 1000, 2))
        return replace(result, timings_ms=timings)

    def assess_many(self, films: list[Film], sexes: list[str | None], ages: list[float | None] | None = None,
                    hand: str = "left") -> list[Assessment | BoneAgeError]:
        """Assess already-read films; the crops of all of them go through the stage model (and the films through the
        GP model) in one batch. A film that cannot be assessed gets its exception in its place in the list.
        ``hand``: as in ``assess``."""
        ages = ages or [None] * len(films)
        out: list[Assessment | BoneAgeError | None] = [None] * len(films)
        ready = []  # (index, film with bone bright, sex, age, localization, crops, timings, inverted probability)
        for i, (film, sex, age) in enumerate(zip(films, sexes, ages)):
            t, t0 = {}, time.perf_counter()
            try:
                sex = parse_sex(sex) if sex is not None else film.meta.patient_sex
                if sex is None:
                    raise MissingSex("sex is required for RUS-CHN points and the file carries none: give F or M "
                                     "(bone-age assess/score --sex, a sex column in score's --patients-csv, the "
                                     "viewer's Sex box, assess(sex=...))", film.meta.source)
                if min(film.pixels.shape) < MIN_SIDE_PX:
                    h, w = film.pixels.shape
                    raise FilmTooSmall(f"the film is {w} x {h} px; its shorter side must be at least {MIN_SIDE_PX} px for "
                                       "the bones to be read (a thumbnail or screen grab? use the original film)",
                                       film.meta.source)
                film, inverted_p = self._bone_bright(film)
                t["polarity"] = time.perf_counter() - t0
                loc = self.localizer(film, hand)
                t["localize"] = time.perf_counter() - t0 - t["polarity"]
                if not loc.is_hand:
                    raise NotAHandFilm(loc.reason, film.meta.source)
            except BoneAgeError as exc:
                out[i] = exc
                continue
            t1 = time.perf_counter()
            crops = self.classifier.crops(film.pixels, loc.regions, loc.hand_side)
            t["crop"] = time.perf_counter() - t1
            age = age if age is not None else film.meta.patient_age_years
            ready.append((i, film, sex, age, loc, crops, t, inverted_p))
        if ready:
            t2 = time.perf_counter()
            probs = self.classifier.probabilities(np.concatenate([r[5] for r in ready]),
                                                  [reg.category for r in ready for reg in r[4].regions])
            stage_s = (time.perf_counter() - t2) / len(ready)
            gp_months, gp_s = None, 0.0
            if self.gp is not None:
                t3 = time.perf_counter()
                gp_months, _ = self.gp.predict_months([self.gp.frame(r[1].pixels, r[4]) for r in ready],
                                                      [r[2] == "male" for r in ready])
                gp_s = (time.perf_counter() - t3) / len(ready)
            for j, (i, film, sex, age, loc, _, t, inverted_p) in enumerate(ready):
                t4 = time.perf_counter()
                result = self._result(film, sex, age, loc, probs[j * len(loc.regions):(j + 1) * len(loc.regions)], inverted_p)
                t["score"] = time.perf_counter() - t4
                t["stage"] = stage_s
                if gp_months is not None:
                    result = _with_gp(result, round(float(gp_months[j]) / 12.0, 2))
                    t["gp"] = gp_s
                t["total"] = sum(t.values())
                out[i] = replace(result, timings_ms={k: round(v * 1000, 2) for k, v in t.items()})
        return out

    def _bone_bright(self, film: Film) -> tuple[Film, float | None]:
        """The film with bone bright (inverted when the polarity check finds it stored inverted) and, when it was
        inverted, the check's probability."""
        pixels, p = bone_bright(self.polarity, film.pixels)
        return (film, None) if p is None else (replace(film, pixels=pixels), p)

    def _result(self, film: Film, sex: str, age: float | None, loc, probs: np.ndarray,
                inverted_p: float | None = None) -> Assessment:
        """Stages from the stage probabilities (each distribution's median, its probability as confidence, flagged
        below the stage model's threshold; points), then the RUS-CHN score; ``inverted_p``: the polarity check's
        probability when the film was read inverted."""
        stages = []
        for region, p in zip(loc.regions, probs):
            n = self.standard.n_stages(region.bone)
            p = p[:n] / p[:n].sum()
            k = int(median_stage(p))
            stages.append(BoneStage(bone=region.bone, category=region.category, stage=k,
                                    probabilities=tuple(round(float(v), 5) for v in p), confidence=float(p[k - 1]),
                                    points=self.standard.points_for(sex, region.bone, k),
                                    low_confidence=bool(p[k - 1] < self.classifier.low_confidence)))
        warnings = [INVERTED_WARNING.format(p=inverted_p)] if inverted_p is not None else []
        warnings += [loc.note] if loc.note else []
        warnings += [NO_HAND_CHECK] if self.localizer.gate is None else []
        if loc.hand_confidence < self.localizer.usual_confidence:
            warnings.append(UNSURE_HAND.format(conf=loc.hand_confidence, usual=self.localizer.usual_confidence))
        young = _younger_than_method("chronological age", age, sex)
        warnings += [young] if young else []
        warnings += [f"{LOW_STAGE_WARNING.format(bone=s.bone)} ({s.confidence:.2f})" for s in stages if s.low_confidence]
        warnings += _paired_apart(self.standard, stages, self.classifier.paired_limits)
        warnings += [f"{r.bone}: region found with low confidence ({r.confidence:.2f})" for r in loc.regions if r.confidence < LOW_REGION_CONFIDENCE]
        return _scored(Assessment(source=film.meta.source, sex=sex, regions=loc.regions, stages=tuple(stages),
                                  total_score=0, bone_age_years=0.0, range_flag="", chronological_age_years=age,
                                  warnings=tuple(warnings), model_versions=self.model_versions, film=film.meta,
                                  hand_side=loc.hand_side, read_inverted=inverted_p is not None,
                                  agreement=self.classifier.agreement))


def _paired_apart(std: RusChnStandard, stages: Sequence[BoneStage], limits: Mapping[str, int]) -> list[str]:
    """A warning for each pair of bones read in one category (``std.paired``) whose stages are ``limits`` or more
    apart; a pair with a stage set by hand is the reader's decision and is not warned about."""
    read = {s.bone: s for s in stages}
    out = []
    for category, (a, b) in std.paired.items():
        sa, sb = read[a], read[b]
        if category in limits and abs(sa.stage - sb.stage) >= limits[category] and not (sa.overridden or sb.overridden):
            out.append(PAIRED_APART.format(a=a, b=b, sa=sa.stage, sb=sb.stage, d=abs(sa.stage - sb.stage),
                                           limit=limits[category]))
    return out


def _scored(a: Assessment) -> Assessment:
    """Recompute points, total, bone age, range flag and the difference to chronological age from the stages."""
    std = load_standard()
    score = std.score(a.sex, {s.bone: s.stage for s in a.stages}, {s.bone for s in a.stages if s.overridden})
    stages = tuple(replace(s, points=b.points) for s, b in zip(a.stages, score.bones))
    diff = None if a.chronological_age_years is None else round(score.bone_age_years - a.chronological_age_years, 2)
    return replace(a, stages=stages, total_score=score.total_score, bone_age_years=score.bone_age_years,
                   range_flag=score.range_flag, bone_age_minus_chronological_years=diff)


def _with_gp(a: Assessment, gp_years: float) -> Assessment:
    """Attach the Greulich-Pyle estimate and flag a disagreement of more than a year with RUS-CHN."""
    warnings = [w for w in a.warnings if not w.startswith(("RUS-CHN and Greulich-Pyle", "Greulich-Pyle estimate"))]
    young = _younger_than_method("Greulich-Pyle estimate", gp_years, a.sex)
    if young:
        warnings.append(young)
    elif a.range_flag == "within" and abs(gp_years - a.bone_age_years) > DISAGREEMENT_YEARS:
        warnings.append(f"RUS-CHN and Greulich-Pyle estimates differ by {abs(gp_years - a.bone_age_years):.1f} y "
                        f"(> {DISAGREEMENT_YEARS:.0f} y): review the stages")
    return replace(a, gp_bone_age_years=gp_years, warnings=tuple(warnings))


def _younger_than_method(what: str, age: float | None, sex: str) -> str | None:
    """A warning when ``age`` (years) is below the youngest bone age the standard can tell for ``sex``."""
    floor = load_standard().age_bounds(sex)[0]
    if age is None or age >= floor:
        return None
    return YOUNGER_THAN_METHOD.format(what=what, age=age, floor=floor, sex={"female": "girl", "male": "boy"}[sex])


def override_stages(assessment: Assessment, stages: Mapping[str, int]) -> Assessment:
    """A new, recomputed assessment with the given bones' stages set by hand (marked as overridden)."""
    std = load_standard()
    unknown = set(stages) - {s.bone for s in assessment.stages}
    if unknown:
        raise ValueError(f"unknown bone(s) {', '.join(sorted(unknown))}")
    new = []
    for s in assessment.stages:
        if s.bone in stages:
            std.points_for(assessment.sex, s.bone, stages[s.bone])  # validates the range, naming the bone
            s = replace(s, stage=int(stages[s.bone]), overridden=True, low_confidence=False)
        new.append(s)
    settled = tuple(LOW_STAGE_WARNING.format(bone=b) for b in stages)  # the reader has decided these bones
    settled += tuple(f"{a} and {b}:" for a, b in std.paired.values() if a in stages or b in stages)
    warnings = tuple(w for w in assessment.warnings if not w.startswith(settled))
    result = _scored(replace(assessment, stages=tuple(new), warnings=warnings))
    return result if result.gp_bone_age_years is None else _with_gp(result, result.gp_bone_age_years)


_ENGINES: dict[str, Engine] = {}


def assess(source: str | Path | np.ndarray | Film, sex: str | None = None, chronological_age: float | None = None,
           device: str = "auto", hand: str = "left") -> Assessment:
    """One call: assess a film with the default models (loaded once per process and device)."""
    dev = resolve_device(device)
    if dev not in _ENGINES:
        _ENGINES[dev] = Engine(device=dev)
    return _ENGINES[dev].assess(source, sex=sex, chronological_age=chronological_age, hand=hand)
