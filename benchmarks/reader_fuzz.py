"""The reader under fire: byte mutations, cuts and header lies of JPEG, PNG, TIFF and DICOM seeds, many thousands of
each. Counts each outcome (read; refused with each kind of reason; anything else) and the peak memory, and writes
``results/reader_fuzz.json``. Every input must end read or refused as ``UnreadableFilm``: any other exception is a bug.

    python benchmarks/reader_fuzz.py [--per-format 10000] [--seed 0]
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the bad-file makers the tests use
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_result  # noqa: E402
from bad_files import (dicom_bytes, film_pixels, jpeg_bytes, jpeg_size_lie, png_bytes, tiff_bytes,  # noqa: E402
                       tiff_size_lie)

from bone_age import UnreadableFilm, read_film  # noqa: E402


def mutant(seed: bytes, rng: np.random.Generator) -> bytes:
    """One of: bytes overwritten (1-16), a cut, bytes inserted, or a cut with an end marker appended."""
    data = bytearray(seed)
    kind = rng.integers(4)
    if kind == 0:
        for _ in range(rng.integers(1, 17)):
            data[rng.integers(len(data))] = rng.integers(256)
    elif kind == 1:
        data = data[:rng.integers(1, len(data))]
    elif kind == 2:
        at = rng.integers(len(data))
        data[at:at] = rng.integers(0, 256, rng.integers(1, 64), dtype=np.uint8).tobytes()
    else:
        data = data[:rng.integers(1, len(data))] + b"\xff\xd9"
    return bytes(data)


def reason_kind(reason: str) -> str:
    for key in ("too large", "truncated", "not a DICOM", "broken DICOM", "no pixel data", "cannot decode",
                "not a recognised", "not a readable DICOM", "cannot be read", "expected", "multi", "photometric"):
        if reason.startswith(key) or key in reason[:40]:
            return key
    return reason.split(":")[0][:40]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-format", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    outcomes: dict[str, Counter] = {}
    undocumented: list[str] = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        px = film_pixels(1, (128, 104))
        seeds = {"jpg": jpeg_bytes(px), "png": png_bytes(px), "tif": tiff_bytes(px),
                 "dcm": dicom_bytes(px.astype(np.uint16) * 16, tmp)}
        lies = {"jpg": lambda: jpeg_size_lie(px, *rng.integers(1, 65535, 2)),
                "png": lambda: png_bytes(px, size=tuple(int(v) for v in rng.integers(1, 200_000, 2))),
                "tif": lambda: tiff_size_lie(px, *rng.integers(1, 65535, 2)),
                "dcm": None}
        for kind, seed in seeds.items():
            counts = outcomes.setdefault(kind, Counter())
            for i in range(args.per_format):
                lie = lies[kind]
                data = lie() if lie and i % 10 == 0 else mutant(seed, rng)
                path = tmp / f"input.{kind}"
                path.write_bytes(data)
                try:
                    read_film(path)
                    counts["read"] += 1
                except UnreadableFilm as exc:
                    counts[f"UnreadableFilm: {reason_kind(exc.reason)}"] += 1
                except Exception as exc:  # the bug this benchmark looks for
                    counts[f"undocumented {type(exc).__name__}"] += 1
                    undocumented.append(f"{kind} #{i}: {type(exc).__name__}: {exc}"[:300])
            print(kind, dict(counts))
    write_result("reader_fuzz", {
        "inputs_per_format": args.per_format, "seed": args.seed, "seconds": round(time.perf_counter() - t0, 1),
        "inputs": "per format a 128 x 104 seed film mutated (bytes overwritten, cut, bytes inserted, cut with an end "
                  "marker); every tenth raster input a header claiming a random size",
        "outcomes": {k: dict(sorted(v.items())) for k, v in outcomes.items()},
        "undocumented_exceptions": len(undocumented), "undocumented_examples": undocumented[:20],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)})


if __name__ == "__main__":
    main()
