"""The main window: the film with the results drawn over it, the controls, the per-bone table whose stages the reader
can set, review mode, and the settings (label store, reader, stage model, language)."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from PyQt6.QtCore import QCoreApplication, QEvent, QObject, QRectF, QSettings, Qt, QThread, QTranslator
from PyQt6.QtGui import QAction, QActionGroup, QIcon
from PyQt6.QtWidgets import (QApplication, QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout,
                             QInputDialog, QLabel, QMainWindow, QPushButton, QSlider, QSpinBox, QSplitter, QTableWidget,
                             QVBoxLayout, QWidget)

from bone_age import load_standard, read_film
from bone_age._resources import assets_dir
from bone_age.hand.labels import LabelStore, labels_dir
from bone_age.hand.results import HANDS
from bone_age.i18n import LANGUAGES, catalogue_path, system_language, translator
from bone_age.modules import MODULES
from bone_age.results import Shape
from bone_age.summary import as_text

from .film_view import FilmView, regions_rect
from .review import ReviewPanel
from .state import Review, ViewerState
from .workers import Worker

__all__ = ["MainWindow", "app_icon", "regions_rect"]

FOCUS_COLOR = (255, 230, 0)


def _t(text: str) -> str:
    return QCoreApplication.translate("bone_age", text)


def app_icon() -> QIcon:
    """The viewer's icon (``assets/icons/bone-age.svg``, drawn for the project)."""
    return QIcon(str(assets_dir() / "icons" / "bone-age.svg"))


