"""PNG, JPEG, TIFF and BMP through Pillow (which raises on truncated files rather than returning half an image)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import UnreadableFilm
from ..results import FilmMeta

NAME = "raster (PNG/JPEG/TIFF/BMP)"
_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM")


def can_read(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(8)
    return any(head.startswith(m) for m in _MAGIC)


def to_unit_range(arr: np.ndarray) -> np.ndarray:
    """Integer images: 8-bit by /255; wider ones by their own min..max (12-bit data often sits in 16-bit files)."""
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    a = arr.astype(np.float32)
    lo, hi = float(a.min()), float(a.max())
    if hi <= lo:
        return np.zeros_like(a)
    return (a - lo) / (hi - lo)


def read(path: Path) -> tuple[np.ndarray, FilmMeta]:
    try:
        with Image.open(path) as im:
            n_frames = getattr(im, "n_frames", 1)
            if n_frames > 1:
                raise UnreadableFilm(f"multi-page image ({n_frames} pages); save the one film as its own file", path)
            im.load()
            fmt = im.format or "raster"
            if im.mode in ("P", "PA", "RGB", "RGBA", "LA", "CMYK", "YCbCr", "1"):
                im = im.convert("L")  # palette images go through their palette, not raw indices
            arr = np.array(im)
            spacing = _spacing_mm(im.info.get("dpi"))
    except UnreadableFilm:
        raise
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as exc:
        raise UnreadableFilm(f"cannot decode image ({exc})", path) from None
    if arr.ndim != 2 or min(arr.shape) < 16:
        raise UnreadableFilm(f"expected a 2-D grayscale image of at least 16x16 pixels, got {arr.shape}", path)
    meta = FilmMeta(source=str(path), format=fmt, original_dtype=str(arr.dtype), height_px=arr.shape[0],
                    width_px=arr.shape[1], photometric_interpretation="MONOCHROME2", pixel_spacing_mm=spacing)
    return to_unit_range(arr), meta


def _spacing_mm(dpi) -> float | None:
    """Pixel spacing from a file's DPI tag, only when it is plausible for a film scan (not the common 72/96 default)."""
    if not dpi or float(dpi[0]) in (0.0, 72.0, 96.0):
        return None
    return 25.4 / float(dpi[0])
