"""Fractures on musculoskeletal films (trained on FracAtlas): film-level probability, boxes and outlines.

``detect(path)`` is the one call; ``FractureDetector`` keeps the model loaded for many films.
"""
from __future__ import annotations

from .._lazy import lazy_getattr

__all__ = ["detect", "FractureDetector"]
__getattr__ = lazy_getattr(__name__, {name: "detector" for name in __all__})
