"""Per-film localizer output kept as JSON between training runs, tied to the weights that made it."""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._atomic import write_bytes

_logger = logging.getLogger(__name__)


def localizer_identity(localizer) -> str:
    """Names and sha256 of the localizer's weights (and of its hand-film gate), and the search's kind and settings
    (upright pass, two-hand halves): what a cached entry depends on."""
    parts = [f"{localizer.model.name} {localizer.model.sha256}",
             f"search: {localizer.SEARCH}, upright beyond {localizer.UPRIGHT_DEG} deg, halves from aspect "
             f"{localizer.TWO_HANDS_ASPECT}"]
    if localizer.gate is not None:
        parts.append(f"gate {localizer.gate.model.name} {localizer.gate.model.sha256}")
    return "; ".join(parts)


class FilmCache:
    """Entries keyed by film path in a JSON file ``{"made_by": ..., "films": {...}}``. A file made by other
    weights (or in no known form) is not reused: a warning says so and it is replaced when the cache is saved."""

    def __init__(self, path: Path | None, made_by: str):
        self.path, self.made_by = (Path(path) if path else None), made_by
        self.films: dict[str, Any] = {}
        if self.path and self.path.is_file():
            raw = json.loads(self.path.read_text())
            if isinstance(raw, dict) and raw.get("made_by") == made_by:
                self.films = raw["films"]
            else:
                was = raw.get("made_by", "an unrecorded localizer") if isinstance(raw, dict) else "an unknown tool"
                _logger.warning("cache %s was made by [%s], not [%s]: not reused, it will be replaced", self.path, was, made_by)

    def get(self, key: str, make: Callable[[], Any]) -> Any:
        """The cached entry for ``key``, made (and kept) on first use."""
        if key not in self.films:
            self.films[key] = make()
        return self.films[key]

    def save(self) -> None:
        if self.path:
            write_bytes(self.path, json.dumps({"made_by": self.made_by, "films": self.films}).encode())
