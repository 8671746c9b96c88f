"""A batch's patient table: each film's sex and chronological age, read from a CSV and checked before any film is read."""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from .standard import parse_sex

__all__ = ["Patient", "read_patient_table", "patient_for", "films_without_row"]

FILM_COLUMNS = ("path", "file", "filename", "film", "id")
SEX_COLUMNS = ("sex", "gender", "male")  # 'male' holds true/false
AGE_COLUMNS = {"age": 1.0, "age_years": 1.0, "chronological_age": 1.0, "age_months": 1 / 12}  # column -> years per unit
MAX_AGE_YEARS = 120.0


@dataclass(frozen=True)
class Patient:
    sex: str | None = None  # 'female' / 'male'; None: the film's own tag or the command's --sex
    age_years: float | None = None  # None: the film's own tag, or unknown


def _column(keys: dict[str, str], names) -> str | None:
    return next((keys[k] for k in names if k in keys), None)


def _sex(value: str, column: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    if column.lower() == "male":
        flag = value.lower()
        if flag not in ("true", "false", "1", "0"):
            raise ValueError(f"male must be true or false, not {value!r}")
        return "male" if flag in ("true", "1") else "female"
    return parse_sex(value)


def _age(value: str, per_unit: float) -> float | None:
    value = value.strip()
    if not value:
        return None
    try:
        years = float(value) * per_unit
    except ValueError:
        raise ValueError(f"age {value!r} is not a number") from None
    if not math.isfinite(years) or not 0 <= years <= MAX_AGE_YEARS:
        raise ValueError(f"age {value!r} is out of range")
    return years


def read_patient_table(path: str | Path) -> dict[str, Patient]:
    """Rows keyed by the film's file name and by its stem. The CSV needs a film column (path, file, filename, film or
    id) and a sex column (sex or gender: F/M; or male: true/false), an age column (age, age_years or
    chronological_age in years; age_months), or both; an empty cell leaves that value to the film. A bad value or
    a film named twice is a ValueError naming the line, raised before any film is read."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        keys = {k.strip().lower(): k for k in reader.fieldnames or ()}
        film_col = _column(keys, FILM_COLUMNS)
        sex_col = _column(keys, SEX_COLUMNS)
        age_key = next((k for k in AGE_COLUMNS if k in keys), None)
        if film_col is None or (sex_col is None and age_key is None):
            raise ValueError(f"{path}: needs a film column ({'/'.join(FILM_COLUMNS)}) and a sex column "
                             f"({'/'.join(SEX_COLUMNS)}) or an age column ({'/'.join(AGE_COLUMNS)})")
        table: dict[str, Patient] = {}
        for line, row in enumerate(reader, start=2):
            try:
                name = Path((row[film_col] or "").strip())
                if not name.name:
                    raise ValueError("no film named")
                patient = Patient(sex=_sex(row[sex_col] or "", sex_col) if sex_col else None,
                                  age_years=_age(row[keys[age_key]] or "", AGE_COLUMNS[age_key]) if age_key else None)
                if name.name in table:
                    raise ValueError(f"{name.name} is named twice")
            except ValueError as exc:
                raise ValueError(f"{path}, line {line}: {exc}") from None
            table[name.name] = table[name.stem] = patient
    return table


def _row(table: dict[str, Patient], film: Path) -> Patient | None:
    """The film's row, looked up by file name, then by stem."""
    return table.get(film.name) or table.get(film.stem)


def patient_for(table: dict[str, Patient], film: Path) -> Patient:
    """The film's row; an empty Patient when the table has none."""
    return _row(table, film) or Patient()


def films_without_row(table: dict[str, Patient], films: list[Path]) -> list[Path]:
    """The films the table does not name (a typo in an id, a film added later)."""
    return [f for f in films if _row(table, f) is None]
