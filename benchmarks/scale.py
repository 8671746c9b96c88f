"""Throughput of `score --ray` against the local command on this machine: the local command, a local Ray cluster with
1 and 2 Engine actors (films decoded by the actors, then by Ray CPU tasks), and a two-node cluster simulated on loopback (`ray start --head` and a second `ray start
--address`, each with one CPU). Writes ``results/scale.json``. On a 2-core machine this measures the overhead of
the Ray path and that it scales with actors given cores; it cannot show scaling across real machines.

    python benchmarks/scale.py [--films 60]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, write_result  # noqa: E402

from bone_age.training.rsna import load_rsna_hands  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--films", type=int, default=60)
    args = ap.parse_args()
    films = load_rsna_hands(DATA / "rsna_hands")[: args.films]
    bone_age = [sys.executable, "-m", "bone_age.cli", "score"]
    ray = shutil.which("ray") or str(Path(sys.executable).parent / "ray")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a throwaway cluster on loopback: no token between its nodes
    result = {"films": len(films), "note": "each run includes starting the engine(s) and, for Ray, the cluster"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        listing = tmp / "films.txt"
        listing.write_text("".join(f"{f.path}\n" for f in films))
        folder = tmp / "films"
        folder.mkdir()
        for f in films:
            (folder / f.path.name).symlink_to(f.path)
        runs = {"local": bone_age + [str(folder), "--out", str(tmp / "local.csv"), "--sex", "F", "--device", "cpu"]}
        for n, decode in ((1, "actors"), (2, "actors"), (1, "tasks"), (2, "tasks")):
            runs[f"ray_local_{n}_actor{'s' if n > 1 else ''}_decode_in_{decode}"] = bone_age + [
                str(listing), "--out", str(tmp / f"ray{n}{decode}.csv"), "--sex", "F", "--device", "cpu", "--ray",
                "--workers", str(n), "--ray-decode", decode]
        for name, cmd in runs.items():
            s = timed(cmd)
            result[name] = {"seconds": round(s, 1), "films_per_s": round(len(films) / s, 2)}
            print(name, result[name])
        port = 6391
        subprocess.run([ray, "start", "--head", f"--port={port}", "--num-cpus=1", "--include-dashboard=false"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            subprocess.run([ray, "start", f"--address=127.0.0.1:{port}", "--num-cpus=1"], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for decode in ("actors", "tasks"):
                s = timed(bone_age + [str(listing), "--out", str(tmp / f"two_nodes_{decode}.csv"), "--sex", "F",
                                      "--device", "cpu", "--ray", f"127.0.0.1:{port}", "--workers", "2",
                                      "--ray-decode", decode])
                key = f"ray_two_nodes_loopback_2_actors_decode_in_{decode}"
                result[key] = {"seconds": round(s, 1), "films_per_s": round(len(films) / s, 2)}
                print(key, result[key])
        finally:
            subprocess.run([ray, "stop", "--force"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    write_result("scale", result)


if __name__ == "__main__":
    main()
