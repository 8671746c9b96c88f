"""Single-film time of the side modules with torch and with ONNX Runtime (after `bone-age export onnx`), on the same
inputs: the fracture reading (detector, whole-film classifier, polarity check) of the shipped foot and a hand film,
the clavicle segmenter on a 2048 x 2048 film (JSRT's size), the bone-scan region classifier on a batch of 16 crops.
Writes ``results/side_speed.json`` with the machine.

    python benchmarks/side_speed.py [--repeats 5]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, write_result  # noqa: E402
from bone_age.io import read_film  # noqa: E402
from bone_age.modules import MODULES  # noqa: E402


def median_ms(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return round(statistics.median(times) * 1000, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    samples = REPO / "assets" / "samples"
    films = {"foot": read_film(samples / "IMG0000037.jpg"), "hand": read_film(samples / "IMG0000035.jpg")}
    rng = np.random.default_rng(0)
    chest = rng.random((2048, 2048), dtype=np.float32)
    crops = [rng.random((165, 65), dtype=np.float32) for _ in range(16)]
    out: dict = {}
    for runtime in ("torch", "onnx"):
        fracture, clavicle, bonescan = (MODULES[m].load("cpu", runtime=runtime) for m in ("fracture", "clavicle", "bonescan"))
        out[runtime] = {**{f"fracture_{k}_ms": median_ms(lambda f=f: fracture.read(f), args.repeats) for k, f in films.items()},
                        "clavicle_2048px_ms": median_ms(lambda: clavicle.probabilities(chest), args.repeats),
                        "bonescan_16_crops_ms": median_ms(lambda: bonescan.classifier.probabilities(crops), args.repeats),
                        "model_versions": {**fracture.model_versions, **clavicle.model_versions, **bonescan.model_versions}}
    out["onnx_speedup"] = {k: round(out["torch"][k] / out["onnx"][k], 2) for k in out["torch"] if k.endswith("_ms")}
    write_result("side_speed", {"repeats": args.repeats, **out})
    print({k: (out["torch"][k], out["onnx"][k]) for k in out["onnx_speedup"]})


if __name__ == "__main__":
    main()
