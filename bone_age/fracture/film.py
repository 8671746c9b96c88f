"""Film-level fracture probability from a whole-film classifier trained on every FracAtlas film (fractured or not)."""
from __future__ import annotations

import numpy as np

from ..registry import LoadedModel
from ..classify import predict_logits
from ..transforms import sigmoid, whole_film

__all__ = ["FilmClassifier"]


class FilmClassifier:
    """Wraps a loaded ``fracture_film`` model; probabilities are Platt-calibrated on its validation films, from
    the logit averaged over the card's ``test_time_views`` (dihedral views of the film; 1 when absent)."""

    def __init__(self, model: LoadedModel):
        self.model = model
        self.size = int(model.card["input_size"])
        self.views = int(model.card.get("test_time_views", 1))
        self.a, self.b = (float(v) for v in model.card["platt"])

    def probability(self, pixels: np.ndarray) -> float:
        dev = next(self.model.module.parameters()).device
        logit = float(predict_logits(self.model.module, whole_film(pixels, self.size)[None], dev, views=self.views)[0])
        return float(sigmoid(self.a * logit + self.b))
