"""Outputs for people: the annotated film (PNG), the one-page PDF report, and batch rows (CSV/JSONL)."""
from __future__ import annotations

import io
import logging
from pathlib import Path

import cv2
import numpy as np

from .._atomic import write_bytes, write_image
from ..io.film import Film
from ..overlay import raise_clear, stage_color
from ..summary import as_markup, fmt_age
from .results import Assessment

__all__ = ["annotate", "write_png", "write_pdf", "NOTICE"]

_logger = logging.getLogger(__name__)
NOTICE = ("Research use only. Not a medical device. Stages are estimated by a model trained without radiologist "
          "stage labels (see the model cards); a qualified reader must confirm every stage.")


def annotate(pixels: np.ndarray, a: Assessment, max_side: int = 1400) -> np.ndarray:
    """BGR uint8 image of the film with each region's box, bone name and stage (``overlay.stage_color``: low
    confidence orange, set by hand blue; labels raised clear of each other); a film read inverted is drawn as it was
    read, bone bright."""
    pixels = 1.0 - pixels if a.read_inverted else pixels
    s = min(1.0, max_side / max(pixels.shape))
    img = cv2.resize((np.clip(pixels, 0, 1) * 255).astype(np.uint8), None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    lw = max(1, round(max(img.shape) / 500))
    fs = max(0.35, max(img.shape) / 2200)
    texts, rects = [], []
    for r, st in zip(a.regions, a.stages):
        color = stage_color(st)[::-1]
        x1, y1, x2, y2 = (int(v * s) for v in r.box_xyxy)
        cv2.rectangle(img, (x1, y1), (x2, y2), color, lw)
        label = f"{r.bone} {st.stage}"
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, fs, lw + 2)
        texts.append((label, color, base))
        rects.append((x1, y1 - 3 - th - base, tw, th + base))
    for (label, color, base), (x, y, _, h) in zip(texts, raise_clear(rects)):
        org = (int(x), max(12, round(y + h - base)))  # the text's baseline
        cv2.putText(img, label, org, cv2.FONT_HERSHEY_SIMPLEX, fs, (0, 0, 0), lw + 2, cv2.LINE_AA)
        cv2.putText(img, label, org, cv2.FONT_HERSHEY_SIMPLEX, fs, color, lw, cv2.LINE_AA)
    return img


def write_png(path: Path, film: Film, a: Assessment) -> Path:
    return write_image(Path(path), annotate(film.pixels, a))


def write_pdf(path: Path, film: Film, a: Assessment) -> Path:
    """One page: annotated film, per-bone table, totals, patient/study fields, model versions, notice."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7, leading=8.5)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=10 * mm, bottomMargin=10 * mm,
                            title="RUS-CHN bone age report")
    ok, png = cv2.imencode(".png", annotate(film.pixels, a, max_side=1000))
    h, w = film.pixels.shape
    img_h = 150 * mm
    img = Image(io.BytesIO(png.tobytes()), width=img_h * w / h, height=img_h)
    m = a.film
    patient = [["Source", Path(a.source).name], ["Patient", (m.patient_name or "-") if m else "-"],
               ["Patient ID", (m.patient_id or "-") if m else "-"], ["Birth date", (m.patient_birth_date or "-") if m else "-"],
               ["Study date", (m.study_date or "-") if m else "-"], ["Sex", a.sex], ["Hand", a.hand_side or "-"],
               ["Chronological age", fmt_age(a.chronological_age_years)]]
    rows = [["Bone", "Stage", "Points", "Conf."]] + [
        [s.bone + (" *" if s.overridden else ""), str(s.stage), str(s.points), f"{s.confidence:.2f}"] for s in a.stages]
    table = Table(rows, colWidths=[22 * mm, 11 * mm, 12 * mm, 11 * mm])
    table.setStyle(TableStyle([("FONTSIZE", (0, 0), (-1, -1), 8), ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                               ("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("ALIGN", (1, 0), (-1, -1), "RIGHT")]))
    side = Table([[Table(patient, style=[("FONTSIZE", (0, 0), (-1, -1), 8)])], [Spacer(1, 3 * mm)], [table]])
    layout = Table([[img, side]], colWidths=[img_h * w / h + 4 * mm, None])
    layout.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story = [Paragraph("RUS-CHN bone age report", styles["Title"]), layout, Spacer(1, 3 * mm)]
    lines = a.summary_lines()
    story += [Paragraph(t, styles["BodyText"] if label else small) for (label, _), t in zip(lines, as_markup(lines))]
    if any(s.overridden for s in a.stages):
        story.append(Paragraph("* stage set by the reader", small))
    if a.warnings:
        story.append(Paragraph("<b>Warnings:</b> " + "; ".join(a.warnings), small))
    story.append(Paragraph("Models: " + ", ".join(f"{k} (sha256 {v[:12]})" for k, v in a.model_versions.items()), small))
    story.append(Paragraph(NOTICE, small))
    doc.build(story)
    write_bytes(Path(path), buf.getvalue())
    return path
