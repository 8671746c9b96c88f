"""Decoding heatmap logits into keypoints: a local soft-argmax around each peak, with a confidence."""
from __future__ import annotations

import torch

__all__ = ["decode_heatmaps", "soft_argmax"]


def soft_argmax(logits: torch.Tensor) -> torch.Tensor:
    """(N, K, H, W) -> (N, K, 2) expected (x, y) in heatmap pixels under a spatial softmax."""
    n, k, h, w = logits.shape
    p = logits.flatten(2).softmax(-1).view(n, k, h, w)
    xs = torch.arange(w, dtype=p.dtype, device=p.device)
    ys = torch.arange(h, dtype=p.dtype, device=p.device)
    return torch.stack([(p.sum(2) * xs).sum(-1), (p.sum(3) * ys).sum(-1)], dim=-1)


def decode_heatmaps(logits: torch.Tensor, radius: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, K, H, W) logits -> (xy (N, K, 2) in heatmap pixels, confidence (N, K)).

    The position is the softmax-weighted mean within ``radius`` of the arg-max (robust to a second mode);
    the confidence is the softmax mass inside that window (1 = all belief at one place).
    """
    n, k, h, w = logits.shape
    p = logits.flatten(2).softmax(-1)
    idx = p.argmax(-1)
    py, px = idx // w, idx % w
    ys = torch.arange(h, device=p.device).view(1, 1, h, 1)
    xs = torch.arange(w, device=p.device).view(1, 1, 1, w)
    win = ((ys - py[..., None, None]).abs() <= radius) & ((xs - px[..., None, None]).abs() <= radius)
    q = p.view(n, k, h, w) * win
    mass = q.sum((2, 3))
    x = (q * xs).sum((2, 3)) / mass.clamp_min(1e-12)
    y = (q * ys).sum((2, 3)) / mass.clamp_min(1e-12)
    return torch.stack([x, y], -1), mass
