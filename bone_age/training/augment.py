"""Random augmentations for training only (the deterministic transforms live in ``bone_age.transforms``)."""
from __future__ import annotations

import cv2
import numpy as np


def random_affine(rng: np.random.Generator, src_hw: tuple[int, int], out_size: int, *, rotate_deg: float = 25.0,
                  scale: tuple[float, float] = (0.75, 1.15), shift: float = 0.08, flip: bool = True,
                  aspect: float = 0.1) -> np.ndarray:
    """2x3 matrix: fit the image in ``out_size`` then rotate, scale, stretch, shift and maybe mirror."""
    h, w = src_hw
    base = out_size / max(h, w)
    s = base * rng.uniform(*scale)
    a = np.deg2rad(rng.uniform(-rotate_deg, rotate_deg))
    asp = np.exp(rng.uniform(-aspect, aspect))
    sx, sy = s * asp, s / asp
    fx = -1.0 if flip and rng.random() < 0.5 else 1.0
    c, si = np.cos(a), np.sin(a)
    m = np.array([[fx * sx * c, -sy * si], [fx * sx * si, sy * c]])
    center_out = np.array([out_size / 2, out_size / 2]) + rng.uniform(-shift, shift, 2) * out_size
    t = center_out - m @ np.array([w / 2, h / 2])
    return np.hstack([m, t[:, None]]).astype(np.float32)


def apply_affine_points(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ m[:, :2].T + m[:, 2]


def random_photometric(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """float image in [0, 1]: gamma, contrast/brightness, blur, noise, a random occluding patch."""
    x = np.clip(img, 0, 1) ** np.exp(rng.uniform(-0.5, 0.5))
    x = (x - 0.5) * rng.uniform(0.7, 1.3) + 0.5 + rng.uniform(-0.12, 0.12)
    if rng.random() < 0.3:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.5, 1.5))
    if rng.random() < 0.5:
        x = x + rng.normal(0, rng.uniform(0.005, 0.04), x.shape).astype(np.float32)
    if rng.random() < 0.3:  # markers, rulers, labels
        h, w = x.shape
        ph, pw = int(rng.uniform(0.05, 0.2) * h), int(rng.uniform(0.05, 0.2) * w)
        y0, x0 = rng.integers(0, h - ph), rng.integers(0, w - pw)
        x[y0:y0 + ph, x0:x0 + pw] = rng.uniform(0, 1)
    return np.clip(x, 0, 1).astype(np.float32)
