"""Train the stage classifier: weakly from film-level bone age (what ships), or supervised from stage labels."""
from __future__ import annotations

import logging
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..card import StageSpec
from ..hand.localize import Localizer
from ..hand.regions import crop_region
from ..hand.scoring import median_stage
from ..hand.standard import RusChnStandard, load_standard
from ..nets import StageNet
from ..registry import load_model
from ..transforms import to_model_input
from .augment import random_photometric
from .common import (EpochLog, load_start, make_optimizer, save_model, snapshot, start_note, start_run,
                     starting_weights, step, train_mode_frozen_bn, with_imagenet_encoder)
from .rsna import load_rsna_299, load_rsna_hands
from .splits import split_of
from .stage_data import RSNA_ASPECT, StageFilm, load_rus_chn_tree, localize_films, read_crop

_logger = logging.getLogger(__name__)
SEXES = ("female", "male")
LOW_CONFIDENCE_QUANTILE = 0.01  # share of validation bones a shipped weak model flags as read with low confidence
PAIRED_SHARE = 0.01  # at most this share of validation films is flagged for paired bones apart, per pair
PAIRED_RULE = (f"per pair of bones read in one category (fingers III and V), the smallest stage difference d >= 2 "
               f"that at most {PAIRED_SHARE:.0%} of the validation films reach "
               "(training.stages.paired_disagreement_limits)")
WEAK_METHOD = (
    "No radiologist stage labels were used. Each film's bone age (a Greulich-Pyle reading) and sex give a target "
    "RUS-CHN total through the inverse of the standard's score-to-age table (ages beyond the table are clipped to "
    "its ends). The network reads the 13 crops of a film and gives, per bone, an ordinal (cumulative-link) stage "
    "distribution; training makes the bone age that the sum over bones of the expected points gives (through the "
    "same table, so a year counts the same at every age) match the age of the target total (Huber loss; the share "
    "given by the card's read_weight is taken instead on the total of the stages as read, each bone's median, its "
    "gradient passed straight through the expected points), while "
    "a prior from the standard keeps each bone's stage meaningful: a common maturity spread over the bones (each "
    "bone at the stage whose points reach the same share of its maximum as the target total has of 1000), plus "
    "agreement of paired bones (fingers III and V). Limits: these stages are the model's reading of maturity "
    "shaped by that prior, not stage labels a radiologist assigned; per-bone stages can be off by one or more even "
    "when the total is right; the target comes from a different standard (Greulich-Pyle) than the one scored; "
    "RSNA films are North American children, whereas RUS-CHN was normed on Chinese children.")


def _tables(std: RusChnStandard) -> tuple[list[str], torch.Tensor, torch.Tensor]:
    """Categories, each bone's category index (13,), and points (2 sexes, 13 bones, K_max), zero-padded."""
    cats = list(std.categories)
    kmax = max(std.stages_per_category.values())
    pts = torch.zeros(2, len(std.bones), kmax)
    for s, sex in enumerate(SEXES):
        for b, bone in enumerate(std.bones):
            v = std.points[sex][bone]
            pts[s, b, :len(v)] = torch.tensor(v, dtype=torch.float32)
    return cats, torch.tensor([cats.index(std.category_of(b)) for b in std.bones]), pts


def age_curve(std: RusChnStandard) -> tuple[torch.Tensor, torch.Tensor]:
    """The score-to-age table as a piecewise-linear curve per sex: totals (2, R) rising strictly (the table's
    interval midpoints, kept monotone, repeats dropped) and their ages (2, R); rows padded with the last pair."""
    curves = []
    for sex in SEXES:
        pairs = []
        for age, lo, hi in std.age_table[sex]:
            if not pairs or (lo + hi) / 2 > pairs[-1][0]:
                pairs.append(((lo + hi) / 2, age))
        curves.append(pairs)
    r = max(map(len, curves))
    t = torch.tensor([c + [c[-1]] * (r - len(c)) for c in curves], dtype=torch.float32)
    return t[..., 0].contiguous(), t[..., 1].contiguous()


