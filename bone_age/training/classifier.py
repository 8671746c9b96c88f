"""The training loop of the one-logit image classifiers (bone-scan regions, fracture films, polarity check):
class-weighted BCE, the best validation-AUC epoch kept (ties: the lower validation BCE)."""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from tqdm import tqdm

from ..classify import predict_logits
from ..transforms import to_model_input
from .common import EpochLog, make_optimizer, snapshot, step


def fit_binary(model: torch.nn.Module, x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
               augment: Callable[[np.random.Generator, np.ndarray], np.ndarray], *, rng: np.random.Generator,
               device: torch.device, epochs: int, batch: int, lr: float,
               negatives_per_positive: float | None = None) -> tuple[float, float]:
    """Train ``model`` in place with positives up-weighted by the class ratio; load the epoch with the best
    validation AUC (0 when validation holds one class only; between equal AUCs, as when it reaches 1, the epoch whose
    validation BCE is lower). Returns (that AUC, the positive weight).
    ``negatives_per_positive``: each epoch sees every positive and a fresh random draw of this many negatives per
    positive (all negatives are used over the epochs at a fraction of the cost)."""
    pos_idx, neg_idx = np.flatnonzero(y_train > 0), np.flatnonzero(y_train == 0)
    n_neg = len(neg_idx) if negatives_per_positive is None else min(len(neg_idx), round(negatives_per_positive * len(pos_idx)))
    pos_weight = n_neg / max(len(pos_idx), 1)
    opt, sched = make_optimizer(model, lr, epochs * math.ceil((len(pos_idx) + n_neg) / batch))
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos_weight, device=device))
    log, best, best_state = EpochLog(epochs), (-1.0, -np.inf), None
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(np.concatenate([pos_idx, rng.choice(neg_idx, n_neg, replace=False)]))
        total = 0.0
        for i in tqdm(range(0, len(order), batch), desc=f"epoch {epoch + 1}", unit="batch", mininterval=30):
            idx = order[i:i + batch]
            x = torch.from_numpy(to_model_input(np.stack([augment(rng, x_train[j].astype(np.float32)) for j in idx]))).to(device)
            y = torch.from_numpy(y_train[idx].astype(np.float32)).to(device)
            total += step(opt, sched, loss_fn(model(x)[:, 0], y)) * len(idx)
        logits = predict_logits(model, x_val, device)
        auc = float(roc_auc_score(y_val, logits)) if 0 < y_val.sum() < len(y_val) else 0.0
        bce = float(torch.nn.functional.binary_cross_entropy_with_logits(torch.from_numpy(logits), torch.from_numpy(y_val.astype(np.float32))))
        log(epoch, loss=total / len(order), val_auc=auc, val_bce=bce)
        if (auc, -bce) > best:
            best, best_state = (auc, -bce), snapshot(model)
    model.load_state_dict(best_state)
    return best[0], pos_weight
