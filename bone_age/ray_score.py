"""`bone-age score --ray`: the same scoring on a Ray cluster (the ``ray`` extra). Films are fetched, hashed and decoded
(by Ray CPU tasks of ``DECODE_CPUS`` each, or by the actors themselves), then scored in batches by a pool of actors,
each holding one Engine (models loaded once per actor, one GPU each where the cluster has GPUs, else ``ACTOR_CPUS``
with decoding tasks beside, one CPU without); rows stream back to the driver, which writes them as the local command
does (CSV, JSONL or Parquet, atomically, every ``flush_every`` rows), so the output has the same columns and error
rows and a run resumes where it stopped.

Inputs: a folder, or a text file of paths or URIs (one per line; any filesystem pyarrow opens: local, s3://, gs://,
hdfs://). Nothing here is imported without ``--ray``.
"""
from __future__ import annotations

import logging
import pickle
import tempfile
from pathlib import Path
from typing import Callable

from .batch import (SHA_FIELD, BatchSummary, OutputLock, check_writable, failure_row, find_films, read_rows,
                    resolved_key)
from .errors import BoneAgeError, UnreadableFilm
from .hand.results import Assessment

__all__ = ["score_with_ray", "list_inputs"]

_logger = logging.getLogger(__name__)
DECODE_CPUS, ACTOR_CPUS = 0.25, 0.75  # logical shares: with one actor per core, decoding still finds room


def list_inputs(source: str, recursive: bool = False) -> list[str]:
    """The films of a folder, or the lines of a text file of paths or URIs."""
    path = Path(source)
    if path.is_dir():
        return [str(p) for p in find_films(path, recursive)]
    if path.is_file():
        return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    raise FileNotFoundError(f"{source} is neither a folder nor a list of films")


def _local_copy(uri: str, tmp: str) -> Path:
    """A local path for ``uri`` (copied from its filesystem when it is not local)."""
    if "://" not in uri:
        return Path(uri)
    from pyarrow import fs

    filesystem, where = fs.FileSystem.from_uri(uri)
    local = Path(tmp) / Path(where).name
    with filesystem.open_input_stream(where) as src, open(local, "wb") as dst:
        dst.write(src.read())
    return local


def _decode(batch: dict) -> dict:
    """A Ray task: a batch of paths -> each one's sha256 and, pickled (our own objects, between our own tasks), its
    film (``Film``) or the error that stopped it."""
    from ._hashing import file_sha256
    from .io import read_film

    shas, decoded = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for uri in batch["path"]:
            film, sha, error = None, "", None
            try:
                local = _local_copy(str(uri), tmp)
                sha = file_sha256(local)
                film = read_film(local)
            except BoneAgeError as exc:
                error = exc
            except Exception as exc:  # a file the cluster cannot fetch or decode: its row says so
                error = UnreadableFilm(f"{type(exc).__name__}: {exc}", uri)
            shas.append(sha)
            decoded.append(pickle.dumps((film, error)))
    return {"path": batch["path"], "sha": shas, "decoded": decoded}


class _Scorer:
    """A Ray actor: one Engine; a batch of decoded films -> their rows."""

    def __init__(self, engine_options: dict, sex: str | None):
        from .hand.pipeline import Engine

        self.engine = Engine(**engine_options)
        self.sex = sex

    def __call__(self, batch: dict) -> dict:
        batch = batch if "decoded" in batch else _decode(batch)  # decoding here when no task did
        rows, films = [], []
        for uri, sha, decoded in zip(batch["path"], batch["sha"], batch["decoded"]):
            film, error = pickle.loads(decoded)
            if error is not None:
                rows.append(_error_row(str(uri), error, str(sha)))
            else:
                films.append((str(uri), film, str(sha)))
        results = self.engine.assess_many([f for _, f, _ in films], [self.sex] * len(films)) if films else []
        for (uri, _, sha), a in zip(films, results):
            rows.append(_error_row(uri, a, sha) if isinstance(a, BoneAgeError) else dict(a.batch_row(uri), **{SHA_FIELD: sha}))
        fields = Assessment.BATCH_FIELDS + [SHA_FIELD]
        return {k: [str(r.get(k, "")) for r in rows] for k in fields}


