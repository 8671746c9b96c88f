"""Train the bone-scan region classifier on BS-80K region crops (abnormal vs normal uptake)."""
from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from ..bonescan.classify import normalise_counts
from ..classify import predict_logits
from ..io import read_film
from ..nets import ImageClassifier
from ..transforms import sigmoid
from .bonescan_data import RegionCrop, read_region_crops, read_wholebody
from .classifier import fit_binary
from .common import save_model, start_run, with_imagenet_encoder
from .metrics import fit_platt, threshold_at_specificity
from .splits import split_of

_logger = logging.getLogger(__name__)
SPLIT = dict(val=0.1, test=0.2, salt="bonescan-v1")
SPLIT_TEXT = "by file id (the patient key shared by ANT and POST): sha256('bonescan-v1:<id>'): test < 0.2 <= val < 0.3 <= train"


def crop_split(crop: RegionCrop) -> str:
    """'train', 'val' or 'test' for a crop; both views of one patient always land together."""
    return split_of(crop.file_id, **SPLIT)


def _augment(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """Small rotation/scale/shift, a mirror, and counting noise on a normalised crop."""
    h, w = x.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-8, 8), rng.uniform(0.9, 1.1))
    m[:, 2] += rng.uniform(-0.05, 0.05, 2) * (w, h)
    x = cv2.warpAffine(x, m, (w, h), borderValue=0)
    if rng.random() < 0.5:
        x = x[:, ::-1]
    x = x * rng.uniform(0.85, 1.15) + rng.normal(0, rng.uniform(0, 0.03), x.shape)
    return np.clip(x, 0, 1).astype(np.float32)


def load_crops(crops: list[RegionCrop], hw: tuple[int, int]) -> np.ndarray:
    return np.stack([normalise_counts(read_film(c.path).pixels, hw) for c in crops])


def train_region_classifier(data: Path, out: Path, *, regions: list[str] | None = None, epochs: int = 10,
                            hw: tuple[int, int] = (160, 64), batch: int = 64, lr: float = 1e-3, device: str = "auto",
                            seed: int = 0, overwrite: bool = False, limit: int | None = None) -> Path:
    """Train on the train split, keep the best validation-AUC epoch, calibrate on validation (Platt) and set the
    threshold for 90 % validation specificity. Positives are up-weighted by the class ratio."""
    rng, dev = start_run(out, overwrite, seed, device)
    crops = read_region_crops(Path(data), regions)
    if limit:
        crops = crops[:limit]
    parts = {s: [c for c in crops if crop_split(c) == s] for s in ("train", "val", "test")}
    train, val = parts["train"], parts["val"] or parts["train"]
    x_train, y_train = load_crops(train, hw), np.array([c.label for c in train])
    x_val, y_val = load_crops(val, hw), np.array([c.label for c in val])
    model = with_imagenet_encoder(ImageClassifier(1), dev)
    _logger.info("bone-scan regions %s: %d train (%d abnormal), %d val, %d test crops, device %s",
                 sorted({c.region for c in crops}), len(train), int(y_train.sum()), len(val), len(parts["test"]), dev)
    best, pos_weight = fit_binary(model, x_train, y_train, x_val, y_val, _augment, rng=rng, device=dev, epochs=epochs,
                                  batch=batch, lr=lr)
    logits = predict_logits(model, x_val, dev)
    a, b = fit_platt(logits, y_val) if 0 < y_val.sum() < len(y_val) else (1.0, 0.0)
    threshold = threshold_at_specificity(sigmoid(a * logits + b), y_val, 0.9)
    card = {
        "task": "bonescan_region", "architecture": "ImageClassifier", "backbone": "efficientnet_lite0",
        "outputs": ["abnormal_uptake"], "input_hw": list(hw), "regions": sorted({c.region for c in crops}),
        "normalization": "crop resized to input_hw; counts / (99th percentile of body pixels) x 0.5, clipped to [0, 1]; "
                         "then (x-0.5)/0.25 replicated to 3 channels",
        "data": "BS-80K region crops (West China Hospital) from GitHub webmasters777/BoneScanCEP 'dataset project': "
                "chestRANT and chestRPOST, labels from <region>.txt (1 = abnormal uptake)",
        "split": SPLIT_TEXT, "n_train": len(train), "n_val": len(val), "n_test": len(parts["test"]),
        "n_train_abnormal": int(y_train.sum()), "class_weighting": f"BCE pos_weight {pos_weight:.2f} (negatives / positives)",
        "epochs": epochs, "seed": seed, "platt": [a, b],
        "threshold": threshold, "threshold_rule": "90 % specificity on the validation crops (calibrated probabilities)",
        "val_metrics": {"auc": best}, "default": True,
    }
    return save_model(model.cpu(), Path(out), card)


def train_wholebody_detector(data: Path, out: Path, *, epochs: int = 12, max_side: int = 1024, batch: int = 4,
                             lr: float = 1e-3, device: str = "auto", seed: int = 0, overwrite: bool = False,
                             limit: int | None = None) -> Path:
    """Train the hot-spot detector on the BS-80K whole-body release (wholeBodyANT/ant, wholeBodyPOST/post)."""
    from .detection import DetectionSample, train_detector
    from .pretrained import load_imagenet_encoder

    rng, dev = start_run(out, overwrite, seed, device)
    scans = read_wholebody(Path(data))[:limit] if limit else read_wholebody(Path(data))
    classes = sorted({b.label for s in scans for b in s.boxes})
    if not classes:
        raise ValueError(f"{data}: no boxes in any VOC file: nothing to learn")
    samples = {"train": [], "val": [], "test": []}
    for s in scans:
        boxes = np.array([b.box_xyxy for b in s.boxes], np.float32).reshape(-1, 4)
        labels = np.array([classes.index(b.label) + 1 for b in s.boxes], np.int64)
        samples[split_of(s.path.stem, **SPLIT)].append(DetectionSample(s.path, boxes, labels))
    val = samples["val"] or samples["train"][:2]
    _logger.info("whole-body detector: %d train, %d val scans, classes %s, device %s", len(samples["train"]), len(val), classes, dev)
    card = {"task": "bonescan_wholebody", "data": f"BS-80K whole-body scans under {Path(data).name}",
            "split": SPLIT_TEXT.replace("file id", "scan file stem"), "n_test": len(samples["test"]), "seed": seed,
            "score_threshold": 0.5, "default": True}
    weights, _ = train_detector(samples["train"], val, classes, Path(out), card, rng=rng, device=dev,
                                max_side=max_side, epochs=epochs, batch=batch, lr=lr, pretrained=load_imagenet_encoder)
    return weights
