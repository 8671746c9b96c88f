"""Clavicle segmentation on frontal chest films (trained on JSRT/SCR; reads the CRASS12 layout too).

``segment(path)`` is the one call; ``ClavicleSegmenter`` keeps the model loaded for many films.
"""
from __future__ import annotations

__all__ = ["segment", "ClavicleSegmenter"]


def __getattr__(name: str):
    if name in __all__:
        from . import segmenter

        return getattr(segmenter, name)
    raise AttributeError(f"module 'bone_age.clavicle' has no attribute {name!r}")
