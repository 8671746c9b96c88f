"""Clavicle segmentation on frontal chest films (trained on JSRT/SCR; reads the CRASS12 layout too).

``segment(path)`` is the one call; ``ClavicleSegmenter`` keeps the model loaded for many films.
"""
from __future__ import annotations

from .._lazy import lazy_getattr

__all__ = ["segment", "ClavicleSegmenter"]
__getattr__ = lazy_getattr(__name__, {name: "segmenter" for name in __all__})
