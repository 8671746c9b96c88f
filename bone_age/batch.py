"""Scoring a folder: find films, run a function on each with decoding overlapped, write rows atomically, resume."""
from __future__ import annotations

import csv
import io
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ._atomic import write_bytes
from .errors import BoneAgeError, UnreadableFilm
from .io import Film, read_film

__all__ = ["find_films", "BatchSummary", "run_batch", "read_rows", "FILM_SUFFIXES"]

_logger = logging.getLogger(__name__)
FILM_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".dcm", ".dicom", ".bmp", ""}


def find_films(folder: Path, recursive: bool = False) -> list[Path]:
    """Candidate films in ``folder`` (DICOM files often have no suffix), sorted, hidden files skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder")
    it = folder.rglob("*") if recursive else folder.glob("*")
    return sorted(p for p in it if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in FILM_SUFFIXES)


@dataclass
class BatchSummary:
    scored: int = 0
    rejected: int = 0
    failed: int = 0
    skipped: int = 0

    def line(self) -> str:
        return f"scored {self.scored}, rejected {self.rejected}, failed {self.failed}, already done {self.skipped}"


def read_rows(out: Path) -> list[dict]:
    """Rows already in a CSV or JSONL output (for resuming); none if the file is absent."""
    out = Path(out)
    if not out.is_file():
        return []
    if out.suffix == ".jsonl":
        return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    with open(out, newline="") as f:
        return list(csv.DictReader(f))


def _write_rows(out: Path, rows: list[dict], fields: list[str]) -> None:
    """All rows to ``out`` at once (``_atomic.write_bytes``: a temporary file of this writer's own, then a rename)."""
    buf = io.StringIO(newline="")
    if out.suffix == ".jsonl":
        buf.writelines(json.dumps(r) + "\n" for r in rows)
    else:
        w = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    write_bytes(out, buf.getvalue().encode("utf-8"))


def _read(path: Path) -> Film | BoneAgeError:
    try:
        return read_film(path)
    except BoneAgeError as exc:
        return exc
    except Exception as exc:  # a decoder's unexpected failure becomes a row, never a crash of the batch
        return UnreadableFilm(f"{type(exc).__name__}: {exc}", path)


def run_batch(paths: Iterable[Path], out: Path, score: Callable[[list[tuple[Path, Film]]], list[dict]],
              error_row: Callable[[Path, BoneAgeError], dict], fields: list[str], *, overwrite: bool = False,
              workers: int = 2, batch: int = 8, flush_every: int = 20,
              progress: Callable[[int, int], None] | None = None) -> BatchSummary:
    """Run ``score([(path, film), ...]) -> rows`` over ``paths`` in groups of ``batch`` decoded films; unreadable
    films become ``error_row`` rows and the run goes on.

    Films already in ``out`` are skipped unless ``overwrite``. Rows are written atomically at least every
    ``flush_every`` films and at the end. Inputs are only read. ``workers`` threads decode ahead of scoring.
    """
    out = Path(out)
    if out.suffix not in (".csv", ".jsonl"):
        raise ValueError(f"output must end in .csv or .jsonl, got {out.name}")
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = [] if overwrite else read_rows(out)
    done = {r["path"] for r in rows}
    paths = [Path(p) for p in paths]
    todo = [p for p in paths if str(p) not in done]
    summary = BatchSummary(skipped=len(paths) - len(todo))
    pending: list[tuple[Path, Film]] = []
    since_flush = processed = 0

    def add(new_rows: list[dict]) -> None:
        nonlocal since_flush, processed
        for row in new_rows:
            key = row.get("status") if row.get("status") in ("scored", "rejected") else "failed"
            setattr(summary, key, getattr(summary, key) + 1)
            rows.append(row)
            processed += 1
            if progress:
                progress(processed, len(todo))
        since_flush += len(new_rows)
        if since_flush >= flush_every:
            _write_rows(out, rows, fields)
            since_flush = 0

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for path, film in zip(todo, _prefetch(pool, todo, max(workers, batch))):
            if isinstance(film, BoneAgeError):
                add([error_row(path, film)])
                continue
            pending.append((path, film))
            if len(pending) >= batch:
                add(score(pending))
                pending = []
        if pending:
            add(score(pending))
    _write_rows(out, rows, fields)
    return summary


def _prefetch(pool: ThreadPoolExecutor, paths: list[Path], depth: int) -> Iterator[Film | BoneAgeError]:
    """Decode up to ``depth`` + 1 films ahead while the caller scores the current one."""
    futures = [pool.submit(_read, p) for p in paths[: depth + 1]]
    for i in range(len(paths)):
        nxt = i + depth + 1
        if nxt < len(paths):
            futures.append(pool.submit(_read, paths[nxt]))
        yield futures[i].result()
        futures[i] = None
