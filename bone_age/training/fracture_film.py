"""Train the film-level fracture classifier on every readable FracAtlas film, fractured or not, in the fracture
module's split (the official Fracture Split for fractured films; non-fractured films by hash)."""
from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
from sklearn.metrics import roc_auc_score

from ..classify import predict_logits
from ..io import read_film
from ..nets import ImageClassifier
from ..transforms import sigmoid, whole_film
from .classifier import fit_binary
from .common import keep_readable, load_start, save_model, start_note, start_run, starting_weights
from .fracture import SPLIT_TEXT, image_split, youden_threshold
from .fracture_data import read_fracatlas
from .metrics import fit_platt

_logger = logging.getLogger(__name__)
VIEWS = (1, 2, 8)  # test-time view counts tried on the validation films


def _augment(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """Any quarter turn and mirror (FracAtlas films come in every orientation), small rotation/scale/shift,
    exposure and contrast."""
    x = np.rot90(x, int(rng.integers(4)))
    if rng.random() < 0.5:
        x = x[:, ::-1]
    h, w = x.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-10, 10), rng.uniform(0.9, 1.15))
    m[:, 2] += rng.uniform(-0.05, 0.05, 2) * (w, h)
    x = cv2.warpAffine(np.ascontiguousarray(x), m, (w, h), borderValue=0)
    x = np.clip(x, 0, 1) ** np.exp(rng.uniform(-0.3, 0.3))
    return np.clip((x - 0.5) * rng.uniform(0.85, 1.15) + 0.5, 0, 1).astype(np.float32)


def load_films(imgs, size: int):
    """The readable films with their letterboxed inputs (float16) and labels; truncated files are logged and left out."""
    kept, inputs = keep_readable(imgs, lambda i: whole_film(read_film(i.path).pixels, size).astype(np.float16))
    return kept, np.stack(inputs), np.array([i.fractured for i in kept], np.int64)


def train_fracture_film(data: Path, out: Path, *, epochs: int = 6, size: int = 512, negatives: float = 2.0,
                        batch: int = 16, lr: float = 1e-3, device: str = "auto", seed: int = 0, overwrite: bool = False,
                        limit: int | None = None, init: str | None = None, backbone: str | None = None) -> Path:
    """Train (or, with ``init``, go on training a shipped film classifier) on the train films (each epoch: every
    fractured film and ``negatives`` x as many non-fractured ones, drawn afresh); keep the best validation-AUC epoch,
    choose the test-time views, calibrate on the validation films (Platt) and set the threshold there by Youden's index.
    ``backbone``: the timm EfficientNet-Lite (default: the start model's, else efficientnet_lite0)."""
    rng, dev = start_run(out, overwrite, seed, device)
    start = load_start(init, "fracture_film")
    if start and backbone and backbone != start.card.backbone:
        raise ValueError(f"--backbone {backbone}: {init} is an {start.card.backbone}; leave --backbone out to go on from it")
    backbone = start.card.backbone if start else backbone or "efficientnet_lite0"
    imgs = read_fracatlas(Path(data))
    if limit:
        imgs = [imgs[i] for i in rng.permutation(len(imgs))[:limit]]
    parts = {s: [i for i in imgs if image_split(i) == s] for s in ("train", "val", "test")}
    train, x_train, y_train = load_films(parts["train"], size)
    val, x_val, y_val = load_films(parts["val"] or parts["train"], size)
    _logger.info("fracture films: %d train (%d fractured), %d val (%d fractured), device %s",
                 len(train), int(y_train.sum()), len(val), int(y_val.sum()), dev)
    model = starting_weights(ImageClassifier(1, backbone=backbone), start, dev)
    _, pos_weight = fit_binary(model, x_train, y_train, x_val, y_val, _augment, rng=rng, device=dev, epochs=epochs,
                                  batch=batch, lr=lr, negatives_per_positive=negatives)
    both = 0 < y_val.sum() < len(y_val)
    logits = {v: predict_logits(model, x_val, dev, views=v) for v in VIEWS}
    auc = {v: round(float(roc_auc_score(y_val, lg)), 4) if both else 0.0 for v, lg in logits.items()}
    views = max(VIEWS, key=lambda v: (auc[v], -v))
    a, b = fit_platt(logits[views], y_val) if both else (1.0, 0.0)
    probs = sigmoid(a * logits[views] + b)
    card = {
        "task": "fracture_film", "architecture": "ImageClassifier", "backbone": backbone,
        "outputs": ["fractured"], "input_size": size,
        "normalization": "whole film letterboxed (aspect kept) onto a black square of input_size, gray in [0,1]; "
                         "then (x-0.5)/0.25 replicated to 3 channels",
        "data": "FracAtlas (CC BY 4.0), GitHub marvY-O/FracAtlas: every readable film, label from the image folder",
        "split": SPLIT_TEXT, "n_train": len(train), "n_train_fractured": int(y_train.sum()), "n_val": len(val),
        "n_val_fractured": int(y_val.sum()), "negatives_per_epoch": f"{negatives} x the fractured films, drawn afresh each epoch",
        "class_weighting": f"BCE pos_weight {pos_weight:.2f} (negatives / positives per epoch)",
        "epochs": epochs, "seed": seed, "learning_rate": lr, "initialised_from": start_note(init, start, backbone), "platt": [a, b],
        "threshold": youden_threshold(probs, y_val) if both else 0.5,
        "threshold_rule": "Youden's index on the validation films (calibrated probabilities)",
        "test_time_views": views,
        "test_time_views_rule": "the logit is averaged over this many dihedral views of the letterboxed film "
                                "(transforms.dihedral: 1 = as it is, 2 = with its mirror, 8 = every quarter turn of both), "
                                "the count with the best validation AUC (fewest on a tie); Platt and threshold fitted on it",
        "val_metrics": {"auc": auc[views], "auc_by_views": {str(v): a for v, a in auc.items()}}, "default": True,
    }
    return save_model(model.cpu(), Path(out), card)
