import base64
import re
import zlib

import numpy as np
import pytest

from bone_age.hand.report import annotate, write_pdf, write_png
from bone_age.hand.results import Assessment, BoneStage, Region
from bone_age.hand.standard import load_standard
from bone_age.io.film import film_from_array
from bone_age.results import row_for


def fake_assessment() -> Assessment:
    std = load_standard()
    regions, stages = [], []
    for i, bone in enumerate(std.bones):
        x, y = 40 + 30 * (i % 5), 40 + 60 * (i // 5)
        regions.append(Region(bone, std.category_of(bone), (x, y, x + 25, y + 40), (x + 12.5, y + 20.0), 0.9))
        n = std.n_stages(bone)
        stages.append(BoneStage(bone, std.category_of(bone), 3, tuple([1.0 / n] * n), 0.3 if i == 0 else 0.8, std.points_for("F", bone, 3),
                                low_confidence=i == 0))
    total = sum(s.points for s in stages)
    age, flag = std.age_for_score("F", total)
    return Assessment(source="synthetic.png", sex="female", regions=tuple(regions), stages=tuple(stages), total_score=total,
                      bone_age_years=age, range_flag=flag, chronological_age_years=3.0,
                      bone_age_minus_chronological_years=round(age - 3.0, 2), warnings=("Radius: low stage confidence (0.30)",),
                      model_versions={"stage.v1": "a" * 64})


def test_png_and_pdf_are_written(tmp_path):
    film = film_from_array(np.random.default_rng(0).random((240, 200)).astype(np.float32), "synthetic.png")
    a = fake_assessment()
    png = write_png(tmp_path / "r.png", film, a)
    pdf = write_pdf(tmp_path / "r.pdf", film, a)
    assert png.read_bytes()[:4] == b"\x89PNG"
    data = pdf.read_bytes()
    assert data[:5] == b"%PDF-" and len(data) > 5000
    img = annotate(film.pixels, a)
    assert img.shape[2] == 3 and img[..., 1].max() > img[..., 0].max() - 1  # coloured boxes drawn


def test_the_report_states_the_held_out_agreement(tmp_path):
    from dataclasses import replace

    from bone_age.hand.results import Agreement, AgreementBand

    film = film_from_array(np.random.default_rng(0).random((240, 200)).astype(np.float32), "synthetic.png")
    a = fake_assessment()
    band = AgreementBand(read_years=(a.bone_age_years - 1, a.bone_age_years + 1), films=40, half_within_months=5.0,
                         most_within_months=14.0, mean_difference_months=2.0)
    agreement = Agreement(films=103, half_within_months=6.0, most_within_months=19.0, mae_months=8.9, reference="card",
                          bands=(band,), band_reference="held-out films")
    plain = _pdf_text(write_pdf(tmp_path / "a.pdf", film, a))
    stated = _pdf_text(write_pdf(tmp_path / "b.pdf", film, replace(a, agreement=agreement)))
    assert b"Bone age" in plain and b"held-out" not in plain and b"held-out films" in stated
    lines = b" ".join(re.findall(rb"\((.*?)\) Tj", stated))  # the paragraph's wrapped lines, joined
    assert b"of the 40 read at" in lines  # the films read at about this film's bone age


def test_a_batch_row_carries_how_close_held_out_films_read_at_about_this_age_came():
    from dataclasses import replace

    from bone_age.hand.results import Agreement, AgreementBand

    a = fake_assessment()
    near = AgreementBand(read_years=(a.bone_age_years - 1, a.bone_age_years + 1), films=40, half_within_months=5.0,
                         most_within_months=14.0, mean_difference_months=2.0)
    far = replace(near, read_years=(a.bone_age_years + 1, a.bone_age_years + 3), half_within_months=9.0)
    overall = Agreement(films=103, half_within_months=6.0, most_within_months=19.0, mae_months=8.9, reference="card")
    fields = ("held_out_half_within_months", "held_out_90pct_within_months")
    assert [a.batch_row("f")[k] for k in fields] == ["", ""]
    assert [replace(a, agreement=overall).batch_row("f")[k] for k in fields] == [6.0, 19.0]
    banded = replace(a, agreement=replace(overall, bands=(far, near)))
    assert [banded.batch_row("f")[k] for k in fields] == [5.0, 14.0]


def _pdf_text(path) -> bytes:
    """The page content streams of a ReportLab PDF (ASCII85 over Flate), where its text is drawn."""
    streams = re.findall(rb"stream\r?\n(.*?)endstream", path.read_bytes(), re.S)
    return b"".join(zlib.decompress(base64.a85decode(s.strip(), adobe=True)) for s in streams if s.strip().endswith(b"~>"))


def test_low_confidence_bones_are_drawn_in_orange():
    from dataclasses import replace

    film = film_from_array(np.zeros((240, 200), np.float32), "synthetic.png")
    a = fake_assessment()
    orange, green = (0, 140, 255), (0, 200, 0)
    img = annotate(film.pixels, a)
    assert (img == orange).all(-1).any() and (img == green).all(-1).any()
    calm = replace(a, stages=tuple(replace(st, low_confidence=False) for st in a.stages))
    assert not (annotate(film.pixels, calm) == orange).all(-1).any()


def test_batch_row_for_scored_and_failed():
    a = fake_assessment()
    row = a.batch_row("x.png")
    assert row["status"] == "scored" and row["total_score"] == a.total_score and "Radius=3" in row["stages"]
    bad = row_for(a.BATCH_FIELDS, "y.png", status="failed", reason="UnreadableFilm: empty")
    assert bad["reason"].startswith("UnreadableFilm") and bad["total_score"] == ""


def test_override_settles_a_low_confidence_bone():
    from bone_age.hand.scoring import override_stages

    a = fake_assessment()
    assert a.stages[0].low_confidence and a.warnings
    kept = override_stages(a, {"Ulna": 2})
    assert kept.stages[0].low_confidence and kept.warnings == a.warnings
    settled = override_stages(a, {"Radius": 4})
    assert not settled.stages[0].low_confidence and settled.stages[0].overridden
    assert not any(w.startswith("Radius: low stage confidence") for w in settled.warnings)


def test_a_film_read_inverted_is_drawn_bone_bright():
    from dataclasses import replace

    pixels = np.random.default_rng(1).random((240, 200)).astype(np.float32)
    a = fake_assessment()
    stored_inverted = annotate(1.0 - pixels, replace(a, read_inverted=True)).astype(int)
    assert np.abs(stored_inverted - annotate(pixels, a).astype(int)).max() <= 1
    assert np.abs(annotate(1.0 - pixels, a).astype(int) - annotate(pixels, a).astype(int)).mean() > 50


def test_person_names_are_written_for_people():
    from bone_age.hand.report import person_name

    assert person_name("张^小明") == "张 小明"
    assert person_name("Zhang^Xiaoming=张^小明") == "Zhang Xiaoming (张小明)"
    assert person_name("=王^芳") == "王芳" and person_name(None) == "-" and person_name("Doe^John^^^") == "Doe John"


def test_interpretation_follows_the_documented_convention():
    from bone_age.hand.interpretation import ADVANCED, DELAYED, NORMAL, interpret, load_convention

    c = load_convention()
    assert "doi:10.5402/2013/874570" in c.source and c.limit_years == 2.0
    assert interpret(2.5, "within").verdict == ADVANCED and interpret(-2.01, "within").verdict == DELAYED
    assert interpret(1.9, "within").verdict == NORMAL and interpret(1.9, "within").difference_sd == 1.9
    assert interpret(None, "within") is None and interpret(3.0, "below") is None  # at the range's end: not stated
    a = fake_assessment()  # chronological age 3.0, bone age from stage 3 everywhere
    from bone_age.hand.scoring import override_stages

    assert override_stages(a, {"Radius": 4}).interpretation == interpret(
        override_stages(a, {"Radius": 4}).bone_age_minus_chronological_years, override_stages(a, {"Radius": 4}).range_flag)


def test_the_chart_draws_the_band_the_point_and_earlier_readings():
    from reportlab.graphics.shapes import Circle, Polygon

    from bone_age.hand.chart import age_chart

    d = age_chart((8.0, 9.5), [(6.0, 7.0), (7.0, 8.1)])
    circles = [x for x in d.contents if isinstance(x, Circle)]
    assert len(circles) == 3 and [round(c.r, 1) for c in circles] == [2.2, 2.2, 3.0]
    assert any(isinstance(x, Polygon) for x in d.contents)
    assert len([x for x in age_chart(None).contents if isinstance(x, Circle)]) == 0


def test_the_report_in_chinese_shows_chinese_text_and_the_patient_name(tmp_path):
    import shutil
    import subprocess
    from dataclasses import replace

    from bone_age.results import FilmMeta

    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    film = film_from_array(np.random.default_rng(0).random((400, 360)).astype(np.float32), "synthetic.png")
    meta = FilmMeta("synthetic.png", "png", "uint8", 400, 360, patient_name="张^小明", patient_id="P1")
    a = replace(fake_assessment(), film=meta)
    for lang in ("zh_CN", "en"):
        pdf = write_pdf(tmp_path / f"r_{lang}.pdf", film, a, lang=lang, earlier=[(2.0, 2.5)])
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "张 小明" in text  # the DICOM name, '^' as a space, in both languages
        if lang == "zh_CN":
            assert "骨龄报告" in text and "桡骨" in text and "生活年龄" in text
        else:
            assert "RUS-CHN bone age report" in text and "Radius" in text
