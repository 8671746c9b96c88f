"""On a machine with a GPU: the same bone ages on CUDA (mixed precision) as on the CPU for every shipped sample, and
films/s for single films and for batches on both, written to ``results/gpu_check.json`` with the machine. Run by
``benchmarks/gpu_check.sh``; needs no data beyond the repository.

    python benchmarks/gpu_check.py [--repeat 20] [--batch 16]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_result  # noqa: E402

from bone_age import Engine, read_film  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SAMPLES = ("IMG0000111", "IMG0000035", "IMG0000122", "IMG0003116", "IMG0003712")


def speed(engine: Engine, films, repeat: int, batch: int) -> dict:
    engine.assess(films[0], sex="F")  # warm-up (CUDA kernels, cuDNN choices)
    single = []
    for k in range(repeat):
        t0 = time.perf_counter()
        engine.assess(films[k % len(films)], sex="F")
        single.append(time.perf_counter() - t0)
    many = [films[k % len(films)] for k in range(batch * 4)]
    t0 = time.perf_counter()
    for i in range(0, len(many), batch):
        engine.assess_many(many[i:i + batch], ["F"] * len(many[i:i + batch]))
    return {"single_film_median_ms": round(float(np.median(single)) * 1000, 1),
            "batch_films_per_s": round(len(many) / (time.perf_counter() - t0), 2), "batch": batch}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--batch", type=int, default=16)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("no CUDA device here: this check is for a machine with a GPU")
    films = [read_film(REPO / "assets" / "samples" / f"{s}.jpg") for s in SAMPLES]
    cpu, gpu = Engine(device="cpu"), Engine(device="cuda")
    parity = []
    for s, film in zip(SAMPLES, films):
        for sex in ("F", "M"):
            a, b = cpu.assess(film, sex=sex), gpu.assess(film, sex=sex)
            parity.append({"film": s, "sex": sex, "cpu_years": a.bone_age_years, "cuda_years": b.bone_age_years,
                           "cpu_gp": a.gp_bone_age_years, "cuda_gp": b.gp_bone_age_years,
                           "stages_equal": [x.stage for x in a.stages] == [x.stage for x in b.stages]})
    within = sum(abs(p["cpu_years"] - p["cuda_years"]) <= 0.1 for p in parity)
    result = {"gpu": torch.cuda.get_device_name(0), "amp": "float16 autocast on CUDA (stages, GP)",
              "parity": parity, "bone_ages_within_0.1_y": f"{within} of {len(parity)}",
              "speed": {"cpu": speed(cpu, films, args.repeat, args.batch), "cuda": speed(gpu, films, args.repeat, args.batch)}}
    write_result("gpu_check", result)
    print(result)
    sys.exit(0 if within == len(parity) else 1)


if __name__ == "__main__":
    main()
