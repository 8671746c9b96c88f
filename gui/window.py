"""The main window: film view with the 13 regions, controls, and the per-bone table with stage overrides."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PyQt6.QtCore import QObject, QPointF, QRectF, Qt, QThread, pyqtSignal
from PyQt6.QtGui import QAction, QBrush, QColor, QIcon, QImage, QPen, QPixmap, QPolygonF
from PyQt6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGraphicsScene,
                             QGraphicsView, QHBoxLayout, QLabel, QMainWindow, QPushButton, QSlider, QSpinBox, QSplitter,
                             QTableWidget, QVBoxLayout, QWidget)

from bone_age import BoneAgeError, load_standard, read_film
from bone_age._resources import assets_dir
from bone_age.hand.results import HANDS
from bone_age.modules import MODULES, module_by_title
from bone_age.overlay import raise_clear
from bone_age.summary import as_text

from .state import ViewerState

BONE_AGE = MODULES["bone_age"].title


def app_icon() -> QIcon:
    """The viewer's icon (``assets/icons/bone-age.svg``, drawn for the project)."""
    return QIcon(str(assets_dir() / "icons" / "bone-age.svg"))


def regions_rect(regions, margin: float = 0.25) -> QRectF:
    """The box around all regions, widened by ``margin`` of its larger side on every side."""
    x1 = min(r.box_xyxy[0] for r in regions)
    y1 = min(r.box_xyxy[1] for r in regions)
    x2 = max(r.box_xyxy[2] for r in regions)
    y2 = max(r.box_xyxy[3] for r in regions)
    pad = margin * max(x2 - x1, y2 - y1)
    return QRectF(x1 - pad, y1 - pad, x2 - x1 + 2 * pad, y2 - y1 + 2 * pad)


class _Worker(QObject):
    """Runs one callable off the GUI thread; the result or the error comes back as a signal."""

    done = pyqtSignal(object)
    failed = pyqtSignal(str)

    def __init__(self, fn: Callable[[], object]):
        super().__init__()
        self.fn = fn

    def run(self) -> None:
        try:
            self.done.emit(self.fn())
        except BoneAgeError as exc:
            self.failed.emit(f"{type(exc).__name__}: {exc.reason}")
        except Exception as exc:  # shown in the status bar rather than lost in a thread
            self.failed.emit(f"{type(exc).__name__}: {exc}")


def _add_labels(scene: QGraphicsScene, labels: list[tuple[str, QColor, tuple[float, float]]], film_width: int) -> None:
    """Each (text, colour, anchor) just above its anchor (scene pixels) on a dark backing, legible over bone, raised
    clear of the labels before it (``overlay.raise_clear``); scaled with the film."""
    scale = max(1.0, film_width / 800)
    items = []
    for text, color, (x, y) in labels:
        item = scene.addText(text)
        item.setDefaultTextColor(color)
        item.setScale(scale)
        item.setPos(x, y - 18 * scale)
        item.setZValue(2)
        items.append(item)
    rects = [item.sceneBoundingRect() for item in items]
    for item, rect, (x, y, w, h) in zip(items, rects, raise_clear([(r.x(), r.y(), r.width(), r.height()) for r in rects])):
        item.moveBy(0, y - rect.y())
        back = scene.addRect(QRectF(x, y, w, h), QPen(Qt.PenStyle.NoPen), QBrush(QColor(0, 0, 0, 160)))
        back.setZValue(1)


