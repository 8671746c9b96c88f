"""Instance detectors (torchvision Faster/Mask R-CNN heads) on a timm EfficientNet-Lite feature pyramid."""
from __future__ import annotations

from collections import OrderedDict

import cv2
import numpy as np
import torch
from torch import nn
from torchvision.models.detection import FasterRCNN, MaskRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.ops import FeaturePyramidNetwork, MultiScaleRoIAlign
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

from .architectures import register_architecture
from .card import DetectorSpec, ModelCard
from .nets import encoder
from .transforms import NORM

__all__ = ["TimmFPN", "build_detector", "fit_long_side"]


class TimmFPN(nn.Module):
    """Encoder strides 8/16/32 -> FPN with ``out_channels`` channels, plus a max-pooled stride-64 level."""

    def __init__(self, backbone: str = "efficientnet_lite0", out_channels: int = 96):
        super().__init__()
        self.encoder = encoder(backbone, out_indices=(2, 3, 4))
        self.fpn = FeaturePyramidNetwork(self.encoder.feature_info.channels(), out_channels, extra_blocks=LastLevelMaxPool())
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        return self.fpn(OrderedDict((str(i), f) for i, f in enumerate(self.encoder(x))))


def build_detector(num_classes: int, *, masks: bool = False, backbone: str = "efficientnet_lite0",
                   min_size: int = 512, max_size: int = 512, mean: float = NORM.mean, std: float = NORM.std) -> nn.Module:
    """Faster R-CNN (or Mask R-CNN when ``masks``) for ``num_classes`` foreground classes.

    Inputs are lists of (3, H, W) tensors in [0, 1]; torchvision's transform resizes them to ``min_size`` ..
    ``max_size`` and standardises them as ``(x - mean) / std`` (by default as every model here is trained).
    """
    body = TimmFPN(backbone)
    c, rep = body.out_channels, 256  # heads slimmer than torchvision's defaults keep the weights small
    anchors = AnchorGenerator(sizes=((16, 24), (32, 48), (64, 96), (128, 192)), aspect_ratios=((0.5, 1.0, 2.0),) * 4)
    common = dict(min_size=min_size, max_size=max_size, image_mean=[mean] * 3,
                  image_std=[std] * 3, rpn_anchor_generator=anchors,
                  box_roi_pool=MultiScaleRoIAlign(["0", "1", "2"], output_size=7, sampling_ratio=2),
                  box_head=TwoMLPHead(c * 7 * 7, rep), box_predictor=FastRCNNPredictor(rep, num_classes + 1),
                  box_detections_per_img=50)
    if masks:
        return MaskRCNN(body, mask_roi_pool=MultiScaleRoIAlign(["0", "1", "2"], output_size=14, sampling_ratio=2),
                        mask_head=MaskRCNNHeads(c, [c] * 4, 1), mask_predictor=MaskRCNNPredictor(c, c, num_classes + 1),
                        **common)
    return FasterRCNN(body, **common)


def fit_long_side(pixels: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """The image shrunk so that its long side is at most ``max_side`` (never enlarged), and the scale applied: the
    one resize of a film before a detector, in training and at inference."""
    s = min(1.0, max_side / max(pixels.shape))
    if s < 1:
        pixels = cv2.resize(pixels, (round(pixels.shape[1] * s), round(pixels.shape[0] * s)), interpolation=cv2.INTER_AREA)
    return pixels, s


@register_architecture("Detector")
def _detector(card: ModelCard) -> nn.Module:
    spec = card.section(DetectorSpec)
    return build_detector(len(spec.classes), masks=spec.masks, backbone=card.backbone, min_size=spec.min_size,
                          max_size=spec.max_size, mean=card.normalization.mean, std=card.normalization.std)
