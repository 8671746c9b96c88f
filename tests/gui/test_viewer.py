"""The viewer, offscreen: open, assess in a worker, override a stage, export."""
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6", reason="the viewer needs PyQt6")
pytest.importorskip("pytestqt", reason="viewer tests need pytest-qt")

from bone_age.registry import list_models  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "assets" / "samples" / "IMG0000111.jpg"  # a small hand on a large film
has_models = bool(list_models("localizer") and list_models("stages"))


@pytest.fixture(autouse=True)
def own_settings(tmp_path, monkeypatch):
    """Each test its own viewer settings and label store (nothing of the user's read or written)."""
    from PyQt6.QtCore import QSettings

    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    monkeypatch.setenv("BONE_AGE_LABELS", str(tmp_path / "labels"))
    monkeypatch.setenv("BONE_AGE_LANG", "en")


@pytest.fixture
def window(qtbot):
    from gui.window import MainWindow

    w = MainWindow(engine_factory=lambda **kw: __import__("bone_age.hand.pipeline", fromlist=["Engine"]).Engine(device="cpu", **kw))
    qtbot.addWidget(w)
    return w


def _open(window, qtbot, path) -> bool:
    """Open ``path`` (read in a worker) and wait for the outcome: True when the film is shown."""
    window.open_path(path)
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith(("Opened", "Cannot open")), timeout=20000)
    return window.statusBar().currentMessage().startswith("Opened")


def _assessed(window, qtbot, path, sex: str):
    """Open ``path``, read it as ``sex`` and wait for the assessment."""
    assert _open(window, qtbot, path)
    window.sex.setCurrentText(sex)
    window.run_assessment()
    qtbot.waitUntil(lambda: window.state.assessment is not None, timeout=60000)
    return window.state.assessment


def test_app_icon_renders(qtbot):
    from gui.window import app_icon

    image = app_icon().pixmap(64, 64).toImage()
    assert not image.isNull() and image.width() == 64
    assert image.pixelColor(32, 32).lightness() > 150  # the bone at the centre, drawn from the SVG


def test_open_bad_file_shows_message(window, qtbot, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"nothing")
    assert not _open(window, qtbot, bad)
    assert "Cannot open" in window.statusBar().currentMessage()


def test_assess_without_film(window):
    window.run_assessment()
    assert "Open a film first" in window.statusBar().currentMessage()


def test_window_level_changes_display(window, qtbot):
    assert _open(window, qtbot, SAMPLE)
    before = window.state.display_image().astype(int).sum()
    window.state.set_window(0.0, 0.3)
    assert window.state.display_image().astype(int).sum() > before


@pytest.mark.skipif(not has_models, reason="no shipped models")
def test_assess_override_and_export(window, qtbot, tmp_path):
    from PyQt6.QtWidgets import QGraphicsTextItem

    from gui.window import regions_rect

    a = _assessed(window, qtbot, SAMPLE, "male")
    assert "Bone age (RUS-CHN)" in window.summary.text()
    assert a.agreement is not None and a.agreement.sentence(a.bone_age_years) in window.summary.text()
    labels = [it.sceneBoundingRect() for it in window.view.scene().items() if isinstance(it, QGraphicsTextItem)]
    assert len(labels) == 13 and not any(p.intersects(q) for i, p in enumerate(labels) for q in labels[i + 1:])
    shown = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    hand = regions_rect(a.regions, margin=0)
    assert shown.contains(hand) and shown.width() * shown.height() < 0.5 * window.state.film.pixels.size  # zoomed to the hand
    zoom = window.view.transform().m11()
    spin = window.table.cellWidget(0, window.STAGE_COL)
    new_stage = 1 if a.stages[0].stage != 1 else 2
    spin.setValue(new_stage)
    assert window.view.transform().m11() == zoom  # an override keeps the reader's zoom
    b = window.state.assessment
    assert b.stages[0].stage == new_stage and b.stages[0].overridden and b.total_score != a.total_score
    assert str(b.total_score) in window.summary.text()
    window.export_report(tmp_path / "r.pdf")
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Wrote"), timeout=30000)
    assert (tmp_path / "r.pdf").read_bytes()[:5] == b"%PDF-"
    shot = window.grab().toImage()
    assert shot.width() > 0 and np.isfinite(b.bone_age_years)