def age_of_total(total: torch.Tensor, sex: torch.Tensor, curve: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Differentiable bone age (years) of totals (N,) for sexes (N,) (0 female, 1 male); clipped to the table."""
    scores, ages = curve[0][sex], curve[1][sex]
    i = torch.searchsorted(scores, total[:, None].detach().contiguous()).clamp(1, scores.shape[1] - 1)
    s0, s1 = scores.gather(1, i - 1)[:, 0], scores.gather(1, i)[:, 0]
    a0, a1 = ages.gather(1, i - 1)[:, 0], ages.gather(1, i)[:, 0]
    t = ((total - s0) / (s1 - s0).clamp_min(1e-6)).clamp(0, 1)
    return a0 + t * (a1 - a0)


def prior_stages(std: RusChnStandard, sex: str, score: float) -> np.ndarray:
    """The standard's prior: a common maturity spread over bones. Each bone sits at the (fractional) stage where
    its points reach the same share of its maximum as the film's target total has of 1000. Returns (13,)."""
    frac = score / sum(std.points[sex][b][-1] for b in std.bones)
    out = []
    for bone in std.bones:
        share = np.asarray(std.points[sex][bone], float) / std.points[sex][bone][-1]
        out.append(float(np.interp(frac, share, np.arange(1, len(share) + 1))))
    return np.array(out)


def _prior_dist(stages: np.ndarray, n_stages: list[int], kmax: int, sigma: float = 1.0) -> np.ndarray:
    k = np.arange(1, kmax + 1)
    q = np.exp(-((k[None] - stages[:, None]) ** 2) / (2 * sigma**2))
    q[k[None] > np.array(n_stages)[:, None]] = 0
    return q / q.sum(1, keepdims=True)


def _above(q: np.ndarray) -> np.ndarray:
    """Stage distributions (..., K) -> P(stage > k) for k = 1..K-1."""
    return np.clip(1.0 - np.cumsum(q, -1)[..., :-1], 0.0, 1.0)


def _jitter(r, rng: np.random.Generator):
    side = r.crop_side_px * float(np.exp(rng.normal(0, 0.08)))
    c = np.array(r.center_xy) + rng.normal(0, 0.05 * r.crop_side_px, 2)
    return replace(r, center_xy=(float(c[0]), float(c[1])), angle_deg=r.angle_deg + float(rng.normal(0, 6)), crop_side_px=side)


def epoch_order(ages: np.ndarray, balance: float, rng: np.random.Generator, below: float | None = None) -> np.ndarray:
    """One epoch's film indices: a permutation, or with ``balance`` > 0 as many draws with replacement, each film
    drawn with probability proportional to (films in its whole-year age bin) ** -balance, so rarer ages come more often;
    with ``below``, only films younger than that many years are favoured so (the rest weigh as the largest bin's)."""
    if balance <= 0:
        return rng.permutation(len(ages))
    bins = np.floor(ages).astype(int)
    bins -= bins.min()
    counts = np.bincount(bins)[bins]
    w = counts.astype(float) ** -balance
    if below is not None:
        w[ages >= below] = float(counts.max()) ** -balance
    return rng.choice(len(ages), len(ages), replace=True, p=w / w.sum())


def film_crops(f: StageFilm, size: int, rng: np.random.Generator | None) -> np.ndarray:
    px = f.pixels.astype(np.float32) / 255.0
    crops = []
    for r in f.regions:
        c = crop_region(px, _jitter(r, rng) if rng is not None else r, size, mirror=f.side == "right")
        crops.append(random_photometric(rng, c) if rng is not None else c)
    return np.stack(crops)


@torch.no_grad()
def predict_films(model: StageNet, films: list[StageFilm], size: int, device, batch: int = 16) -> np.ndarray:
    """(N, 13, K_max) stage probabilities for un-augmented crops."""
    std = load_standard()
    _, bone_cat, _ = _tables(std)
    model.eval()
    out = []
    for i in range(0, len(films), batch):
        chunk = films[i:i + batch]
        x = torch.from_numpy(to_model_input(np.concatenate([film_crops(f, size, None) for f in chunk]))).to(device)
        cat = bone_cat.repeat(len(chunk)).to(device)
        out.append(model(x, cat).float().cpu().numpy().reshape(len(chunk), 13, -1))
    return np.concatenate(out)


def ordinal_bce(cum_logits: torch.Tensor, target_above: torch.Tensor, n_stages: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy on each threshold 'stage > k' (stable where stage probabilities underflow);
    ``target_above`` (N, K_max-1) holds P(stage > k) targets; thresholds past a category's K-1 are ignored."""
    valid = torch.arange(cum_logits.shape[1], device=cum_logits.device)[None] < (n_stages[:, None] - 1)
    bce = F.binary_cross_entropy_with_logits(cum_logits, target_above, reduction="none")
    return (bce * valid).sum() / valid.sum()


def read_total(cum_logits: torch.Tensor, bone_points: torch.Tensor) -> torch.Tensor:
    """Totals (N,) of the stages the pipeline reads (each bone's median: 1 + thresholds exceeded) from cumulative
    logits (N*13, K-1) and the films' points per bone and stage (N, 13, K)."""
    read = (cum_logits.detach() > 0).sum(1).view(bone_points.shape[:2])
    return bone_points.gather(2, read[..., None])[..., 0].sum(1)


def weak_loss(model, z, cat, films_sex, target, prior_above, pts, pair_index, curve, w_prior=0.3, w_pair=0.05,
              w_read=0.0):
    """Bone age of the summed expected points vs that of the target total (Huber, years) + the standard's stage
    prior on each threshold + agreement of paired bones (III and V). With ``w_read`` > 0, that share of the age term
    is the error of the stages as read (each bone's median), its gradient passed straight through the expected points."""
    n = len(target)
    p = model.probabilities(z, cat).view(n, 13, -1)
    expected = (p * pts[films_sex]).sum(-1).sum(-1)
    cum_logits = model.cumulative_logits(z, cat)
    target_age = age_of_total(target, films_sex, curve)
    l_sum = F.huber_loss(age_of_total(expected, films_sex, curve), target_age, delta=1.0)
    if w_read > 0:
        as_read = expected + (read_total(cum_logits, pts[films_sex]) - expected).detach()
        l_sum = (1 - w_read) * l_sum + w_read * F.huber_loss(age_of_total(as_read, films_sex, curve), target_age, delta=1.0)
    l_prior = ordinal_bce(cum_logits, prior_above.view(n * 13, -1), model.n_stages[cat])
    z = z.view(n, 13)
    l_pair = ((z[:, pair_index[:, 0]] - z[:, pair_index[:, 1]]) ** 2).mean()
    return l_sum + w_prior * l_prior + w_pair * l_pair, float(l_sum.detach())


def weak_films(roots: list[Path], localizer: Localizer, cache: Path | None, limit: int | None
               ) -> tuple[list[StageFilm], list[StageFilm]]:
    """Localized films from each root: ``rsna_hands`` (full resolution; split by id) and the 299 px RSNA copy
    (squashed; its 'train' and 'val' ids, none that rsna_hands holds). Returns (full-resolution, 299 px) films."""
    full, low = [], []
    for root in roots:
        if (root / "labels.csv").is_file():
            full += load_rsna_hands(root)[:limit]
        elif (root / "boneage-training-dataset.csv").is_file():
            low += [f for f in load_rsna_299(root) if split_of(f.id) != "test"][:limit]
        else:
            raise FileNotFoundError(f"{root}: neither rsna_hands (labels.csv) nor the RSNA 299 px copy (boneage-training-dataset.csv)")
    if not full:
        raise FileNotFoundError("weak stage training needs rsna_hands among --data: its films validate and test at full resolution")
    held = {f.id for f in full}
    return (localize_films(full, localizer, cache),
            localize_films([f for f in low if f.id not in held], localizer, cache, squashed=True))


def train_weak(roots: list[Path], out: Path, *, localizer: str, epochs: int = 12, crop: int | None = None, batch: int = 8,
               lr: float = 1e-3, device: str = "auto", seed: int = 0, overwrite: bool = False, cache: Path | None = None,
               limit: int | None = None, init: str | None = None, read_weight: float = 0.0,
               consistency: float = 0.0, age_balance: float = 0.0, age_balance_below: float | None = None) -> Path:
    """Weakly supervised training from film-level bone age and sex (see the model card for the method); with
    ``init``, goes on from a shipped stage model's weights; ``read_weight``: see ``weak_loss``'s ``w_read``;
    ``consistency`` > 0: each bone is also cropped a second time with other jitter, and that weight times the mean
    squared difference of its two latent maturities is added, so that a small change of crop moves the stage less;
    ``age_balance`` > 0 draws each epoch's films favouring rare ages, with ``age_balance_below`` only the younger
    ones (``epoch_order``); ``crop``: side of each bone's crop in pixels (default ``init``'s, else 80; the network
    pools globally, so a model goes on training at another side)."""
    rng, dev = start_run(out, overwrite, seed, device)
    start = load_start(init, "stages")
    crop = crop or (start.card.section(StageSpec).crop_size if start else 80)
    std = load_standard()
    cats, bone_cat, pts = _tables(std)
    full, low = weak_films([Path(r) for r in roots], Localizer(load_model(localizer, dev)), cache, limit)
    train = [f for f in full if split_of(f.id) == "train"] or full
    val = [f for f in full if split_of(f.id) == "val"] or full[:4]
    low_train, low_val = [f for f in low if split_of(f.id) == "train"], [f for f in low if split_of(f.id) == "val"]
    _logger.info("stages (weak): %d + %d (299 px) train, %d + %d (299 px) val films on %s",
                 len(train), len(low_train), len(val), len(low_val), dev)
    train, n_val_full, val = train + low_train, len(val), val + low_val
    n_stages = [std.n_stages(b) for b in std.bones]
    kmax = max(n_stages)
    targets = {f.id: std.score_for_age(SEXES[f.male], f.age_years) for f in train + val}
    priors = {f.id: _above(_prior_dist(prior_stages(std, SEXES[f.male], targets[f.id]), n_stages, kmax)) for f in train + val}
    pair_index = torch.tensor([[std.bones.index(a), std.bones.index(b)] for a, b in std.paired.values()])
    model = starting_weights(StageNet([std.stages_per_category[c] for c in cats]), start, dev)
    pts, bone_cat, curve = pts.to(dev), bone_cat.to(dev), tuple(t.to(dev) for t in age_curve(std))
    opt, sched = make_optimizer(model, lr, epochs * math.ceil(len(train) / batch))
    log, best, best_state = EpochLog(epochs), float("inf"), None
    train_ages = np.array([f.age_years for f in train])
    for epoch in range(epochs):
        model.train()
        order = epoch_order(train_ages, age_balance, rng, age_balance_below)
        run = []
        for i in tqdm(range(0, len(order), batch), desc=f"epoch {epoch + 1}", unit="batch", mininterval=30):
            chunk = [train[j] for j in order[i:i + batch]]
            x = torch.from_numpy(to_model_input(np.concatenate([film_crops(f, crop, rng) for f in chunk]))).to(dev)
            cat = bone_cat.repeat(len(chunk))
            z = model.latent_of(x, cat)
            sex = torch.tensor([int(f.male) for f in chunk], device=dev)
            target = torch.tensor([targets[f.id] for f in chunk], device=dev, dtype=torch.float32)
            q = torch.from_numpy(np.stack([priors[f.id] for f in chunk])).float().to(dev)
            loss, l_sum = weak_loss(model, z, cat, sex, target, q, pts, pair_index.to(dev), curve, w_read=read_weight)
            if consistency > 0:
                again = torch.from_numpy(to_model_input(np.concatenate([film_crops(f, crop, rng) for f in chunk]))).to(dev)
                loss = loss + consistency * F.mse_loss(model.latent_of(again, cat), z)
            step(opt, sched, loss)
            run.append(l_sum)
        val_probs = predict_films(model, val, crop, dev)
        err = _abs_err_years(std, val, val_probs)
        mae, by_source = float(err.mean()), {"rsna_hands": float(err[:n_val_full].mean())}
        if len(val) > n_val_full:
            by_source["rsna_299px"] = float(err[n_val_full:].mean())
        log(epoch, age_loss=float(np.mean(run)), val_mae_years=mae, **{f"val_{k}": v for k, v in by_source.items()})
        if mae < best:
            best, best_state = mae, snapshot(model)
            best_sources = {f"mae_months_{k}": round(v * 12, 2) for k, v in by_source.items()}
            best_threshold = low_confidence_threshold(val_probs)
            best_limits = paired_disagreement_limits(std, median_stage(val_probs))
    model.load_state_dict(best_state)
    card = _card(std, cats, crop, "weak", epochs, seed, len(train), len(val), localizer)
    card.update(learning_rate=lr, initialised_from=start_note(init, start), read_weight=read_weight, consistency=consistency,
                age_balance=age_balance, age_balance_below=age_balance_below,
                n_val_299px=len(low_val), n_train_299px=len(low_train), low_confidence_threshold=best_threshold,
                low_confidence_rule=f"the {LOW_CONFIDENCE_QUANTILE:.0%} quantile of the read stage's probability over the "
                                    "validation films' bones (training.stages.low_confidence_threshold)",
                paired_disagreement_stages=best_limits, paired_disagreement_rule=PAIRED_RULE,
                val_metrics={"mae_years_uncalibrated": round(best, 3), **best_sources}, method=WEAK_METHOD,
                split="sha256('bone-age-v1:<id>'): test < 0.1 <= val < 0.2 <= train (test never used in training or selection); "
                      "validation on the 'val' films of both sources, pooled (selection), and reported per source")
    card["data"] = ("rsna_hands: RSNA Pediatric Bone Age 2017 training films at up to 1024 px with Greulich-Pyle bone age and "
                    "sex (research use with attribution; Halabi et al., Radiology 2019); reserved_ids.txt dropped")
    if low:
        card["data"] += ("; plus the 'train' ids (and, for validation, the 'val' ids) of the 299 px RSNA copy (GitHub "
                         f"samirsafwan/Predicting-Bone-Age-with-Deep-CNNs) that rsna_hands does not hold, stretched back to height = {RSNA_ASPECT} x width before localizing")
    return save_model(model.cpu(), Path(out), card)


def low_confidence_threshold(probs: np.ndarray, quantile: float = LOW_CONFIDENCE_QUANTILE) -> float:
    """The probability of the read (median) stage below which a bone is flagged: its ``quantile`` over the bones of
    the validation films (N, 13, K). The weak path's distributions are broad by design (the prior spreads each bone
    over neighbouring stages), so a fixed 0.5 would flag nearly every bone."""
    read = median_stage(probs)
    conf = np.take_along_axis(probs, read[..., None] - 1, axis=-1)[..., 0]
    return round(float(np.quantile(conf, quantile)), 4)


def paired_gaps(std: RusChnStandard, stages: np.ndarray) -> dict[str, np.ndarray]:
    """Per paired category (``std.paired``), |stage of one bone - stage of the other| for each film of ``stages``
    (N x 13 read stages, the standard's bone order)."""
    return {c: np.abs(stages[:, std.bones.index(a)] - stages[:, std.bones.index(b)]) for c, (a, b) in std.paired.items()}


def paired_disagreement_limits(std: RusChnStandard, stages: np.ndarray, share: float = PAIRED_SHARE) -> dict[str, int]:
    """Per paired category, the smallest stage difference d >= 2 between its two bones that at most ``share`` of the
    validation films (``stages``: N x 13 read stages) reach; a film at or beyond it is warned about
    (``hand.warnings.paired_apart``)."""
    return {c: next(d for d in range(2, int(gap.max()) + 3) if (gap >= d).mean() <= share)
            for c, gap in paired_gaps(std, stages).items()}


def _abs_err_years(std: RusChnStandard, films: list[StageFilm], probs: np.ndarray) -> np.ndarray:
    """|RUS-CHN bone age (the median stage of each bone, as the pipeline reads it) - label| per film, in years."""
    ages = [std.score(SEXES[f.male], {b: int(k) for b, k in zip(std.bones, median_stage(p))}).bone_age_years
            for f, p in zip(films, probs)]
    return np.abs(np.array(ages) - np.array([f.age_years for f in films]))


def train_supervised(root: Path, out: Path, *, epochs: int = 20, crop: int = 80, batch: int = 64, lr: float = 1e-3,
                     device: str = "auto", seed: int = 0, overwrite: bool = False) -> tuple[Path, dict]:
    """Supervised training on the RUS-CHN crop set; returns the weights and per-category test accuracy."""
    rng, dev = start_run(out, overwrite, seed, device)
    std = load_standard()
    cats = list(std.categories)
    splits = load_rus_chn_tree(Path(root), cats)
    train, test = splits["train"], splits.get("test", [])
    for item in train + test:
        if not 1 <= item.stage <= std.stages_per_category[item.category]:
            raise ValueError(f"{item.path}: stage {item.stage} outside 1..{std.stages_per_category[item.category]} for {item.category}")
    images = {it.path: read_crop(it.path, crop) for it in train + test}
    model = with_imagenet_encoder(StageNet([std.stages_per_category[c] for c in cats]), dev)
    opt, sched = make_optimizer(model, lr, epochs * math.ceil(len(train) / batch))
    log = EpochLog(epochs)
    for epoch in range(epochs):
        train_mode_frozen_bn(model)
        order = rng.permutation(len(train))
        losses = []
        for i in range(0, len(order), batch):
            chunk = [train[j] for j in order[i:i + batch]]
            x = torch.from_numpy(to_model_input(np.stack([random_photometric(rng, images[it.path]) for it in chunk]))).to(dev)
            cat = torch.tensor([cats.index(it.category) for it in chunk], device=dev)
            y = torch.tensor([it.stage - 1 for it in chunk], device=dev)
            above = (torch.arange(model.max_thresholds, device=dev)[None] < y[:, None]).float()  # stage-1 > k
            losses.append(step(opt, sched, ordinal_bce(model.cumulative_logits(model.latent_of(x, cat), cat), above, model.n_stages[cat])))
        log(epoch, loss=float(np.mean(losses)))
    metrics = evaluate_supervised(model, test or train, images, cats, dev)
    card = _card(std, cats, crop, "supervised", epochs, seed, len(train), len(test), None)
    card["test_metrics" if test else "train_metrics"] = metrics
    return save_model(model.cpu(), Path(out), card), metrics


@torch.no_grad()
def evaluate_supervised(model, items, images, cats, dev) -> dict:
    """Per-category accuracy and within-one-stage accuracy."""
    model.eval()
    rows = []
    for i in range(0, len(items), 128):
        chunk = items[i:i + 128]
        x = torch.from_numpy(to_model_input(np.stack([images[it.path] for it in chunk]))).to(dev)
        cat = torch.tensor([cats.index(it.category) for it in chunk], device=dev)
        pred = median_stage(model(x, cat).float().cpu().numpy())
        rows += [(it.category, it.stage, int(p)) for it, p in zip(chunk, pred)]
    out = {}
    for c in cats + ["all"]:
        sel = [(s, p) for k, s, p in rows if c in ("all", k)]
        if sel:
            s, p = np.array(sel).T
            out[c] = {"n": len(sel), "accuracy": round(float((s == p).mean()), 4), "within_one": round(float((abs(s - p) <= 1).mean()), 4)}
    return out


def _card(std, cats, crop, mode, epochs, seed, n_train, n_val, localizer) -> dict:
    return {
        "task": "stages", "architecture": "StageNet", "backbone": "efficientnet_lite0", "training_mode": mode,
        "categories": cats, "stages_per_category": std.stages_per_category,
        "crop_size": crop, "normalization": "gray in [0,1]: (x-0.5)/0.25, replicated to 3 channels",
        "crop_framing": "square around the region rule's rectangle (assets/standards/rus_regions.json), distal end up, right hands mirrored",
        "localizer": localizer, "epochs": epochs, "seed": seed, "n_train": n_train, "n_val": n_val,
    }
