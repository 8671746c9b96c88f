"""The outline of a binary mask, as the modules report shapes: its largest external contour."""
from __future__ import annotations

import cv2
import numpy as np

__all__ = ["largest_outline"]


def largest_outline(mask: np.ndarray) -> np.ndarray:
    """(N, 2) int32 x, y points of the largest external contour of ``mask`` (non-zero = inside); (0, 2) when empty."""
    contours, _ = cv2.findContours(np.asarray(mask, np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return max(contours, key=cv2.contourArea)[:, 0] if contours else np.zeros((0, 2), np.int32)
