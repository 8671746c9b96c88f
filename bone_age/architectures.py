"""The name table of network architectures: ``register_architecture(name)`` records a builder ``(card) -> nn.Module``.

It imports nothing, so that the modules defining networks (``nets``, ``detection``) register into it and the loader
(``registry``) reads it without import cycles.
"""
from __future__ import annotations

from typing import Any, Callable

__all__ = ["register_architecture", "architecture_builder", "known_architectures"]

_ARCHITECTURES: dict[str, Callable[[Any], Any]] = {}


def register_architecture(name: str) -> Callable:
    """Decorator: ``builder(card) -> nn.Module`` for cards whose ``architecture`` is ``name``; a name twice is refused."""

    def deco(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        if name in _ARCHITECTURES:
            raise ValueError(f"architecture {name!r} registered twice")
        _ARCHITECTURES[name] = fn
        return fn

    return deco


def architecture_builder(name: str) -> Callable[[Any], Any] | None:
    return _ARCHITECTURES.get(name)


def known_architectures() -> list[str]:
    return sorted(_ARCHITECTURES)
