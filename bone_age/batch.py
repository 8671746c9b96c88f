"""Scoring a folder: find films, run a function on each with decoding overlapped, write rows atomically, resume.

Before any film is read the output is checked: it must be writable, not locked by another run (a lock file beside
it, taken for the whole run) and, when it exists, this command's own (the same columns), unless ``overwrite``.
A film already in the output is skipped, matched by its resolved path or, when the film a row names is gone (the
folder moved), by the sha256 of its file: copies of one film under other names are each scored. Films decoded ahead are bounded by memory: each kept film is at most ``MAX_SIDE_PX`` square.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import os
from collections import Counter, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ._atomic import write_bytes
from ._hashing import file_sha256
from .errors import BoneAgeError, NotAHandFilm, OutputRefused, UnreadableFilm
from .io import Film, read_film
from .io.film import MAX_SIDE_PX
from .results import row_for

__all__ = ["find_films", "BatchSummary", "run_batch", "read_rows", "check_writable", "OutputLock", "FILM_SUFFIXES",
           "SHA_FIELD", "READ_AHEAD_MB", "resolved_key", "failure_row"]

_logger = logging.getLogger(__name__)
FILM_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".dcm", ".dicom", ".bmp", ""}
SHA_FIELD = "sha256"  # every row's film file, for resuming after the folder moved
READ_AHEAD_MB = 1024  # decoded films in flight at most this much memory (each at most MAX_SIDE_PX² float32)


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


def check_writable(folder: Path) -> None:
    """``OutputRefused`` unless files can be created in ``folder`` (created if absent): said before any film is read."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".bone-age-probe.{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputRefused(f"cannot write there ({exc.strerror or exc}); nothing was read", folder) from None


def read_rows(out: Path, fields: list[str] | None = None) -> list[dict]:
    """Rows already in a CSV or JSONL output (for resuming); none if the file is absent. With ``fields``, an output
    whose columns are others (another command's, or edited) is refused rather than rewritten."""
    out = Path(out)
    if not out.is_file():
        return []
    try:
        text = out.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise OutputRefused(f"the existing output cannot be read ({exc})", out) from None
    if out.suffix == ".jsonl":
        rows = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise OutputRefused(f"line {n} is not JSON ({exc.msg}): the file is damaged; choose another "
                                        "--out, or --overwrite to start it afresh", out) from None
        columns = set().union(*(r.keys() for r in rows)) if rows else set()
    else:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        rows, columns = list(reader), set(reader.fieldnames or ())
    if fields is not None and (rows or columns):
        expected = set(fields)
        if not (columns == expected or columns == expected - {SHA_FIELD}) or not all(isinstance(r, dict) for r in rows):
            other = sorted(columns ^ expected)
            raise OutputRefused(f"it is not this command's output (columns differ: {', '.join(other[:6])}"
                                f"{' ...' if len(other) > 6 else ''}); choose another --out, or --overwrite to "
                                "replace it", out)
    return rows


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


class OutputLock:
    """``.<name>.lock`` beside an output for the length of a run; a second run on it is refused at once, naming the
    process that holds it. A lock left by a process that is gone is taken over."""

    def __init__(self, out: Path):
        self.out = Path(out)
        self.path = self.out.parent / f".{self.out.name}.lock"

    def __enter__(self) -> "OutputLock":
        self.owned = False
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder == os.getpid():  # this process holds it already (the command around the batch)
                    return self
                if holder is not None and _alive(holder):
                    raise OutputRefused(f"another run (process {holder}) is writing this output; wait for it, or "
                                        f"delete {self.path.name} if no run is going", self.out) from None
                _logger.warning("%s: a lock left by a stopped run (process %s), taken over", self.out, holder)
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as f:
                f.write(str(os.getpid()))
            self.owned = True
            return self
        raise OutputRefused(f"cannot take the lock {self.path.name}", self.out)

    def _holder(self) -> int | None:
        try:
            return int(self.path.read_text().strip() or 0) or None
        except (OSError, ValueError):
            return None

    def __exit__(self, *exc) -> None:
        if self.owned:
            self.path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read(path: Path) -> tuple[Film | BoneAgeError, str]:
    try:
        sha = file_sha256(path)
    except OSError:
        sha = ""
    try:
        return read_film(path), sha
    except BoneAgeError as exc:
        return exc, sha
    except Exception as exc:  # a decoder's unexpected failure becomes a row, never a crash of the batch
        return UnreadableFilm(f"{type(exc).__name__}: {exc}", path), sha


def resolved_key(path: str | Path) -> str:
    """The key a film is matched by when resuming: its resolved path (a URI as it is)."""
    return str(path) if "://" in str(path) else str(Path(path).resolve())


def failure_row(fields: list[str], path: str | Path, exc: Exception) -> dict:
    """The row of a film that was not read: 'rejected' when it is not a film for the module, else 'failed', with the
    error's kind and reason."""
    status = "rejected" if isinstance(exc, NotAHandFilm) else "failed"
    return row_for(fields, str(path), status, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}")


def run_batch(paths: Iterable[Path], out: Path, score: Callable[[list[tuple[Path, Film]]], list[dict]],
              error_row: Callable[[Path, BoneAgeError], dict], fields: list[str], *, overwrite: bool = False,
              workers: int = 2, batch: int = 8, flush_every: int = 20,
              progress: Callable[[int, int], None] | None = None, concurrent: int = 1) -> BatchSummary:
    """Run ``score([(path, film), ...]) -> rows`` over ``paths`` in groups of ``batch`` decoded films; unreadable
    films become ``error_row`` rows and the run goes on.

    Films already in ``out`` are skipped unless ``overwrite``. Rows are written atomically at least every
    ``flush_every`` films and at the end, each with the sha256 of its film. Inputs are only read. ``workers`` threads
    decode ahead of scoring, as many films as ``READ_AHEAD_MB`` holds. ``concurrent``: groups scored at once (from as
    many threads; ``score`` must then be thread-safe, e.g. an ``EnginePool``'s), their rows added in order.
    """
    out = Path(out)
    if out.suffix not in (".csv", ".jsonl"):
        raise ValueError(f"output must end in .csv or .jsonl, got {out.name}")
    fields = list(fields) + ([SHA_FIELD] if SHA_FIELD not in fields else [])
    check_writable(out.parent)
    with OutputLock(out):
        rows = [] if overwrite else read_rows(out, fields)
        done_paths = {resolved_key(r["path"]) for r in rows if r.get("path")}
        # a row whose film is no longer where it was (the folder moved) matches one film of the same content
        gone = Counter(r.get(SHA_FIELD) for r in rows if r.get("path") and not Path(r["path"]).exists())
        gone.pop("", None), gone.pop(None, None)
        paths = [Path(p) for p in paths]
        todo = []
        for p in paths:
            if resolved_key(p) in done_paths:
                continue
            sha = file_sha256(p) if gone else ""
            if gone.get(sha, 0) > 0:
                gone[sha] -= 1
                continue
            todo.append(p)
        summary = BatchSummary(skipped=len(paths) - len(todo))
        pending: list[tuple[Path, Film, str]] = []
        since_flush = processed = 0

        def add(new_rows: list[dict], shas: list[str]) -> None:
            nonlocal since_flush, processed
            for row, sha in zip(new_rows, shas):
                key = row.get("status") if row.get("status") in ("scored", "rejected") else "failed"
                setattr(summary, key, getattr(summary, key) + 1)
                rows.append(dict(row, **{SHA_FIELD: sha}))
                processed += 1
                if progress:
                    progress(processed, len(todo))
            since_flush += len(new_rows)
            if since_flush >= flush_every:
                _write_rows(out, rows, fields)
                since_flush = 0

        in_flight: deque = deque()

        def drain(limit: int) -> None:
            """Add the rows of the groups done at the head of the queue, waiting while ``limit`` or more are being
            scored: rows in the films' order, as one scorer would give them (``limit`` 0: every one)."""
            while in_flight and (in_flight[0][0].done() or sum(not f.done() for f, _ in in_flight) >= limit):
                future, shas = in_flight.popleft()
                add(future.result(), shas)

        def flush_pending() -> None:
            in_flight.append((scorers.submit(score, [(p, f) for p, f, _ in pending]), [s for _, _, s in pending]))
            pending.clear()
            drain(max(1, concurrent))

        depth = max(1, min(max(workers, batch * max(1, concurrent)), READ_AHEAD_MB * 2**20 // (MAX_SIDE_PX**2 * 4)))
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool, \
                ThreadPoolExecutor(max_workers=max(1, concurrent)) as scorers:
            for path, (film, sha) in zip(todo, _prefetch(pool, todo, depth)):
                if isinstance(film, BoneAgeError):  # its row queued behind the groups still being scored
                    done: Future = Future()
                    done.set_result([error_row(path, film)])
                    in_flight.append((done, [sha]))
                    drain(max(1, concurrent))
                    continue
                pending.append((path, film, sha))
                if len(pending) >= batch:
                    flush_pending()
            if pending:
                flush_pending()
            drain(0)
        _write_rows(out, rows, fields)
    return summary


def _prefetch(pool: ThreadPoolExecutor, paths: list[Path], depth: int) -> Iterator[tuple[Film | BoneAgeError, str]]:
    """Decode up to ``depth`` + 1 films ahead while the caller scores the current one."""
    futures = [pool.submit(_read, p) for p in paths[: depth + 1]]
    for i in range(len(paths)):
        nxt = i + depth + 1
        if nxt < len(paths):
            futures.append(pool.submit(_read, paths[nxt]))
        yield futures[i].result()
        futures[i] = None