class FilmView(QGraphicsView):
    def __init__(self):
        super().__init__()
        self.setScene(QGraphicsScene(self))
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setBackgroundBrush(QBrush(QColor(20, 20, 20)))
        self._fit: QRectF | None = None  # what the view keeps framed on resize, until the user zooms

    def show_film(self, pixels, shapes=(), fit: QRectF | None = None) -> None:
        """Draw the film and the results' shapes; ``fit`` (scene pixels) is brought into view, else the zoom is kept."""
        scene = self.scene()
        scene.clear()
        h, w = pixels.shape
        img = QImage(pixels.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
        scene.addPixmap(QPixmap.fromImage(img))
        labels = []
        for sh in shapes:
            pen = QPen(QColor(*sh.color))
            pen.setWidthF(max(1.0, w / 500))
            if sh.kind == "rect":
                x1, y1, x2, y2 = sh.points
                scene.addRect(QRectF(x1, y1, x2 - x1, y2 - y1), pen)
                anchor = (x1, y1)
            else:
                scene.addPolygon(QPolygonF([QPointF(x, y) for x, y in sh.points]), pen)
                anchor = sh.points[0]
            if sh.label:
                labels.append((sh.label, QColor(*sh.color), anchor))
        _add_labels(scene, labels, w)
        self.setSceneRect(QRectF(0, 0, w, h))
        if fit is not None:
            self._fit = fit
            self.fitInView(fit, Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fit is not None:
            self.fitInView(self._fit, Qt.AspectRatioMode.KeepAspectRatio)

    def wheelEvent(self, event) -> None:  # zoom
        f = 1.15 if event.angleDelta().y() > 0 else 1 / 1.15
        self._fit = None
        self.scale(f, f)


class MainWindow(QMainWindow):
    """The viewer. ``engine_factory(**kwargs)`` makes the bone-age engine (default: the module table's reader); it is
    called with ``polarity=False`` for "Read as stored" and ``gate=False`` for "Skip hand-film check"."""

    BONE_COL, STAGE_COL, POINTS_COL, CONF_COL = range(4)

    def __init__(self, engine_factory: Callable | None = None):
        super().__init__()
        self.setWindowTitle("bone-age — RUS-CHN")
        self.resize(1200, 800)
        self.state = ViewerState()
        self.state.subscribe(self._on_state)
        self._engines: dict[tuple[bool, bool], object] = {}  # by ("read as stored", "skip hand-film check")
        self._engine_factory = engine_factory
        self._fitted_regions = None  # the regions the view last zoomed to
        self._runners: dict[tuple[str, bool], Callable] = {}
        self._threads: list[tuple[QThread, _Worker]] = []
        self.std = load_standard()

        self.view = FilmView()
        self.module = QComboBox()
        self.module.addItems([m.title for m in MODULES.values()])
        self.module.currentTextChanged.connect(self._module_changed)
        self.sex = QComboBox()
        self.sex.addItems(["(from file)", "female", "male"])
        self.sex.currentTextChanged.connect(self._sex_changed)
        self.age = QDoubleSpinBox()
        self.age.setRange(-0.1, 25.0)
        self.age.setDecimals(1)
        self.age.setSpecialValueText("unknown")
        self.age.setValue(-0.1)
        self.age.valueChanged.connect(self._age_changed)
        self.hand = QComboBox()
        self.hand.addItems(HANDS)
        self.hand.setToolTip("The hand read on a film that holds both side by side (RUS-CHN reads the left)")
        self.hand.currentTextChanged.connect(self._hand_changed)
        self.as_stored = QCheckBox("Read as stored")
        self.as_stored.setToolTip("Skip the grey-scale polarity check, which reads a film stored inverted (bone dark) "
                                  "the right way round and says so in the warnings")
        self.no_hand_check = QCheckBox("Skip hand-film check")
        self.no_hand_check.setToolTip("Read a hand film the hand-film check turned away (a very dim or unusual "
                                      "exposure): the localizer alone decides, and the result warns that no check "
                                      "was made")
        self.run_button = QPushButton("Assess")
        self.run_button.clicked.connect(self.run_assessment)
        self.lo, self.hi = QSlider(Qt.Orientation.Horizontal), QSlider(Qt.Orientation.Horizontal)
        for s, v in ((self.lo, 0), (self.hi, 1000)):
            s.setRange(0, 1000)
            s.setValue(v)
            s.sliderReleased.connect(self._window_changed)
        self.table = QTableWidget(len(self.std.bones), 4)
        self.table.setHorizontalHeaderLabels(["Bone", "Stage", "Points", "Conf."])
        self.summary = QLabel("Open a hand film (File > Open).")
        self.summary.setWordWrap(True)
        self.warnings = QLabel("")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("color: #c60")
        form = QFormLayout()
        form.addRow("Module", self.module)
        form.addRow("Sex", self.sex)
        form.addRow("Chronological age (y)", self.age)
        form.addRow("Two hands: read", self.hand)
        form.addRow("Grey scale", self.as_stored)
        form.addRow("Hand film", self.no_hand_check)
        form.addRow("Window low", self.lo)
        form.addRow("Window high", self.hi)
        side = QVBoxLayout()
        side.addLayout(form)
        side.addWidget(self.run_button)
        side.addWidget(self.table, 1)
        side.addWidget(self.summary)
        side.addWidget(self.warnings)
        notice = QLabel("Research use only; stages need a qualified reader's confirmation.")
        notice.setWordWrap(True)
        side.addWidget(notice)
        panel = QWidget()
        panel.setLayout(side)
        split = QSplitter()
        split.addWidget(self.view)
        split.addWidget(panel)
        split.setSizes([800, 400])
        central = QWidget()
        lay = QHBoxLayout(central)
        lay.addWidget(split)
        self.setCentralWidget(central)
        menu = self.menuBar().addMenu("&File")
        for text, slot, key in (("&Open…", self._open_dialog, "Ctrl+O"), ("&Export report…", self._export_dialog, "Ctrl+E"),
                                ("&Quit", self.close, "Ctrl+Q")):
            act = QAction(text, self)
            act.setShortcut(key)
            act.triggered.connect(slot)
            menu.addAction(act)

    # --- actions (each in a worker: the window never waits) ------------------------------------------------
    def open_path(self, path: str | Path) -> None:
        """Read the film in a worker; the state shows it when it is read, the status bar says why when it is not."""
        self.statusBar().showMessage(f"Opening {path}…")
        self._start(lambda: read_film(path), self._opened, lambda msg: self.statusBar().showMessage(f"Cannot open: {msg}"))

    def _opened(self, film) -> None:
        self.state.set_film(film)
        self.statusBar().showMessage(f"Opened {film.meta.source}")

    def run_assessment(self) -> None:
        if self.state.film is None:
            self.statusBar().showMessage("Open a film first.")
            return
        self.run_button.setEnabled(False)
        self.statusBar().showMessage("Assessing…")
        if self.module.currentText() != BONE_AGE:
            title, film, as_stored = self.module.currentText(), self.state.film, self.as_stored.isChecked()
            self._start(lambda: self._runner(title, as_stored).read(film), self._module_done)
            return
        key = (self.as_stored.isChecked(), self.no_hand_check.isChecked())

        def job():
            if key not in self._engines:
                options = {"polarity": False} if key[0] else {}
                options.update({"gate": False} if key[1] else {})
                self._engines[key] = (self._engine_factory or MODULES["bone_age"].reader)(**options)
            return self.state.assess(self._engines[key])

        self._start(job, self._assessed)

    def _assessed(self, result) -> None:
        self.run_button.setEnabled(True)
        self.state.set_assessment(result)
        self.statusBar().showMessage(f"Assessed in {result.timings_ms.get('total', 0):.0f} ms")

    def _runner(self, title: str, as_stored: bool = False):
        """The module's reader, loaded on first use (off the GUI thread) and kept; ``as_stored``: without the polarity
        check, where the module has one."""
        module = module_by_title(title)
        key = (module.name, as_stored and module.checks_polarity)
        if key not in self._runners:
            self._runners[key] = module.load(as_stored=as_stored)
        return self._runners[key]

    def _module_done(self, result) -> None:
        self.run_button.setEnabled(True)
        self.state.set_module_result(result)
        self.statusBar().showMessage(f"{self.module.currentText()}: done")

    def _module_changed(self, title: str) -> None:
        bone_age = title == BONE_AGE
        for w in (self.sex, self.age, self.table, self.no_hand_check):
            w.setEnabled(bone_age)
        self.run_button.setText("Assess" if bone_age else f"Run {title.lower()}")
        if self.state.film is not None:
            self.state.set_module_result(None)

    def _failed(self, message: str) -> None:
        self.run_button.setEnabled(True)
        self.statusBar().showMessage(message)

    def _start(self, fn, on_done, on_failed=None) -> None:
        thread, worker = QThread(self), _Worker(fn)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.done.connect(on_done)
        worker.failed.connect(on_failed or self._failed)
        for sig in (worker.done, worker.failed):
            sig.connect(thread.quit)
        thread.finished.connect(lambda: self._threads.remove((thread, worker)))
        self._threads.append((thread, worker))
        thread.start()

    def export_report(self, path: str | Path) -> None:
        """Write the PDF (or, for a .png path, the annotated film) in a worker; the status bar says where."""
        from bone_age.hand.report import write_pdf, write_png

        path, film, a = Path(path), self.state.film, self.state.assessment
        png = path.suffix.lower() == ".png"
        self.statusBar().showMessage(f"Writing {path}…")
        self._start(lambda: write_png(path, film, a) if png else write_pdf(path.with_suffix(".pdf"), film, a),
                    lambda written: self.statusBar().showMessage(f"Wrote {written}"))

    def _open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open film", "", "Films (*.dcm *.dicom *.png *.jpg *.jpeg *.tif *.tiff);;All files (*)")
        if path:
            self.open_path(path)

    def _export_dialog(self) -> None:
        if self.state.assessment is None:
            self.statusBar().showMessage("Nothing to export: assess a hand film first (reports cover bone age).")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export report", "report.pdf", "PDF (*.pdf);;PNG (*.png)")
        if path:
            self.export_report(path)

    # --- state -> widgets ------------------------------------------------------------------------------
    def _sex_changed(self, text: str) -> None:
        self.state.sex = None if text.startswith("(") else text

    def _hand_changed(self, text: str) -> None:
        self.state.hand = text

    def _age_changed(self, value: float) -> None:
        self.state.chronological_age = None if value < 0 else value

    def _window_changed(self) -> None:
        if self.state.film is not None:
            self.state.set_window(self.lo.value() / 1000, self.hi.value() / 1000)

    def _on_state(self, what: str) -> None:
        if what == "film":
            meta = self.state.film.meta
            if meta.patient_sex:
                self.sex.setCurrentText(meta.patient_sex)
            self.age.setValue(meta.patient_age_years if meta.patient_age_years is not None else -0.1)
            lo, hi = self.state.window
            self.lo.setValue(int(lo * 1000))
            self.hi.setValue(int(hi * 1000))
            self.table.clearContents()
            self.summary.setText(f"{Path(meta.source).name}: {meta.width_px} x {meta.height_px} px. Press Assess.")
            self.warnings.setText("")
        self._redraw(what)
        if what == "assessment":
            self._fill_table()
        if what == "module" and self.state.module_result is not None:
            self.summary.setText("\n".join(as_text(self.state.module_result.summary_lines())))
            self.warnings.setText("")

    def _redraw(self, what: str = "") -> None:
        if self.state.film is None:
            return
        a = self.state.assessment if self.module.currentText() == BONE_AGE else None
        shapes = [*(a.shapes() if a else ()), *(self.state.module_result.shapes() if self.state.module_result else ())]
        image = self.state.display_image()
        fit = None
        if what == "film":
            fit = QRectF(0, 0, image.shape[1], image.shape[0])
        elif a is not None and a.regions is not self._fitted_regions:  # a new reading: zoom to the hand once
            fit = regions_rect(a.regions)
            self._fitted_regions = a.regions
        self.view.show_film(image, shapes, fit)

    def _fill_table(self) -> None:
        a = self.state.assessment
        if a is None:
            return
        for row, s in enumerate(a.stages):
            self.table.setCellWidget(row, self.BONE_COL, QLabel(s.bone + (" *" if s.overridden else "")))
            spin = QSpinBox()
            spin.setRange(1, self.std.n_stages(s.bone))
            spin.setValue(s.stage)
            spin.valueChanged.connect(lambda v, bone=s.bone: self.state.override(bone, v))
            self.table.setCellWidget(row, self.STAGE_COL, spin)
            self.table.setCellWidget(row, self.POINTS_COL, QLabel(str(s.points)))
            self.table.setCellWidget(row, self.CONF_COL, QLabel(f"{s.confidence:.2f}"))
        self.summary.setText("\n".join([f"Read as {a.sex}, {a.hand_side} hand"] + as_text(a.summary_lines())))
        self.warnings.setText("\n".join(a.warnings))
