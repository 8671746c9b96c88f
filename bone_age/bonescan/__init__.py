"""Bone scans (BS-80K layouts): abnormal uptake in region crops, chest regions of whole-body scans, and a
whole-body hot-spot detector that trains when the whole-body release is at hand.

``read_scan(path)`` is the one call; ``BoneScanReader`` keeps the models loaded for many scans.
"""
from __future__ import annotations

from .._lazy import lazy_getattr

__all__ = ["read_scan", "BoneScanReader", "kind_of"]
__getattr__ = lazy_getattr(__name__, {name: "api" for name in __all__})
