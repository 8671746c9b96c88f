"""Bone scans (BS-80K layouts): abnormal uptake in region crops, chest regions of whole-body scans, and a
whole-body hot-spot detector that trains when the whole-body release is at hand.

``read_scan(path)`` is the one call; ``BoneScanReader`` keeps the models loaded for many scans.
"""
from __future__ import annotations

__all__ = ["read_scan", "BoneScanReader", "kind_of"]


def __getattr__(name: str):
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'bone_age.bonescan' has no attribute {name!r}")
