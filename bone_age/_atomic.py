"""Writing output files atomically: a temporary file beside the target, then a rename."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

__all__ = ["write_bytes", "write_image"]


def write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to a temporary file of its own beside ``path`` (two writers never share one), then rename it
    over ``path``: a reader sees the old file or the new one, never a part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_image(path: Path, image: np.ndarray) -> Path:
    """Encode ``image`` (uint8 gray or BGR) by the suffix of ``path`` and write it atomically."""
    ok, buf = cv2.imencode(Path(path).suffix, image)
    if not ok:
        raise OSError(f"cannot encode an image for {path}")
    return write_bytes(path, buf.tobytes())
