"""Result types every module shares: what the reader learned of a film, and the shapes a result draws over it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from ._serial import JsonMixin

__all__ = ["FilmMeta", "Shape", "SummaryLine", "ModuleResult", "Reader", "row_for"]

SummaryLine = tuple[str, str]  # (label, text); an empty label for a note


@dataclass(frozen=True)
class Shape:
    """Something a result draws over the film, in film pixels: a rectangle (x1, y1, x2, y2) or a closed polygon
    [(x, y), ...], in an RGB colour, with an optional label."""

    kind: str  # 'rect' or 'poly'
    points: tuple
    color: tuple[int, int, int]
    label: str = ""


class ModuleResult(Protocol):
    """What every module's result gives: the film it came from, its summary, its overlay and its batch row."""

    BATCH_FIELDS: ClassVar[list[str]]
    source: str

    def summary_lines(self) -> list[SummaryLine]: ...

    def shapes(self) -> list[Shape]: ...

    def batch_row(self, path: str) -> dict[str, Any]: ...


class Reader(Protocol):
    """What every module's reader gives: its models' versions and ``read(film, **inputs)``."""

    @property
    def model_versions(self) -> dict[str, str]: ...

    def read(self, film: Any, **inputs: Any) -> ModuleResult: ...


def row_for(fields: list[str], path: str, status: str = "scored", reason: str = "", **values: Any) -> dict[str, Any]:
    """A batch row: every field empty but the film's path, its status, the reason, and ``values`` (None as empty)."""
    row = dict(dict.fromkeys(fields, ""), path=path, status=status, reason=reason)
    row.update({k: "" if v is None else v for k, v in values.items()})
    return row


@dataclass(frozen=True)
class FilmMeta(JsonMixin):
    """What the reader learned about a film besides its pixels."""

    source: str
    format: str
    original_dtype: str
    height_px: int
    width_px: int
    photometric_interpretation: str | None = None
    pixel_spacing_mm: float | None = None
    patient_sex: str | None = None
    patient_birth_date: str | None = None
    patient_age_years: float | None = None
    study_date: str | None = None
    laterality: str | None = None
    patient_id: str | None = None
    patient_name: str | None = None
    inverted: bool = False
