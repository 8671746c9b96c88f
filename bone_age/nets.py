"""Network definitions built on timm EfficientNet-Lite encoders (architecture only; weights come from models/)."""
from __future__ import annotations

import timm
import torch
import torch.nn.functional as F
from torch import nn

from .architectures import register_architecture
from .card import ClassifierSpec, LocalizerSpec, ModelCard, SegmenterSpec, StageSpec

__all__ = ["HeatmapNet", "StageNet", "GlobalRegressor", "ImageClassifier", "UNet", "encoder"]


def encoder(name: str, **kwargs) -> nn.Module:
    """A timm feature encoder without downloading anything; ImageNet weights are loaded by training code."""
    return timm.create_model(name, pretrained=False, features_only=True, **kwargs)


class HeatmapNet(nn.Module):
    """Encoder + small top-down FPN decoder -> one heatmap logit map per keypoint at stride 4."""

    def __init__(self, n_keypoints: int, backbone: str = "efficientnet_lite0", width: int = 64):
        super().__init__()
        self.encoder = encoder(backbone, out_indices=(1, 2, 3, 4))
        chans = self.encoder.feature_info.channels()
        self.lateral = nn.ModuleList(nn.Conv2d(c, width, 1) for c in chans)
        self.smooth = nn.Sequential(nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True))
        self.head = nn.Conv2d(width, n_keypoints, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.encoder(x)
        y = self.lateral[-1](feats[-1])
        for lat, f in zip(reversed(self.lateral[:-1]), reversed(feats[:-1])):
            y = F.interpolate(y, size=f.shape[-2:], mode="nearest") + lat(f)
        return self.head(self.smooth(y))


class StageNet(nn.Module):
    """Shared encoder over bone crops; per stage category a latent maturity and ordered thresholds.

    Cumulative-link (ordinal) output: P(stage > k) = sigmoid(a (z - t_k)) for k = 1..K-1, with increasing
    thresholds t spread over [-3, 3] and a learnt slope a per category, so each bone's stage distribution is
    unimodal and ordered. ``forward`` returns stage probabilities padded to the largest K.
    """

    def __init__(self, stages_per_category: list[int], backbone: str = "efficientnet_lite0", dropout: float = 0.2):
        super().__init__()
        self.encoder = encoder(backbone, out_indices=(4,))
        c = self.encoder.feature_info.channels()[-1]
        self.register_buffer("n_stages", torch.tensor(stages_per_category), persistent=False)
        k = max(stages_per_category)
        self.max_thresholds = k - 1
        self.dropout = nn.Dropout(dropout)
        self.latent = nn.Linear(c, len(stages_per_category))
        # thresholds: a first value and log-gaps, so they stay increasing
        self.first = nn.Parameter(torch.full((len(stages_per_category),), -3.0))
        self.log_gaps = nn.Parameter(torch.stack([torch.full((k - 2,), float(torch.log(torch.tensor(6.0 / max(n - 2, 1)))))
                                                  for n in stages_per_category]))
        self.log_slope = nn.Parameter(torch.full((len(stages_per_category),), float(torch.log(torch.tensor(6.0)))))

    def thresholds(self) -> torch.Tensor:
        """(C, K-1) increasing thresholds; entries past a category's K-1 are pushed to +inf-like values."""
        t = torch.cat([self.first[:, None], self.first[:, None] + torch.cumsum(self.log_gaps.exp(), 1)], 1)
        idx = torch.arange(t.shape[1], device=t.device)[None]
        return torch.where(idx < (self.n_stages[:, None] - 1), t, torch.full_like(t, 1e4))

    def latent_of(self, x: torch.Tensor, category: torch.Tensor) -> torch.Tensor:
        f = self.encoder(x)[-1].mean(dim=(2, 3))
        return self.latent(self.dropout(f)).gather(1, category[:, None]).squeeze(1)

    def cumulative_logits(self, z: torch.Tensor, category: torch.Tensor) -> torch.Tensor:
        """(N,) latents -> (N, K_max-1) logits of P(stage > k), k = 1..K_max-1 (very negative past each K-1)."""
        slope = self.log_slope.exp()[category][:, None]
        return slope * (z[:, None] - self.thresholds()[category])

    def probabilities(self, z: torch.Tensor, category: torch.Tensor) -> torch.Tensor:
        """(N,) latents -> (N, K_max) stage probabilities (zeros past each category's K)."""
        above = torch.sigmoid(self.cumulative_logits(z, category))
        cum = torch.cat([torch.ones_like(z)[:, None], above, torch.zeros_like(z)[:, None]], 1)
        return (cum[:, :-1] - cum[:, 1:]).clamp_min(0)

    def forward(self, x: torch.Tensor, category: torch.Tensor) -> torch.Tensor:
        return self.probabilities(self.latent_of(x, category), category)


class GlobalRegressor(nn.Module):
    """Whole-hand bone age: encoder features and sex -> (mean, log variance) of bone age in months."""

    def __init__(self, backbone: str = "efficientnet_lite0"):
        super().__init__()
        self.encoder = encoder(backbone, out_indices=(4,))
        c = self.encoder.feature_info.channels()[-1]
        self.head = nn.Sequential(nn.Linear(c + 1, 256), nn.SiLU(inplace=True), nn.Dropout(0.2), nn.Linear(256, 2))

    def forward(self, x: torch.Tensor, male: torch.Tensor) -> torch.Tensor:
        f = self.encoder(x)[-1].mean(dim=(2, 3))
        return self.head(torch.cat([f, male.float()[:, None]], 1))


class ImageClassifier(nn.Module):
    """Encoder + global average pool + linear: ``n_outputs`` logits per image."""

    def __init__(self, n_outputs: int = 1, backbone: str = "efficientnet_lite0", dropout: float = 0.2):
        super().__init__()
        self.encoder = encoder(backbone, out_indices=(4,))
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(self.encoder.feature_info.channels()[-1], n_outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x)[-1].mean(dim=(2, 3)))

    def logit_map(self, x: torch.Tensor) -> torch.Tensor:
        """(B, n_outputs, H/32, W/32): the linear head applied at every cell of the last feature map (a class
        activation map); in eval mode its mean over the cells is ``forward``'s logit."""
        linear = self.head[-1]
        return torch.einsum("bchw,oc->bohw", self.encoder(x)[-1], linear.weight) + linear.bias[None, :, None, None]


