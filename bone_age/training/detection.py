"""Train a Faster/Mask R-CNN detector (``bone_age.detection``) and score it with COCO metrics (pycocotools)."""
from __future__ import annotations

import contextlib
import io
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch
from tqdm import tqdm

from ..detection import build_detector, fit_long_side
from ..io import read_film
from .common import EpochLog, keep_readable, make_optimizer, save_model, snapshot, step

_logger = logging.getLogger(__name__)


@dataclass
class DetectionSample:
    """One image and its instances in the image's pixels: boxes (N, 4) xyxy, labels 1..C, polygons per instance."""

    path: Path
    boxes: np.ndarray
    labels: np.ndarray
    polygons: list[list[np.ndarray]] = field(default_factory=list)


def load_scaled(sample: DetectionSample, max_side: int) -> tuple[np.ndarray, float]:
    """The image with its long side at most ``max_side`` and the scale applied."""
    return fit_long_side(read_film(sample.path).pixels, max_side)


def _masks(sample: DetectionSample, scale: float, hw: tuple[int, int]) -> np.ndarray:
    out = np.zeros((len(sample.boxes), *hw), np.uint8)
    for i, polys in enumerate(sample.polygons):
        cv2.fillPoly(out[i], [np.round(p * scale).astype(np.int32) for p in polys], 1)
    return out


def zoom_crop(px: np.ndarray, boxes: np.ndarray, masks: np.ndarray | None, side: int, crop: int,
              rng: np.random.Generator, keep: float = 0.4) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    """A ``crop`` x ``crop`` window of the image scaled to long side ``side`` (the detector's inference frame) times a
    random zoom in [0.8, 1.25]; 70% of windows on an instance when there is one. Boxes are moved and clipped; an
    instance is kept when at least ``keep`` of its box area stays in the window. Returns pixels, boxes, masks and
    the indices of the kept instances."""
    f = side / max(px.shape) * math.exp(rng.uniform(-0.22, 0.22))
    h, w = max(1, round(px.shape[0] * f)), max(1, round(px.shape[1] * f))
    canvas = np.zeros((max(h, crop), max(w, crop)), np.float32)
    canvas[:h, :w] = cv2.resize(px, (w, h), interpolation=cv2.INTER_LINEAR)
    boxes = boxes * f
    if len(boxes) and rng.random() < 0.7:
        b = boxes[rng.integers(len(boxes))]
        centre = (b[:2] + b[2:]) / 2 + rng.uniform(-0.35, 0.35, 2) * crop
        x0, y0 = (int(np.clip(c - crop / 2, 0, n - crop)) for c, n in zip(centre, canvas.shape[::-1]))
    else:
        x0, y0 = int(rng.integers(canvas.shape[1] - crop + 1)), int(rng.integers(canvas.shape[0] - crop + 1))
    moved = np.clip(boxes - [x0, y0, x0, y0], 0, crop)
    kept = np.flatnonzero((_area(moved) >= keep * np.maximum(_area(boxes), 1e-6)) & (_area(moved) > 1))
    if masks is not None:
        full = np.zeros((len(kept), *canvas.shape), np.uint8)
        for i, k in enumerate(kept):
            full[i, :h, :w] = cv2.resize(masks[k], (w, h), interpolation=cv2.INTER_NEAREST)
        masks = full[:, y0:y0 + crop, x0:x0 + crop]
    return canvas[y0:y0 + crop, x0:x0 + crop], moved[kept].astype(np.float32), masks, kept


def _area(b: np.ndarray) -> np.ndarray:
    return np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)


def _target(sample: DetectionSample, px: np.ndarray, scale: float, masks: bool, rng: np.random.Generator | None,
            crop: tuple[int, int] | None = None):
    boxes = sample.boxes.astype(np.float32).reshape(-1, 4) * scale
    m = _masks(sample, scale, px.shape) if masks else None
    labels = sample.labels
    if crop is not None and rng is not None:
        px, boxes, m, kept = zoom_crop(px, boxes, m, *crop, rng)
        labels = labels[kept]
    if rng is not None:
        if rng.random() < 0.5:
            px = px[:, ::-1]
            boxes = boxes[:, [2, 1, 0, 3]] * [-1, 1, -1, 1] + [px.shape[1], 0, px.shape[1], 0]
            m = m[:, :, ::-1] if m is not None else None
        px = np.clip(np.clip(px, 0, 1) ** np.exp(rng.uniform(-0.3, 0.3)) * rng.uniform(0.85, 1.15), 0, 1)
    target = {"boxes": torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4),
              "labels": torch.as_tensor(labels, dtype=torch.int64)}
    if m is not None:
        target["masks"] = torch.from_numpy(np.ascontiguousarray(m))
    return torch.from_numpy(np.repeat(np.ascontiguousarray(px, np.float32)[None], 3, 0)), target


