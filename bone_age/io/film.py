"""``read_film``: any supported file -> float32 pixels in [0, 1], bone bright, plus ``FilmMeta``."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Union

import numpy as np

from ..errors import UnreadableFilm
from ..results import FilmMeta
from . import dicom, raster

__all__ = ["Film", "FilmSource", "read_film", "film_from_array", "as_film"]

_logger = logging.getLogger(__name__)
_READERS = (dicom, raster)


@dataclass(frozen=True)
class Film:
    """A 2-D radiograph: ``pixels`` float32 (H, W) in [0, 1] with bone bright, and what is known about it."""

    pixels: np.ndarray
    meta: FilmMeta


def film_from_array(array: np.ndarray, source: str = "<array>") -> Film:
    """Wrap an in-memory image (2-D, or H x W x 3 colour) as a Film; integers are scaled by their dtype's range."""
    arr = np.asarray(array)
    if arr.ndim == 3 and arr.shape[2] in (3, 4):
        arr = arr[..., :3].mean(axis=2).astype(arr.dtype)
    if arr.ndim != 2 or min(arr.shape) < 16:
        raise UnreadableFilm(f"expected a 2-D image of at least 16x16 pixels, got shape {arr.shape}", source)
    pixels = raster.to_unit_range(arr)
    meta = FilmMeta(source=source, format="array", original_dtype=str(arr.dtype), height_px=arr.shape[0], width_px=arr.shape[1])
    return Film(pixels, meta)


def read_film(path: str | Path) -> Film:
    """Read a PNG, JPEG, TIFF (8/16-bit) or DICOM film. Raises ``UnreadableFilm`` with the reason on any failure."""
    path = Path(path)
    if not path.is_file():
        raise UnreadableFilm("no such file", path)
    if path.stat().st_size == 0:
        raise UnreadableFilm("the file is empty", path)
    tried = []
    for reader in _READERS:
        if reader.can_read(path):
            pixels, meta = reader.read(path)
            _logger.debug("read %s with %s: %s", path, reader.__name__, pixels.shape)
            return Film(pixels, meta)
        tried.append(reader.NAME)
    raise UnreadableFilm(f"not a recognised image (tried: {', '.join(tried)})", path)


FilmSource = Union[str, Path, np.ndarray, Film]  # what every reader takes: a path, an array or a Film


def as_film(source: FilmSource) -> Film:
    """A Film from a path (read), an in-memory image (wrapped) or a Film (as is): what every API call accepts."""
    if isinstance(source, Film):
        return source
    return film_from_array(source) if isinstance(source, np.ndarray) else read_film(source)
