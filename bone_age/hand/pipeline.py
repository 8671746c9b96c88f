"""The bone-age reading, wired: read -> polarity -> gate and localize -> crops -> stages -> GP -> score."""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from ..errors import BoneAgeError, NotAHandFilm
from ..io.film import Film, FilmSource, as_film
from ..polarity import bone_bright, polarity_check
from ..registry import default_model, load_model, optional_model, resolve_device
from .checks import check_size, sex_of
from .gate import HandGate
from .gp import GPRegressor
from .localize import Localizer
from .results import Assessment, FilmInFlight
from .scoring import read_stages, totals, with_gp
from .stage import StageClassifier
from .standard import load_standard
from .warnings import Reading, reading_warnings

__all__ = ["Engine"]


class Engine:
    """Loads the models once and assesses many films. ``device``: 'auto' (GPU when present), 'cpu' or 'cuda';
    ``runtime``: 'torch', 'onnx' or 'auto' (``registry.load_model``). ``gp``, ``gate``, ``polarity``: the Greulich-Pyle
    model, the hand-film gate, the check of films stored inverted (default: the shipped one; ``False``: none)."""

    def __init__(self, localizer: str | None = None, stages: str | None = None, gp: str | bool | None = None,
                 device: str = "auto", gate: str | bool | None = None, polarity: str | bool | None = None,
                 runtime: str = "torch"):
        self.device, rt = resolve_device(device), runtime
        gate = HandGate(m) if (m := optional_model("hand_gate", gate, self.device, rt)) else None
        self.localizer = Localizer(load_model(localizer or default_model("localizer"), self.device, runtime=rt), gate)
        self.classifier = StageClassifier(load_model(stages or default_model("stages"), self.device, runtime=rt))
        self.gp = GPRegressor(m) if (m := optional_model("gp", gp, self.device, rt)) else None
        self.polarity = polarity_check(polarity, self.device, rt)
        self.standard = load_standard()

    @property
    def model_versions(self) -> dict[str, str]:
        extras = [x.model for x in (self.localizer.gate, self.gp, self.polarity) if x]
        return {m.version_key: m.sha256 for m in [self.localizer.model, self.classifier.model, *extras]}

    def assess(self, source: FilmSource, sex: str | None = None,
               chronological_age: float | None = None, hand: str = "left") -> Assessment:
        """Assess one film; sex and age from DICOM tags unless given; ``hand``: the one read on a film holding both.
        Raises ``MissingSex``, ``NotAHandFilm`` (``FilmTooSmall`` for a film too small to read), ``UnreadableFilm``."""
        t0 = time.perf_counter()
        film = as_film(source)
        read_ms = (time.perf_counter() - t0) * 1000
        result, = self.assess_many([film], [sex], [chronological_age], hand)
        if isinstance(result, BoneAgeError):
            raise result
        total = round(result.timings_ms["total"] + read_ms, 2)
        return replace(result, timings_ms=dict(result.timings_ms, read=round(read_ms, 2), total=total))

    read = assess  # the module protocol's name

    def assess_many(self, films: list[Film], sexes: list[str | None], ages: list[float | None] | None = None,
                    hand: str = "left") -> list[Assessment | BoneAgeError]:
        """Assess already-read films, their crops (and GP frames) in one batch; a film that cannot be assessed gets its
        exception in its place in the list."""
        out: list = [self._localized(f, s, a, hand) for f, s, a in zip(films, sexes, ages or [None] * len(films))]
        ready = [x for x in out if isinstance(x, FilmInFlight)]
        if not ready:
            return out
        t0 = time.perf_counter()
        probs = self.classifier.probabilities(np.concatenate([x.crops for x in ready]),
                                              [r.category for x in ready for r in x.localization.regions])
        per_film = {"stage": (time.perf_counter() - t0) / len(ready)}
        gp_months = [None] * len(ready)  # without a GP model
        if self.gp is not None:
            t0 = time.perf_counter()
            gp_months, _ = self.gp.predict_months([self.gp.frame(x.film.pixels, x.localization) for x in ready],
                                                  [x.sex == "male" for x in ready])
            per_film["gp"] = (time.perf_counter() - t0) / len(ready)
        done = iter(self._scored(x, p, g, per_film) for x, p, g in zip(ready, np.split(probs, len(ready)), gp_months))
        return [next(done) if isinstance(x, FilmInFlight) else x for x in out]

    def _localized(self, film: Film, sex: str | None, age: float | None, hand: str) -> FilmInFlight | BoneAgeError:
        """The film checked, read bone bright, localized and cropped; or why it cannot be assessed."""
        t0 = time.perf_counter()
        try:
            sex, age = sex_of(film, sex), film.meta.patient_age_years if age is None else age
            check_size(film)
            pixels, inverted_p = bone_bright(self.polarity, film.pixels)
            film = film if inverted_p is None else replace(film, pixels=pixels)
            seconds = {"polarity": time.perf_counter() - t0}
            loc = self.localizer(film, hand)
            seconds["localize"] = time.perf_counter() - t0 - seconds["polarity"]
            if not loc.is_hand:
                raise NotAHandFilm(loc.reason, film.meta.source)
        except BoneAgeError as exc:
            return exc
        t1 = time.perf_counter()
        crops = self.classifier.crops(film.pixels, loc.regions, loc.hand_side)
        seconds["crop"] = time.perf_counter() - t1
        return FilmInFlight(film, sex, age, loc, crops, seconds, inverted_p)

    def _scored(self, x: FilmInFlight, probs: np.ndarray, gp_months: float | None,
                per_film: dict[str, float]) -> Assessment:
        """The assessment of one film from its stage probabilities (and GP estimate, months)."""
        t0 = time.perf_counter()
        stages = read_stages(self.standard, x.sex, x.localization.regions, probs, self.classifier.low_confidence)
        reading = Reading(self.standard, x.sex, x.age, x.localization, stages, x.inverted_probability,
                          self.localizer.gate is not None, self.localizer.usual_confidence,
                          self.classifier.paired_limits)
        a = Assessment(source=x.film.meta.source, sex=x.sex, regions=x.localization.regions, stages=stages,
                       chronological_age_years=x.age, warnings=reading_warnings(reading),
                       model_versions=self.model_versions, film=x.film.meta, hand_side=x.localization.hand_side,
                       read_inverted=x.inverted_probability is not None, agreement=self.classifier.agreement,
                       **vars(totals(self.standard, x.sex, stages, x.age)))
        seconds = dict(x.seconds, score=time.perf_counter() - t0, stage=per_film["stage"])
        if gp_months is not None:
            a, seconds["gp"] = with_gp(a, round(float(gp_months) / 12.0, 2)), per_film["gp"]
        seconds["total"] = sum(seconds.values())
        return replace(a, timings_ms={k: round(v * 1000, 2) for k, v in seconds.items()})
