"""The viewer's state as a plain Python object (no Qt): film, result, overrides, window/level.

Widgets only reflect it; every change goes through these methods, which call the library and then notify
listeners with the name of what changed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from bone_age.io import Film, read_film
from bone_age.pipeline import Engine, override_stages
from bone_age.results import Assessment


MODULES = ("Bone age (RUS-CHN)", "Fracture", "Clavicle", "Bone scan")


@dataclass(frozen=True)
class Shape:
    """Something to draw over the film: a rectangle (x1, y1, x2, y2) or a closed polygon [(x, y), ...]."""

    kind: str  # 'rect' or 'poly'
    points: tuple
    color: tuple[int, int, int]
    label: str = ""


def module_shapes(result: Any) -> list[Shape]:
    """Overlays for a fracture, clavicle or bone-scan result."""
    from bone_age.bonescan.results import BoneScanResult
    from bone_age.clavicle.results import ClavicleResult
    from bone_age.fracture.results import FractureResult

    shapes: list[Shape] = []
    if isinstance(result, FractureResult):
        if result.evidence_outline:
            shapes.append(Shape("poly", result.evidence_outline, (0, 255, 255), "classifier evidence"))
        for i in result.instances:
            shapes.append(Shape("rect", i.box_xyxy, (255, 60, 60), f"fracture {i.score:.2f}"))
            if i.contour_xy:
                shapes.append(Shape("poly", i.contour_xy, (255, 200, 0)))
    elif isinstance(result, ClavicleResult):
        for s, color in zip(result.sides, ((0, 200, 255), (255, 120, 0))):
            if s.found:
                shapes.append(Shape("poly", s.contour_xy, color, f"{s.side} clavicle"))
    elif isinstance(result, BoneScanResult):
        for f in result.regions:
            if f.box_xyxy:
                shapes.append(Shape("rect", f.box_xyxy, (255, 60, 60) if f.abnormal else (0, 200, 0), f"{f.region} {f.probability:.2f}"))
        for h in result.hotspots:
            shapes.append(Shape("rect", h.box_xyxy, (255, 0, 255), f"{h.label} {h.score:.2f}"))
    return shapes


def module_summary(result: Any) -> list[str]:
    """The lines the side panel shows for a fracture, clavicle or bone-scan result."""
    from bone_age.bonescan.results import BoneScanResult
    from bone_age.clavicle.results import ClavicleResult
    from bone_age.fracture.results import FractureResult

    if isinstance(result, FractureResult):
        verdict = "fracture suspected" if result.fractured else "no fracture found"
        source = "whole-film classifier" if result.classifier_probability is not None else "highest instance score"
        return [f"Fracture probability: {result.probability:.2f} ({verdict}; threshold {result.threshold:.2f}; {source})",
                f"Detector: highest instance score {result.detector_score:.2f}, instances shown: {len(result.instances)}"] + (
                    ["Cyan outline: where the whole-film classifier's evidence for a fracture is strongest (a pointer, "
                     "not a segmentation)"] if result.evidence_outline else []) + (
                    ["Grey scale inverted: the file shows bone dark, so it was read inverted"] if result.read_inverted else [])
    if isinstance(result, ClavicleResult):
        lines = []
        for s in result.sides:
            if not s.found:
                lines.append(f"{s.side.capitalize()} clavicle: not found")
            elif s.length_mm is not None:
                lines.append(f"{s.side.capitalize()} clavicle: length {s.length_mm:.1f} mm, area {s.area_mm2:.0f} mm²")
            else:
                lines.append(f"{s.side.capitalize()} clavicle: length {s.length_px:.0f} px, area {s.area_px:.0f} px")
        return lines + list(result.warnings)
    if isinstance(result, BoneScanResult):
        lines = [f"{f.region} ({f.view or 'view unknown'}): P(abnormal uptake) {f.probability:.2f} -> "
                 f"{'abnormal' if f.abnormal else 'normal'}" for f in result.regions]
        if result.kind == "wholebody":
            lines.append(f"Whole-body detector: {result.detector}")
        return lines + list(result.notes)
    raise TypeError(f"not a module result: {type(result).__name__}")


@dataclass
class ViewerState:
    film: Film | None = None
    assessment: Assessment | None = None
    module_result: Any = None  # a FractureResult, ClavicleResult or BoneScanResult
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

    def open(self, path: str | Path) -> None:
        """Read a film (raises UnreadableFilm); sex and age come from its DICOM tags when present."""
        self.film = read_film(path)
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

    def set_module_result(self, result: Any) -> None:
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
