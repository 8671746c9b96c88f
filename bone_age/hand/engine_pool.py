"""Engines in separate processes, each with a share of the CPU's cores: on a small CPU, two single-threaded engines
score more films per second than one engine with two threads (``benchmarks/speed.py --processes``), because much of a
reading is small network runs and OpenCV work that one thread cannot spread."""
from __future__ import annotations

import multiprocessing
import os
import queue
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ..io.film import Film

__all__ = ["EnginePool"]

_engine = None  # the Engine of a worker process


def _start(options: dict[str, Any], threads: int) -> None:
    global _engine
    os.environ["BONE_AGE_THREADS"] = str(threads)  # ONNX Runtime's sessions (onnx_runtime.OnnxModule)
    import torch

    torch.set_num_threads(threads)
    from .pipeline import Engine

    _engine = Engine(**options)


def _assess(films: list[Film], sexes: list, ages: list | None, hand: str) -> list:
    return _engine.assess_many(films, sexes, ages, hand)


def _versions() -> dict[str, str]:
    return _engine.model_versions


class EnginePool:
    """``processes`` Engines (``Engine(**options)`` each, ``threads`` threads each: the CPU's cores shared out by
    default), every one loaded before the pool returns; ``assess_many`` as ``Engine.assess_many``, each call read by
    a free process, so that as many calls as processes run at once (from as many threads). Close it, or use it as a
    context manager."""

    def __init__(self, processes: int, threads: int | None = None, **options: Any):
        if processes < 1:
            raise ValueError(f"processes must be at least 1, got {processes}")
        threads = threads or max(1, (os.cpu_count() or 1) // processes)
        spawn = multiprocessing.get_context("spawn")
        self._workers = [ProcessPoolExecutor(1, mp_context=spawn, initializer=_start, initargs=(options, threads))
                         for _ in range(processes)]
        self._free: queue.Queue = queue.Queue()
        try:
            versions = [w.submit(_versions) for w in self._workers]  # every engine loads at once; errors raise here
            self.model_versions = [v.result() for v in versions][0]
        except BaseException:
            self.close()
            raise
        for w in self._workers:
            self._free.put(w)

    def assess_many(self, films: list[Film], sexes: list, ages: list | None = None, hand: str = "left") -> list:
        worker = self._free.get()
        try:
            return worker.submit(_assess, films, sexes, ages, hand).result()
        finally:
            self._free.put(worker)

    def close(self) -> None:
        for w in self._workers:
            w.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "EnginePool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
