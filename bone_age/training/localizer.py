"""Train the keypoint localizer on the hand_landmarks films (RUS-bone boxes -> joints)."""
from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import torch

from ..hand.heatmaps import decode_heatmaps, soft_argmax
from ..nets import HeatmapNet
from ..transforms import to_model_input, warp_affine_area
from .augment import apply_affine_points, random_affine, random_photometric
from .common import (EpochLog, load_start, make_optimizer, save_model, snapshot, start_note, start_run,
                     starting_weights, step)
from .landmarks import KEYPOINTS, LandmarkFilm, load_landmark_films
from .splits import split_of

_logger = logging.getLogger(__name__)
STRIDE = 4


def _sample(film: LandmarkFilm, size: int, rng: np.random.Generator | None,
            augment: dict | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One (augmented if rng, with ``random_affine``'s keywords ``augment``) network input, keypoints in heatmap
    pixels, and a visibility mask."""
    img = film.image.astype(np.float32) / 255.0
    if rng is not None:
        m = random_affine(rng, img.shape, size, **(augment or {}))
    else:
        s = size / max(img.shape)
        m = np.array([[s, 0, (size - img.shape[1] * s) / 2], [0, s, (size - img.shape[0] * s) / 2]], np.float32)
    out = warp_affine_area(img, m, (size, size))
    if rng is not None:
        out = random_photometric(rng, out)
    pts = apply_affine_points(m, film.keypoints) / STRIDE
    hm = size // STRIDE
    vis = ((pts >= 0) & (pts <= hm - 1)).all(1).astype(np.float32)
    return to_model_input(out), pts.astype(np.float32), vis


def _batch(films, size, rng, augment=None):
    xs, ps, vs = zip(*(_sample(f, size, rng, augment) for f in films))
    return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ps)), torch.from_numpy(np.stack(vs))


def heatmap_loss(logits: torch.Tensor, pts: torch.Tensor, vis: torch.Tensor, sigma: float = 1.5) -> torch.Tensor:
    """Cross-entropy between the spatial softmax and a Gaussian around each keypoint, plus soft-argmax L1."""
    n, k, h, w = logits.shape
    ys = torch.arange(h, device=logits.device).view(1, 1, h, 1).float()
    xs = torch.arange(w, device=logits.device).view(1, 1, 1, w).float()
    g = torch.exp(-((xs - pts[..., 0, None, None]) ** 2 + (ys - pts[..., 1, None, None]) ** 2) / (2 * sigma**2))
    g = g / g.sum((2, 3), keepdim=True).clamp_min(1e-12)
    ce = -(g * logits.flatten(2).log_softmax(-1).view(n, k, h, w)).sum((2, 3))
    l1 = (soft_argmax(logits) - pts).abs().sum(-1)
    denom = vis.sum().clamp_min(1)
    return ((ce + 0.1 * l1) * vis).sum() / denom


@torch.no_grad()
def evaluate(model, films, size, device) -> dict:
    """Mean keypoint error in % of hand length (middle finger tip to the radius) on un-augmented films."""
    model.eval()
    errs = []
    for i in range(0, len(films), 16):
        x, pts, vis = _batch(films[i:i + 16], size, None)
        xy, _ = decode_heatmaps(model(x.to(device)).float().cpu())
        hand = (pts[:, KEYPOINTS.index("middle_finger_tip")] - pts[:, KEYPOINTS.index("radius")]).norm(dim=-1)
        errs.append(((xy - pts).norm(dim=-1) / hand[:, None] * 100).numpy())
    e = np.concatenate(errs)
    return {"kp_error_pct_mean": float(e.mean()), "kp_error_pct_p95": float(np.percentile(e, 95))}


def train_localizer(data: Path, out: Path, *, epochs: int = 24, size: int = 224, batch: int = 16, lr: float = 2e-3,
                    rotate_deg: float = 25.0, min_scale: float = 0.75, device: str = "auto", seed: int = 0,
                    overwrite: bool = False, limit: int | None = None, init: str | None = None) -> Path:
    """Train (or, with ``init``, go on training a shipped localizer), keep the best validation epoch, save
    ``out``.safetensors + card. Training films are turned by up to ``rotate_deg`` either way and scaled by
    ``min_scale``-1.15 of the input; ``limit`` caps films (tests)."""
    rng, dev = start_run(out, overwrite, seed, device)
    start = load_start(init, "localizer")
    augment = {"rotate_deg": rotate_deg, "scale": (min_scale, 1.15)}
    films = load_landmark_films(Path(data), consistent_only=True)
    if limit:
        films = films[:limit]
    train = [f for f in films if split_of(f.id) == "train"] or films
    val = [f for f in films if split_of(f.id) == "val"] or films[:2]
    _logger.info("localizer: %d train, %d val films, device %s", len(train), len(val), dev)
    model = starting_weights(HeatmapNet(len(KEYPOINTS)), start, dev)
    opt, sched = make_optimizer(model, lr, epochs * math.ceil(len(train) / batch))
    log, best, best_state = EpochLog(epochs), float("inf"), None
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(len(train))
        total = 0.0
        for i in range(0, len(order), batch):
            x, pts, vis = _batch([train[j] for j in order[i:i + batch]], size, rng, augment)
            total += step(opt, sched, heatmap_loss(model(x.to(dev)), pts.to(dev), vis.to(dev))) * len(x)
        metrics = evaluate(model, val, size, dev)
        log(epoch, loss=total / len(train), **metrics)
        if metrics["kp_error_pct_mean"] < best:
            best = metrics["kp_error_pct_mean"]
            best_state = snapshot(model)
    model.load_state_dict(best_state)
    card = {
        "task": "localizer", "architecture": "HeatmapNet", "backbone": "efficientnet_lite0",
        "input_size": size, "heatmap_stride": STRIDE, "normalization": "gray in [0,1]: (x-0.5)/0.25, replicated to 3 channels",
        "keypoints": list(KEYPOINTS),
        "data": "hand_landmarks (RSNA 2017 films; RUS-bone boxes from GitHub precious0612/HandBone-Detect, AGPL-3.0 "
                "repository licence; films research use with attribution). Keypoints derived from the boxes. Films left "
                "out: finger chains not in line (chains_consistent) and boxes that disagree with the 21-keypoint source "
                "(source_disagreement > MAX_SOURCE_DISAGREEMENT_PCT, training/landmarks.py).",
        "split": "sha256('bone-age-v1:<id>'): test < 0.1 <= val < 0.2 <= train; reserved_ids.txt dropped",
        "n_train": len(train), "n_val": len(val), "epochs": epochs, "seed": seed, "learning_rate": lr,
        "initialised_from": start_note(init, start),
        "augmentation": {"rotate_deg": rotate_deg, "scale": list(augment["scale"]), "mirror": True},
        "val_metrics": {"kp_error_pct_mean": best},
        "license": "weights: Apache-2.0 code licence; trained on AGPL-3.0 annotations and research-use films",
    }
    weights = save_model(model.cpu(), Path(out), card)
    calibrate_hand_threshold(Path(data), Path(out).name, Path(out).parent)
    return weights


def calibrate_hand_threshold(data: Path, model_name: str, models_root: Path | None = None) -> float:
    """Set the card's ``hand_threshold`` from validation hands only: half the 2nd-percentile mean confidence (and
    ``usual_hand_confidence``: that percentile itself).

    Non-hand films are not used, so the rejection rate measured on them stays an honest test.
    """
    from .._resources import models_dir
    from ..hand.localize import Localizer
    from ..io.film import film_from_array
    from ..registry import _load_cached, load_model, model_card
    from .common import update_card

    films = [f for f in load_landmark_films(Path(data), consistent_only=True) if split_of(f.id) == "val"]
    loc = Localizer(load_model(model_name, "cpu", models_root))
    conf = [float(loc.keypoints([film_from_array(f.image).pixels])[0][1].mean()) for f in films]
    usual = round(float(np.percentile(conf, 2)), 4)
    threshold = round(0.5 * usual, 4)
    card_path = Path(models_root or models_dir()) / f"{model_name}.json"
    update_card(card_path, hand_threshold=threshold,
                hand_threshold_rule=f"0.5 x 2nd percentile of mean keypoint confidence on {len(films)} validation films "
                                    f"(median {np.median(conf):.3f})",
                usual_hand_confidence=usual,
                usual_hand_confidence_rule="2nd percentile of mean keypoint confidence on the validation films: a hand "
                                           "accepted below it is flagged for its regions to be checked")
    _load_cached.cache_clear()
    model_card(model_name, models_root)
    _logger.info("hand threshold %.4f (val confidence median %.3f, min %.3f)", threshold, np.median(conf), min(conf))
    return threshold
