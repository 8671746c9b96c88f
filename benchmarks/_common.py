"""Helpers for the benchmark scripts: where the data is, and a machine description for every result file."""
from __future__ import annotations

import json
import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("BONE_AGE_DATA", REPO.parent / "shared" / "data"))
RESULTS = REPO / "benchmarks" / "results"


def machine() -> dict:
    return {"platform": platform.platform(), "python": sys.version.split()[0], "torch": torch.__version__,
            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def write_result(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{name}.json"
    payload = {"command": "python " + " ".join([Path(sys.argv[0]).as_posix().split(str(REPO) + "/")[-1]] + sys.argv[1:]),
               "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine(), **payload}
    out.write_text(json.dumps(payload, indent=1))
    print(f"wrote {out}")
    return out
