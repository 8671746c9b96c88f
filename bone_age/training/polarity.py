"""Train the grey-scale polarity check: each film as stored (bone bright) against the same film inverted, on the
hand-film gate's films (RSNA and FracAtlas hands, FracAtlas legs, hips and shoulders, JSRT chests) and splits."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from ..classify import predict_logits
from ..io import read_film
from ..nets import ImageClassifier
from ..transforms import sigmoid, whole_film
from .classifier import fit_binary
from .common import keep_readable, save_model, start_run, with_imagenet_encoder
from .hand_gate import SPLIT_TEXT, GateFilm, augment_film, gate_films

_logger = logging.getLogger(__name__)
THRESHOLD = 0.5  # a film is read inverted when the probability that it is stored inverted reaches this


def both_polarities(films: list[GateFilm], size: int) -> tuple[list[GateFilm], np.ndarray, np.ndarray]:
    """The readable films; their inputs as stored, then inverted (inverted before letterboxing, as a film stored
    inverted arrives), as uint8 (2N, size, size); labels 0 (as stored) and 1 (inverted)."""
    def both(f: GateFilm) -> np.ndarray:
        px = read_film(f.path).pixels
        return np.stack([whole_film(px, size), whole_film(1.0 - px, size)])

    kept, pairs = keep_readable(films, both)
    x = np.concatenate([np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])])
    return kept, (x * 255).round().astype(np.uint8), np.repeat([0, 1], len(kept)).astype(np.float32)


def _augment(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    return augment_film(rng, x / 255.0, invert=0.0)


def polarity_metrics(films: list[GateFilm], p_inverted: np.ndarray, threshold: float = THRESHOLD) -> dict:
    """Per source: films as stored called inverted (false inversions) and inverted films missed, out of n."""
    n = len(films)
    out = {"threshold": threshold, "auc": round(float(roc_auc_score(np.repeat([0, 1], n), p_inverted)), 5)}
    for src in sorted({f.source for f in films}):
        idx = np.array([f.source == src for f in films])
        out[src] = {"n": int(idx.sum()), "stored_called_inverted": int((p_inverted[:n][idx] >= threshold).sum()),
                    "inverted_missed": int((p_inverted[n:][idx] < threshold).sum())}
    return out


def train_polarity(roots: list[Path], out: Path, *, epochs: int = 3, size: int = 160, batch: int = 32,
                   lr: float = 1e-3, device: str = "auto", seed: int = 0, overwrite: bool = False,
                   limit: int | None = None) -> Path:
    """Train on the train films in both polarities, keep the best validation AUC (ties: the lower validation BCE);
    the card records the validation films misjudged at the threshold, per source."""
    rng, dev = start_run(out, overwrite, seed, device)
    films = gate_films(roots)
    if limit:
        films = [films[i] for i in rng.permutation(len(films))[:limit]]
    train, x_train, y_train = both_polarities([f for f in films if f.split == "train"], size)
    val, x_val, y_val = both_polarities([f for f in films if f.split == "val"] or train, size)
    _logger.info("polarity: %d train and %d validation films, each in both polarities, device %s", len(train), len(val), dev)
    model = with_imagenet_encoder(ImageClassifier(1), dev)
    x_val_unit = x_val.astype(np.float32) / 255.0
    auc, _ = fit_binary(model, x_train, y_train, x_val_unit, y_val, _augment, rng=rng, device=dev, epochs=epochs,
                        batch=batch, lr=lr)
    p_val = sigmoid(predict_logits(model, x_val_unit, dev))
    card = {
        "task": "polarity", "architecture": "ImageClassifier", "backbone": "efficientnet_lite0",
        "outputs": ["stored_inverted"], "input_size": size, "threshold": THRESHOLD,
        "threshold_rule": "0.5: a film is read inverted when it is more likely stored inverted than not",
        "normalization": "whole film letterboxed (aspect kept) onto a black square of input_size, gray in [0,1]; "
                         "then (x-0.5)/0.25 replicated to 3 channels",
        "data": {"films": "RSNA Pediatric Bone Age Challenge 2017 (rsna_hands), FracAtlas (Abedeen et al. 2023, CC BY "
                          "4.0) frontal hand, leg, hip and shoulder films, JSRT chest films: each as stored (bone bright) "
                          "and inverted",
                 "n_train_films": len(train), "n_val_films": len(val)},
        "split": SPLIT_TEXT, "epochs": epochs, "seed": seed, "learning_rate": lr,
        "val_metrics": polarity_metrics(val, p_val), "default": True,
    }
    return save_model(model.cpu(), Path(out), card)
