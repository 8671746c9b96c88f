"""Writing output files atomically: a temporary file beside the target, then a rename."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

__all__ = ["write_bytes", "write_image"]


def write_bytes(path: Path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp"
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def write_image(path: Path, image: np.ndarray) -> Path:
    """Encode ``image`` (uint8 gray or BGR) by the suffix of ``path`` and write it atomically."""
    ok, buf = cv2.imencode(Path(path).suffix, image)
    if not ok:
        raise OSError(f"cannot encode an image for {path}")
    return write_bytes(path, buf.tobytes())
