"""Bone age by the Chinese RUS-CHN method ("Zhonghua 05"), with fracture, clavicle and bone-scan modules."""
from __future__ import annotations

__version__ = "0.1.0"

from .errors import BoneAgeError, MissingSex, ModelFileMismatch, NotAHandFilm, UnreadableFilm
from .io import Film, read_film
from .standard import load_standard

__all__ = ["__version__", "read_film", "Film", "load_standard", "BoneAgeError", "UnreadableFilm", "NotAHandFilm",
           "ModelFileMismatch", "MissingSex"]
