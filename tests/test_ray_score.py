"""`score --ray` on a local Ray cluster started by the test: the same rows as the local command (corrupt films
included), and a run killed midway resumes with no row lost or repeated."""
import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bone_age.registry import list_models

pytest.importorskip("ray", reason="Ray is the ray extra")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not list_models("stages"), reason="no shipped models")]

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def films(tmp_path_factory):
    folder = tmp_path_factory.mktemp("films")
    for i in range(26):  # the two small FracAtlas samples (two hands; a child's forearm), and a foot
        src = ("IMG0003116", "IMG0003712", "IMG0000037")[i % 3]
        shutil.copy(REPO / "assets" / "samples" / f"{src}.jpg", folder / f"f{i:02d}.jpg")
    for i in range(4):
        (folder / f"bad{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    return folder


@pytest.fixture(scope="module")
def cluster():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    yield
    ray.shutdown()


def _rows(path: Path) -> dict[str, dict]:
    return {Path(r["path"]).name: r for r in csv.DictReader(open(path, newline=""))}


def test_ray_rows_are_the_local_commands(films, cluster, tmp_path):
    from bone_age.cli import main

    assert main(["score", str(films), "--out", str(tmp_path / "local.csv"), "--sex", "F", "--device", "cpu"]) == 0
    listing = tmp_path / "films.txt"
    listing.write_text("".join(f"{p}\n" for p in sorted(films.iterdir())))  # a list of paths, as for a cluster
    assert main(["score", str(listing), "--out", str(tmp_path / "ray.csv"), "--sex", "F", "--device", "cpu", "--ray",
                 "--workers", "1", "--ray-decode", "actors"]) == 0  # decoded by the actor (the resume test: by tasks)
    local, remote = _rows(tmp_path / "local.csv"), _rows(tmp_path / "ray.csv")
    assert sorted(local) == sorted(remote) and len(remote) == 30
    for name, row in local.items():
        for key in ("status", "bone_age_years", "total_score", "gp_bone_age_years", "stages", "sha256"):
            assert remote[name][key] == row[key], (name, key)
        assert remote[name]["reason"].split(":")[0] == row["reason"].split(":")[0]
    assert sum(r["status"] == "failed" for r in remote.values()) == 4


def test_a_ray_run_killed_midway_resumes_without_loss_or_repeat(films, tmp_path):
    out = tmp_path / "r.csv"
    code = ("import sys\nfrom bone_age.ray_score import list_inputs, score_with_ray\n"
            "score_with_ray(list_inputs(sys.argv[1]), sys.argv[2], sex='F', engine_options={'device': 'cpu'}, "
            "batch_size=2, flush_every=2)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(films), str(out)], cwd=REPO, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 300
    while (not out.exists() or len(_rows(out)) < 6) and time.monotonic() < end and proc.poll() is None:
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its Ray workers, mid-run
    proc.wait()
    partial = len(_rows(out))
    assert 6 <= partial < 30
    from bone_age.ray_score import list_inputs, score_with_ray

    summary = score_with_ray(list_inputs(str(films)), out, sex="F", engine_options={"device": "cpu"})
    rows = list(csv.DictReader(open(out, newline="")))
    assert summary.skipped == partial and len(rows) == 30 and len({r["path"] for r in rows}) == 30
