"""What a film must have before its bones are read: a known sex, and enough pixels."""
from __future__ import annotations

from ..errors import FilmTooSmall, MissingSex
from ..io import Film
from .standard import parse_sex

__all__ = ["MIN_SIDE_PX", "sex_of", "check_size"]

MIN_SIDE_PX = 256  # shorter side; the smallest films the models were validated on are the 299 px RSNA copy
MISSING_SEX = ("sex is required for RUS-CHN points and the file carries none: give F or M (bone-age assess/score --sex, "
               "a sex column in score's --patients-csv, the viewer's Sex box, assess(sex=...))")


def sex_of(film: Film, sex: str | None) -> str:
    """The sex given (F/M, female/male), else the film's DICOM PatientSex; ``MissingSex`` when neither says."""
    sex = parse_sex(sex) if sex is not None else film.meta.patient_sex
    if sex is None:
        raise MissingSex(MISSING_SEX, film.meta.source)
    return sex


def check_size(film: Film) -> None:
    """``FilmTooSmall`` when the film's shorter side is under ``MIN_SIDE_PX``."""
    if min(film.pixels.shape) < MIN_SIDE_PX:
        h, w = film.pixels.shape
        raise FilmTooSmall(f"the film is {w} x {h} px; its shorter side must be at least {MIN_SIDE_PX} px for the bones "
                           "to be read (a thumbnail or screen grab? use the original film)", film.meta.source)
