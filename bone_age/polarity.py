"""Is the film stored with its grey scale inverted (bone dark)? A whole-film classifier, so that such a film is read
the right way round instead of being misread: the localizer finds an inverted hand, but the stages read from
inverted crops are wrong."""
from __future__ import annotations

import numpy as np

from .classify import predict_logits
from .registry import LoadedModel, default_model, list_models, load_model
from .transforms import sigmoid, whole_film

__all__ = ["PolarityCheck", "polarity_check"]


class PolarityCheck:
    """Wraps a loaded polarity model; a film is read inverted when its probability of being stored inverted
    reaches ``card['threshold']``."""

    def __init__(self, model: LoadedModel):
        self.model = model
        self.size = int(model.card["input_size"])
        self.threshold = float(model.card["threshold"])

    def probability_inverted(self, pixels: np.ndarray) -> float:
        dev = next(self.model.module.parameters()).device
        return float(sigmoid(float(predict_logits(self.model.module, whole_film(pixels, self.size)[None], dev)[0])))

    def bone_bright(self, pixels: np.ndarray) -> tuple[np.ndarray, float | None]:
        """``pixels`` with bone bright: inverted when the film is judged stored inverted; with the probability
        when it was (None when the film is kept as stored)."""
        p = self.probability_inverted(pixels)
        return (np.ascontiguousarray(1.0 - pixels), p) if p >= self.threshold else (pixels, None)


def polarity_check(choice: str | bool | None, device: str) -> PolarityCheck | None:
    """The named check, the shipped one when ``choice`` is None or True and one is installed, or None (``False``)."""
    if choice is False or not (isinstance(choice, str) or list_models("polarity")):
        return None
    return PolarityCheck(load_model(choice if isinstance(choice, str) else default_model("polarity"), device))