class MainWindow(QMainWindow):
    """The viewer. ``engine_factory(**kwargs)`` makes the bone-age engine (default: the module table's reader); it is
    called with ``polarity=False`` for "Read as stored", ``gate=False`` for "Skip hand-film check" and ``stages=NAME``
    when a stage model is chosen in the settings."""

    BONE_COL, STAGE_COL, POINTS_COL, CONF_COL = range(4)
    REVIEW_KEYS = {Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Tab, Qt.Key.Key_Backtab, Qt.Key.Key_Plus,
                   Qt.Key.Key_Minus, Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_N, Qt.Key.Key_Escape}

    def __init__(self, engine_factory: Callable | None = None):
        super().__init__()
        self.resize(1200, 800)
        self.settings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "bone-age", "viewer")
        self.state = ViewerState()
        self.state.subscribe(self._on_state)
        self._engines: dict[tuple[bool, bool], object] = {}  # by ("read as stored", "skip hand-film check")
        self._engine_factory = engine_factory
        self._fitted_regions = None  # the regions the view last zoomed to
        self._runners: dict[tuple[str, bool], Callable] = {}
        self._threads: list[tuple[QThread, Worker]] = []
        self._translator: QTranslator | None = None
        self.language = "en"
        self.review: Review | None = None
        self._digits = ("", 0.0)  # stage digits typed in review mode, and when
        self.std = load_standard()

        self.view = FilmView()
        self.module = QComboBox()
        for m in MODULES.values():
            self.module.addItem(m.title, m.name)
        self.module.currentIndexChanged.connect(self._module_changed)
        self.sex = QComboBox()
        for value in (None, "female", "male"):
            self.sex.addItem("", value)
        self.sex.currentIndexChanged.connect(lambda _: setattr(self.state, "sex", self.sex.currentData()))
        self.age = QDoubleSpinBox()
        self.age.setRange(-0.1, 25.0)
        self.age.setDecimals(1)
        self.age.setValue(-0.1)
        self.age.valueChanged.connect(lambda v: setattr(self.state, "chronological_age", None if v < 0 else v))
        self.hand = QComboBox()
        for h in HANDS:
            self.hand.addItem("", h)
        self.hand.currentIndexChanged.connect(lambda _: setattr(self.state, "hand", self.hand.currentData()))
        self.as_stored, self.no_hand_check = QCheckBox(), QCheckBox()
        self.run_button, self.review_button = QPushButton(), QPushButton()
        self.run_button.clicked.connect(self.run_assessment)
        self.review_button.clicked.connect(self.start_review)
        self.review_button.setShortcut("Ctrl+R")
        self.review_button.setEnabled(False)
        self.lo, self.hi = QSlider(Qt.Orientation.Horizontal), QSlider(Qt.Orientation.Horizontal)
        for s, v in ((self.lo, 0), (self.hi, 1000)):
            s.setRange(0, 1000)
            s.setValue(v)
            s.sliderReleased.connect(self._window_changed)
        self.table = QTableWidget(len(self.std.bones), 4)
        self.summary, self.warnings, self.notice = QLabel(), QLabel(), QLabel()
        for label in (self.summary, self.warnings, self.notice):
            label.setWordWrap(True)
        self.warnings.setStyleSheet("color: #c60")
        self.review_panel = ReviewPanel()
        self.review_panel.hide()
        self.review_panel.confirm_button.clicked.connect(self.confirm_bone)
        self.review_panel.next_unsure_button.clicked.connect(self.next_unsure_bone)
        self.form = QFormLayout()
        self._rows = ["Module", "Sex", "Chronological age (y)", "Two hands: read", "Grey scale", "Hand film",
                      "Window low", "Window high"]
        for text, w in zip(self._rows, (self.module, self.sex, self.age, self.hand, self.as_stored, self.no_hand_check,
                                        self.lo, self.hi)):
            self.form.addRow(text, w)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.review_button)
        side = QVBoxLayout()
        side.addLayout(self.form)
        side.addLayout(buttons)
        for w, stretch in ((self.table, 1), (self.summary, 0), (self.warnings, 0), (self.notice, 0)):
            side.addWidget(w, stretch)
        panel = QWidget()
        panel.setLayout(side)
        split = QSplitter()
        for w in (self.view, panel, self.review_panel):
            split.addWidget(w)
        split.setSizes([800, 400, 330])
        central = QWidget()
        QHBoxLayout(central).addWidget(split)
        self.setCentralWidget(central)
        self._build_menus()
        self.set_language(self.settings.value("language", system_language()))

    # --- menus, settings and language --------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu, self.settings_menu, self.language_menu = bar.addMenu(""), bar.addMenu(""), bar.addMenu("")
        self._actions: list[tuple[QAction, str]] = []
        for menu, items in ((self.file_menu, (("&Open…", self._open_dialog, "Ctrl+O"),
                                              ("&Export report…", self._export_dialog, "Ctrl+E"),
                                              ("&Quit", self.close, "Ctrl+Q"))),
                            (self.settings_menu, (("Label store folder…", self._choose_store, None),
                                                  ("Reader name…", self._choose_reader, None),
                                                  ("Stage model…", self._choose_stages, None)))):
            for text, slot, key in items:
                act = QAction(self)
                if key:
                    act.setShortcut(key)
                act.triggered.connect(slot)
                menu.addAction(act)
                self._actions.append((act, text))
        self.onnx_action = QAction(self, checkable=True)  # ONNX Runtime where `bone-age export onnx` made an export
        self.onnx_action.setChecked(self.settings.value("runtime", "torch") == "auto")
        self.onnx_action.toggled.connect(self._set_runtime)
        self.settings_menu.addAction(self.onnx_action)
        self._actions.append((self.onnx_action, "Use ONNX Runtime where exported"))
        group = QActionGroup(self)
        for lang, name in LANGUAGES.items():
            act = QAction(name, self, checkable=True)
            act.setData(lang)
            act.triggered.connect(lambda _, lang=lang: self.set_language(lang))
            group.addAction(act)
            self.language_menu.addAction(act)

    def set_language(self, lang: str) -> None:
        """Show the viewer, the results and the warnings in ``lang`` ('en' or 'zh_CN'), through Qt's translator."""
        lang = lang if lang in LANGUAGES else "en"
        app = QApplication.instance()
        if self._translator is not None:
            app.removeTranslator(self._translator)
            self._translator = None
        if lang != "en":
            tr = QTranslator(self)
            if not tr.load(str(catalogue_path(lang, ".qm"))):
                raise FileNotFoundError(f"the {lang} translation is missing: {catalogue_path(lang, '.qm')}")
            app.installTranslator(tr)
            self._translator = tr
        self.language = lang
        self.settings.setValue("language", lang)
        for act in self.language_menu.actions():
            act.setChecked(act.data() == lang)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle("bone-age — RUS-CHN")
        for menu, text in ((self.file_menu, "&File"), (self.settings_menu, "&Settings"),
                           (self.language_menu, "&Language")):
            menu.setTitle(_t(text))
        for act, text in self._actions:
            act.setText(_t(text))
        for i, text in enumerate(self._rows):
            self.form.labelForField(self.form.itemAt(i, QFormLayout.ItemRole.FieldRole).widget()).setText(_t(text))
        for i, m in enumerate(MODULES.values()):
            self.module.setItemText(i, _t(m.title))
        for i, text in enumerate(("(from file)", "female", "male")):
            self.sex.setItemText(i, _t(text))
        for i, h in enumerate(HANDS):
            self.hand.setItemText(i, _t(h))
        self.hand.setToolTip("The hand read on a film that holds both side by side (RUS-CHN reads the left)")
        self.age.setSpecialValueText(_t("unknown"))
        self.as_stored.setText(_t("Read as stored"))
        self.as_stored.setToolTip("Skip the grey-scale polarity check, which reads a film stored inverted (bone dark) "
                                  "the right way round and says so in the warnings")
        self.no_hand_check.setText(_t("Skip hand-film check"))
        self.no_hand_check.setToolTip("Read a hand film the hand-film check turned away (a very dim or unusual "
                                      "exposure): the localizer alone decides, and the result warns that no check "
                                      "was made")
        self.review_button.setText(_t("Review bones"))
        self.table.setHorizontalHeaderLabels([_t(x) for x in ("Bone", "Stage", "Points", "Conf.")])
        self.notice.setText(_t("Research use only; stages need a qualified reader's confirmation."))
        self.review_panel.retranslate()
        self._module_controls()
        if self.state.assessment is not None:
            self._fill_table()
        elif self.state.module_result is not None:
            self._on_state("module")
        elif self.state.film is None:
            self.summary.setText(_t("Open a hand film (File > Open)."))
        if self.review is not None:
            self._show_review()

    def label_store(self) -> LabelStore:
        crop = getattr(next(iter(self._engines.values()), None), "classifier", None)
        return LabelStore(self.settings.value("labels_dir", str(labels_dir())), crop.crop_size if crop else 80)

    def _choose_store(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, _t("Label store folder…"), str(self.label_store().root))
        if folder:
            self.settings.setValue("labels_dir", folder)

    def _choose_reader(self) -> None:
        name, ok = QInputDialog.getText(self, _t("Reader name…"), _t("Reader name…"), text=self.reader_name())
        if ok and name.strip():
            self.settings.setValue("reader", name.strip())

    def _choose_stages(self) -> None:
        from bone_age import list_models

        names = list_models("stages")
        name, ok = QInputDialog.getItem(self, _t("Stage model…"), _t("Stage model…"), names, 0, False)
        if ok:
            self.settings.setValue("stages", name)
            self._engines.clear()

    def _set_runtime(self, onnx: bool) -> None:
        self.settings.setValue("runtime", "auto" if onnx else "torch")
        self._engines.clear()
        self._runners.clear()

    def runtime_options(self) -> dict:
        """The readers' runtime: {} for torch, or 'auto' (ONNX Runtime where an export of the weights is found)."""
        return {"runtime": "auto"} if self.settings.value("runtime", "torch") == "auto" else {}

    def reader_name(self) -> str:
        import getpass

        return str(self.settings.value("reader", getpass.getuser() or "reader"))

    # --- actions (each in a worker: the window never waits) ------------------------------------------------------
    def open_path(self, path: str | Path) -> None:
        """Read the film in a worker; the state shows it when it is read, the status bar says why when it is not."""
        self.statusBar().showMessage(_t("Opening {path}…").format(path=path))
        self._start(lambda: read_film(path), self._opened,
                    lambda msg: self.statusBar().showMessage(_t("Cannot open: {reason}").format(reason=msg)))

    def _opened(self, film) -> None:
        self.end_review()
        self.state.set_film(film)
        self.statusBar().showMessage(_t("Opened {path}").format(path=film.meta.source))

    def run_assessment(self) -> None:
        if self.state.film is None:
            self.statusBar().showMessage(_t("Open a film first."))
            return
        self.end_review()
        self.run_button.setEnabled(False)
        self.statusBar().showMessage(_t("Assessing…"))
        if self.module.currentData() != "bone_age":
            name, film, as_stored = self.module.currentData(), self.state.film, self.as_stored.isChecked()
            self._start(lambda: self._runner(name, as_stored).read(film), self._module_done)
            return
        key = (self.as_stored.isChecked(), self.no_hand_check.isChecked())
        stages = self.settings.value("stages") or None
        runtime = self.runtime_options()

        def job():
            if key not in self._engines:
                options = {"polarity": False} if key[0] else {}
                options.update({"gate": False} if key[1] else {})
                options.update({"stages": stages} if stages else {})
                options.update(runtime)
                self._engines[key] = (self._engine_factory or MODULES["bone_age"].reader)(**options)
            return self.state.assess(self._engines[key])

        self._start(job, self._assessed)

    def _assessed(self, result) -> None:
        self.run_button.setEnabled(True)
        self.state.set_assessment(result)
        self.statusBar().showMessage(_t("Assessed in {ms} ms").format(ms=f"{result.timings_ms.get('total', 0):.0f}"))

    def _runner(self, name: str, as_stored: bool = False):
        """The module's reader, loaded on first use (off the GUI thread) and kept; ``as_stored``: without the polarity
        check, where the module has one."""
        module = MODULES[name]
        key = (module.name, as_stored and module.checks_polarity)
        if key not in self._runners:
            self._runners[key] = module.load(as_stored=as_stored, **self.runtime_options())
        return self._runners[key]

    def _module_done(self, result) -> None:
        self.run_button.setEnabled(True)
        self.state.set_module_result(result)
        self.statusBar().showMessage(f"{self.module.currentText()}: done")

    def _module_changed(self, *_) -> None:
        self._module_controls()
        if self.state.film is not None:
            self.state.set_module_result(None)

    def _module_controls(self) -> None:
        bone_age = self.module.currentData() == "bone_age"
        for w in (self.sex, self.age, self.table, self.no_hand_check):
            w.setEnabled(bone_age)
        self.review_button.setEnabled(bone_age and self.state.assessment is not None)
        self.run_button.setText(_t("Assess") if bone_age else
                                _t("Run {module}").format(module=self.module.currentText().lower()))

    def _failed(self, message: str) -> None:
        self.run_button.setEnabled(True)
        self.statusBar().showMessage(message)

    def _start(self, fn, on_done, on_failed=None) -> None:
        thread, worker = QThread(self), Worker(fn)
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
        """Write the PDF (or, for a .png path, the annotated film) in a worker, in the viewer's language, with this
        patient's earlier readings from the label store; the status bar says where."""
        from bone_age.hand.labels import earlier_readings
        from bone_age.hand.report import write_pdf, write_png

        path, film, a, lang, store = Path(path), self.state.film, self.state.assessment, self.language, self.label_store()
        png = path.suffix.lower() == ".png"
        self.statusBar().showMessage(_t("Writing {path}…").format(path=path))
        self._start(lambda: write_png(path, film, a) if png else
                    write_pdf(path.with_suffix(".pdf"), film, a, lang, earlier_readings(store, a, film)),
                    lambda written: self.statusBar().showMessage(_t("Wrote {path}").format(path=written)))

    def _open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open film", "", "Films (*.dcm *.dicom *.png *.jpg *.jpeg *.tif *.tiff);;All files (*)")
        if path:
            self.open_path(path)

    def _export_dialog(self) -> None:
        if self.state.assessment is None:
            self.statusBar().showMessage(_t("Nothing to export: assess a hand film first (reports cover bone age)."))
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export report", "report.pdf", "PDF (*.pdf);;PNG (*.png)")
        if path:
            self.export_report(path)

    # --- review mode -------------------------------------------------------------------------------------------------
    def start_review(self) -> None:
        """Step bone by bone through the reading (keyboard, see the panel); a film is stored in the label store when
        all 13 bones are confirmed or set."""
        a = self.state.assessment
        if a is None:
            return
        self.review = Review.of(a)
        self.review_panel.show()
        QApplication.instance().installEventFilter(self)
        self._show_review()

    def end_review(self) -> None:
        if self.review is not None:
            QApplication.instance().removeEventFilter(self)
            self.review = None
            self.review_panel.hide()
            self._redraw()

    def set_review_stage(self, stage: int) -> None:
        """The reader's stage for the bone in focus (the total and bone age follow)."""
        bone = self.review.bone
        stage = max(1, min(self.std.n_stages(bone), stage))
        current = next(s for s in self.state.assessment.stages if s.bone == bone)
        if stage != current.stage:
            self.state.override(bone, stage)
        self._show_review()

    def confirm_bone(self) -> None:
        if self.review is None:
            return
        self.review.confirm()
        if self.review.complete:
            self._store_review()
        self._show_review()

    def next_unsure_bone(self) -> None:
        if self.review is not None and self.review.next_unsure():
            self._show_review()

    def _store_review(self) -> None:
        store, film, a, review = self.label_store(), self.state.film, self.state.assessment, self.review
        reader = self.reader_name()
        self._start(lambda: store.save_review(film, a, reader, review.done, review.model_stages),
                    lambda saved: self.statusBar().showMessage(_t("Film reviewed: stored in {path}").format(path=store.root)),
                    lambda msg: self.statusBar().showMessage(_t("Cannot store the labels: {reason}").format(reason=msg)))

    def _show_review(self) -> None:
        a, r = self.state.assessment, self.review
        i = r.focus
        stage = a.stages[i]
        pixels = 1.0 - self.state.film.pixels if a.read_inverted else self.state.film.pixels
        try:
            store = self.label_store()
            examples = {k: store.examples(stage.category, k, 2) for k in (stage.stage - 1, stage.stage + 1)
                        if 1 <= k <= self.std.n_stages(stage.bone)}
            examples = {k: v for k, v in examples.items() if v}
        except Exception:  # a store that cannot be read shows no examples; saving says why
            examples = {}
        crop = self.label_store().crop_size
        self.review_panel.show_bone(pixels, a.regions[i], stage, r.model_stages[stage.bone], a.hand_side, crop,
                                    r.status(stage.bone, stage.stage), len(r.done), len(r.bones), examples,
                                    translator(self.language))
        self.table.selectRow(i)
        self._redraw()

    def keyPressEvent(self, event) -> None:
        """Ctrl+R starts review mode (also the button's shortcut, where the window is active)."""
        if event.key() == Qt.Key.Key_R and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.start_review()
            return
        super().keyPressEvent(event)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if self.review is None or event.type() != QEvent.Type.KeyPress:
            return False
        if not (obj is self or (isinstance(obj, QWidget) and self.isAncestorOf(obj))):
            return False
        key, text = event.key(), event.text()
        if text.isdigit():
            typed, when = self._digits
            now = time.monotonic()
            combined = typed + text if now - when < 1.0 else text
            if int(combined) > self.std.n_stages(self.review.bone):
                combined = text
            self._digits = (combined, now)
            if int(combined) > 0:
                self.set_review_stage(int(combined))
            return True
        if key not in self.REVIEW_KEYS:
            return False
        if key in (Qt.Key.Key_Down, Qt.Key.Key_Tab):
            self.review.move(1)
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_Backtab):
            self.review.move(-1)
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Minus):
            current = self.state.assessment.stages[self.review.focus].stage
            self.set_review_stage(current + (1 if key == Qt.Key.Key_Plus else -1))
            return True
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.confirm_bone()
            return True
        elif key == Qt.Key.Key_N:
            self.next_unsure_bone()
            return True
        elif key == Qt.Key.Key_Escape:
            self.end_review()
            return True
        self._show_review()
        return True

    # --- state -> widgets --------------------------------------------------------------------------------------------
    def _window_changed(self) -> None:
        if self.state.film is not None:
            self.state.set_window(self.lo.value() / 1000, self.hi.value() / 1000)

    def _on_state(self, what: str) -> None:
        if what == "film":
            meta = self.state.film.meta
            if meta.patient_sex:
                self.sex.setCurrentIndex(self.sex.findData(meta.patient_sex))
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
        self.review_button.setEnabled(self.module.currentData() == "bone_age" and self.state.assessment is not None)
        if what == "module" and self.state.module_result is not None:
            tr = translator(self.language)
            self.summary.setText("\n".join(as_text(self.state.module_result.summary_lines(), tr)))
            self.warnings.setText("")

    def _redraw(self, what: str = "") -> None:
        if self.state.film is None:
            return
        a = self.state.assessment if self.module.currentData() == "bone_age" else None
        shapes = [*(a.shapes() if a else ()), *(self.state.module_result.shapes() if self.state.module_result else ())]
        if a is not None and self.review is not None:
            x1, y1, x2, y2 = a.regions[self.review.focus].box_xyxy
            pad = 0.12 * max(x2 - x1, y2 - y1)
            shapes.append(Shape("rect", (x1 - pad, y1 - pad, x2 + pad, y2 + pad), FOCUS_COLOR))
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
        tr = translator(self.language)
        for row, s in enumerate(a.stages):
            self.table.setCellWidget(row, self.BONE_COL, QLabel(tr(s.bone) + (" *" if s.overridden else "")))
            spin = QSpinBox()
            spin.setRange(1, self.std.n_stages(s.bone))
            spin.setValue(s.stage)
            spin.valueChanged.connect(lambda v, bone=s.bone: self.state.override(bone, v))
            self.table.setCellWidget(row, self.STAGE_COL, spin)
            self.table.setCellWidget(row, self.POINTS_COL, QLabel(str(s.points)))
            self.table.setCellWidget(row, self.CONF_COL, QLabel(f"{s.confidence:.2f}"))
        read_as = _t("Read as {sex}, {hand} hand").format(sex=tr(a.sex), hand=tr(a.hand_side))
        self.summary.setText("\n".join([read_as] + as_text(a.summary_lines(), tr)))
        self.warnings.setText("\n".join(tr(w) for w in a.warnings))
