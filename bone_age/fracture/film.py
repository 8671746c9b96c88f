"""Film-level fracture probability from a whole-film classifier trained on every FracAtlas film (fractured or not)."""
from __future__ import annotations

import numpy as np
import torch

from ..registry import LoadedModel
from ..transforms import to_model_input, whole_film

__all__ = ["FilmClassifier"]


class FilmClassifier:
    """Wraps a loaded ``fracture_film`` model; probabilities are Platt-calibrated on its validation films."""

    def __init__(self, model: LoadedModel):
        self.model = model
        self.size = int(model.card["input_size"])
        self.a, self.b = (float(v) for v in model.card["platt"])

    @torch.no_grad()
    def probability(self, pixels: np.ndarray) -> float:
        dev = next(self.model.module.parameters()).device
        x = torch.from_numpy(to_model_input(whole_film(pixels, self.size)))[None].to(dev)
        logit = float(self.model.module(x)[0, 0].float())
        return float(1 / (1 + np.exp(-(self.a * logit + self.b))))
