"""Bone age by the Chinese RUS-CHN method ("Zhonghua 05"), with a Greulich-Pyle second opinion.

``assess(path_or_array, sex=...)`` is the one call; ``Engine`` keeps models loaded for many films;
``override_stages`` recomputes a result with stages set by a reader. Torch loads on first use of these.
"""
from __future__ import annotations

__version__ = "0.1.0"

from ._lazy import lazy_getattr
from .errors import BoneAgeError, FilmTooSmall, MissingSex, ModelFileMismatch, NotAHandFilm, UnreadableFilm
from .hand.standard import load_standard
from .io import Film, read_film

__all__ = ["__version__", "assess", "Engine", "override_stages", "read_film", "Film", "load_standard", "load_model",
           "list_models", "BoneAgeError", "UnreadableFilm", "NotAHandFilm", "FilmTooSmall", "ModelFileMismatch",
           "MissingSex"]

__getattr__ = lazy_getattr(__name__, {"assess": "hand.api", "Engine": "hand.pipeline", "override_stages": "hand.scoring",
                                      "load_model": "registry", "list_models": "registry"})
