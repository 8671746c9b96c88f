"""The one call: assess a film with the default models, loaded once per process, device and runtime."""
from __future__ import annotations

from ..io import FilmSource
from ..registry import resolve_device
from .pipeline import Engine
from .results import Assessment

__all__ = ["assess"]

_ENGINES: dict[tuple[str, str], Engine] = {}


def assess(source: FilmSource, sex: str | None = None, chronological_age: float | None = None,
           device: str = "auto", hand: str = "left", runtime: str = "torch") -> Assessment:
    """Assess one film (see ``Engine.assess``) with the default models; ``runtime``: 'torch', 'onnx' or 'auto'
    (``registry.load_model``)."""
    key = (resolve_device(device), runtime)
    if key not in _ENGINES:
        _ENGINES[key] = Engine(device=key[0], runtime=runtime)
    return _ENGINES[key].assess(source, sex=sex, chronological_age=chronological_age, hand=hand)
