"""The module table: the bone-age reading and the three side modules, each a reader whose results share one face
(``results.ModuleResult``). The command line, the batch commands and the viewer loop over it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .bonescan.results import BoneScanResult
from .clavicle.results import ClavicleResult
from .fracture.results import FractureResult
from .hand.results import Assessment
from .results import Reader

__all__ = ["Module", "MODULES", "module_by_title"]


def _bone_age(device: str = "auto", polarity: bool | None = None, gate: bool | None = None,
              stages: str | None = None, runtime: str = "torch") -> Reader:
    from .hand.pipeline import Engine

    return Engine(stages=stages, device=device, polarity=polarity, gate=gate, runtime=runtime)


def _fracture(device: str = "auto", polarity: bool | None = None, runtime: str = "torch") -> Reader:
    from .fracture.detector import FractureDetector

    return FractureDetector(device=device, polarity=polarity, runtime=runtime)


def _clavicle(device: str = "auto", polarity: bool | None = None, runtime: str = "torch") -> Reader:
    from .clavicle.segmenter import ClavicleSegmenter

    return ClavicleSegmenter(device=device, polarity=polarity, runtime=runtime)


def _bonescan(device: str = "auto", polarity: bool | None = None, runtime: str = "torch") -> Reader:
    from .bonescan.api import BoneScanReader

    return BoneScanReader(device=device, runtime=runtime)  # scintigrams have no polarity to check


@dataclass(frozen=True)
class Module:
    """One module: its name, the viewer's title for it, its folder command and what that command does, the type of
    its results, and ``reader(device=..., polarity=...)``, which loads its models (``polarity=False``: read films as
    stored; only where ``checks_polarity``)."""

    name: str
    title: str
    command: str
    help: str
    result_type: type
    reader: Callable[..., Reader]
    checks_polarity: bool = True

    @property
    def batch_fields(self) -> list[str]:
        return self.result_type.BATCH_FIELDS

    def load(self, device: str = "auto", as_stored: bool = False, **options: Any) -> Reader:
        return self.reader(device=device, **({"polarity": False} if as_stored and self.checks_polarity else {}), **options)


MODULES: dict[str, Module] = {m.name: m for m in (
    Module("bone_age", "Bone age (RUS-CHN)", "score", "score every film in a folder into a CSV or JSONL file",
           Assessment, _bone_age),
    Module("fracture", "Fracture", "fracture", "fractures on musculoskeletal films: probability, boxes, outlines",
           FractureResult, _fracture),
    Module("clavicle", "Clavicle", "clavicle", "segment both clavicles on frontal chest films: outlines, area, length",
           ClavicleResult, _clavicle),
    Module("bonescan", "Bone scan", "bonescan",
           "bone scans (BS-80K layouts): abnormal uptake per region crop or whole-body scan", BoneScanResult, _bonescan,
           checks_polarity=False),
)}


def module_by_title(title: str) -> Module:
    return next(m for m in MODULES.values() if m.title == title)
