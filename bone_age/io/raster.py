"""PNG, JPEG, TIFF and BMP through Pillow, refusing what is too large (from the header, before decoding) and what
ends early (Pillow's own truncation errors; a PNG whose image data is shorter than its rows; a JPEG whose last rows
are the one flat grey a decoder fills missing data with)."""
from __future__ import annotations

import re
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import UnreadableFilm
from ..results import FilmMeta

NAME = "raster (PNG/JPEG/TIFF/BMP)"
_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM")
FLAT_TAIL_ROWS = 16  # a JPEG ending in at least this many rows of decoder fill was cut short
JPEG_FILL = 128
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def can_read(path: Path, head: bytes) -> bool:
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


def too_large(path: Path, width: int, height: int, cap: int) -> UnreadableFilm:
    return UnreadableFilm(f"too large: {width} x {height} px ({width * height / 1e6:.0f} megapixels) is over the cap "
                          f"of {cap / 1e6:.0f} megapixels ($BONE_AGE_MAX_PIXELS raises it)", path)


def read(path: Path, max_pixels: int) -> tuple[np.ndarray, FilmMeta]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
                if w * h > max_pixels:
                    raise too_large(path, w, h, max_pixels)
                n_frames = getattr(im, "n_frames", 1)
                if n_frames > 1:
                    raise UnreadableFilm(f"multi-page image ({n_frames} pages); save the one film as its own file", path)
                if im.format == "PNG":
                    _check_png_complete(path)
                im.load()
                fmt = im.format or "raster"
                if im.mode in ("P", "PA", "RGB", "RGBA", "LA", "CMYK", "YCbCr", "1"):
                    im = im.convert("L")  # palette images go through their palette, not raw indices
                arr = np.array(im)
                spacing = _spacing_mm(im.info.get("dpi"))
    except UnreadableFilm:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:  # Pillow's own check, at open
        size = re.search(r"\((\d+) pixels\)", str(exc))
        what = f"{int(size.group(1)) / 1e6:.0f} megapixels" if size else "its size"
        raise UnreadableFilm(f"too large: {what} is over the cap of {max_pixels / 1e6:.0f} megapixels "
                             "($BONE_AGE_MAX_PIXELS raises it)", path) from None
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, struct.error, EOFError, zlib.error) as exc:
        reason = "truncated: the image data ends early" if "truncated" in str(exc) else f"cannot decode image ({exc})"
        raise UnreadableFilm(reason, path) from None
    if arr.ndim != 2 or min(arr.shape) < 16:
        raise UnreadableFilm(f"expected a 2-D grayscale image of at least 16x16 pixels, got {arr.shape}", path)
    if fmt == "JPEG":
        _check_no_flat_tail(path, arr)
    meta = FilmMeta(source=str(path), format=fmt, original_dtype=str(arr.dtype), height_px=arr.shape[0],
                    width_px=arr.shape[1], photometric_interpretation="MONOCHROME2", pixel_spacing_mm=spacing)
    return to_unit_range(arr), meta


def _check_png_complete(path: Path) -> None:
    """``UnreadableFilm`` when a non-interlaced PNG's image data holds fewer bytes than its rows need (Pillow fills
    the missing rows with black when the compressed stream ends cleanly)."""
    with open(path, "rb") as f:
        data = f.read()
    pos, header, stream = 8, None, zlib.decompressobj()
    got = 0
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR" and len(body) >= 13:
            header = struct.unpack(">IIBBBBB", body[:13])
        elif kind == b"IDAT":
            got += len(stream.decompress(body, 1 << 24))
            while stream.unconsumed_tail and got < 1 << 34:
                got += len(stream.decompress(stream.unconsumed_tail, 1 << 24))
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None:
        return  # Pillow says what is wrong with the header
    width, height, depth, color, _, _, interlace = header
    if interlace or color not in _PNG_CHANNELS:
        return
    need = height * (1 + (width * _PNG_CHANNELS[color] * depth + 7) // 8)
    if got < need:
        raise UnreadableFilm(f"truncated: the image data holds {got * 100 // max(need, 1)} % of the rows' bytes", path)


def _check_no_flat_tail(path: Path, arr: np.ndarray) -> None:
    """``UnreadableFilm`` when the last ``FLAT_TAIL_ROWS`` or more rows, from a block boundary down, are all exactly
    128: what a JPEG decoder writes where the compressed data ended early (zero coefficients decode to mid-grey)."""
    if arr.dtype != np.uint8 or not (arr[-FLAT_TAIL_ROWS:] == JPEG_FILL).all():
        return
    rows = (arr[::-1] == JPEG_FILL).all(axis=1)  # from the bottom up
    flat = len(rows) if rows.all() else int(np.argmax(~rows))
    if (arr.shape[0] - flat) % 8 == 0 or flat == len(rows):
        raise UnreadableFilm(f"truncated: the last {flat} of {arr.shape[0]} rows are blank mid-grey, where the image "
                             "data ended early", path)


def _spacing_mm(dpi) -> float | None:
    """Pixel spacing from a file's DPI tag, only when it is plausible for a film scan (not the common 72/96 default)."""
    if not dpi or float(dpi[0]) in (0.0, 72.0, 96.0):
        return None
    return 25.4 / float(dpi[0])
