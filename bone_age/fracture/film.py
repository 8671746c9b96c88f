"""Film-level fracture probability from a whole-film classifier trained on every FracAtlas film (fractured or not),
and where on the film that probability comes from."""
from __future__ import annotations

import numpy as np

from ..card import ClassifierSpec
from ..classify import predict_logit_map
from ..registry import LoadedModel
from ..transforms import Letterbox, sigmoid
from .evidence import film_evidence
from .results import FractureEvidence

__all__ = ["FilmClassifier"]


class FilmClassifier:
    """Wraps a loaded ``fracture_film`` model; probabilities are Platt-calibrated on its validation films, from
    the logit averaged over the card's ``test_time_views`` (dihedral views of the film; 1 when absent)."""

    def __init__(self, model: LoadedModel):
        self.model = model
        spec = model.card.section(ClassifierSpec)
        self.size, self.views, self.threshold = spec.input_size, spec.test_time_views, spec.threshold
        self.a, self.b = spec.platt

    def read(self, pixels: np.ndarray) -> tuple[float, FractureEvidence]:
        """The film's probability and the classifier's evidence map on the film (one pass over the views)."""
        dev = next(self.model.module.parameters()).device
        lb = Letterbox(self.size)(np.ascontiguousarray(pixels, dtype=np.float32))
        logit_map = predict_logit_map(self.model.module, lb.image, dev, views=self.views,
                                      norm=self.model.card.normalization)
        return float(sigmoid(self.a * float(logit_map.mean()) + self.b)), film_evidence(logit_map, lb, pixels.shape[:2])

    def probability(self, pixels: np.ndarray) -> float:
        return self.read(pixels)[0]
