"""Review mode's panel: the bone in focus as the classifier saw it and around it, its stage probabilities, and the
readers' own examples of the neighbouring stages from the label store."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PyQt6.QtCore import QCoreApplication, QRectF, Qt
from PyQt6.QtGui import QColor, QImage, QPainter, QPixmap
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from bone_age.hand.labels import CONTEXT_FACTOR
from bone_age.hand.regions import crop_region
from bone_age.hand.results import BoneStage, Region

__all__ = ["ReviewPanel", "StageBars", "gray_pixmap"]


def _t(text: str) -> str:
    return QCoreApplication.translate("bone_age", text)


def gray_pixmap(pixels: np.ndarray, side: int) -> QPixmap:
    """A [0, 1] gray image as a pixmap scaled to ``side`` pixels."""
    img = np.ascontiguousarray((np.clip(pixels, 0, 1) * 255).astype(np.uint8))
    h, w = img.shape
    q = QImage(img.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(q).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                        Qt.TransformationMode.SmoothTransformation)


class StageBars(QWidget):
    """The model's probability over the stages of the bone's category: the stage it read outlined, the stage now set
    filled darker."""

    def __init__(self):
        super().__init__()
        self.setMinimumHeight(90)
        self.probabilities: tuple[float, ...] = ()
        self.read, self.stage = 0, 0

    def show_stage(self, probabilities: tuple[float, ...], read: int, stage: int) -> None:
        self.probabilities, self.read, self.stage = probabilities, read, stage
        self.update()

    def paintEvent(self, event) -> None:
        if not self.probabilities:
            return
        p = QPainter(self)
        n, w, h = len(self.probabilities), self.width(), self.height() - 14
        bw = w / n
        top = max(self.probabilities) or 1.0
        for k, v in enumerate(self.probabilities, 1):
            bar = QRectF((k - 1) * bw + 2, h - v / top * (h - 4), bw - 4, v / top * (h - 4))
            p.fillRect(bar, QColor(60, 120, 200) if k == self.stage else QColor(150, 180, 220))
            if k == self.read:
                p.setPen(QColor(0, 140, 0))
                p.drawRect(bar.adjusted(-1, -1, 1, 1))
            p.setPen(QColor(40, 40, 40))
            p.drawText(QRectF((k - 1) * bw, h, bw, 14), Qt.AlignmentFlag.AlignCenter, str(k))
        p.end()


class ReviewPanel(QWidget):
    """Shows one bone under review; ``show_bone`` fills it, the window drives it from the keyboard."""

    CROP_PX, CONTEXT_PX, EXAMPLE_PX = 160, 160, 72

    def __init__(self):
        super().__init__()
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold")
        self.crop, self.context = QLabel(), QLabel()
        self.crop_caption, self.context_caption = QLabel(), QLabel()
        self.bars = StageBars()
        self.bars_caption = QLabel()
        self.examples_caption = QLabel()
        self.examples = QHBoxLayout()
        self.progress = QLabel()
        self.keys = QLabel()
        self.keys.setWordWrap(True)
        self.keys.setStyleSheet("color: #666")
        self.confirm_button, self.next_unsure_button = QPushButton(), QPushButton()
        images = QHBoxLayout()
        for caption, image in ((self.crop_caption, self.crop), (self.context_caption, self.context)):
            col = QVBoxLayout()
            col.addWidget(caption)
            col.addWidget(image)
            images.addLayout(col)
        buttons = QHBoxLayout()
        buttons.addWidget(self.confirm_button)
        buttons.addWidget(self.next_unsure_button)
        lay = QVBoxLayout(self)
        for w in (self.title, self.progress):
            lay.addWidget(w)
        lay.addLayout(images)
        lay.addWidget(self.bars_caption)
        lay.addWidget(self.bars)
        lay.addWidget(self.examples_caption)
        lay.addLayout(self.examples)
        lay.addLayout(buttons)
        lay.addWidget(self.keys)
        lay.addStretch(1)
        self.retranslate()

    def retranslate(self) -> None:
        self.crop_caption.setText(_t("As the classifier saw it"))
        self.context_caption.setText(_t("Around it"))
        self.bars_caption.setText(_t("Stage probabilities"))
        self.confirm_button.setText(_t("Confirm"))
        self.next_unsure_button.setText(_t("Next unsure bone"))
        self.keys.setText(_t("Keys: Up/Down or Tab between bones, digits or +/- to set the stage, Enter to confirm, "
                             "N for the next unsure bone"))

    def show_bone(self, pixels: np.ndarray, region: Region, stage: BoneStage, read: int, hand_side: str,
                  crop_size: int, status: str, done: int, total: int, examples: dict[int, list[Path]],
                  translate=lambda s: s) -> None:
        """Fill the panel for ``stage`` (its region on ``pixels``, bone bright); ``read``: the model's stage;
        ``examples``: the readers' context crops of neighbouring stages."""
        from dataclasses import replace

        mirror = hand_side == "right"
        self.title.setText(f"{translate(stage.bone)}: {_t('Stage')} {stage.stage} ({_t(status)})")
        self.progress.setText(_t("Reviewed {n} of 13 bones").format(n=done))
        self.crop.setPixmap(gray_pixmap(crop_region(pixels, region, crop_size, mirror), self.CROP_PX))
        wide = replace(region, crop_side_px=region.crop_side_px * CONTEXT_FACTOR)
        self.context.setPixmap(gray_pixmap(crop_region(pixels, wide, 240, mirror), self.CONTEXT_PX))
        self.bars.show_stage(stage.probabilities, read, stage.stage)
        while self.examples.count():
            item = self.examples.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        shown = [(k, p) for k in sorted(examples) for p in examples[k]]
        if shown:
            a, b = min(examples), max(examples)
            self.examples_caption.setText(_t("Reader's examples of stages {a} and {b}").format(a=a, b=b))
            for k, path in shown:
                img = QImage(str(path))
                label = QLabel()
                label.setPixmap(QPixmap.fromImage(img).scaled(self.EXAMPLE_PX, self.EXAMPLE_PX,
                                                              Qt.AspectRatioMode.KeepAspectRatio))
                label.setToolTip(f"{_t('Stage')} {k}")
                self.examples.addWidget(label)
        else:
            self.examples_caption.setText(_t("No confirmed examples of the neighbouring stages yet"))
        self.examples.addStretch(1)
