"""Is the film stored with its grey scale inverted (bone dark)? A whole-film classifier, so that such a film is read
the right way round instead of being misread: the localizer finds an inverted hand, but the stages read from
inverted crops are wrong."""
from __future__ import annotations

import numpy as np

from .classify import WholeFilmClassifier
from .registry import optional_model

__all__ = ["INVERTED_WARNING", "PolarityCheck", "bone_bright", "polarity_check"]
INVERTED_WARNING = ("grey scale inverted: the file shows bone dark (probability {p:.2f}), so it was read inverted; "
                    "check the export's polarity")


class PolarityCheck(WholeFilmClassifier):
    """``probability``: that the film is stored inverted; a film is read inverted when it reaches
    its card's ``threshold``."""

    def bone_bright(self, pixels: np.ndarray) -> tuple[np.ndarray, float | None]:
        """``pixels`` with bone bright: inverted when the film is judged stored inverted; with the probability
        when it was (None when the film is kept as stored)."""
        p = self.probability(pixels)
        return (np.ascontiguousarray(1.0 - pixels), p) if p >= self.threshold else (pixels, None)


def polarity_check(choice: str | bool | None, device: str, runtime: str = "torch") -> PolarityCheck | None:
    """The named check, the shipped one when ``choice`` is None or True and one is installed, or None (``False``)."""
    model = optional_model("polarity", choice, device, runtime)
    return PolarityCheck(model) if model else None


def bone_bright(check: PolarityCheck | None, pixels: np.ndarray) -> tuple[np.ndarray, float | None]:
    """``check.bone_bright(pixels)``, or ``pixels`` as stored when there is no check."""
    return check.bone_bright(pixels) if check else (pixels, None)
