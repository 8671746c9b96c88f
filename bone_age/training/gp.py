"""Train the Greulich-Pyle regressor on the RSNA 2017 training films (299 px copy), reserved ids dropped."""
from __future__ import annotations

import logging
import math
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..card import GPSpec
from ..hand.gp import cut_frame, hand_box, squash
from ..io import read_film
from ..nets import GlobalRegressor
from ..transforms import to_model_input
from .augment import random_photometric
from .common import (EpochLog, load_start, make_optimizer, save_model, snapshot, start_note, start_run,
                     starting_weights, step)
from .film_cache import FilmCache, localizer_identity
from .rsna import AgedFilm, load_rsna_299
from .splits import split_of
from .stage_data import RSNA_ASPECT, unsquash

_logger = logging.getLogger(__name__)
MEAN_MONTHS, SD_MONTHS = 127.0, 41.0  # target standardisation (RSNA training set)
HAND_FRAMING = {"rule": "hand", "margin": 0.1, "aspect": RSNA_ASPECT}  # margin chosen on validation films for v7
Box = tuple[float, float, float, float]


def _augment(img: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """Flip, rotation, scale, shift on the squashed film, then photometric changes."""
    a = np.deg2rad(rng.uniform(-20, 20))
    s = rng.uniform(0.85, 1.15)
    m = np.array([[s * np.cos(a), -s * np.sin(a)], [s * np.sin(a), s * np.cos(a)]])
    if rng.random() < 0.5:
        m = m @ np.diag([-1.0, 1.0])
    c = np.array([size / 2, size / 2])
    t = c + rng.uniform(-0.06, 0.06, 2) * size - m @ c
    out = cv2.warpAffine(img, np.hstack([m, t[:, None]]).astype(np.float32), (size, size), borderValue=0)
    return random_photometric(rng, out)


def hand_boxes(films: list[AgedFilm], localizer, cache: Path | None = None) -> dict[str, Box | None]:
    """The hand's box on each film of the 299 px copy, stretched back to height / width 1.32 as the benchmark and
    the pipeline read it (``None``: no hand located, the film is read whole); cached by file path (``FilmCache``)."""
    cached = FilmCache(cache, localizer_identity(localizer))

    def locate(f: AgedFilm) -> Box | None:
        loc = localizer(unsquash(read_film(f.path)))
        return hand_box(loc) if loc.is_hand else None

    found = {f.id: cached.get(str(f.path), lambda: locate(f)) for f in tqdm(films, desc="locating hands", unit="film", mininterval=10)}
    cached.save()
    boxes = {i: tuple(b) if b else None for i, b in found.items()}
    _logger.info("hands located on %d of %d films (the rest read whole)", sum(b is not None for b in boxes.values()), len(boxes))
    return boxes


def _load(films: list[AgedFilm], size: int, boxes: dict[str, Box | None] | None = None) -> np.ndarray:
    """The films as the model reads them, squashed to ``size``: whole, or (``boxes``) the hand's frame."""
    def one(f: AgedFilm) -> np.ndarray:
        if boxes is None:
            return cv2.imread(str(f.path), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255.0
        film = unsquash(read_film(f.path)).pixels
        box = boxes[f.id]
        return film if box is None else cut_frame(film, box, HAND_FRAMING["margin"], HAND_FRAMING["aspect"])
    return np.stack([squash(one(f), size) for f in films]).astype(np.float16)


@torch.no_grad()
def predict(model, images: np.ndarray, male: np.ndarray, device, batch: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Months for each image as it is, and averaged with its mirror image (the shipped reading); one pass each."""
    model.eval()
    plain, mirror = [], []
    for i in range(0, len(images), batch):
        x = torch.from_numpy(to_model_input(images[i:i + batch].astype(np.float32))).to(device)
        m = torch.from_numpy(male[i:i + batch]).to(device)
        plain.append(model(x, m)[:, 0].float().cpu().numpy())
        mirror.append(model(x.flip(-1), m)[:, 0].float().cpu().numpy())
    plain, mirror = (np.concatenate(o) * SD_MONTHS + MEAN_MONTHS for o in (plain, mirror))
    return plain, (plain + mirror) / 2


def train_gp(rsna299: Path, out: Path, *, epochs: int = 4, size: int | None = None, batch: int = 32, lr: float = 2e-3,
             device: str = "auto", seed: int = 0, overwrite: bool = False, limit: int | None = None,
             init: str | None = None, framing: str = "film", cache: Path | None = None) -> Path:
    """Train (or, with ``init``, go on training a shipped GP model's weights) and keep the epoch with the lowest
    validation MAE, each film read as it is and mirrored (the shipped reading). ``size``: the input side (default:
    the start model's, else 192). ``framing``: ``film`` (whole films) or ``hand`` (the hand's frame, located by the
    default localizer and hand gate, as the pipeline reads films; ``cache``: JSON of the boxes)."""
    if framing not in ("film", "hand"):
        raise ValueError(f"framing must be 'film' or 'hand', not {framing!r}")
    rng, dev = start_run(out, overwrite, seed, device)
    start = load_start(init, "gp")
    size = size or (start.card.section(GPSpec).input_size if start else 192)
    films = load_rsna_299(Path(rsna299))
    if limit:
        films = films[:limit]
    train = [f for f in films if split_of(f.id) != "test"]
    val = [f for f in films if split_of(f.id) == "test"][:600] or train[:8]
    _logger.info("gp: %d train, %d validation films on %s", len(train), len(val), dev)
    boxes, located_by = None, None
    if framing == "hand":
        from ..hand.pipeline import Engine

        localizer = Engine(gp=False, device=str(dev)).localizer
        located_by = [m.name for m in (localizer.model, localizer.gate and localizer.gate.model) if m]
        boxes = hand_boxes(train + val, localizer, cache)
    x_train, x_val = _load(train, size, boxes), _load(val, size, boxes)
    y = torch.tensor([(f.boneage_months - MEAN_MONTHS) / SD_MONTHS for f in train])
    male_train = np.array([f.male for f in train])
    male_val = np.array([f.male for f in val])
    true_val = np.array([f.boneage_months for f in val])
    model = starting_weights(GlobalRegressor(), start, dev)
    opt, sched = make_optimizer(model, lr, epochs * math.ceil(len(train) / batch))
    log, best, best_state, per_epoch = EpochLog(epochs), (float("inf"), float("inf")), None, []
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(len(train))
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            x = torch.from_numpy(to_model_input(np.stack([_augment(x_train[j].astype(np.float32), rng, size) for j in idx]))).to(dev)
            o = model(x, torch.from_numpy(male_train[idx]).to(dev))
            mu, logvar = o[:, 0], o[:, 1].clamp(-8, 4)
            t = y[idx].to(dev)
            step(opt, sched, F.gaussian_nll_loss(mu, t, logvar.exp()) + 0.5 * F.l1_loss(mu, t))
        mae, mae_flip = (float(np.mean(np.abs(p - true_val))) for p in predict(model, x_val, male_val, dev))
        log(epoch, val_mae_months=mae, val_mae_months_test_time_flip=mae_flip)
        per_epoch.append(round(mae_flip, 2))
        if mae_flip < best[1]:
            best, best_state = (mae, mae_flip), snapshot(model)
    model.load_state_dict(best_state)
    card = {
        "task": "gp", "architecture": "GlobalRegressor", "backbone": "efficientnet_lite0", "input_size": size,
        "resize_rule": ("the hand's frame (input_framing; gp.hand_frame)" if boxes else "whole film")
                       + " resized to input_size x input_size without keeping the aspect ratio (as the 299 px training copies)",
        "normalization": "gray in [0,1]: (x-0.5)/0.25, replicated to 3 channels",
        "target": "bone age in months, standardised with target_mean_months and target_sd_months; outputs mean and log-variance",
        "target_mean_months": MEAN_MONTHS, "target_sd_months": SD_MONTHS,
        "data": "RSNA Pediatric Bone Age 2017 training films, 299x299 copy from GitHub samirsafwan/Predicting-Bone-Age-with-Deep-CNNs "
                "(research use with attribution; Halabi et al., Radiology 2019). Greulich-Pyle readings.",
        "split": "reserved_ids.txt (official test ids 4360-4559 among them) dropped; validation = films whose id hashes to "
                 "'test' (sha256('bone-age-v1:<id>') < 0.1), first 600 of them; the rest trains",
        "n_train": len(train), "n_val": len(val), "epochs": epochs, "seed": seed, "learning_rate": lr,
        "initialised_from": start_note(init, start),
        "val_metrics": {"mae_months": round(best[0], 2), "mae_months_test_time_flip": round(best[1], 2),
                        "per_epoch_mae_months_test_time_flip": per_epoch},
        "test_time_flip": True,
        "test_time_flip_rule": "each film is read as it is and mirrored left to right and the two outputs averaged; "
                               "the epoch kept is the one with the lowest validation MAE read this way",
    }
    if boxes:
        card["input_framing"] = HAND_FRAMING
        card["input_framing_training"] = (
            f"training and validation films of the 299 px copy stretched back to height / width {RSNA_ASPECT}, hand located "
            f"by {' + '.join(located_by)} ({sum(b is not None for b in boxes.values())} of {len(boxes)} films; the rest read "
            "whole), frame cut and squashed to input_size before augmentation")
    return save_model(model.cpu(), Path(out), card)