def test_module_overlays_and_summaries_from_results():
    from dataclasses import replace

    from bone_age.bonescan.results import BoneScanResult, Hotspot, RegionFinding
    from bone_age.clavicle.results import ClavicleResult, ClavicleSide
    from bone_age.fracture.results import FractureEvidence, FractureInstance, FractureResult
    from bone_age.summary import as_text

    def module_shapes(result):
        return result.shapes()

    def module_summary(result):
        return as_text(result.summary_lines())

    fr = FractureResult("f", 0.8, True, 0.4, (FractureInstance(0.8, (1, 2, 30, 40), ((1, 2), (30, 2), (30, 40))),))
    assert [s.kind for s in module_shapes(fr)] == ["rect", "poly"]
    assert "0.80 (fracture suspected" in module_summary(fr)[0]
    ev = FractureEvidence(((0.0, 2.0),), (25.0, 5.0), 2.0, ((20, 0), (30, 0), (30, 10)))
    fr_ev = replace(fr, evidence=ev)
    assert [s.label for s in module_shapes(fr_ev)][0] == "classifier evidence" and "Cyan outline" in module_summary(fr_ev)[2]
    quiet = replace(fr_ev, probability=0.2, fractured=False)  # not called fractured: the evidence is not drawn
    assert [s.kind for s in module_shapes(quiet)] == ["rect", "poly"] and not any("Cyan" in x for x in module_summary(quiet))
    cl = ClavicleResult("c", 100, 100, (ClavicleSide("right", True, ((1, 1), (9, 1), (9, 3)), 20, 8, 5.0, 2.0),
                                        ClavicleSide("left", False)), 0.5)
    assert len(module_shapes(cl)) == 1 and module_summary(cl)[:2] == [
        "Right clavicle: length 2.0 mm, area 5 mm²", "Left clavicle: not found"]
    bs = BoneScanResult("b", "wholebody", "ANT", (RegionFinding("chestR", "ANT", 0.9, True, 0.3, (0, 10, 50, 90)),),
                        (Hotspot("abnormal", 0.7, (5, 5, 9, 9)),), "det")
    shapes = module_shapes(bs)
    assert [s.color for s in shapes] == [(255, 60, 60), (255, 0, 255)]
    assert "abnormal" in module_summary(bs)[0] and module_summary(bs)[1] == "Whole-body detector: det"


@pytest.mark.skipif(not list_models("bonescan_region"), reason="no shipped bone-scan model")
def test_bone_scan_module_runs_in_the_viewer(window, qtbot, tmp_path):
    import cv2

    crop = (np.random.default_rng(0).poisson(30, (165, 65))).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "crop.png"), crop)
    assert _open(window, qtbot, tmp_path / "crop.png")
    window.module.setCurrentText("Bone scan")
    assert not window.table.isEnabled() and window.run_button.text() == "Run bone scan"
    window.run_assessment()
    qtbot.waitUntil(lambda: window.state.module_result is not None, timeout=60000)
    assert "P(abnormal uptake)" in window.summary.text()


@pytest.mark.skipif(not list_models("fracture"), reason="no shipped fracture model")
def test_fracture_module_runs_in_the_viewer(window, qtbot):
    assert _open(window, qtbot, SAMPLE)
    window.module.setCurrentText("Fracture")
    window.run_assessment()
    qtbot.waitUntil(lambda: window.state.module_result is not None, timeout=60000)
    assert "Fracture probability" in window.summary.text()
    window.module.setCurrentText("Bone age (RUS-CHN)")
    assert window.state.module_result is None


def test_a_film_read_inverted_is_shown_bone_bright(window, qtbot):
    from dataclasses import replace

    from test_report import fake_assessment

    assert _open(window, qtbot, SAMPLE)
    as_stored = window.state.display_image().astype(int)
    window.state.set_assessment(replace(fake_assessment(), read_inverted=True))
    assert np.array_equal(window.state.display_image().astype(int), 255 - as_stored)
    from bone_age.fracture.results import FractureResult
    from bone_age.summary import as_text

    window.state.set_assessment(None)
    fracture = FractureResult("f", 0.2, False, 0.4, (), read_inverted=True)
    window.state.set_module_result(fracture)
    assert np.array_equal(window.state.display_image().astype(int), 255 - as_stored)
    assert any("inverted" in line for line in as_text(fracture.summary_lines()))


def _read_unchecked_and_checked(window, qtbot, box) -> dict:
    """The open film assessed with the check box ``box`` off and on: the two assessments by its state."""
    readings = {}
    for checked in (False, True):
        window.state.set_assessment(None)
        box.setChecked(checked)
        window.run_assessment()
        qtbot.waitUntil(lambda: window.state.assessment is not None, timeout=60000)
        readings[checked] = window.state.assessment
    box.setChecked(False)
    return readings


