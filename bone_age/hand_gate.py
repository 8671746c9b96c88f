"""Is this a hand-and-wrist film at all? A whole-film classifier that turns away feet, knees, chests before the
localizer's keypoints are trusted (a foot's toes can keep a hand's joint layout)."""
from __future__ import annotations

import numpy as np

from .classify import predict_logits
from .registry import LoadedModel
from .transforms import sigmoid, whole_film

__all__ = ["HandGate"]


class HandGate:
    """Wraps a loaded gate model; a film passes when its hand-film probability reaches ``card['threshold']``."""

    def __init__(self, model: LoadedModel):
        self.model = model
        self.size = int(model.card["input_size"])
        self.threshold = float(model.card["threshold"])

    def probability(self, pixels: np.ndarray) -> float:
        """Probability that ``pixels`` is a hand-and-wrist film."""
        dev = next(self.model.module.parameters()).device
        logit = float(predict_logits(self.model.module, whole_film(pixels, self.size)[None], dev)[0])
        return float(sigmoid(logit))

    def verdict(self, pixels: np.ndarray) -> tuple[bool, float, str]:
        """(passes, probability, reason when it does not)."""
        p = self.probability(pixels)
        if p >= self.threshold:
            return True, p, ""
        return False, p, f"not a hand-and-wrist film (hand-film probability {p:.2f} < {self.threshold:.2f})"
