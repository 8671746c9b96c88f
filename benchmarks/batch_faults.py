"""`bone-age score` under faults: a folder of 1,000 films (copies of the shipped samples and synthetic films; 5 %
cut short, 2 % header bombs) scored by a run killed with SIGKILL at a random point and resumed, a second run started
on the same output while the first goes on, and a run into a folder that cannot be written. Checks that every good
film is scored exactly once, every bad one is an error row with its reason, no input changed, no temporary or lock
file is left, and the refusals come at once; records the peak memory. Writes ``results/batch_faults.json``.

    python benchmarks/batch_faults.py [--films 1000] [--seed 0]
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_result  # noqa: E402
from bad_files import film_pixels, jpeg_cut, png_bytes  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SAMPLES = ("IMG0003116", "IMG0003712", "IMG0000111", "IMG0000035")  # the two small FracAtlas films first


def make_folder(folder: Path, n: int, rng: np.random.Generator) -> dict[str, str]:
    """``n`` films; returns what each is: 'good', 'cut' or 'bomb'."""
    folder.mkdir(parents=True)
    kinds = {}
    small = {s: (REPO / "assets" / "samples" / f"{s}.jpg").read_bytes() for s in SAMPLES}
    hand = np.asarray(Image.open(REPO / "assets" / "samples" / "IMG0003712.jpg").convert("L"))
    for i in range(n):
        u = rng.random()
        if u < 0.05:
            name, data, kind = f"film{i:04d}.jpg", jpeg_cut(hand, float(rng.uniform(0.3, 0.9))), "cut"
        elif u < 0.07:
            name, data, kind = f"film{i:04d}.png", png_bytes(film_pixels(i, (64, 64)), size=(30000, 30000)), "bomb"
        elif u < 0.15:
            name, data, kind = f"film{i:04d}.png", png_bytes(film_pixels(i, (300, 260))), "good"  # not a hand
        else:
            sample = SAMPLES[0] if u < 0.55 else SAMPLES[1] if u < 0.95 else SAMPLES[2 + int(u * 100) % 2]
            name, data, kind = f"film{i:04d}.jpg", small[sample], "good"
        (folder / name).write_bytes(data)
        kinds[name] = kind
    return kinds


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.iterdir()):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def score(folder: Path, out: Path, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bone_age.cli", "score", str(folder), "--out", str(out), "--sex", "F",
                             "--device", "cpu"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def rows(out: Path) -> list[dict]:
    try:
        return list(csv.DictReader(open(out, newline="")))
    except FileNotFoundError:
        return []


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--films", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    result: dict = {"films": args.films}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder, out = tmp / "films", tmp / "out" / "results.csv"
        kinds = make_folder(folder, args.films, rng)
        before = digest(folder)
        result["kinds"] = {k: sum(v == k for v in kinds.values()) for k in ("good", "cut", "bomb")}

        # 1. killed at a random point, then resumed
        kill_after = int(rng.integers(args.films // 5, args.films * 3 // 5))
        first = score(folder, out)
        t0 = time.perf_counter()
        while len(rows(out)) < kill_after and first.poll() is None:
            time.sleep(0.2)
        first.send_signal(signal.SIGKILL)
        first.wait()
        at_kill = len(rows(out))
        result["killed"] = {"after_rows_written": at_kill, "seconds": round(time.perf_counter() - t0, 1)}

        resumed = score(folder, out)
        time.sleep(3)
        # 2. a second run on the same output while the resumed one goes on
        t1 = time.perf_counter()
        second = score(folder, out)
        _, err = second.communicate(timeout=120)
        result["concurrent_run"] = {"exit_code": second.returncode, "seconds": round(time.perf_counter() - t1, 2),
                                    "message": err.strip().splitlines()[-1] if err.strip() else ""}
        t2 = time.perf_counter()
        stdout, stderr = resumed.communicate(timeout=3600)
        result["resumed"] = {"exit_code": resumed.returncode, "seconds": round(time.perf_counter() - t2, 1),
                             "summary": stdout.strip().splitlines()[-1] if stdout.strip() else stderr[-300:]}

        final = rows(out)
        by_name: dict[str, list[dict]] = {}
        for r in final:
            by_name.setdefault(Path(r["path"]).name, []).append(r)
        bad_ok = all(r[0]["status"] == "failed" and ("truncated" in r[0]["reason"] or "too large" in r[0]["reason"])
                     for name, r in by_name.items() if kinds[name] != "good")
        result["checks"] = {
            "rows": len(final), "films_with_exactly_one_row": sum(len(v) == 1 for v in by_name.values()),
            "every_film_has_a_row": set(by_name) == set(kinds),
            "good_films_scored_or_rejected": sum(by_name[n][0]["status"] in ("scored", "rejected") for n, k in kinds.items() if k == "good"),
            "good_films": result["kinds"]["good"],
            "bad_films_failed_with_their_reason": bad_ok,
            "inputs_unchanged": digest(folder) == before,
            "files_left_beside_the_output": sorted(p.name for p in out.parent.iterdir() if p.name != out.name)}
        result["statuses"] = {s: sum(r["status"] == s for r in final) for s in ("scored", "rejected", "failed")}

        # 3. an output folder that cannot be written
        blocker = tmp / "blocker"
        blocker.write_text("a file where the output folder would be")
        t3 = time.perf_counter()
        ro = score(folder, blocker / "out" / "r.csv")
        _, err = ro.communicate(timeout=120)
        result["unwritable_output"] = {"exit_code": ro.returncode, "seconds": round(time.perf_counter() - t3, 2),
                                       "message": err.strip().splitlines()[-1] if err.strip() else ""}
    result["peak_rss_mb_of_a_scoring_run"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    write_result("batch_faults", result)
    print(result)


if __name__ == "__main__":
    main()