def readable(samples: list[DetectionSample], max_side: int) -> tuple[list[DetectionSample], list[tuple[np.ndarray, float]]]:
    """The samples whose image can be read, with their scaled pixels (unreadable ones logged and left out)."""
    return keep_readable(samples, lambda s: load_scaled(s, max_side))


@torch.no_grad()
def predict(model, samples: list[DetectionSample], max_side: int, device) -> tuple[list[DetectionSample], list[dict]]:
    """The readable samples and the model's outputs on them, each image scaled as in training: boxes in the image's
    own pixels, ``scale`` and ``hw`` (the scaled size, the frame of ``masks``)."""
    model.eval()

    def one(s: DetectionSample) -> dict:
        px, scale = load_scaled(s, max_side)
        o = {k: v.cpu() for k, v in model([torch.from_numpy(np.repeat(px[None], 3, 0)).to(device)])[0].items()}
        return dict(o, boxes=o["boxes"] / scale, scale=scale, hw=px.shape)

    return keep_readable(samples, one)


def coco_metrics(samples: list[DetectionSample], preds: list[dict], classes: list[str], masks: bool = False) -> dict:
    """Box (and mask) mAP50 and mAP50-95 by pycocotools, computed in each image's scaled frame."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images, anns, dets = [], [], []
    for i, (s, p) in enumerate(zip(samples, preds)):
        scale, (h, w) = p["scale"], p["hw"]
        images.append({"id": i, "height": int(h), "width": int(w)})
        gt_masks = _masks(s, scale, (h, w)) if masks else None
        for j, (b, lab) in enumerate(zip(s.boxes, s.labels)):
            a = {"id": len(anns) + 1, "image_id": i, "category_id": int(lab), "iscrowd": 0, **_xywh(b * scale)}
            if masks:
                a["segmentation"] = _rle(gt_masks[j])
            anns.append(a)
        for j in range(len(p["boxes"])):
            d = {"image_id": i, "category_id": int(p["labels"][j]), "score": float(p["scores"][j]),
                 **_xywh(p["boxes"][j].numpy() * scale)}
            if masks:
                d["segmentation"] = _rle((p["masks"][j, 0] >= 0.5).numpy().astype(np.uint8))
            dets.append(d)
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress and tables
        gt = COCO()
        gt.dataset = {"images": images, "annotations": anns, "categories": [{"id": k + 1, "name": c} for k, c in enumerate(classes)]}
        gt.createIndex()
    out = {}
    for kind in ("bbox", "segm") if masks else ("bbox",):
        if not dets or not anns:
            out.update({f"{kind}_map50": 0.0, f"{kind}_map50_95": 0.0})
            continue
        with contextlib.redirect_stdout(io.StringIO()):
            ev = COCOeval(gt, gt.loadRes(dets), kind)
            ev.evaluate(), ev.accumulate(), ev.summarize()
        out.update({f"{kind}_map50": round(float(ev.stats[1]), 4), f"{kind}_map50_95": round(float(ev.stats[0]), 4)})
    return out


def _input_side(model, side: int) -> None:
    """Set the size torchvision's transform scales every input to (square crops of ``side`` pass unchanged)."""
    model.transform.min_size, model.transform.max_size = (side,), side


