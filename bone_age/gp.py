"""Second opinion: a whole-hand Greulich-Pyle bone-age regressor (the film squashed to a square, as trained)."""
from __future__ import annotations

import cv2
import numpy as np
import torch

from .registry import LoadedModel
from .transforms import to_model_input

__all__ = ["GPRegressor", "squash"]


def squash(pixels: np.ndarray, size: int) -> np.ndarray:
    """The resize rule of the GP model: the whole film to ``size`` x ``size`` WITHOUT keeping the aspect ratio,
    exactly as the 299 x 299 training copies were made."""
    interp = cv2.INTER_AREA if max(pixels.shape) > size else cv2.INTER_LINEAR
    return cv2.resize(np.ascontiguousarray(pixels, dtype=np.float32), (size, size), interpolation=interp)


class GPRegressor:
    """With ``card['test_time_flip']`` (or ``flip=True``) each film is read twice, as it is and mirrored left to
    right, and the two outputs (mean and log-variance) are averaged."""

    def __init__(self, model: LoadedModel, flip: bool | None = None):
        self.model = model
        self.size = int(model.card["input_size"])
        self.mean, self.sd = float(model.card["target_mean_months"]), float(model.card["target_sd_months"])
        self.flip = bool(model.card.get("test_time_flip", False)) if flip is None else flip

    @torch.no_grad()
    def predict_months(self, pixels: list[np.ndarray], male: list[bool]) -> tuple[np.ndarray, np.ndarray]:
        """Bone age mean and standard deviation in months for each film."""
        dev = next(self.model.module.parameters()).device
        x = np.stack([to_model_input(squash(p, self.size)) for p in pixels])
        sex = list(male)
        if self.flip:
            x, sex = np.concatenate([x, x[..., ::-1]]), sex + sex
        out = self.model.module(torch.from_numpy(np.ascontiguousarray(x)).to(dev), torch.tensor(sex, device=dev))
        out = out.float().cpu().numpy()
        if self.flip:
            out = (out[:len(pixels)] + out[len(pixels):]) / 2
        return out[:, 0] * self.sd + self.mean, np.exp(0.5 * out[:, 1]) * self.sd
