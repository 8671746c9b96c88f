"""Package attributes imported on first use, so that importing a package does not load torch."""
from __future__ import annotations

import importlib
from typing import Callable


def lazy_getattr(package: str, names: dict[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` that imports ``names[attr]`` (a submodule of ``package``) on first access."""

    def __getattr__(name: str) -> object:
        if name in names:
            return getattr(importlib.import_module(f".{names[name]}", package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
