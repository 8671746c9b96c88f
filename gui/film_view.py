"""The film with the results' shapes over it: zoom by wheel, drag to pan, labels kept legible and apart."""
from __future__ import annotations

from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QBrush, QColor, QImage, QPen, QPixmap, QPolygonF
from PyQt6.QtWidgets import QGraphicsScene, QGraphicsView

from bone_age.overlay import raise_clear

__all__ = ["FilmView", "regions_rect"]


def regions_rect(regions, margin: float = 0.25) -> QRectF:
    """The box around all regions, widened by ``margin`` of its larger side on every side."""
    x1 = min(r.box_xyxy[0] for r in regions)
    y1 = min(r.box_xyxy[1] for r in regions)
    x2 = max(r.box_xyxy[2] for r in regions)
    y2 = max(r.box_xyxy[3] for r in regions)
    pad = margin * max(x2 - x1, y2 - y1)
    return QRectF(x1 - pad, y1 - pad, x2 - x1 + 2 * pad, y2 - y1 + 2 * pad)


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