def _error_row(path: str, exc: BoneAgeError, sha: str) -> dict:
    return dict(failure_row(Assessment.BATCH_FIELDS, path, exc), **{SHA_FIELD: sha})


def _write(out: Path, rows: list[dict], fields: list[str]) -> None:
    if out.suffix == ".parquet":
        import io

        import pyarrow as pa
        import pyarrow.parquet as pq

        from ._atomic import write_bytes

        table = pa.table({k: [str(r.get(k, "")) for r in rows] for k in fields})
        buf = io.BytesIO()
        pq.write_table(table, buf)
        write_bytes(out, buf.getvalue())
        return
    from .batch import _write_rows

    _write_rows(out, rows, fields)


def _read(out: Path, fields: list[str]) -> list[dict]:
    if out.suffix != ".parquet":
        return read_rows(out, fields)
    if not out.is_file():
        return []
    import pyarrow.parquet as pq

    return pq.read_table(out).to_pylist()


def score_with_ray(inputs: list[str], out: Path, *, address: str | None = None, sex: str | None = None,
                   engine_options: dict | None = None, actors: int = 1, batch_size: int = 8, overwrite: bool = False,
                   flush_every: int = 20, progress: Callable[[int, int], None] | None = None,
                   decode: str = "tasks") -> BatchSummary:
    """Score ``inputs`` on the Ray cluster at ``address`` (a local one when None) into ``out``; returns the counts.
    ``decode``: 'tasks' (Ray CPU tasks fetch and decode, the actors only score) or 'actors' (each actor reads its own
    films; ``benchmarks/scale.py`` measured both alike on one machine)."""
    if decode not in ("tasks", "actors"):
        raise ValueError(f"decode must be tasks or actors, got {decode!r}")
    import ray

    out = Path(out)
    if out.suffix not in (".csv", ".jsonl", ".parquet"):
        raise ValueError(f"output must end in .csv, .jsonl or .parquet, got {out.name}")
    fields = Assessment.BATCH_FIELDS + [SHA_FIELD]
    check_writable(out.parent)
    with OutputLock(out):
        rows = [] if overwrite else _read(out, fields)
        done = {resolved_key(r["path"]) for r in rows}
        todo = [p for p in inputs if resolved_key(p) not in done]
        summary = BatchSummary(skipped=len(inputs) - len(todo))
        if not todo:
            return summary
        if not ray.is_initialized():
            ray.init(address=address, logging_level=logging.WARNING, include_dashboard=False)
        gpus = int(ray.cluster_resources().get("GPU", 0))
        options = dict(engine_options or {}, device="cuda" if gpus else (engine_options or {}).get("device", "cpu"))
        ds = ray.data.from_items([{"path": p} for p in todo])
        in_tasks = decode == "tasks"
        if in_tasks:
            ds = ds.map_batches(_decode, batch_size=batch_size, num_cpus=DECODE_CPUS, batch_format="numpy")
        scored = ds.map_batches(_Scorer, fn_constructor_args=(options, sex), batch_size=batch_size,
                                concurrency=max(1, min(actors, gpus) if gpus else actors),
                                num_gpus=1 if gpus else 0, num_cpus=0 if gpus else ACTOR_CPUS if in_tasks else 1,
                                batch_format="numpy")
        since = 0
        for batch in scored.iter_batches(batch_size=None, batch_format="numpy"):
            new = [dict(zip(batch, values)) for values in zip(*batch.values())]
            for row in new:
                key = row["status"] if row["status"] in ("scored", "rejected") else "failed"
                setattr(summary, key, getattr(summary, key) + 1)
            rows += new
            since += len(new)
            if progress:
                progress(len(rows) - (len(inputs) - len(todo)), len(todo))
            if since >= flush_every:
                _write(out, rows, fields)
                since = 0
        _write(out, rows, fields)
    return summary
