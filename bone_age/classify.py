"""Inference of the one-logit image classifiers (hand gate, fracture film, bone-scan regions) over arrays of
model-sized gray images, optionally averaged over dihedral views."""
from __future__ import annotations

import numpy as np
import torch

from .transforms import dihedral, to_model_input

__all__ = ["predict_logits"]


@torch.no_grad()
def predict_logits(model, images: np.ndarray, device, batch: int = 64, views: int = 1) -> np.ndarray:
    """The first logit of each image; with ``views`` > 1, the mean over the first ``views`` dihedral views
    (``transforms.dihedral``: 2 = the image and its mirror, 8 = every quarter turn of both)."""
    model.eval()
    out = []
    for i in range(0, len(images), batch):
        chunk = images[i:i + batch].astype(np.float32)
        logits = [model(torch.from_numpy(to_model_input(dihedral(chunk, k))).to(device)).float().cpu().numpy()[:, 0]
                  for k in range(views)]
        out.append(np.mean(logits, axis=0))
    return np.concatenate(out)
