"""Batch outputs under faults (issue 37: reproducers 6-9): a folder that cannot be written is refused before any film
is read; resume matches films by resolved path and by content; an output that is not this command's is never
rewritten; a second run on the same output is refused at once; concurrent writers never share a temporary file."""
import csv
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bad_files import film_pixels, png_bytes
from bone_age.batch import run_batch
from bone_age.errors import OutputRefused
from bone_age.results import row_for

FIELDS = ["path", "status", "reason", "mean"]


def _films(folder: Path, n: int = 4) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"f{i}.png").write_bytes(png_bytes(film_pixels(i, (40, 32))))
    (folder / "bad.png").write_bytes(b"\x89PNG not really")
    return sorted(folder.glob("*.png"))


def _run(paths, out, calls, **kw):
    def score(items):
        calls.extend(p for p, _ in items)
        return [row_for(FIELDS, str(p), mean=round(float(f.pixels.mean()), 4)) for p, f in items]

    return run_batch(paths, out, score, lambda p, e: row_for(FIELDS, str(p), "failed", e.reason), FIELDS, **kw)


def test_a_folder_that_cannot_be_written_is_refused_before_any_film_is_read(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the output folder would be")
    calls = []
    with pytest.raises(OutputRefused, match="cannot write there .*nothing was read"):
        _run(_films(tmp_path / "in"), blocker / "out" / "r.csv", calls)
    assert calls == []


def test_resume_matches_resolved_paths_and_moved_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    films = _films(Path("mini"))
    out, calls = tmp_path / "r.csv", []
    first = _run(films, out, calls)
    assert first.scored == 4 and first.failed == 1
    again = _run([p.resolve() for p in films], out, calls)  # the same films typed as absolute paths
    assert again.skipped == 5 and len(calls) == 4
    Path("mini").rename("moved")  # the folder moved: matched by the files' sha256
    moved = _run(sorted(Path("moved").glob("*.png")), out, calls)
    assert moved.skipped == 5 and len(calls) == 4
    rows = list(csv.DictReader(open(out)))
    assert len(rows) == 5 and all(len(r["sha256"]) == 64 for r in rows)
    twin = Path("moved") / "twin.png"  # a copy of a film under another name is a film of its own
    twin.write_bytes((Path("moved") / "f0.png").read_bytes())
    assert _run(sorted(Path("moved").glob("*.png")), out, calls).scored == 1 and calls[-1] == twin


def test_an_output_that_is_not_this_commands_is_never_rewritten(tmp_path):
    films = _films(tmp_path / "in")
    other = tmp_path / "other.csv"
    other.write_text("path,status,reason,bone_age_years\nx.png,scored,,7.5\n")
    extra = tmp_path / "extra.csv"
    extra.write_text("path,status,reason,mean,note\nx.png,scored,,0.5,mine\n")
    headless = tmp_path / "headless.csv"
    headless.write_text("a,b\n1,2\n")
    for out in (other, extra, headless):
        before = out.read_bytes()
        with pytest.raises(OutputRefused, match="not this command's output"):
            _run(films, out, [])
        assert out.read_bytes() == before
    assert _run(films, other, [], overwrite=True).scored == 4  # asked for: replaced
    broken = tmp_path / "r.jsonl"
    broken.write_text('{"path": "a"}\n{not json\n')
    with pytest.raises(OutputRefused, match="line 2 is not JSON") as err:
        _run(films, broken, [])
    assert err.value.path == str(broken)


def test_a_second_run_on_the_same_output_is_refused_at_once(tmp_path):
    films = _films(tmp_path / "in")
    out = tmp_path / "r.csv"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom bone_age.batch import OutputLock\n"
                               "with OutputLock(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(30)\n",
                               str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(OutputRefused, match=f"another run \\(process {holder.pid}\\)"):
            _run(films, out, [])
    finally:
        holder.kill()
        holder.wait()
    assert _run(films, out, []).scored == 4  # the killed run's lock is stale: taken over
    assert not (tmp_path / ".r.csv.lock").exists()


def test_concurrent_writers_of_one_file_never_share_a_temporary_file(tmp_path):
    from bone_age._atomic import write_bytes

    target, errors = tmp_path / "same.txt", []

    def write(k):
        try:
            for _ in range(50):
                write_bytes(target, f"writer {k}\n".encode())
        except Exception as exc:  # the old shared temporary name lost a rename here
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and target.read_text().startswith("writer ")
    assert not [p for p in tmp_path.iterdir() if p.name != "same.txt"]


def test_the_command_refuses_a_locked_or_foreign_output_before_loading_models(tmp_path, capsys):
    from bone_age.cli import main

    films = tmp_path / "in"
    _films(films)
    out = tmp_path / "f.csv"
    out.write_text("path,status,reason,bone_age_years\nx.png,scored,,7.5\n")  # score's output, not fracture's
    assert main(["fracture", str(films), "--out", str(out), "--device", "cpu"]) == 2
    assert "not this command's output" in capsys.readouterr().err
    lock = tmp_path / ".g.csv.lock"
    lock.write_text(str(os.getppid()))  # a live process holds it
    assert main(["fracture", str(films), "--out", str(tmp_path / "g.csv"), "--device", "cpu"]) == 2
    assert "another run" in capsys.readouterr().err
