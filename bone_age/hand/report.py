"""Outputs for people: the annotated film (PNG), the one-page PDF report, and batch rows (CSV/JSONL)."""
from __future__ import annotations

import io
import logging
import os
from html import escape
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from .._atomic import write_bytes, write_image
from ..io.film import Film
from ..overlay import raise_clear, stage_color
from ..i18n import translator
from ..summary import as_markup, fmt_age
from .chart import age_chart
from .results import Assessment

__all__ = ["annotate", "hand_box", "hand_image", "person_name", "write_png", "write_pdf", "report_font", "NOTICE"]

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


def hand_box(a: Assessment, shape_hw: tuple[int, int], margin: float = 0.25) -> tuple[int, int, int, int]:
    """The box around the 13 regions, widened by ``margin`` of its larger side, clipped to the film (pixels)."""
    x1, y1 = min(r.box_xyxy[0] for r in a.regions), min(r.box_xyxy[1] for r in a.regions)
    x2, y2 = max(r.box_xyxy[2] for r in a.regions), max(r.box_xyxy[3] for r in a.regions)
    pad = margin * max(x2 - x1, y2 - y1)
    h, w = shape_hw
    return max(0, int(x1 - pad)), max(0, int(y1 - pad)), min(w, int(x2 + pad)), min(h, int(y2 + pad))


def hand_image(film: Film, a: Assessment, side: int = 1000) -> np.ndarray:
    """The annotated film cut to the hand (``hand_box``), its longer side at most ``side`` pixels."""
    x1, y1, x2, y2 = hand_box(a, film.pixels.shape)
    s = min(1.0, side / max(x2 - x1, y2 - y1))
    img = annotate(film.pixels, a, max_side=max(film.pixels.shape) * s)
    return img[int(y1 * s):int(np.ceil(y2 * s)), int(x1 * s):int(np.ceil(x2 * s))]


def person_name(pn: str | None) -> str:
    """A DICOM person name for people: components (``^``) joined by spaces; with an ideographic group (after ``=``),
    that group too, its components kept together (``Zhang^Xiaoming=张^小明`` -> ``Zhang Xiaoming (张小明)``)."""
    if not pn:
        return "-"
    groups = pn.split("=")
    alphabetic = " ".join(p for p in groups[0].split("^") if p)
    ideographic = "".join(groups[1].split("^")) if len(groups) > 1 else ""
    if alphabetic and ideographic:
        return f"{alphabetic} ({ideographic})"
    return alphabetic or ideographic or "-"