@pytest.mark.skipif(not (has_models and list_models("polarity")), reason="no shipped models")
def test_read_as_stored_skips_the_polarity_check(window, qtbot, tmp_path):
    from PIL import Image

    negative = tmp_path / "negative.png"
    adolescent = REPO / "assets" / "samples" / "IMG0000035.jpg"  # a hand found in either polarity
    Image.fromarray(255 - np.asarray(Image.open(adolescent).convert("L"))).save(negative)
    assert _open(window, qtbot, negative)
    window.sex.setCurrentText("male")
    readings = _read_unchecked_and_checked(window, qtbot, window.as_stored)
    assert readings[False].read_inverted and readings[False].warnings[0].startswith("grey scale inverted")
    assert not readings[True].read_inverted and set(window._engines) == {(False, False), (True, False)}


@pytest.mark.skipif(not has_models, reason="no shipped models")
def test_the_hand_read_on_a_two_hand_film_is_chosen(window, qtbot, tmp_path):
    from PIL import Image

    both = tmp_path / "both.png"
    right = np.asarray(Image.open(REPO / "assets" / "samples" / "IMG0000035.jpg").convert("L"))  # a right hand
    Image.fromarray(np.ascontiguousarray(np.hstack([right[:, ::-1], right]))).save(both)
    assert _open(window, qtbot, both)
    window.sex.setCurrentText("male")
    read = {}
    for hand in ("right", "left"):
        window.state.set_assessment(None)
        window.hand.setCurrentText(hand)
        window.run_assessment()
        qtbot.waitUntil(lambda: window.state.assessment is not None, timeout=60000)
        read[hand] = window.state.assessment
    assert read["right"].hand_side == "right" and "right hand asked for" in read["right"].warnings[0]
    assert min(r.center_xy[0] for r in read["right"].regions) >= right.shape[1]  # the image's right half
    assert read["left"].hand_side == "left" and max(r.center_xy[0] for r in read["left"].regions) < right.shape[1]


@pytest.mark.skipif(not (has_models and list_models("hand_gate")), reason="no shipped models")
def test_skip_hand_film_check_reads_without_the_gate_and_says_so(window, qtbot):
    assert _open(window, qtbot, REPO / "assets" / "samples" / "IMG0000035.jpg")
    window.sex.setCurrentText("male")
    readings = _read_unchecked_and_checked(window, qtbot, window.no_hand_check)
    assert not any("hand-film check" in w for w in readings[False].warnings)
    assert any(w.startswith("read without the hand-film check") for w in readings[True].warnings)
    assert [s.stage for s in readings[True].stages] == [s.stage for s in readings[False].stages]
    assert set(window._engines) >= {(False, False), (False, True)}


@pytest.mark.skipif(not has_models, reason="no shipped models")
def test_the_event_loop_keeps_turning_while_a_film_is_read_assessed_and_exported(window, qtbot, tmp_path):
    """A timer on the GUI thread ticks every 10 ms; during each long step it must keep ticking (the window paints)."""
    from PyQt6.QtCore import QTimer

    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    window.sex.setCurrentText("male")
    steps = [(lambda: window.open_path(SAMPLE), lambda: window.statusBar().currentMessage().startswith("Opened")),
             (window.run_assessment, lambda: window.state.assessment is not None),
             (lambda: window.export_report(tmp_path / "r.pdf"), lambda: window.statusBar().currentMessage().startswith("Wrote"))]
    for start, finished in steps:
        before = len(ticks)
        start()
        assert not finished()  # the call returned before the work was done: it runs in a worker
        qtbot.waitUntil(finished, timeout=60000)
        assert len(ticks) - before >= 3  # the loop turned while the worker ran
    timer.stop()


def test_a_missing_xcb_cursor_library_is_said_in_words(monkeypatch):
    import gui

    monkeypatch.setattr(gui.sys, "platform", "linux")
    monkeypatch.setattr(gui.ctypes.util, "find_library", lambda name: None if name == "xcb-cursor" else f"lib{name}.so")
    assert "apt install libxcb-cursor0 (" in gui.missing_system_library("xcb") and gui.missing_system_library("")
    assert gui.missing_system_library("offscreen") is None
    monkeypatch.setattr(gui.ctypes.util, "find_library", lambda name: f"lib{name}.so.0")
    assert gui.missing_system_library("xcb") is None


def _keys(qtbot, window, *keys):
    from PyQt6.QtCore import Qt

    for k in keys:
        if isinstance(k, str):
            qtbot.keyClicks(window, k)
        else:
            qtbot.keyClick(window, k)
    del Qt


