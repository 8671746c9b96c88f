"""Deterministic preprocessing shared by inference, training and the viewer."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .card import Normalization

__all__ = ["NORM", "Letterbox", "LetterboxResult", "to_model_input", "crop_rotated", "warp_affine_area", "whole_film", "dihedral",
           "undo_dihedral", "sigmoid"]


NORM = Normalization(mean=0.5, std=0.25)  # what training writes into every card


@dataclass(frozen=True)
class LetterboxResult:
    """A square image and the map back: film_xy = (model_xy - offset) / scale."""

    image: np.ndarray
    scale: float
    offset_xy: tuple[float, float]

    def to_film(self, xy: np.ndarray) -> np.ndarray:
        return (np.asarray(xy, dtype=np.float32) - np.asarray(self.offset_xy, np.float32)) / self.scale


class Letterbox:
    """Resize the long side to ``size`` (aspect kept) and centre on a black square."""

    def __init__(self, size: int):
        self.size = size

    def __call__(self, pixels: np.ndarray) -> LetterboxResult:
        h, w = pixels.shape[:2]
        scale = self.size / max(h, w)
        nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        resized = cv2.resize(pixels, (nw, nh), interpolation=interp)
        out = np.zeros((self.size, self.size), dtype=pixels.dtype)
        ox, oy = (self.size - nw) // 2, (self.size - nh) // 2
        out[oy:oy + nh, ox:ox + nw] = resized
        return LetterboxResult(out, scale, (float(ox), float(oy)))


def whole_film(pixels: np.ndarray, size: int) -> np.ndarray:
    """The whole film letterboxed (aspect kept) onto a black ``size`` square, float32 gray: the input of the
    film-level classifiers (hand gate, fracture film)."""
    return Letterbox(size)(np.ascontiguousarray(pixels, dtype=np.float32)).image


def dihedral(images: np.ndarray, k: int) -> np.ndarray:
    """View ``k`` (0-7) of square images (..., H, W): mirrored left to right when ``k`` is odd, then turned
    ``k // 2`` quarter turns; view 0 is the image as it is, views 0-1 the image and its mirror."""
    x = images[..., ::-1] if k % 2 else images
    return np.ascontiguousarray(np.rot90(x, k // 2, axes=(-2, -1)))


def undo_dihedral(images: np.ndarray, k: int) -> np.ndarray:
    """The inverse of ``dihedral(images, k)``: turned back, then mirrored back."""
    x = np.rot90(images, -(k // 2), axes=(-2, -1))
    return np.ascontiguousarray(x[..., ::-1] if k % 2 else x)


def sigmoid(x):
    """1 / (1 + exp(-x)) without overflow for large |x| (arrays or floats)."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))


def to_model_input(gray: np.ndarray, norm: Normalization = NORM) -> np.ndarray:
    """(..., H, W) float in [0, 1] -> (..., 3, H, W) float32, standardised by ``norm`` (a model's card's
    ``normalization``; ``NORM``, the one every model here is trained with, by default)."""
    x = (np.asarray(gray, dtype=np.float32) - np.float32(norm.mean)) / np.float32(norm.std)
    return np.repeat(x[..., None, :, :], 3, axis=-3)


def crop_rotated(pixels: np.ndarray, center_xy: tuple[float, float], size_wh: tuple[float, float], angle_deg: float,
                 out_hw: tuple[int, int]) -> np.ndarray:
    """Sample a box of ``size_wh`` film pixels centred at ``center_xy``, rotated by ``angle_deg``, into ``out_hw``.
    A box larger than the output is first area-averaged down with its surroundings (``warpAffine`` samples
    bilinearly, even when asked for ``INTER_AREA``: a 400 px box read into 80 px would see one pixel in five)."""
    oh, ow = out_hw
    shrink = max(ow / max(size_wh[0], 1e-3), oh / max(size_wh[1], 1e-3))
    pixels, center_xy, size_wh = _area_averaged(pixels, center_xy, size_wh, shrink)
    sx, sy = ow / max(size_wh[0], 1e-3), oh / max(size_wh[1], 1e-3)
    a = np.deg2rad(angle_deg)
    c, s = np.cos(a), np.sin(a)
    # film -> output: translate centre to origin, rotate by -angle, scale, move to output centre
    m = np.array([[sx * c, sx * s, 0.0], [-sy * s, sy * c, 0.0]], dtype=np.float64)
    m[:, 2] = np.array([ow / 2, oh / 2]) - m[:, :2] @ np.asarray(center_xy, dtype=np.float64)
    return cv2.warpAffine(pixels, m, (ow, oh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def warp_affine_area(pixels: np.ndarray, m: np.ndarray, out_wh: tuple[int, int]) -> np.ndarray:
    """``cv2.warpAffine(pixels, m, out_wh)`` (bilinear, black outside) after area-averaging ``pixels`` down to the
    scale the 2x3 matrix ``m`` shrinks them by, so that a film warped far down is averaged, not sampled one pixel in
    five."""
    m = np.asarray(m, dtype=np.float64)
    scale = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
    if scale < 1:
        pixels, fx, fy = _shrunk(pixels, scale)
        m = np.hstack([m[:, :2] / [fx, fy], (m[:, 2] + m[:, :2] @ [0.5 / fx - 0.5, 0.5 / fy - 0.5])[:, None]])
    return cv2.warpAffine(pixels, m, tuple(out_wh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _shrunk(pixels: np.ndarray, scale: float) -> tuple[np.ndarray, float, float]:
    """``pixels`` area-averaged to ``scale`` of their size (at least 1 px), and the factors applied along x and y: a
    pixel centre x lands at (x + 0.5) * fx - 0.5 in the result."""
    h, w = pixels.shape[:2]
    pw, ph = max(round(w * scale), 1), max(round(h * scale), 1)
    return cv2.resize(np.ascontiguousarray(pixels), (pw, ph), interpolation=cv2.INTER_AREA), pw / w, ph / h


def _area_averaged(pixels: np.ndarray, center_xy: tuple[float, float], size_wh: tuple[float, float], scale: float
                   ) -> tuple[np.ndarray, tuple[float, float], tuple[float, float]]:
    """The part of ``pixels`` that a box of ``size_wh`` at ``center_xy`` can reach at any angle, shrunk by ``scale``
    (< 1) with area averaging, and the box's centre and size in it; unchanged when ``scale`` >= 1 or the box lies
    off the film."""
    if scale >= 1:
        return pixels, center_xy, size_wh
    cx, cy = center_xy
    reach = 0.5 * float(np.hypot(*size_wh)) + 2.0 / scale  # the turned box and its bilinear neighbours
    h, w = pixels.shape[:2]
    x0, y0 = max(int(np.floor(cx - reach)), 0), max(int(np.floor(cy - reach)), 0)
    x1, y1 = min(int(np.ceil(cx + reach)) + 1, w), min(int(np.ceil(cy + reach)) + 1, h)
    if x1 <= x0 or y1 <= y0:
        return pixels, center_xy, size_wh
    small, fx, fy = _shrunk(pixels[y0:y1, x0:x1], scale)
    return small, ((cx - x0 + 0.5) * fx - 0.5, (cy - y0 + 0.5) * fy - 0.5), (size_wh[0] * fx, size_wh[1] * fy)
