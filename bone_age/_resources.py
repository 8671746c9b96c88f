"""Where the shipped data lives: ``assets/`` and ``models/`` beside the package (an editable checkout).

``BONE_AGE_MODELS`` and ``BONE_AGE_ASSETS`` override the folders, e.g. for an installed copy.
"""
from __future__ import annotations

import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent


def assets_dir() -> Path:
    return Path(os.environ.get("BONE_AGE_ASSETS", _ROOT / "assets"))


def models_dir() -> Path:
    return Path(os.environ.get("BONE_AGE_MODELS", _ROOT / "models"))
