"""Paired difference in absolute error between two readings of the same films, with a bootstrap interval.

    python benchmarks/studies/paired_difference.py A.json B.json [--b-reading rus|gp] [--resamples 2000]

A and B are files written by ``stage_accuracy.py --rows`` (e.g. before and after a change, on the same films). For each
group of films, each band of label ages and all together, the mean |RUS-CHN age - label| in months of each, B minus A,
and the 2.5-97.5 % interval of that difference over films resampled with replacement: a change whose interval holds
zero has not been shown to matter on these films, however the two means compare. ``--b-reading gp`` takes B's
Greulich-Pyle reading instead (A and B may be one file: where the RUS-CHN path loses to the direct model).
"""
from __future__ import annotations

import sys

import argparse
import json
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for _common

from _common import AGE_BANDS_YEARS  # noqa: E402


def paired(err_a: np.ndarray, err_b: np.ndarray, resamples: int, rng: np.random.Generator) -> dict:
    d = err_b - err_a
    boot = d[rng.integers(len(d), size=(resamples, len(d)))].mean(1)
    return {"n": len(d), "mae_a": round(float(err_a.mean()), 2), "mae_b": round(float(err_b.mean()), 2),
            "b_minus_a": round(float(d.mean()), 3), "ci95": [round(float(q), 3) for q in np.quantile(boot, [0.025, 0.975])]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument("--b-reading", choices=("rus", "gp"), default="rus", help="which of B's readings: RUS-CHN or Greulich-Pyle")
    ap.add_argument("--resamples", type=int, default=2000)
    args = ap.parse_args()
    a, b = ({r["id"]: r for r in json.loads(p.read_text())} for p in (args.a, args.b))
    common = sorted(set(a) & set(b))
    if not common:
        raise SystemExit(f"no film is in both {args.a} and {args.b}")
    rng = np.random.default_rng(0)
    groups = {"all": common, **{g: [i for i in common if a[i]["group"] == g] for g in sorted({a[i]["group"] for i in common})},
              **{f"age {lo}-{hi} y": [i for i in common if lo <= a[i]["age"] < hi] for lo, hi in AGE_BANDS_YEARS}}
    out = {}
    for g, ids in groups.items():
        if not ids:
            continue
        err_a = np.array([abs(a[i]["rus"] - a[i]["age"]) * 12 for i in ids])
        err_b = np.array([abs(b[i][args.b_reading] - b[i]["age"]) * 12 for i in ids])
        out[g] = paired(err_a, err_b, args.resamples, rng)
    print(json.dumps({"a": str(args.a), "b": f"{args.b} ({args.b_reading})", "only_in_one": len(set(a) ^ set(b)), **out},
                     indent=1))


if __name__ == "__main__":
    main()
