"""Is this a hand-and-wrist film at all? A whole-film classifier that turns away feet, knees, chests before the
localizer's keypoints are trusted (a foot's toes can keep a hand's joint layout)."""
from __future__ import annotations

import numpy as np

from ..classify import WholeFilmClassifier

__all__ = ["HandGate", "SKIP_HINT"]

SKIP_HINT = ("if it is one (a very dim or unusual exposure), it can be read with the hand-film check skipped "
             "(bone-age assess/score --no-hand-check, the viewer's 'Skip hand-film check', Engine(gate=False))")


class HandGate(WholeFilmClassifier):
    """A film passes when its probability of being a hand-and-wrist film reaches its card's ``threshold``."""

    def verdict(self, pixels: np.ndarray) -> tuple[bool, float, str]:
        """(passes, probability, reason when it does not)."""
        p = self.probability(pixels)
        if p >= self.threshold:
            return True, p, ""
        return False, p, (f"not a hand-and-wrist film (hand-film probability {p:.2f} < {self.threshold:.2f}); "
                          f"{SKIP_HINT}")
