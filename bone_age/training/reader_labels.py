"""Fine-tuning the stage model on readers' labels (a label store, or any tree in the RUS-CHN crop layout), shipped only
when it agrees with the readers better on films it never saw, by a rule printed before training."""
from __future__ import annotations

import copy
import hashlib
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..card import StageSpec
from ..hand.labels import INDEX, LabelStore
from ..hand.scoring import median_stage
from ..transforms import to_model_input
from .augment import random_photometric
from .common import EpochLog, load_start, make_optimizer, save_model, start_run, step, train_mode_frozen_bn
from .stage_data import LabelledCrop, load_rus_chn_tree, read_crop
from .stages import ordinal_bce

__all__ = ["ShipRule", "LabelledSet", "read_labelled_set", "split_by_film", "agreement", "paired_gain_interval",
           "fine_tune_stages"]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShipRule:
    """A new model ships when, on the held-out films, its exact agreement with the readers rises by at least
    ``min_gain`` and the 95 % bootstrap interval of the rise (films resampled, both models paired) lies above zero."""

    min_gain: float = 0.02

    def text(self) -> str:
        return (f"ship iff exact agreement with the readers on the held-out films rises by >= {self.min_gain:.1%} "
                "and the lower end of the paired 95 % bootstrap interval of the rise (films resampled) is above 0")

    def passes(self, old_exact: float, new_exact: float, interval: tuple[float, float]) -> bool:
        return new_exact - old_exact >= self.min_gain and interval[0] > 0


@dataclass(frozen=True)
class LabelledSet:
    """Labelled crops with the film each came from (its sha256, or the crop's own name where no index says)."""

    crops: list[LabelledCrop]
    films: list[str]


def read_labelled_set(root: Path, categories: list[str]) -> LabelledSet:
    """A label store (its ``index.jsonl`` names each crop's film) or a tree in the RUS-CHN crop layout (each crop its
    own film)."""
    root = Path(root)
    if (root / INDEX).is_file():
        entries = LabelStore(root).entries()
        crops = [LabelledCrop(root / e.crop, e.category, e.stage_reader) for e in entries]
        return LabelledSet(crops, [e.film_sha256 for e in entries])
    tree = load_rus_chn_tree(root, categories)
    crops = tree["train"] + tree.get("test", [])
    return LabelledSet(crops, [c.path.name for c in crops])


def split_by_film(films: list[str], held_out_share: float = 0.25) -> set[str]:
    """The films held out, by a hash of their id (the same films for the same store, whichever order); at least one
    film on each side when there are two or more."""
    ids = sorted(set(films))

    def draw(f: str) -> float:
        return int(hashlib.sha256(f"reader-labels-v1:{f}".encode()).hexdigest()[:8], 16) / 2**32

    held = {f for f in ids if draw(f) < held_out_share}
    if len(ids) >= 2 and not held:
        held = {min(ids, key=draw)}
    if len(ids) >= 2 and held == set(ids):
        held.discard(max(ids, key=draw))
    return held


@torch.no_grad()
def predict(model, images: np.ndarray, categories: list[int], device, batch: int = 256) -> np.ndarray:
    """The stage read (the median) of each crop."""
    model.eval()
    out = []
    for i in range(0, len(images), batch):
        x = torch.from_numpy(to_model_input(images[i:i + batch])).to(device)
        c = torch.tensor(categories[i:i + batch], device=device)
        out.append(median_stage(model(x, c).float().cpu().numpy()))
    return np.concatenate(out) if out else np.zeros(0, int)


def agreement(pred: np.ndarray, truth: np.ndarray, cats: list[str]) -> dict:
    """Exact and within-one agreement, per category and over all."""
    out = {}
    for c in sorted(set(cats)) + ["all"]:
        sel = np.array([c in ("all", k) for k in cats])
        d = np.abs(pred[sel] - truth[sel])
        out[c] = {"n": int(sel.sum()), "exact": round(float((d == 0).mean()), 4),
                  "within_one": round(float((d <= 1).mean()), 4)}
    return out


def paired_gain_interval(old_hit: np.ndarray, new_hit: np.ndarray, films: list[str], n: int = 2000,
                         seed: int = 0) -> tuple[float, float]:
    """95 % interval of (new - old) exact agreement, resampling films (a film's bones move together)."""
    ids = sorted(set(films))
    index = {f: np.flatnonzero(np.array(films) == f) for f in ids}
    rng = np.random.default_rng(seed)
    gains = []
    for _ in range(n):
        pick = np.concatenate([index[f] for f in rng.choice(ids, len(ids))])
        gains.append(new_hit[pick].mean() - old_hit[pick].mean())
    lo, hi = np.percentile(gains, [2.5, 97.5])
    return round(float(lo), 4), round(float(hi), 4)


