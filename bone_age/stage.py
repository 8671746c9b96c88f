"""Region crops -> stage probabilities per bone (one shared CNN, an ordinal head per stage category)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from .regions import crop_region
from .registry import LoadedModel
from .results import Agreement, AgreementBand, Region
from .transforms import to_model_input

__all__ = ["StageClassifier", "median_stage", "agreement"]
AGREEMENT_FILMS = ("test", "full-resolution RSNA films")  # the card's test_metrics group, in words


def median_stage(probabilities: np.ndarray) -> np.ndarray:
    """The stage read from each distribution (..., K), stage 1 in column 0: its median, the first stage whose
    cumulative probability reaches 0.5. For the ordinal head this is 1 + the number of thresholds the bone's latent
    exceeds; unlike the most probable stage it never skips a stage whose interval is narrow. Returns ints (...)."""
    cum = np.cumsum(probabilities, axis=-1)
    return (cum < 0.5 * cum[..., -1:]).sum(axis=-1) + 1


def agreement(card: dict) -> Agreement | None:
    """The card's held-out agreement (``benchmarks/stage_accuracy.py --update-card``, uncalibrated, all films of the
    ``AGREEMENT_FILMS`` group, and by band of the bone age read when the card has it), or None when the card has not
    measured it."""
    group, words = AGREEMENT_FILMS
    m = card.get("test_metrics", {}).get(group, {}).get("all", {}).get("uncalibrated", {})
    if "abs_error_p90_months" not in m:
        return None
    by_read = card["test_metrics"].get("agreement_by_read_age", {})
    bands = tuple(AgreementBand(read_years=tuple(b["read_years"]), films=int(b["n"]),
                                half_within_months=float(b["abs_error_p50_months"]),
                                most_within_months=float(b["abs_error_p90_months"]),
                                mean_difference_months=float(b["bias_months"])) for b in by_read.get("bands", []))
    return Agreement(films=int(m["n"]), half_within_months=float(m["abs_error_p50_months"]),
                     most_within_months=float(m["abs_error_p90_months"]), mae_months=float(m["mae_months"]),
                     reference=f"{words}; card of {card.get('name', 'the stage model')}", bands=bands,
                     band_reference=by_read.get("films", ""))


class StageClassifier:
    """Wraps a loaded StageNet. Crops follow the card: ``crop_size`` pixels, right hands mirrored to left, each region
    read in the card's ``test_time_views`` (pairs of crop-side factor and added turn in degrees; one plain view when
    absent), the stage distributions averaged over the views. A stage read with a probability below the card's
    ``low_confidence_threshold`` (0.5 when the card has none) is flagged; ``paired_limits``: per category read on two
    bones, the stage difference between them that is warned about (none when the card has none); ``agreement``: the
    card's held-out figures."""

    def __init__(self, model: LoadedModel):
        self.model = model
        self.categories: list[str] = list(model.card["categories"])
        self.crop_size = int(model.card["crop_size"])
        self.views = [(float(f), float(a)) for f, a in model.card.get("test_time_views", [(1.0, 0.0)])]
        self.low_confidence = float(model.card.get("low_confidence_threshold", 0.5))
        self.agreement = agreement(model.card)
        self.paired_limits = {c: int(d) for c, d in model.card.get("paired_disagreement_stages", {}).items()}

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
        x = torch.from_numpy(to_model_input(crops.reshape(n * v, *crops.shape[2:]))).to(self.device)
        c = torch.tensor([self.categories.index(k) for k in categories for _ in range(v)], device=self.device)
        return self.model.module(x, c).float().cpu().numpy().reshape(n, v, -1).mean(1)
