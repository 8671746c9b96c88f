"""``read_film``: any supported file -> float32 pixels in [0, 1], bone bright, plus ``FilmMeta``.

Every failure of every format is an ``UnreadableFilm`` naming the file and a reason a person can act on (not a file,
no permission, empty, truncated, too large, not a recognised image or DICOM). A film's size is checked from its header
before it is decoded: ``MAX_PIXELS`` (``$BONE_AGE_MAX_PIXELS``; 40 megapixels, above any hand or chest detector)
bounds what one film can cost while decoding, and a film kept in memory is at most ``MAX_SIDE_PX`` on its long side
(larger ones are area-averaged down, a scale the models never read finer than).
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Union

import numpy as np

from ..errors import UnreadableFilm
from ..results import FilmMeta
from . import dicom, raster

__all__ = ["Film", "FilmSource", "read_film", "film_from_array", "as_film", "max_pixels", "MAX_SIDE_PX"]

_logger = logging.getLogger(__name__)
_READERS = (dicom, raster)
MAX_SIDE_PX = 4096  # a decoded film larger than this on its long side is kept at this size


def max_pixels() -> int:
    """The largest film read, in pixels (``$BONE_AGE_MAX_PIXELS``, default 40 million)."""
    return int(float(os.environ.get("BONE_AGE_MAX_PIXELS", 40e6)))


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
    if path.is_dir():
        raise UnreadableFilm("this is a folder, not a film (folders are read by `bone-age score`)", path)
    if not path.exists():
        raise UnreadableFilm("no such file", path)
    try:
        with open(path, "rb") as f:
            head = f.read(132)
        if not head:
            raise UnreadableFilm("the file is empty", path)
        tried = []
        for reader in _READERS:
            if reader.can_read(path, head):
                pixels, meta = reader.read(path, max_pixels())
                _logger.debug("read %s with %s: %s", path, reader.__name__, pixels.shape)
                return _kept(Film(pixels, meta))
            tried.append(reader.NAME)
    except UnreadableFilm:
        raise
    except PermissionError:
        raise UnreadableFilm("no permission to read the file", path) from None
    except MemoryError:
        raise UnreadableFilm("too large to decode in the memory left", path) from None
    except Exception as exc:  # any decoder's failure is the file's, said in words, never a crash
        raise UnreadableFilm(f"cannot be read ({type(exc).__name__}: {exc})", path) from None
    raise UnreadableFilm(f"not a recognised image (tried: {', '.join(tried)})", path)


def _kept(film: Film) -> Film:
    """The decoded film at most ``MAX_SIDE_PX`` on its long side: a larger one area-averaged down, its size and pixel
    spacing in the metadata those of the pixels kept (every result is in their frame)."""
    h, w = film.pixels.shape
    s = MAX_SIDE_PX / max(h, w)
    if s >= 1:
        return film
    import cv2
    from dataclasses import replace

    pixels = cv2.resize(film.pixels, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    spacing = film.meta.pixel_spacing_mm and film.meta.pixel_spacing_mm / s
    _logger.warning("%s: %d x %d px kept at %d x %d", film.meta.source, w, h, pixels.shape[1], pixels.shape[0])
    return Film(pixels, replace(film.meta, height_px=pixels.shape[0], width_px=pixels.shape[1], pixel_spacing_mm=spacing))


FilmSource = Union[str, Path, np.ndarray, Film]  # what every reader takes: a path, an array or a Film


def as_film(source: FilmSource) -> Film:
    """A Film from a path (read), an in-memory image (wrapped) or a Film (as is): what every API call accepts."""
    if isinstance(source, Film):
        return source
    return film_from_array(source) if isinstance(source, np.ndarray) else read_film(source)