@pytest.mark.skipif(not has_models, reason="no shipped models")
def test_review_all_13_bones_by_keyboard_stores_them_and_a_second_review_replaces_them(window, qtbot, tmp_path):
    from PyQt6.QtCore import Qt

    from bone_age.hand.labels import LabelStore

    a = _assessed(window, qtbot, SAMPLE, "male")
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert window.review is not None and not window.review_panel.isHidden() and window.review.bone == a.stages[0].bone
    assert window.review_panel.crop.pixmap().width() > 0 and "1" in window.review_panel.title.text()
    up = {s.bone: (Qt.Key.Key_Plus if s.stage < window.std.n_stages(s.bone) else Qt.Key.Key_Minus) for s in a.stages}
    first, third = a.stages[0], a.stages[2]
    _keys(qtbot, window, up[first.bone], Qt.Key.Key_Return)  # bone 1 corrected, confirmed; focus moves to bone 2
    _keys(qtbot, window, Qt.Key.Key_Down, up[third.bone], Qt.Key.Key_Return)  # bone 3 corrected by +/-
    assert window.review.done == {first.bone, third.bone} and window.review.bone == a.stages[3].bone  # the next one due
    assert window.state.assessment.total_score != a.total_score  # the total follows live
    for _ in range(11):
        _keys(qtbot, window, Qt.Key.Key_Return)
    assert window.review.complete
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Film reviewed"), timeout=20000)
    store = LabelStore(window.label_store().root)
    entries = {e.bone: e for e in store.entries()}
    assert len(entries) == 13 and {b for b, e in entries.items() if e.status == "corrected"} == {first.bone, third.bone}
    b = window.state.assessment
    assert all(entries[s.bone].stage_reader == s.stage for s in b.stages)
    assert all((store.root / e.crop).is_file() and (store.root / e.context).is_file() for e in entries.values())
    from bone_age.training.stages import train_supervised  # the store as it is: the supervised path reads it

    weights, metrics = train_supervised(store.root, tmp_path / "m" / "stage.from_store", epochs=1, device="cpu")
    assert weights.is_file() and metrics["all"]["n"] == 13

    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)  # again: the film's entries replaced
    _keys(qtbot, window, "1")
    for _ in range(13):
        _keys(qtbot, window, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(LabelStore(store.root).entries()) == 13 and LabelStore(store.root).entries()[0].stage_reader == 1,
                    timeout=20000)
    assert len({e.film_sha256 for e in LabelStore(store.root).entries()}) == 1

    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the store's folder would be")
    window.settings.setValue("labels_dir", str(blocker / "labels"))
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    for _ in range(13):
        _keys(qtbot, window, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Cannot store the labels"), timeout=20000)
    assert "cannot be written" in window.statusBar().currentMessage() and window.state.assessment is not None


def test_the_viewer_speaks_chinese(window, qtbot):
    from test_report import fake_assessment

    window.set_language("zh_CN")
    assert window.form.labelForField(window.sex).text() == "性别" and window.run_button.text() == "评估"
    window.state.set_assessment(fake_assessment())
    assert window.table.cellWidget(0, window.BONE_COL).text() == "桡骨"
    assert "桡骨：分期置信度低（0.30）" in window.warnings.text() and "RUS-CHN 总分" in window.summary.text()
    window.set_language("en")
    assert window.form.labelForField(window.sex).text() == "Sex" and window.table.cellWidget(0, window.BONE_COL).text() == "Radius"
    assert "Radius: low stage confidence (0.30)" in window.warnings.text()


@pytest.mark.skipif(not has_models, reason="no shipped models")
def test_the_onnx_setting_reaches_the_readers_and_is_kept(window, qtbot):
    from bone_age.hand.pipeline import Engine

    seen = []
    window._engine_factory = lambda **kw: (seen.append(kw), Engine(device="cpu", **kw))[1]
    window.onnx_action.trigger()
    assert window.settings.value("runtime") == "auto" and window.runtime_options() == {"runtime": "auto"}
    a = _assessed(window, qtbot, SAMPLE, "female")
    assert seen[-1].get("runtime") == "auto" and a.bone_age_years > 0
    window.onnx_action.trigger()  # off again: torch, the engines loaded afresh
    assert window.settings.value("runtime") == "torch" and window.runtime_options() == {}
    window.state.assessment = None
    window.run_assessment()
    qtbot.waitUntil(lambda: window.state.assessment is not None, timeout=60000)
    assert "runtime" not in seen[-1] and not any(k.endswith("(onnx)") for k in window.state.assessment.model_versions)
