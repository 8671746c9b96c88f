"""The report's chart: bone age against chronological age, the normal band of the interpretation convention, the
patient's point and earlier readings of the same patient."""
from __future__ import annotations

from typing import Sequence

from .interpretation import Convention, load_convention

__all__ = ["age_chart", "AGE_AXIS_YEARS"]

AGE_AXIS_YEARS = (0.0, 19.0)


def age_chart(point: tuple[float, float] | None, earlier: Sequence[tuple[float, float]] = (), width: float = 200,
              height: float = 170, labels: dict[str, str] | None = None, font: str = "Helvetica",
              convention: Convention | None = None):
    """A reportlab ``Drawing``: x chronological age, y bone age (years); the band of chronological age ± the
    convention's limit shaded; ``point`` (chronological age, bone age) filled; ``earlier`` readings as open circles
    joined in age order. ``labels``: 'x', 'y', 'band' captions (for the report's language)."""
    from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Polygon, String
    from reportlab.lib import colors

    labels = {"x": "Chronological age (y)", "y": "Bone age (y)", "band": "normal limits", **(labels or {})}
    c = convention or load_convention()
    lo, hi = AGE_AXIS_YEARS
    left, bottom, right, top = 30.0, 26.0, width - 8.0, height - 8.0

    def xy(ca: float, ba: float) -> tuple[float, float]:
        return (left + (min(max(ca, lo), hi) - lo) / (hi - lo) * (right - left),
                bottom + (min(max(ba, lo), hi) - lo) / (hi - lo) * (top - bottom))

    d = Drawing(width, height)
    lim = c.limit_years
    band = [xy(lo, lo + lim), xy(hi - lim, hi), xy(hi, hi), xy(hi, hi - lim), xy(lo + lim, lo), xy(lo, lo)]
    d.add(Polygon([v for p in band for v in p], fillColor=colors.Color(0.55, 0.8, 0.55, 0.35), strokeColor=None))
    d.add(Line(*xy(lo, lo), *xy(hi, hi), strokeColor=colors.darkgreen, strokeWidth=0.6))
    d.add(Line(left, bottom, right, bottom, strokeWidth=0.6))
    d.add(Line(left, bottom, left, top, strokeWidth=0.6))
    for t in range(0, int(hi) + 1, 3):
        x, _ = xy(t, lo)
        _, y = xy(lo, t)
        d.add(Line(x, bottom, x, bottom - 2, strokeWidth=0.5))
        d.add(String(x, bottom - 9, str(t), fontName=font, fontSize=6, textAnchor="middle"))
        d.add(Line(left, y, left - 2, y, strokeWidth=0.5))
        d.add(String(left - 4, y - 2, str(t), fontName=font, fontSize=6, textAnchor="end"))
    d.add(String((left + right) / 2, 3, labels["x"], fontName=font, fontSize=7, textAnchor="middle"))
    ylab = String(0, 0, labels["y"], fontName=font, fontSize=7, textAnchor="middle")
    from reportlab.graphics.shapes import Group

    g = Group(ylab)
    g.translate(8, (bottom + top) / 2)
    g.rotate(90)
    d.add(g)
    d.add(String(*xy(lo + 0.8, hi - 1.5), f"{labels['band']} (±{lim:.1f})", fontName=font, fontSize=6,
                 fillColor=colors.darkgreen))
    history = sorted(earlier)
    if len(history) + (point is not None) >= 2:
        line = [v for p in history + ([point] if point else []) for v in xy(*p)]
        d.add(PolyLine(line, strokeColor=colors.grey, strokeWidth=0.5))
    for ca, ba in history:
        d.add(Circle(*xy(ca, ba), 2.2, fillColor=colors.white, strokeColor=colors.black, strokeWidth=0.6))
    if point is not None:
        d.add(Circle(*xy(*point), 3.0, fillColor=colors.red, strokeColor=colors.black, strokeWidth=0.6))
    return d