def write_pdf(path: Path, film: Film, a: Assessment, lang: str = "en",
              earlier: Sequence[tuple[float, float]] = ()) -> Path:
    """One page in ``lang`` ('en' or 'zh_CN'): the film cut to the hand and annotated, the patient and study fields,
    the per-bone table, the summary (bone age, its difference to the chronological age and what that means), a chart
    of bone age against chronological age with the normal band and ``earlier`` readings of the same patient
    ((chronological age, bone age) pairs), warnings, models and the notice."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    t = translator(lang)
    m = a.film
    name = person_name(m.patient_name if m else None)
    font = report_font(needs_cjk=lang != "en" or not name.isascii())
    styles = getSampleStyleSheet()
    for st in styles.byName.values():
        st.fontName = font
    body, small = styles["BodyText"], styles["BodyText"].clone("small", fontSize=7, leading=8.5)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=10 * mm,
                            bottomMargin=10 * mm, title=t("RUS-CHN bone age report"))
    hand = hand_image(film, a)
    ok, png = cv2.imencode(".png", hand)
    h, w = hand.shape[:2]
    img_h = min(140 * mm, 110 * mm * h / w)
    img = Image(io.BytesIO(png.tobytes()), width=img_h * w / h, height=img_h)
    patient = [[t("Source"), Path(a.source).name], [t("Patient"), name],
               [t("Patient ID"), (m.patient_id or "-") if m else "-"],
               [t("Birth date"), (m.patient_birth_date or "-") if m else "-"],
               [t("Study date"), (m.study_date or "-") if m else "-"], [t("Sex"), t(a.sex)],
               [t("Hand"), t(a.hand_side) if a.hand_side else "-"],
               [t("Chronological age"), t(fmt_age(a.chronological_age_years))]]
    rows = [[t("Bone"), t("Stage"), t("Points"), t("Conf.")]] + [
        [t(s.bone) + (" *" if s.overridden else ""), str(s.stage), str(s.points), f"{s.confidence:.2f}"] for s in a.stages]
    table = Table(rows, colWidths=[26 * mm, 11 * mm, 12 * mm, 13 * mm])
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                               ("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("ALIGN", (1, 0), (-1, -1), "RIGHT")]))
    fields = Table(patient, style=[("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8)])
    side = Table([[fields], [Spacer(1, 3 * mm)], [table]])
    layout = Table([[img, side]], colWidths=[img_h * w / h + 4 * mm, None])
    layout.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    lines = [(t(label), t(text)) for label, text in a.summary_lines()]
    summary = [Paragraph(x, body if label else small) for (label, _), x in zip(lines, as_markup(lines))]
    point = None if a.chronological_age_years is None else (a.chronological_age_years, a.bone_age_years)
    chart = age_chart(point, earlier, font=font, labels={k: t(v) for k, v in CHART_LABELS.items()})
    below = Table([[summary, chart]], colWidths=[None, 72 * mm])
    below.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story = [Paragraph(t("RUS-CHN bone age report"), styles["Title"]), layout, Spacer(1, 3 * mm), below]
    if any(s.overridden for s in a.stages):
        story.append(Paragraph(escape(t("* stage set by the reader")), small))
    if a.warnings:
        story.append(Paragraph(f"<b>{escape(t('Warnings'))}:</b> " + escape("; ".join(t(x) for x in a.warnings)), small))
    models = ", ".join(f"{k} (sha256 {v[:12]})" for k, v in a.model_versions.items())
    story.append(Paragraph(f"{escape(t('Models'))}: {models}", small))
    story.append(Paragraph(escape(t(NOTICE)), small))
    doc.build(story)
    write_bytes(Path(path), buf.getvalue())
    return path


CHART_LABELS = {"x": "Chronological age (y)", "y": "Bone age (y)", "band": "normal limits"}
CJK_FONTS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
             "/usr/share/fonts/truetype/arphic/uming.ttc", "C:/Windows/Fonts/msyh.ttc", "C:/Windows/Fonts/simsun.ttc")


def report_font(needs_cjk: bool) -> str:
    """The report's font: Helvetica, or where Chinese text is printed a TrueType font with CJK glyphs, embedded in
    the PDF: ``$BONE_AGE_CJK_FONT``, else the first of ``CJK_FONTS`` present (Debian: fonts-wqy-microhei, Apache-2.0 /
    GPL-3 with the font exception); without one, reportlab's STSong-Light, which PDF readers supply (not embedded)."""
    if not needs_cjk:
        return "Helvetica"
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    if "BoneAgeCJK" in pdfmetrics.getRegisteredFontNames():
        return "BoneAgeCJK"
    for candidate in [os.environ.get("BONE_AGE_CJK_FONT", "")] + list(CJK_FONTS):
        if candidate and Path(candidate).is_file():
            try:
                pdfmetrics.registerFont(TTFont("BoneAgeCJK", candidate, subfontIndex=0))
                return "BoneAgeCJK"
            except Exception as exc:  # a font reportlab cannot embed (CFF outlines): try the next
                _logger.warning("cannot embed %s (%s)", candidate, exc)
    _logger.warning("no CJK TrueType font found (install fonts-wqy-microhei or set BONE_AGE_CJK_FONT): "
                    "Chinese text uses STSong-Light, not embedded")
    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"
