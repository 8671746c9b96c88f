"""Per-film latency breakdown and folder throughput of the whole pipeline on this machine.

    python benchmarks/speed.py [--films 200] [--device cpu] [--runtime torch onnx] [--processes 2]

Single film: median of the engine's own timings (read, polarity, localize, crop, stage, score, gp) over --single
films; "localize" includes the hand-film gate, whose own share is timed apart.
Batch: the `bone-age score` machinery over --films RSNA films (decode overlapped with inference), and decode
alone, to show which one limits throughput; then the folder again with --processes engine processes (`score
--processes`), the cores shared out among them, and whether its rows are the same. With several --runtime (torch, onnx: ONNX Runtime on exports made by
`bone-age export onnx`, made here when missing) each is measured on the same films and their bone ages compared.
Writes benchmarks/results/speed_<device>.json.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from bone_age.batch import read_rows, run_batch
from bone_age.hand.engine_pool import EnginePool
from bone_age.hand.pipeline import Engine
from bone_age.hand.results import Assessment
from bone_age.io import read_film
from bone_age.results import row_for
from bone_age.training.rsna import load_rsna_hands

from _common import DATA, write_result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--films", type=int, default=200)
    ap.add_argument("--single", type=int, default=30)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--runtime", nargs="+", default=["torch"], choices=["torch", "onnx"])
    ap.add_argument("--processes", type=int, default=2, help="the folder again with this many engine processes "
                                                               "(`score --processes`); 1: not measured")
    args = ap.parse_args()
    films = load_rsna_hands(DATA / "rsna_hands")[: args.films]
    if "onnx" in args.runtime:  # the exports of the shipped weights, made in a child process (this one only reads)
        subprocess.run([sys.executable, "-m", "bone_age.cli", "export", "onnx"], check=True, stderr=subprocess.DEVNULL)
    runs = {rt: measure(films, args, rt) for rt in args.runtime}
    result = {"device": args.device, "torch_threads": torch.get_num_threads(), "films": "rsna_hands JPEGs (long side up to 1024 px)",
              "runtimes": {rt: r for rt, (r, _) in runs.items()}}
    if len(runs) == 2:
        (t, ages_t), (o, ages_o) = runs["torch"], runs["onnx"]
        result["onnx_vs_torch"] = {
            "single_film_ms": [t["single_film_median_ms"]["total"], o["single_film_median_ms"]["total"]],
            "single_film_speedup": round(t["single_film_median_ms"]["total"] / o["single_film_median_ms"]["total"], 2),
            "batch_films_per_s": [t["batch"]["films_per_s"], o["batch"]["films_per_s"]],
            "batch_speedup": round(o["batch"]["films_per_s"] / t["batch"]["films_per_s"], 2),
            "bone_ages_within_0.1_y": f"{sum(abs(a - b) <= 0.1 for a, b in zip(ages_t, ages_o))} of {len(ages_t)}",
            "largest_bone_age_difference_y": round(max(abs(a - b) for a, b in zip(ages_t, ages_o)), 3)}
    write_result(f"speed_{args.device}", result)
    print(result)


def measure(films, args, runtime: str) -> tuple[dict, list[float]]:
    """Single-film breakdown and batch throughput with one runtime; and the bone ages of the single films."""
    engine = Engine(device=args.device, runtime=runtime)
    engine.assess(read_film(films[0].path), sex="F")  # warm-up

    timings, ages = [], []
    for f in films[: args.single]:
        try:
            a = engine.assess(f.path, sex="M" if f.male else "F")
        except Exception:  # a rejected film has no breakdown
            continue
        timings.append(a.timings_ms)
        ages.append(a.bone_age_years)
    keys = ["read", "polarity", "localize", "crop", "stage", "score", "gp", "total"]
    single = {k: round(float(np.median([t[k] for t in timings if k in t])), 1) for k in keys if any(k in t for t in timings)}
    gate = engine.localizer.gate
    if gate is not None:  # its share of "localize"
        gate_ms = []
        for f in films[: args.single]:
            px = read_film(f.path).pixels
            t0 = time.perf_counter()
            gate.probability(px)
            gate_ms.append((time.perf_counter() - t0) * 1000)
        single["of_which_hand_gate"] = round(float(np.median(gate_ms)), 1)

    t0 = time.perf_counter()
    for f in films:
        read_film(f.path)
    decode_fps = len(films) / (time.perf_counter() - t0)

    batch, rows = folder(engine, films, args, concurrent=1)
    batch["decode_only_films_per_s"] = round(decode_fps, 2)
    out = {"single_film_median_ms": single, "single_films": len(timings), "model_versions": engine.model_versions,
           "batch": batch}
    if args.processes > 1:
        with EnginePool(args.processes, device=args.device, runtime=runtime) as pool:
            film = read_film(films[0].path)
            with ThreadPoolExecutor(args.processes) as warm:  # every process up before the clock starts
                list(warm.map(lambda _: pool.assess_many([film], ["F"]), range(args.processes)))
            out["batch_processes"], rows_p = folder(pool, films, args, concurrent=args.processes)
        out["batch_processes"].update(processes=args.processes, threads_each=max(1, (os.cpu_count() or 1) // args.processes),
                                      same_rows_as_one_process=_same(rows, rows_p))
    return out, ages


def folder(engine, films, args, concurrent: int) -> tuple[dict, list[dict]]:
    """The `score` machinery over ``films`` with ``engine`` (an Engine or an EnginePool): films/s and the rows."""
    sexes = {str(f.path): ("M" if f.male else "F") for f in films}

    def failed(p, e):
        return row_for(Assessment.BATCH_FIELDS, str(p), status="failed", reason=str(e))

    def score(items):
        results = engine.assess_many([film for _, film in items], [sexes[str(p)] for p, _ in items])
        return [a.batch_row(str(p)) if not isinstance(a, Exception) else failed(p, a)
                for (p, _), a in zip(items, results)]

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        summary = run_batch([f.path for f in films], Path(tmp) / "r.csv", score, failed, Assessment.BATCH_FIELDS,
                            workers=args.workers, batch=args.batch, concurrent=concurrent)
        seconds = time.perf_counter() - t0
        rows = read_rows(Path(tmp) / "r.csv")
    return {"films": len(films), "seconds": round(seconds, 1), "films_per_s": round(len(films) / seconds, 2),
            "summary": summary.line()}, rows


def _same(a: list[dict], b: list[dict]) -> bool:
    """The same bone ages, stages and statuses film by film."""
    keys = ("status", "bone_age_years", "stages", "gp_bone_age_years")
    return {r["path"]: [r[k] for k in keys] for r in a} == {r["path"]: [r[k] for k in keys] for r in b}


if __name__ == "__main__":
    main()