def _conv_bn(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UNet(nn.Module):
    """U-Net: encoder strides 2..32, a decoder that upsamples and joins each skip; ``n_classes`` logit maps at the
    input's size (input sides must be multiples of 32)."""

    def __init__(self, n_classes: int, backbone: str = "efficientnet_lite0", widths: tuple[int, ...] = (128, 64, 48, 32)):
        super().__init__()
        self.encoder = encoder(backbone, out_indices=(0, 1, 2, 3, 4))
        chans = self.encoder.feature_info.channels()
        ins = [chans[-1]] + list(widths[:-1])
        self.blocks = nn.ModuleList(nn.Sequential(_conv_bn(i + s, w), _conv_bn(w, w))
                                    for i, s, w in zip(ins, reversed(chans[:-1]), widths))
        self.head = nn.Conv2d(widths[-1], n_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.encoder(x)
        y = feats[-1]
        for block, skip in zip(self.blocks, reversed(feats[:-1])):
            y = block(torch.cat([F.interpolate(y, size=skip.shape[-2:], mode="nearest"), skip], 1))
        return F.interpolate(self.head(y), size=x.shape[-2:], mode="bilinear", align_corners=False)


@register_architecture("HeatmapNet")
def _heatmap(card: ModelCard) -> nn.Module:
    return HeatmapNet(len(card.section(LocalizerSpec).keypoints), backbone=card.backbone)


@register_architecture("StageNet")
def _stage(card: ModelCard) -> nn.Module:
    spec = card.section(StageSpec)
    return StageNet([spec.stages_per_category[c] for c in spec.categories], backbone=card.backbone)


@register_architecture("GlobalRegressor")
def _gp(card: ModelCard) -> nn.Module:
    return GlobalRegressor(backbone=card.backbone)


@register_architecture("ImageClassifier")
def _classifier(card: ModelCard) -> nn.Module:
    return ImageClassifier(len(card.section(ClassifierSpec).outputs), backbone=card.backbone)


@register_architecture("UNet")
def _unet(card: ModelCard) -> nn.Module:
    return UNet(len(card.section(SegmenterSpec).classes), backbone=card.backbone)