def _xywh(b) -> dict:
    x1, y1, x2, y2 = (float(v) for v in b)
    return {"bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1)}


def _rle(m: np.ndarray) -> dict:
    from pycocotools import mask as mask_utils

    r = mask_utils.encode(np.asfortranarray(m))
    r["counts"] = r["counts"].decode()
    return r


class WeightMean:
    """Running mean of a model's state dicts (integer buffers, such as batch-norm step counts, keep the last)."""

    def __init__(self):
        self.n, self.sum = 0, {}

    def add(self, state: dict[str, torch.Tensor]) -> None:
        self.n += 1
        for k, v in state.items():
            v = v.detach()
            if not v.is_floating_point():
                self.sum[k] = v.clone()
            else:
                self.sum[k] = self.sum[k] + v if k in self.sum else v.double()

    def mean(self) -> dict[str, torch.Tensor]:
        return {k: (v / self.n).float() if v.is_floating_point() else v for k, v in self.sum.items()}


def train_detector(train: list[DetectionSample], val: list[DetectionSample], classes: list[str], out: Path, card: dict,
                   *, rng: np.random.Generator, device: torch.device, masks: bool = False, max_side: int = 512,
                   epochs: int = 12, batch: int = 4, lr: float = 1e-3, crop: int | None = None,
                   average_last: int = 0, pretrained: Callable[[torch.nn.Module], object] | None = None,
                   init_state: dict[str, torch.Tensor] | None = None) -> tuple[Path, dict]:
    """Train, keep the best validation box mAP50 epoch, save weights + card (``card`` is extended). The start:
    ``init_state`` (a whole detector's weights, to go on training) or else ``pretrained`` applied to the encoder.
    ``crop``: train on ``crop``-pixel windows of the films at long side ``max_side`` (``zoom_crop``), so a large
    inference size costs no more per step than ``crop``; validation and inference read whole films.
    ``average_last``: the mean of the weights (batch-norm statistics included) at the ends of the last that many
    epochs is validated too and kept when it beats every single epoch."""
    model = build_detector(len(classes), masks=masks, min_size=max_side, max_size=max_side)
    if init_state is not None:
        model.load_state_dict(init_state)
    elif pretrained:
        pretrained(model.backbone.encoder)
    model.to(device)
    opt, sched = make_optimizer(model, lr, epochs * math.ceil(len(train) / batch))
    log, best, best_state, best_metrics, kept = EpochLog(epochs), -1.0, None, {}, ""
    per_epoch, average = [], WeightMean()
    train, cache = readable(train, max_side)
    window = (max_side, crop) if crop else None
    for epoch in range(epochs):
        model.train()
        _input_side(model, crop or max_side)
        order, total = rng.permutation(len(train)), 0.0
        for i in tqdm(range(0, len(order), batch), desc=f"epoch {epoch + 1}", unit="batch", mininterval=30):
            items = [_target(train[j], *cache[j], masks, rng, window) for j in order[i:i + batch]]
            losses = model([x.to(device) for x, _ in items], [{k: v.to(device) for k, v in t.items()} for _, t in items])
            total += step(opt, sched, sum(losses.values())) * len(items)
        _input_side(model, max_side)
        metrics = coco_metrics(*predict(model, val, max_side, device), classes, masks)
        log(epoch, loss=total / len(train), **metrics)
        per_epoch.append(metrics)
        if epoch >= epochs - average_last:
            average.add(model.state_dict())
        if metrics["bbox_map50"] > best:
            best, best_metrics, kept = metrics["bbox_map50"], metrics, f"epoch {epoch + 1}"
            best_state = snapshot(model)
    if average_last:
        mean_state = average.mean()
        model.load_state_dict(mean_state)
        mean_metrics = coco_metrics(*predict(model, val, max_side, device), classes, masks)
        _logger.info("mean of the last %d epochs' weights: %s", average_last, mean_metrics)
        if mean_metrics["bbox_map50"] > best:
            best_metrics, kept, best_state = mean_metrics, f"mean of the last {average_last} epochs' weights", mean_state
    model.load_state_dict(best_state)
    card = dict(card, architecture="Detector", backbone="efficientnet_lite0", classes=list(classes), masks=masks,
                min_size=max_side, max_size=max_side, train_crop=crop, epochs=epochs, n_train=len(train), n_val=len(val),
                val_metrics=best_metrics, val_metrics_per_epoch=per_epoch, kept=kept,
                **({"average_last": average_last, "val_metrics_weight_mean": mean_metrics} if average_last else {}))
    return save_model(model.cpu(), out, card), best_metrics
