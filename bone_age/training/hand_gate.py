"""Train the hand-film gate: RSNA hand films and FracAtlas frontal hand films against FracAtlas leg, hip and
shoulder films, JSRT chest films and synthetic noise; every source keeps the split its own module uses."""
from __future__ import annotations

import csv
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from ..classify import predict_logits
from ..io import read_film
from ..nets import ImageClassifier
from ..transforms import sigmoid, to_model_input, whole_film
from .clavicle import case_split
from .clavicle_data import read_cases
from .common import (EpochLog, keep_readable, make_optimizer, save_model, snapshot, start_run, step,
                     with_imagenet_encoder)
from .fracture import image_split
from .fracture_data import read_fracatlas
from .splits import reserved_ids, split_of

_logger = logging.getLogger(__name__)
SPLIT_TEXT = ("RSNA hands: the project split by film id (sha256('bone-age-v1:<id>'), reserved ids dropped); FracAtlas: "
              "the fracture module's split (official Fracture Split, else sha256('fracatlas-v1:<id>')); JSRT/CRASS12: "
              "the clavicle module's split")
ROTATE_DEG, SCALE, INVERT = 15.0, (0.85, 1.15), 0.3  # ``augment_film``: turn either way, scale, share inverted
SMALL_SCALE = (0.35, 0.85)  # share of the side a film shrunk by ``augment_film(small=...)`` keeps


@dataclass(frozen=True)
class GateFilm:
    path: Path
    hand: bool
    source: str  # rsna_hand / fracatlas_hand / fracatlas_leg / fracatlas_hip / fracatlas_shoulder / chest
    split: str


def rsna_films(root: Path) -> list[GateFilm]:
    """The rsna_hands package (labels.csv + images/), reserved ids dropped."""
    drop = reserved_ids()
    with open(Path(root) / "labels.csv", newline="") as fh:
        return [GateFilm(Path(root) / "images" / r["file"], True, "rsna_hand", split_of(r["id"]))
                for r in csv.DictReader(fh) if r["id"] not in drop]


def fracatlas_films(root: Path) -> list[GateFilm]:
    """Single-part FracAtlas films: frontal hands (positives) and legs, hips, shoulders (negatives). Lateral and
    oblique hands and films of several parts are left out: neither a usable bone-age film nor clearly not a hand."""
    with open(Path(root) / "dataset.csv", newline="") as fh:
        rows = {r["image_id"]: r for r in csv.DictReader(fh)}
    out = []
    for img in read_fracatlas(root):
        r = rows[img.id]
        if r["mixed"] == "1":
            continue
        if r["hand"] == "1":
            if r["frontal"] == "1" and r["lateral"] == "0" and r["oblique"] == "0":
                out.append(GateFilm(img.path, True, "fracatlas_hand", image_split(img)))
            continue
        part = next((p for p in ("leg", "hip", "shoulder") if r[p] == "1"), None)
        if part:
            out.append(GateFilm(img.path, False, f"fracatlas_{part}", image_split(img)))
    return out


def chest_films(root: Path) -> list[GateFilm]:
    return [GateFilm(c.image, False, "chest", case_split(c)) for c in read_cases(root)]


def gate_films(roots: list[Path]) -> list[GateFilm]:
    """Every usable film under ``roots``, each root recognised by its layout."""
    films = []
    for root in map(Path, roots):
        if (root / "labels.csv").is_file():
            films += rsna_films(root)
        elif (root / "dataset.csv").is_file():
            films += fracatlas_films(root)
        else:
            try:
                chests = chest_films(root)
            except FileNotFoundError:
                chests = []
            if not chests:
                raise FileNotFoundError(f"{root}: neither rsna_hands (labels.csv), FracAtlas (dataset.csv) nor JSRT/CRASS12 films")
            films += chests
    return films


def load_inputs(films: list[GateFilm], size: int) -> tuple[list[GateFilm], np.ndarray]:
    """The films that can be read, with their gate inputs (unreadable ones, truncated files in the FracAtlas
    release, logged and left out)."""
    kept, inputs = keep_readable(films, lambda f: whole_film(read_film(f.path).pixels, size))
    return kept, np.stack(inputs)


def synthetic_negatives(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """Blank, noise and smooth-blob images: inputs a gate must turn away without any film behind them."""
    out = []
    for i in range(n):
        kind = i % 3
        if kind == 0:
            x = np.full((size, size), rng.uniform(0, 1), np.float32)
        elif kind == 1:
            x = rng.random((size, size)).astype(np.float32)
        else:
            x = cv2.GaussianBlur(rng.random((size, size)).astype(np.float32), (0, 0), rng.uniform(3, 20))
            x = (x - x.min()) / max(float(np.ptp(x)), 1e-6)
        out.append(whole_film(x, size))
    return np.stack(out)


def augment_film(rng: np.random.Generator, x: np.ndarray, invert: float = INVERT, small: float = 0.0) -> np.ndarray:
    """Any quarter turn and mirror (films arrive in every orientation), small rotation/scale, exposure; with
    probability ``invert`` the grey scale is inverted (some films are stored inverted); with probability ``small``
    the film is shrunk to ``SMALL_SCALE`` of its side at a random spot of a black one (a child's hand on an
    adult's cassette)."""
    x = np.rot90(x, int(rng.integers(4)))
    if rng.random() < 0.5:
        x = x[:, ::-1]
    h, w = x.shape
    shrink = rng.random() < small
    scale = rng.uniform(*SMALL_SCALE) if shrink else rng.uniform(*SCALE)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-ROTATE_DEG, ROTATE_DEG), scale)
    if shrink:
        m[:, 2] += rng.uniform(-1, 1, 2) * (1 - scale) / 2 * np.array([w, h])
    x = cv2.warpAffine(np.ascontiguousarray(x), m, (w, h), borderValue=0)
    x = np.clip(x, 0, 1) ** np.exp(rng.uniform(-0.4, 0.4))
    if rng.random() < invert:
        x = 1 - x
    return np.clip(x * rng.uniform(0.8, 1.2), 0, 1).astype(np.float32)


