"""Fractures on musculoskeletal films (trained on FracAtlas): film-level probability, boxes and outlines.

``detect(path)`` is the one call; ``FractureDetector`` keeps the model loaded for many films.
"""
from __future__ import annotations

__all__ = ["detect", "FractureDetector"]


def __getattr__(name: str):
    if name in __all__:
        from . import detector

        return getattr(detector, name)
    raise AttributeError(f"module 'bone_age.fracture' has no attribute {name!r}")
