"""Abnormal-uptake probability for a bone-scan region crop (one CNN over anterior and posterior crops)."""
from __future__ import annotations

import cv2
import numpy as np
import torch

from ..card import ClassifierSpec
from ..registry import LoadedModel
from ..transforms import sigmoid, to_model_input

__all__ = ["RegionClassifier", "normalise_counts"]


def normalise_counts(pixels: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """A crop resized to ``out_hw`` with its counts scaled so that the body's 99th percentile sits at 0.5 (hot
    spots keep their contrast up to twice that, then clip): scans differ in dose and acquisition time."""
    x = cv2.resize(np.asarray(pixels, np.float32), (out_hw[1], out_hw[0]), interpolation=cv2.INTER_AREA)
    body = x[x > 0.02]
    ref = float(np.percentile(body, 99)) if body.size >= 16 else float(x.max())
    return np.clip(x / max(ref, 1e-3) * 0.5, 0, 1).astype(np.float32)


class RegionClassifier:
    """Wraps a loaded ``ImageClassifier`` whose card gives ``input_hw``, Platt calibration and the threshold."""

    def __init__(self, model: LoadedModel):
        self.model = model
        spec = model.card.section(ClassifierSpec)
        self.input_hw, self.calibration, self.threshold = spec.input_hw, spec.platt, spec.threshold
        self.regions = spec.regions

    @torch.no_grad()
    def probabilities(self, crops: list[np.ndarray]) -> np.ndarray:
        """Calibrated P(abnormal uptake) for each crop (float pixels in [0, 1])."""
        x = torch.from_numpy(np.stack([to_model_input(normalise_counts(c, self.input_hw), self.model.card.normalization) for c in crops]))
        dev = next(self.model.module.parameters()).device
        logits = self.model.module(x.to(dev)).float().cpu().numpy()[:, 0]
        a, b = self.calibration
        return sigmoid(a * logits + b)
