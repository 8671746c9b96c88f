"""The viewer's state as a plain Python object (no Qt): film, results, overrides, window/level.

Widgets only reflect it; every change goes through these methods, which call the library and then notify
listeners with the name of what changed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from bone_age import Engine, Film, override_stages
from bone_age.hand.results import Assessment
from bone_age.results import ModuleResult


@dataclass
class ViewerState:
    film: Film | None = None
    assessment: Assessment | None = None
    module_result: ModuleResult | None = None  # a side module's result (fracture, clavicle, bone scan)
    sex: str | None = None
    chronological_age: float | None = None
    hand: str = "left"  # the hand read on a film that holds both side by side
    window: tuple[float, float] = (0.0, 1.0)  # display range of the film's [0, 1] pixels
    _listeners: list[Callable[[str], None]] = field(default_factory=list, repr=False)

    def subscribe(self, fn: Callable[[str], None]) -> None:
        self._listeners.append(fn)

    def _emit(self, what: str) -> None:
        for fn in self._listeners:
            fn(what)

    def set_film(self, film: Film) -> None:
        """Show a film read (by a worker: ``bone_age.read_film``); sex and age come from its DICOM tags when present."""
        self.film = film
        self.assessment = None
        self.module_result = None
        self.sex = self.film.meta.patient_sex or self.sex
        self.chronological_age = self.film.meta.patient_age_years
        lo, hi = np.percentile(self.film.pixels, [0.5, 99.5])
        self.window = (float(lo), float(max(hi, lo + 1e-3)))
        self._emit("film")

    def assess(self, engine: Engine) -> Assessment:
        """Run the pipeline (call from a worker thread); ``set_assessment`` publishes the result."""
        if self.film is None:
            raise ValueError("open a film first")
        return engine.assess(self.film, sex=self.sex, chronological_age=self.chronological_age, hand=self.hand)

    def set_assessment(self, a: Assessment | None) -> None:
        self.assessment = a
        self._emit("assessment")

    def set_module_result(self, result: ModuleResult | None) -> None:
        self.module_result = result
        self._emit("module")

    def override(self, bone: str, stage: int) -> None:
        """The reader sets one bone's stage; everything downstream is recomputed by the library."""
        if self.assessment is None:
            return
        self.assessment = override_stages(self.assessment, {bone: stage})
        self._emit("assessment")

    def set_window(self, lo: float, hi: float) -> None:
        self.window = (float(min(lo, hi - 1e-3)), float(hi))
        self._emit("window")

    def display_image(self) -> np.ndarray:
        """uint8 pixels of the film under the current window; a film the assessment or the fracture module read
        inverted is shown as it was read, bone bright."""
        lo, hi = self.window
        img = (np.clip((self.film.pixels - lo) / (hi - lo), 0, 1) * 255).astype(np.uint8)
        inverted = any(getattr(r, "read_inverted", False) for r in (self.assessment, self.module_result))
        return 255 - img if inverted else img


@dataclass
class Review:
    """Review mode over an assessment: the bone in focus, the bones confirmed or set, the stages the model read (to
    tell corrected from confirmed). A film is reviewed when all 13 bones are."""

    bones: tuple[str, ...]
    model_stages: dict[str, int]
    low_confidence: frozenset[str]
    focus: int = 0
    done: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, a: Assessment) -> "Review":
        return cls(tuple(s.bone for s in a.stages), {s.bone: s.stage for s in a.stages},
                   frozenset(s.bone for s in a.stages if s.low_confidence))

    @property
    def bone(self) -> str:
        return self.bones[self.focus]

    @property
    def complete(self) -> bool:
        return len(self.done) == len(self.bones)

    def move(self, step: int) -> None:
        self.focus = (self.focus + step) % len(self.bones)

    def confirm(self) -> None:
        """The bone in focus is reviewed; the focus moves to the next bone not yet reviewed."""
        self.done.add(self.bone)
        if not self.complete:
            self.focus = next(i for k in range(1, len(self.bones) + 1)
                              if self.bones[i := (self.focus + k) % len(self.bones)] not in self.done)

    def next_unsure(self) -> bool:
        """Focus the next bone read with low confidence and not yet reviewed; False when there is none."""
        for k in range(1, len(self.bones) + 1):
            i = (self.focus + k) % len(self.bones)
            if self.bones[i] in self.low_confidence and self.bones[i] not in self.done:
                self.focus = i
                return True
        return False

    def status(self, bone: str, stage: int) -> str:
        if bone not in self.done:
            return "to review"
        return "confirmed" if self.model_stages[bone] == stage else "corrected"
