"""Region crops -> stage probabilities per bone (one shared CNN, an ordinal head per stage category)."""
from __future__ import annotations

import numpy as np
import torch

from .regions import crop_region
from .registry import LoadedModel
from .results import Region
from .transforms import to_model_input

__all__ = ["StageClassifier", "median_stage"]


def median_stage(probabilities: np.ndarray) -> np.ndarray:
    """The stage read from each distribution (..., K), stage 1 in column 0: its median, the first stage whose
    cumulative probability reaches 0.5. For the ordinal head this is 1 + the number of thresholds the bone's latent
    exceeds; unlike the most probable stage it never skips a stage whose interval is narrow. Returns ints (...)."""
    cum = np.cumsum(probabilities, axis=-1)
    return (cum < 0.5 * cum[..., -1:]).sum(axis=-1) + 1


class StageClassifier:
    """Wraps a loaded StageNet. Crops follow the card: ``crop_size`` pixels, right hands mirrored to left. A stage
    read with a probability below the card's ``low_confidence_threshold`` (0.5 when the card has none) is flagged."""

    def __init__(self, model: LoadedModel):
        self.model = model
        self.categories: list[str] = list(model.card["categories"])
        self.crop_size = int(model.card["crop_size"])
        self.low_confidence = float(model.card.get("low_confidence_threshold", 0.5))

    @property
    def device(self) -> torch.device:
        return next(self.model.module.parameters()).device

    def crops(self, pixels: np.ndarray, regions: tuple[Region, ...], hand_side: str) -> np.ndarray:
        """(13, S, S) float crops in region order."""
        return np.stack([crop_region(pixels, r, self.crop_size, mirror=hand_side == "right") for r in regions])

    @torch.no_grad()
    def probabilities(self, crops: np.ndarray, categories: list[str]) -> np.ndarray:
        """(N, S, S) crops and their categories -> (N, K_max) stage probabilities (stage 1 in column 0)."""
        x = torch.from_numpy(to_model_input(crops)).to(self.device)
        c = torch.tensor([self.categories.index(k) for k in categories], device=self.device)
        return self.model.module(x, c).float().cpu().numpy()
