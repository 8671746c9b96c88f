"""Train the fracture detector (Mask R-CNN on an EfficientNet-Lite FPN) on FracAtlas, official split."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_curve

from .common import load_start, pick_device, start_note, start_run, update_card
from .detection import DetectionSample, predict, train_detector
from .fracture_data import FracAtlasImage, read_fracatlas
from .splits import split_of

_logger = logging.getLogger(__name__)
SPLIT = dict(val=0.1, test=0.1, salt="fracatlas-v1")
SPLIT_TEXT = ("fractured images: the official Utilities/Fracture Split (train/valid/test.csv); non-fractured images: "
              "sha256('fracatlas-v1:<file name>'): test < 0.1 <= val < 0.2 <= train")


def image_split(img: FracAtlasImage) -> str:
    return img.split or split_of(img.id, **SPLIT)


def sample(img: FracAtlasImage) -> DetectionSample:
    return DetectionSample(img.path, img.boxes, np.ones(len(img.boxes), np.int64), img.polygons)


def youden_threshold(probs: np.ndarray, labels: np.ndarray) -> float:
    """The threshold maximising sensitivity + specificity - 1."""
    fpr, tpr, thr = roc_curve(labels, probs)
    return float(min(thr[int(np.argmax(tpr - fpr))], 1.0))


def image_scores(model, imgs: list[FracAtlasImage], max_side: int, device) -> tuple[np.ndarray, np.ndarray]:
    """Film-level probability (the highest instance score, 0 with none) and label of each readable film."""
    kept, preds = predict(model, [sample(i) for i in imgs], max_side, device)
    return (np.array([float(p["scores"].max()) if len(p["scores"]) else 0.0 for p in preds]),
            np.array([len(s.boxes) > 0 for s in kept], int))


def train_fracture(data: Path, out: Path, *, epochs: int = 8, max_side: int = 512, negatives: float = 0.5,
                   batch: int = 4, lr: float = 1e-3, device: str = "auto", seed: int = 0, overwrite: bool = False,
                   limit: int | None = None, init: str | None = None, crop: int | None = None,
                   average_last: int = 0) -> Path:
    """Train on the official train fractures plus ``negatives`` x as many non-fractured train films; keep the best
    validation box mAP50; set the film-level threshold by Youden's index on all validation films. ``init``: go on
    from a shipped fracture model's weights instead of the ImageNet encoder; ``crop``: train on windows of this size
    of the films at long side ``max_side``; ``average_last``: also try the mean weights of the last epochs (see
    ``train_detector``)."""
    from ..registry import load_model
    from .pretrained import load_imagenet_encoder

    rng, dev = start_run(out, overwrite, seed, device)
    start = load_start(init, "fracture")
    imgs = read_fracatlas(Path(data))
    if limit:
        imgs = [i for i in imgs if i.fractured][:limit] + [i for i in imgs if not i.fractured][:limit]
    by = {s: [i for i in imgs if image_split(i) == s] for s in ("train", "val", "test")}
    pos = [i for i in by["train"] if i.fractured]
    neg_pool = [i for i in by["train"] if not i.fractured]
    neg = [neg_pool[k] for k in rng.permutation(len(neg_pool))[:int(round(negatives * len(pos)))]]
    val_pos = [i for i in by["val"] if i.fractured] or pos[:2]
    _logger.info("fracture: %d fractured + %d non-fractured train films, %d fractured val films, device %s",
                 len(pos), len(neg), len(val_pos), pick_device(device))
    card = {"task": "fracture", "data": "FracAtlas (CC BY 4.0), GitHub marvY-O/FracAtlas: COCO JSON instances",
            "split": SPLIT_TEXT, "n_train_fractured": len(pos), "n_train_non_fractured": len(neg),
            "n_val_films": len(by["val"]), "n_test_films": len(by["test"]), "seed": seed,
            "instance_score_threshold": 0.3, "default": True,
            "image_probability": "the highest instance score on the film (0 when none)", "learning_rate": lr,
            "initialised_from": start_note(init, start)}
    weights, _ = train_detector([sample(i) for i in pos + neg], [sample(i) for i in val_pos], ["fracture"], Path(out), card,
                                rng=rng, device=dev, masks=True, max_side=max_side, epochs=epochs, batch=batch, lr=lr, crop=crop,
                                average_last=average_last,
                                pretrained=load_imagenet_encoder,
                                init_state=start.module.state_dict() if start else None)
    model = load_model(Path(out).name, dev, Path(out).parent).module
    val = by["val"] or imgs[:4]
    probs, labels = image_scores(model, val, max_side, dev)
    threshold = youden_threshold(probs, labels) if 0 < labels.sum() < len(labels) else 0.5
    update_card(Path(out).parent / f"{Path(out).name}.json", threshold=threshold,
                threshold_rule=f"Youden's index on the {len(val)} validation films (fractured and not)")
    from ..registry import _load_cached

    _load_cached.cache_clear()
    return weights
