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
SAMPLE = REPO / "assets" / "samples" / "IMG0000035.jpg"
has_models = bool(list_models("localizer") and list_models("stages"))


@pytest.fixture
def window(qtbot):
    from gui.window import MainWindow

    w = MainWindow(engine_factory=lambda: __import__("bone_age.pipeline", fromlist=["Engine"]).Engine(device="cpu"))
    qtbot.addWidget(w)
    return w


def test_open_bad_file_shows_message(window, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"nothing")
    assert not window.open_path(bad)
    assert "Cannot open" in window.statusBar().currentMessage()


def test_assess_without_film(window):
    window.run_assessment()
    assert "Open a film first" in window.statusBar().currentMessage()


def test_window_level_changes_display(window):
    assert window.open_path(SAMPLE)
    before = window.state.display_image().astype(int).sum()
    window.state.set_window(0.0, 0.3)
    assert window.state.display_image().astype(int).sum() > before


@pytest.mark.skipif(not has_models, reason="no shipped models")
def test_assess_override_and_export(window, qtbot, tmp_path):
    assert window.open_path(SAMPLE)
    window.sex.setCurrentText("male")
    window.run_assessment()
    qtbot.waitUntil(lambda: window.state.assessment is not None, timeout=60000)
    a = window.state.assessment
    assert "Bone age (RUS-CHN)" in window.summary.text()
    spin = window.table.cellWidget(0, window.STAGE_COL)
    new_stage = 1 if a.stages[0].stage != 1 else 2
    spin.setValue(new_stage)
    b = window.state.assessment
    assert b.stages[0].stage == new_stage and b.stages[0].overridden and b.total_score != a.total_score
    assert str(b.total_score) in window.summary.text()
    assert window.export_report(tmp_path / "r.pdf").read_bytes()[:5] == b"%PDF-"
    shot = window.grab().toImage()
    assert shot.width() > 0 and np.isfinite(b.bone_age_years)
