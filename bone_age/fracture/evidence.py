"""Where the whole-film classifier's logit comes from: its logit map, on the film's own pixels."""
from __future__ import annotations

import cv2
import numpy as np

from ..outline import largest_outline
from ..transforms import LetterboxResult
from .results import FractureEvidence

__all__ = ["film_evidence"]


def film_evidence(logit_map: np.ndarray, lb: LetterboxResult, film_hw: tuple[int, int]) -> FractureEvidence:
    """``logit_map`` (cells over the letterboxed square ``lb``) -> the map on the film: a grid of cells spanning the
    film, the peak's film pixel, and the outline of the connected region around the peak where the map reaches half
    the peak (none when the peak is not positive)."""
    size = lb.image.shape[0]
    nh, nw = (max(1, round(n * lb.scale)) for n in film_hw)
    ox, oy = (int(v) for v in lb.offset_xy)
    up = cv2.resize(logit_map.astype(np.float32), (size, size), interpolation=cv2.INTER_LINEAR)[oy:oy + nh, ox:ox + nw]
    rows, cols = (max(1, round(n * c / size)) for n, c in zip((nh, nw), logit_map.shape))
    grid = cv2.resize(up, (cols, rows), interpolation=cv2.INTER_AREA).reshape(rows, cols)
    iy, ix = np.unravel_index(int(np.argmax(up)), up.shape)
    peak = float(up[iy, ix])
    outline: tuple[tuple[float, float], ...] = ()
    if peak > 0:
        _, labels = cv2.connectedComponents((up >= 0.5 * peak).astype(np.uint8))
        xy = lb.to_film(largest_outline(labels == labels[iy, ix]) + np.array([ox + 0.5, oy + 0.5], np.float32))
        outline = tuple((round(float(x), 1), round(float(y), 1)) for x, y in xy)
    px, py = lb.to_film(np.array([ix + ox + 0.5, iy + oy + 0.5], np.float32))
    return FractureEvidence(tuple(tuple(round(float(v), 3) for v in r) for r in grid), (round(float(px), 1), round(float(py), 1)),
                            round(peak, 3), outline)
