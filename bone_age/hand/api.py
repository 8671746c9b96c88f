"""The one call: assess a film with the default models, loaded once per process and device."""
from __future__ import annotations

from ..io import FilmSource
from ..registry import resolve_device
from .pipeline import Engine
from .results import Assessment

__all__ = ["assess"]

_ENGINES: dict[str, Engine] = {}


def assess(source: FilmSource, sex: str | None = None, chronological_age: float | None = None,
           device: str = "auto", hand: str = "left") -> Assessment:
    """Assess one film (see ``Engine.assess``) with the default models."""
    dev = resolve_device(device)
    if dev not in _ENGINES:
        _ENGINES[dev] = Engine(device=dev)
    return _ENGINES[dev].assess(source, sex=sex, chronological_age=chronological_age, hand=hand)
