"""The optional overlay images of ``bone-age fracture --overlays``."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .._atomic import write_image
from .results import FractureResult

__all__ = ["write_overlay"]

def write_overlay(folder: Path, stem: str, pixels: np.ndarray, r: FractureResult, max_side: int = 1200) -> Path:
    """``<stem>_fracture.png``: the film with boxes and outlines (written atomically), and on a film called
    fractured the classifier's evidence outline (cyan); a film read inverted is drawn as it was read, bone bright."""
    pixels = 1.0 - pixels if r.read_inverted else pixels
    s = min(1.0, max_side / max(pixels.shape))
    img = cv2.cvtColor((cv2.resize(pixels, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) * 255).astype(np.uint8),
                       cv2.COLOR_GRAY2BGR)
    if r.evidence_outline:
        cv2.polylines(img, [np.round(np.array(r.evidence_outline) * s).astype(np.int32)], True, (255, 255, 0), 1)
    for inst in r.instances:
        x1, y1, x2, y2 = (int(round(v * s)) for v in inst.box_xyxy)
        cv2.rectangle(img, (x1, y1), (x2, y2), (0, 0, 255), 2)
        cv2.putText(img, f"{inst.score:.2f}", (x1, max(12, y1 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 255), 1)
        if inst.contour_xy:
            cv2.polylines(img, [np.round(np.array(inst.contour_xy) * s).astype(np.int32)], True, (0, 200, 255), 1)
    return write_image(Path(folder) / f"{stem}_fracture.png", img)
