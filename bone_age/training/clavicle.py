"""Train the clavicle U-Net on JSRT/SCR (or CRASS12) films: top band of the film, right and left masks."""
from __future__ import annotations

import logging
import math
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..clavicle.segmenter import band_input, band_rule
from ..io import read_film
from ..nets import UNet
from ..transforms import to_model_input
from .clavicle_data import ClavicleCase, load_masks, read_cases
from .common import EpochLog, make_optimizer, save_model, snapshot, start_run, step, with_imagenet_encoder
from .splits import split_of

_logger = logging.getLogger(__name__)
SPLIT = dict(val=0.1, test=0.2, salt="clavicle-v1")
SPLIT_TEXT = ("JSRT/SCR: by film id, sha256('clavicle-v1:<id>'): test < 0.2 <= val < 0.3 <= train. CRASS12: its "
              "val.txt is the test set, validation drawn from train.txt by the same hash")


def case_split(case: ClavicleCase) -> str:
    """'train', 'val' or 'test' (CRASS12's own lists are honoured: val.txt -> test)."""
    if case.split == "val":
        return "test"
    s = split_of(case.id, **SPLIT)
    return "train" if case.split == "train" and s == "test" else s


def band_pair(case: ClavicleCase, rule: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The network input band and its (2, h, w) masks."""
    px = read_film(case.image).pixels
    x, rows = band_input(px, rule)
    m = load_masks(case, px.shape)[:, :rows]
    h, w = x.shape
    return x, np.stack([cv2.resize(c, (w, h), interpolation=cv2.INTER_NEAREST) for c in m])


def _augment(rng: np.random.Generator, x: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h, w = x.shape
    a = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-7, 7), rng.uniform(0.9, 1.1))
    a[:, 2] += rng.uniform(-0.04, 0.04, 2) * (w, h)
    x = cv2.warpAffine(x, a, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    m = np.stack([cv2.warpAffine(c, a, (w, h), flags=cv2.INTER_NEAREST) for c in m])
    if rng.random() < 0.5:  # a mirrored film swaps the patient's sides
        x, m = x[:, ::-1], m[::-1, :, ::-1]
    x = np.clip(x, 0, 1) ** np.exp(rng.uniform(-0.4, 0.4))
    x = (x - 0.5) * rng.uniform(0.8, 1.2) + 0.5 + rng.uniform(-0.08, 0.08)
    return np.clip(x, 0, 1).astype(np.float32), np.ascontiguousarray(m)


def seg_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """BCE + soft Dice per channel."""
    p = torch.sigmoid(logits)
    inter = (p * target).sum((2, 3))
    dice = 1 - (2 * inter + 1) / (p.sum((2, 3)) + target.sum((2, 3)) + 1)
    return F.binary_cross_entropy_with_logits(logits, target) + dice.mean()


@torch.no_grad()
def jaccard(model, xs: np.ndarray, ms: np.ndarray, device, batch: int = 8) -> np.ndarray:
    """(N, 2) Jaccard per film and side at the network's resolution."""
    model.eval()
    out = []
    for i in range(0, len(xs), batch):
        p = model(torch.from_numpy(to_model_input(xs[i:i + batch])).to(device)).cpu().numpy() > 0
        t = ms[i:i + batch] > 0
        out.append((p & t).sum((2, 3)) / np.maximum((p | t).sum((2, 3)), 1))
    return np.concatenate(out)


def train_clavicle(data: Path, out: Path, *, epochs: int = 14, batch: int = 4, lr: float = 2e-3, device: str = "auto",
                   seed: int = 0, overwrite: bool = False, limit: int | None = None,
                   input_wh: tuple[int, int] | None = None) -> Path:
    """Train on the train split, keep the best mean validation Jaccard, save weights + card. The band rule is
    ``assets/standards/clavicle_band.json`` (``input_wh`` replaces its network size) and travels in the card."""
    rng, dev = start_run(out, overwrite, seed, device)
    rule = dict(band_rule(), input_wh=list(input_wh)) if input_wh else band_rule()
    cases = read_cases(Path(data))[:limit] if limit else read_cases(Path(data))
    parts = {s: [c for c in cases if case_split(c) == s] for s in ("train", "val", "test")}
    train, val = parts["train"], parts["val"] or parts["train"][:2]
    _logger.info("clavicle: %d train, %d val, %d test films, device %s", len(train), len(val), len(parts["test"]), dev)
    xt, mt = map(np.stack, zip(*(band_pair(c, rule) for c in train)))
    xv, mv = map(np.stack, zip(*(band_pair(c, rule) for c in val)))
    model = with_imagenet_encoder(UNet(2), dev)
    opt, sched = make_optimizer(model, lr, epochs * math.ceil(len(train) / batch))
    log, best, best_state = EpochLog(epochs), -1.0, None
    for epoch in range(epochs):
        model.train()
        order, total = rng.permutation(len(train)), 0.0
        for i in range(0, len(order), batch):
            xb, mb = zip(*(_augment(rng, xt[j], mt[j]) for j in order[i:i + batch]))
            x = torch.from_numpy(to_model_input(np.stack(xb))).to(dev)
            total += step(opt, sched, seg_loss(model(x), torch.from_numpy(np.stack(mb)).float().to(dev))) * len(xb)
        j = jaccard(model, xv, mv, dev).mean(0)
        log(epoch, loss=total / len(train), val_jaccard_right=j[0], val_jaccard_left=j[1])
        if j.mean() > best:
            best, best_state = float(j.mean()), snapshot(model)
    model.load_state_dict(best_state)
    card = {
        "task": "clavicle", "architecture": "UNet", "backbone": "efficientnet_lite0",
        "classes": ["right_clavicle", "left_clavicle"], "sides": "the patient's right (image left) and left",
        "band_rule": rule, "normalization": "gray in [0,1]: (x-0.5)/0.25, replicated to 3 channels",
        "data": f"{Path(data).name}: JSRT films (Japanese Society of Radiological Technology) with SCR clavicle masks "
                "(van Ginneken et al. 2006), from GitHub AnishHota/JSRT-Segmentation",
        "split": SPLIT_TEXT, "n_train": len(train), "n_val": len(val), "n_test": len(parts["test"]),
        "test_ids": sorted(c.id for c in parts["test"]), "epochs": epochs, "seed": seed,
        "val_metrics": {"jaccard_mean_at_input_resolution": best}, "default": True,
    }
    return save_model(model.cpu(), Path(out), card)