def fine_tune_stages(root: Path, out: Path, *, init: str, epochs: int = 5, lr: float = 3e-4, batch: int = 32,
                     held_out_share: float = 0.25, rule: ShipRule = ShipRule(), force: bool = False, device: str = "auto",
                     seed: int = 0, overwrite: bool = False) -> tuple[Path | None, dict]:
    """Fine-tune ``init`` (a stage model) on the readers' labels under ``root`` with the ordinal loss; the films are
    split (never the crops) and the held-out ones named in the new card. Returns the weights (None when the rule
    refused and ``force`` was not given) and the report: old and new agreement on the same held-out crops, the
    paired interval, the rule and the decision."""
    rng, dev = start_run(out, overwrite, seed, device)
    start = load_start(init, "stages")
    spec = start.card.section(StageSpec)
    cats = list(spec.categories)
    data = read_labelled_set(root, cats)
    held = split_by_film(data.films, held_out_share)
    if not held or len(held) == len(set(data.films)):
        raise ValueError(f"{root}: labels of at least two films are needed (one to train on, one to hold out)")
    for c in data.crops:
        if c.category not in cats or not 1 <= c.stage <= spec.stages_per_category[c.category]:
            raise ValueError(f"{c.path}: stage {c.stage} of {c.category} is not one the model reads")
    images = np.stack([read_crop(c.path, spec.crop_size) for c in data.crops])
    is_test = np.array([f in held for f in data.films])
    cat_idx = np.array([cats.index(c.category) for c in data.crops])
    truth = np.array([c.stage for c in data.crops])
    test_films = [f for f, t in zip(data.films, is_test) if t]
    print(f"rule (fixed before training): {rule.text()}")
    print(f"{len(set(data.films)) - len(held)} films ({(~is_test).sum()} bones) to train on, {len(held)} held out "
          f"({is_test.sum()} bones)")

    model = copy.deepcopy(start.module).to(dev)  # the loaded model is shared (cached): train a copy
    old = predict(model, images[is_test], cat_idx[is_test].tolist(), dev)
    train = np.flatnonzero(~is_test)
    opt, sched = make_optimizer(model, lr, epochs * math.ceil(len(train) / batch))
    log = EpochLog(epochs)
    for epoch in range(epochs):
        train_mode_frozen_bn(model)
        order = rng.permutation(train)
        losses = []
        for i in range(0, len(order), batch):
            j = order[i:i + batch]
            x = torch.from_numpy(to_model_input(np.stack([random_photometric(rng, images[k]) for k in j]))).to(dev)
            cat = torch.from_numpy(cat_idx[j]).to(dev)
            y = torch.from_numpy(truth[j] - 1).to(dev)
            above = (torch.arange(model.max_thresholds, device=dev)[None] < y[:, None]).float()
            losses.append(step(opt, sched, ordinal_bce(model.cumulative_logits(model.latent_of(x, cat), cat), above,
                                                       model.n_stages[cat])))
        log(epoch, loss=float(np.mean(losses)))
    new = predict(model, images[is_test], cat_idx[is_test].tolist(), dev)
    test_cats = [cats[k] for k in cat_idx[is_test]]
    before, after = agreement(old, truth[is_test], test_cats), agreement(new, truth[is_test], test_cats)
    interval = paired_gain_interval(old == truth[is_test], new == truth[is_test], test_films)
    passes = rule.passes(before["all"]["exact"], after["all"]["exact"], interval)
    report = {"rule": rule.text(), "held_out_films": sorted(held), "old": before, "new": after,
              "exact_gain": round(after["all"]["exact"] - before["all"]["exact"], 4), "gain_interval95": list(interval),
              "passes": passes, "forced": force and not passes}
    for c in sorted(set(test_cats)) + ["all"]:
        print(f"{c:<10} n={before[c]['n']:<5} exact {before[c]['exact']:.3f} -> {after[c]['exact']:.3f}   "
              f"within one {before[c]['within_one']:.3f} -> {after[c]['within_one']:.3f}")
    print(f"exact agreement gain {report['exact_gain']:+.3f} (95 % interval {interval[0]:+.3f} to {interval[1]:+.3f}): "
          + ("the rule passes" if passes else "the rule refuses" + ("; written anyway (--force)" if force else "")))
    if not (passes or force):
        return None, report
    card = {k: v for k, v in start.card.raw.items()
            if k in ("task", "architecture", "backbone", "categories", "stages_per_category", "crop_size",
                     "normalization", "crop_framing", "localizer", "test_time_views", "low_confidence_threshold",
                     "paired_disagreement_stages", "input_norm")}
    card.update(training_mode="reader_labels", initialised_from=f"{init} (sha256 {start.sha256})", epochs=epochs,
                learning_rate=lr, seed=seed, n_train=int(len(train)), n_val=int(is_test.sum()), default=False,
                data=f"reader labels under {Path(root).name}: {len(data.crops)} bones of {len(set(data.films))} films",
                split="by film: sha256('reader-labels-v1:<film>') < held_out_share held out; the films are listed",
                reader_label_metrics=report, choice=rule.text() + (" (refused; written with --force)" if report["forced"] else ""))
    return save_model(model.cpu(), Path(out), card), report
