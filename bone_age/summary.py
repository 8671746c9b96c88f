"""A result's summary written out: as plain text lines (command line, viewer) or as report markup (PDF)."""
from __future__ import annotations

from html import escape
from typing import Callable

from .results import SummaryLine

__all__ = ["fmt_age", "as_text", "as_markup"]


def fmt_age(years: float | None) -> str:
    """'4.5 y (4 y 6 m)'; '-' when unknown."""
    if years is None:
        return "-"
    y, m = int(abs(years)), round((abs(years) % 1) * 12)
    if m == 12:
        y, m = y + 1, 0
    return f"{'-' if years < 0 else ''}{years:.1f} y ({y} y {m} m)"


def as_text(lines: list[SummaryLine], translate: Callable[[str], str] = str) -> list[str]:
    """'label: text' lines (a note alone), each part through ``translate`` (``i18n.translator(lang)``)."""
    return [f"{translate(label)}: {translate(text)}" if label else translate(text) for label, text in lines]


def as_markup(lines: list[SummaryLine]) -> list[str]:
    """Paragraph markup for the PDF report: labels in bold, text escaped, the bounds as entities."""
    def mark(text: str) -> str:
        return escape(text, quote=False).replace("≤", "&le;").replace("≥", "&ge;")

    return [f"<b>{mark(label)}:</b> {mark(text)}" if label else mark(text) for label, text in lines]
