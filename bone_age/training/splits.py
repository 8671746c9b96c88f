"""Fixed splits by RSNA image id, and the reserved evaluation ids every training script drops."""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

DEFAULT_DATA_ROOT = Path(os.environ.get("BONE_AGE_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))


@lru_cache(maxsize=1)
def reserved_ids(path: str | Path | None = None) -> frozenset[str]:
    """RSNA ids kept for independent evaluation (never trained, tuned or calibrated on)."""
    path = Path(path) if path else DEFAULT_DATA_ROOT / "reserved_ids.txt"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the reserved-id list is required so that evaluation films stay unseen")
    return frozenset(line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#"))


def split_of(film_id: str, val: float = 0.1, test: float = 0.1, salt: str = "bone-age-v1") -> str:
    """'train', 'val' or 'test', fixed forever by a hash of the id (independent of the order or set of films)."""
    u = int(hashlib.sha256(f"{salt}:{film_id}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if u < test else "val" if u < test + val else "train"
