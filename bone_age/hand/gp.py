"""Second opinion: a whole-hand Greulich-Pyle bone-age regressor (the hand's frame squashed to a square, as trained)."""
from __future__ import annotations

import cv2
import numpy as np
import torch

from ..card import GPSpec
from ..registry import LoadedModel, autocast
from ..transforms import to_model_input
from .results import Localization

__all__ = ["GPRegressor", "cut_frame", "hand_box", "hand_frame", "squash"]


def squash(pixels: np.ndarray, size: int) -> np.ndarray:
    """The resize rule of the GP model: the whole film to ``size`` x ``size`` WITHOUT keeping the aspect ratio,
    exactly as the 299 x 299 training copies were made."""
    interp = cv2.INTER_AREA if max(pixels.shape) > size else cv2.INTER_LINEAR
    return cv2.resize(np.ascontiguousarray(pixels, dtype=np.float32), (size, size), interpolation=interp)


def hand_box(loc: Localization) -> tuple[float, float, float, float]:
    """The box (x1, y1, x2, y2) around the localizer's keypoints and region boxes, in film pixels."""
    pts = np.array([(x, y) for x, y, _ in loc.keypoints.values()]
                   + [xy for r in loc.regions for xy in (r.box_xyxy[:2], r.box_xyxy[2:])], np.float64)
    (x1, y1), (x2, y2) = pts.min(0), pts.max(0)
    return float(x1), float(y1), float(x2), float(y2)


def cut_frame(pixels: np.ndarray, box: tuple[float, float, float, float], margin: float, aspect: float) -> np.ndarray:
    """``box`` widened by ``margin`` of its size on each side, then grown to height / width = ``aspect`` (the
    training films' shape) and cut out of the film; parts beyond the film repeat its edge."""
    x1, y1, x2, y2 = box
    w, h = (x2 - x1) * (1 + 2 * margin), (y2 - y1) * (1 + 2 * margin)
    w, h = max(w, h / aspect), max(h, w * aspect)
    shift = np.array([[1, 0, w / 2 - (x1 + x2) / 2], [0, 1, h / 2 - (y1 + y2) / 2]], np.float32)
    return cv2.warpAffine(np.ascontiguousarray(pixels, dtype=np.float32), shift, (max(int(round(w)), 1), max(int(round(h)), 1)),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def hand_frame(pixels: np.ndarray, loc: Localization, margin: float, aspect: float) -> np.ndarray:
    """The hand cut out of the film: ``cut_frame`` of the ``hand_box`` of the localization."""
    return cut_frame(pixels, hand_box(loc), margin, aspect)


class GPRegressor:
    """With its card's ``test_time_flip`` (or ``flip=True``) each film is read twice, as it is and mirrored left to
    right, and the two outputs (mean and log-variance) are averaged. The card's ``framing`` says what of a localized
    film the model reads: the hand's frame (rule 'hand', see ``hand_frame``), else the whole film."""

    def __init__(self, model: LoadedModel, flip: bool | None = None):
        self.model = model
        spec = model.card.section(GPSpec)
        self.size = spec.input_size
        self.mean, self.sd = spec.target_mean_months, spec.target_sd_months
        self.flip = spec.test_time_flip if flip is None else flip
        self.framing = spec.framing

    def frame(self, pixels: np.ndarray, loc: Localization | None) -> np.ndarray:
        """What the model reads of a film: the hand's frame when the card asks for it and the hand was located."""
        if self.framing.rule != "hand" or loc is None or not loc.is_hand:
            return pixels
        return hand_frame(pixels, loc, self.framing.margin, self.framing.aspect)

    @torch.no_grad()
    def predict_months(self, pixels: list[np.ndarray], male: list[bool]) -> tuple[np.ndarray, np.ndarray]:
        """Bone age mean and standard deviation in months for each film."""
        dev = next(self.model.module.parameters()).device
        x = np.stack([to_model_input(squash(p, self.size), self.model.card.normalization) for p in pixels])
        sex = list(male)
        if self.flip:
            x, sex = np.concatenate([x, x[..., ::-1]]), sex + sex
        with autocast(dev):
            out = self.model.module(torch.from_numpy(np.ascontiguousarray(x)).to(dev), torch.tensor(sex, device=dev))
        out = out.float().cpu().numpy()
        if self.flip:
            out = (out[:len(pixels)] + out[len(pixels):]) / 2
        return out[:, 0] * self.sd + self.mean, np.exp(0.5 * out[:, 1]) * self.sd
