"""Inference of the one-logit image classifiers (hand gate, polarity check, fracture film, bone-scan regions) over
arrays of model-sized gray images, optionally averaged over dihedral views; and the whole-film classifiers' base."""
from __future__ import annotations

import numpy as np
import torch

from .card import ClassifierSpec, Normalization
from .registry import LoadedModel
from .transforms import NORM, dihedral, sigmoid, to_model_input, undo_dihedral, whole_film

__all__ = ["WholeFilmClassifier", "predict_logits", "predict_logit_map"]


@torch.no_grad()
def predict_logits(model, images: np.ndarray, device, batch: int = 64, views: int = 1,
                   norm: Normalization = NORM) -> np.ndarray:
    """The first logit of each image; with ``views`` > 1, the mean over the first ``views`` dihedral views
    (``transforms.dihedral``: 2 = the image and its mirror, 8 = every quarter turn of both)."""
    model.eval()
    out = []
    for i in range(0, len(images), batch):
        chunk = images[i:i + batch].astype(np.float32)
        logits = [model(torch.from_numpy(to_model_input(dihedral(chunk, k), norm)).to(device)).float().cpu().numpy()[:, 0]
                  for k in range(views)]
        out.append(np.mean(logits, axis=0))
    return np.concatenate(out)


@torch.no_grad()
def predict_logit_map(model, image: np.ndarray, device, views: int = 1, norm: Normalization = NORM) -> np.ndarray:
    """(H/32, W/32): the first output's logit map of one model-sized gray image (``ImageClassifier.logit_map``),
    averaged over the first ``views`` dihedral views, each turned back to the image's orientation; its mean is the
    logit ``predict_logits`` gives."""
    model.eval()
    maps = [model.logit_map(torch.from_numpy(to_model_input(dihedral(image.astype(np.float32), k)[None], norm)).to(device))
            .float().cpu().numpy()[0, 0] for k in range(views)]  # one view at a time: a batch of 8 is slower on a CPU
    return np.mean([undo_dihedral(m, k) for k, m in enumerate(maps)], axis=0)


class WholeFilmClassifier:
    """A loaded one-logit classifier of whole films, letterboxed to its card's ``input_size``; its decision
    threshold is the card's ``threshold``."""

    def __init__(self, model: LoadedModel):
        self.model = model
        spec = model.card.section(ClassifierSpec)
        self.size, self.threshold = spec.input_size, spec.threshold

    def probability(self, pixels: np.ndarray) -> float:
        dev = next(self.model.module.parameters()).device
        return float(sigmoid(float(predict_logits(self.model.module, whole_film(pixels, self.size)[None], dev,
                                                   norm=self.model.card.normalization)[0])))
