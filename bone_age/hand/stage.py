"""Region crops -> stage probabilities per bone (one shared CNN, an ordinal head per stage category)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from ..card import ModelCard, StageSpec
from ..registry import LoadedModel, autocast
from ..transforms import to_model_input
from .regions import crop_region
from .results import Agreement, AgreementBand, Region

__all__ = ["StageClassifier", "agreement"]
AGREEMENT_FILMS = "full-resolution RSNA films"  # the films of the card's agreement figures (its test group), in words


def agreement(card: ModelCard) -> Agreement | None:
    """The stage card's held-out agreement (``benchmarks/stage_accuracy.py --update-card``: uncalibrated, all films of
    its test group, and by band of the bone age read when the card has it), or None when the card has not measured
    it."""
    fig = card.section(StageSpec).agreement
    if fig is None:
        return None
    bands = tuple(AgreementBand(read_years=b.read_years, films=b.n, half_within_months=b.abs_error_p50_months,
                                most_within_months=b.abs_error_p90_months, mean_difference_months=b.bias_months)
                  for b in fig.bands)
    return Agreement(films=fig.n, half_within_months=fig.abs_error_p50_months,
                     most_within_months=fig.abs_error_p90_months, mae_months=fig.mae_months,
                     reference=f"{AGREEMENT_FILMS}; card of {card.name}", bands=bands, band_reference=fig.band_films)


class StageClassifier:
    """Wraps a loaded StageNet. Crops follow the card: ``crop_size`` pixels, right hands mirrored to left, each region
    read in the card's ``test_time_views`` (pairs of crop-side factor and added turn in degrees; one plain view when
    absent), the stage distributions averaged over the views. A stage read with a probability below the card's
    ``low_confidence_threshold`` (0.5 when the card has none) is flagged; ``paired_limits``: per category read on two
    bones, the stage difference between them that is warned about (none when the card has none); ``agreement``: the
    card's held-out figures."""

    def __init__(self, model: LoadedModel):
        self.model = model
        spec = model.card.section(StageSpec)
        self.categories: list[str] = list(spec.categories)
        self.crop_size = spec.crop_size
        self.views = list(spec.test_time_views)
        self.low_confidence = spec.low_confidence_threshold
        self.agreement = agreement(model.card)
        self.paired_limits = dict(spec.paired_disagreement_stages)

    @property
    def device(self) -> torch.device:
        return next(self.model.module.parameters()).device

    def crops(self, pixels: np.ndarray, regions: tuple[Region, ...], hand_side: str) -> np.ndarray:
        """(13, V, S, S) float crops in region order, one per view."""
        return np.stack([[crop_region(pixels, replace(r, crop_side_px=r.crop_side_px * f, angle_deg=r.angle_deg + a),
                                      self.crop_size, mirror=hand_side == "right") for f, a in self.views] for r in regions])

    @torch.no_grad()
    def probabilities(self, crops: np.ndarray, categories: list[str]) -> np.ndarray:
        """(N, V, S, S) crops and their categories -> (N, K_max) stage probabilities (stage 1 in column 0), averaged
        over the V views."""
        n, v = crops.shape[:2]
        x = torch.from_numpy(to_model_input(crops.reshape(n * v, *crops.shape[2:]), self.model.card.normalization)).to(self.device)
        c = torch.tensor([self.categories.index(k) for k in categories for _ in range(v)], device=self.device)
        with autocast(self.device):
            out = self.model.module(x, c)
        return out.float().cpu().numpy().reshape(n, v, -1).mean(1)