def train_hand_gate(roots: list[Path], out: Path, *, epochs: int = 8, size: int = 160, batch: int = 32,
                    lr: float = 1e-3, device: str = "auto", seed: int = 0, overwrite: bool = False,
                    limit: int | None = None, small_share: float = 0.3) -> Path:
    """Train on the train films (``small_share`` of them shrunk into a black film, see ``augment_film``), keep the
    best validation AUC (ties: the lower validation BCE), set the threshold so that 99 % of the validation
    hand films pass (a hand turned away costs a reading; a foot let through is still caught downstream by the
    keypoint layout check only sometimes)."""
    rng, dev = start_run(out, overwrite, seed, device)
    films = gate_films(roots)
    if limit:
        films = [films[i] for i in rng.permutation(len(films))[:limit]]
    parts = {s: [f for f in films if f.split == s] for s in ("train", "val", "test")}
    train, val = parts["train"], parts["val"] or parts["train"]
    if not any(f.hand for f in train) or all(f.hand for f in train):
        raise ValueError("the gate needs hand films and other films: pass rsna_hands (or FracAtlas) and FracAtlas or JSRT")
    counts = {s: {src: sum(f.source == src for f in p) for src in sorted({f.source for f in films})} for s, p in parts.items()}
    _logger.info("hand gate: films per split and source %s, device %s", counts, dev)
    train, x_train = load_inputs(train, size)
    val, x_val = load_inputs(val, size)
    y_train, y_val = np.array([f.hand for f in train], np.float32), np.array([f.hand for f in val])
    x_val = np.concatenate([x_val, synthetic_negatives(np.random.default_rng(seed + 1), 30, size)])
    y_val = np.concatenate([y_val, np.zeros(30, bool)])
    n_synth = max(len(train) // 20, 3)
    pos = max(float(y_train.sum()), 1.0)
    model = with_imagenet_encoder(ImageClassifier(1), dev)
    opt, sched = make_optimizer(model, lr, epochs * math.ceil((len(train) + n_synth) / batch))
    log, best, best_state = EpochLog(epochs), (-1.0, -np.inf), None
    for epoch in range(epochs):
        model.train()
        xs = np.concatenate([x_train, synthetic_negatives(rng, n_synth, size)])
        ys = np.concatenate([y_train, np.zeros(n_synth, np.float32)])
        weight = np.where(ys > 0, (len(ys) - pos) / pos, 1.0).astype(np.float32)  # balance hands and the rest
        order, total = rng.permutation(len(xs)), 0.0
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            x = torch.from_numpy(to_model_input(np.stack([augment_film(rng, xs[j], small=small_share) for j in idx]))).to(dev)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                model(x)[:, 0], torch.from_numpy(ys[idx]).to(dev), weight=torch.from_numpy(weight[idx]).to(dev))
            total += step(opt, sched, loss) * len(idx)
        logits = predict_logits(model, x_val, dev)
        auc = float(roc_auc_score(y_val, logits))
        bce = float(torch.nn.functional.binary_cross_entropy_with_logits(torch.from_numpy(logits), torch.from_numpy(y_val).float()))
        log(epoch, loss=total / len(xs), val_auc=auc, val_bce=bce)
        if (auc, -bce) > best:  # the AUC saturates early; then the better-separated epoch wins
            best, best_state = (auc, -bce), snapshot(model)
    model.load_state_dict(best_state)
    p_val = sigmoid(predict_logits(model, x_val, dev))
    threshold = float(np.percentile(p_val[y_val], 1))
    card = {
        "task": "hand_gate", "architecture": "ImageClassifier", "backbone": "efficientnet_lite0",
        "outputs": ["hand_film"], "input_size": size,
        "normalization": "whole film letterboxed (aspect kept) onto a black square of input_size, gray in [0,1]; "
                         "then (x-0.5)/0.25 replicated to 3 channels",
        "data": {"hand films": "RSNA Pediatric Bone Age Challenge 2017 (rsna_hands), FracAtlas frontal hand films",
                 "other films": "FracAtlas leg, hip and shoulder films (Abedeen et al. 2023, CC BY 4.0), JSRT chest "
                                "films, synthetic blank/noise/blob images",
                 "films_per_split_and_source": counts},
        "split": SPLIT_TEXT, "epochs": epochs, "seed": seed,
        "augmentation": {"quarter_turns_and_mirror": True, "rotate_deg": ROTATE_DEG, "scale": list(SCALE), "invert": INVERT,
                         "small_share": small_share, "small_scale": list(SMALL_SCALE)},
        "threshold": threshold,
        "threshold_rule": "1st percentile of the validation hand films' probabilities (99 % of them pass)",
        "val_metrics": {"auc": best[0], "bce": -best[1], "hands_passing": float(np.mean(p_val[y_val] >= threshold)),
                        "others_turned_away": float(np.mean(p_val[~y_val] < threshold))},
        "default": True,
    }
    return save_model(model.cpu(), Path(out), card)
