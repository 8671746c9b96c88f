"""Bad inputs made on the spot: header bombs, cut files, mutants. Shared by the reliability tests and benchmarks."""
from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_bytes(pixels: np.ndarray, rows: int | None = None, size: tuple[int, int] | None = None) -> bytes:
    """An 8-bit gray PNG of ``pixels``; ``rows``: only the first rows' data (a cut file); ``size``: a header lie."""
    h, w = pixels.shape
    raw = b"".join(b"\0" + pixels[r].tobytes() for r in range(h if rows is None else rows))
    width, height = size or (w, h)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b""))


def jpeg_bytes(pixels: np.ndarray, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def jpeg_size_lie(pixels: np.ndarray, width: int, height: int) -> bytes:
    data = bytearray(jpeg_bytes(pixels))
    i = data.find(b"\xff\xc0")
    data[i + 5:i + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def jpeg_cut(pixels: np.ndarray, share: float = 0.7) -> bytes:
    """A baseline JPEG cut at ``share`` of its bytes with an end marker appended (a copy that stopped early)."""
    data = jpeg_bytes(pixels)
    return data[:int(len(data) * share)] + b"\xff\xd9"


def tiff_bytes(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "TIFF")
    return buf.getvalue()


def tiff_size_lie(pixels: np.ndarray, width: int, height: int) -> bytes:
    data = bytearray(tiff_bytes(pixels))
    off = struct.unpack("<I", data[4:8])[0]
    for k in range(struct.unpack("<H", data[off:off + 2])[0]):
        e = off + 2 + 12 * k
        tag, kind = struct.unpack("<HH", data[e:e + 4])
        if tag in (256, 257):
            value = width if tag == 256 else height
            data[e + 8:e + 12] = struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
    return bytes(data)


def dicom_bytes(pixels: np.ndarray, tmp: Path, **tags) -> bytes:
    from dicom_factory import make_dicom

    path = make_dicom(tmp / "seed.dcm", pixels.astype(np.uint16), PatientSex="F", **tags)
    return path.read_bytes()


def film_pixels(seed: int = 0, shape: tuple[int, int] = (320, 256)) -> np.ndarray:
    """A film-like 8-bit image: smooth ramps and blobs, not flat anywhere."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:shape[0], 0:shape[1]]
    img = 60 + 0.3 * x + 0.2 * y + 40 * np.sin(x / 17.0) * np.cos(y / 23.0) + rng.normal(0, 6, shape)
    return np.clip(img, 0, 255).astype(np.uint8)
