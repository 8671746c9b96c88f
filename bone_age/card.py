"""The model card, typed: parsed and checked once when a model is found, read as attributes everywhere else.

Cards stay JSON files beside the weights (``models/<name>.json``). Each has the fields every model needs
(name, task, architecture, weights, sha256, input normalisation) and one section for its task
(``LocalizerSpec``, ``StageSpec``, ``GPSpec``, ``ClassifierSpec``, ``DetectorSpec``, ``SegmenterSpec``) with the
settings inference reads. What a person reads (data, split, metrics, the rule the model was chosen by, its history)
is kept as given. A field that is missing or of the wrong kind is a ``ModelFileMismatch`` naming it.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping, TypeVar

from .errors import ModelFileMismatch

__all__ = ["ModelCard", "Normalization", "LocalizerSpec", "StageSpec", "AgreementFigures", "AgreementBandFigures",
           "GPSpec", "Framing", "ClassifierSpec", "DetectorSpec", "SegmenterSpec", "read_card", "parse_card", "record_card",
           "CARD_SUMS",
           "TASK_SPECS"]

S = TypeVar("S")
_MISSING = object()


class _Reader:
    """Reads one mapping of a card, naming the card file and the field in every error."""

    def __init__(self, data: Mapping, path: Path, prefix: str = ""):
        self.data, self.path, self.prefix = data, path, prefix

    def __call__(self, key: str, kind: Callable[[Any], Any], default: Any = _MISSING) -> Any:
        value = self.data[key] if key in self.data else default
        if value is _MISSING:
            raise ModelFileMismatch(f"model card has no '{self.prefix}{key}' field", self.path)
        if value is None or value is default:
            return value
        try:
            return kind(value)
        except (TypeError, ValueError, KeyError) as exc:
            raise ModelFileMismatch(f"model card field '{self.prefix}{key}' is not {_kind_name(kind)}: {value!r} ({exc})",
                                    self.path) from None

    def sub(self, key: str) -> "_Reader":
        value = self(key, dict)
        return _Reader(value, self.path, f"{self.prefix}{key}.")


def _kind_name(kind: Callable) -> str:
    return {int: "a whole number", float: "a number", str: "text", bool: "true/false", dict: "a mapping",
            tuple: "a list"}.get(kind, getattr(kind, "__name__", "valid"))


def _strings(v: Any) -> tuple[str, ...]:
    if isinstance(v, str) or not all(isinstance(x, str) for x in v):
        raise TypeError("expected a list of names")
    return tuple(v)


def _pair(v: Any) -> tuple[float, float]:
    a, b = v
    return float(a), float(b)


def _span(v: Any) -> tuple[float, float]:
    """Two numbers, kept as written (a whole number stays whole)."""
    lo, hi = v
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (lo, hi)):
        raise TypeError("expected two numbers")
    return lo, hi


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise TypeError("expected true or false")
    return v


@dataclass(frozen=True)
class Normalization:
    """How a [0, 1] gray film becomes the network's input: ``(x - mean) / std``, replicated to 3 channels."""

    mean: float
    std: float


@dataclass(frozen=True)
class LocalizerSpec:
    """Keypoint heatmaps on a letterboxed film: keypoint names, input side, heatmap stride; a film is a hand when the
    mean keypoint confidence reaches ``hand_threshold``; below ``usual_hand_confidence`` its regions are worth a check;
    ``refine_margin``: the margin of the closer look around the keypoints seen."""

    keypoints: tuple[str, ...]
    input_size: int
    heatmap_stride: int
    hand_threshold: float = 0.0
    usual_hand_confidence: float = 0.0
    refine_margin: float = 0.15


@dataclass(frozen=True)
class AgreementBandFigures:
    read_years: tuple[float, float]
    n: int
    abs_error_p50_months: float
    abs_error_p90_months: float
    bias_months: float


@dataclass(frozen=True)
class AgreementFigures:
    """The stage model's held-out agreement with radiologists' Greulich-Pyle readings (its card's test figures)."""

    n: int
    abs_error_p50_months: float
    abs_error_p90_months: float
    mae_months: float
    bands: tuple[AgreementBandFigures, ...] = ()
    band_films: str = ""


AGREEMENT_GROUP = "test"  # the stage card's test_metrics group whose figures a result carries


@dataclass(frozen=True)
class StageSpec:
    """The stage classifier: categories and their stage counts, the crop side, the test-time views (crop-side factor,
    added turn in degrees), the probability below which a stage read is flagged, the stage difference warned about per
    category read on two bones, and its held-out agreement (None when not measured)."""

    categories: tuple[str, ...]
    stages_per_category: Mapping[str, int]
    crop_size: int
    test_time_views: tuple[tuple[float, float], ...] = ((1.0, 0.0),)
    low_confidence_threshold: float = 0.5
    paired_disagreement_stages: Mapping[str, int] = field(default_factory=dict)
    agreement: AgreementFigures | None = None


@dataclass(frozen=True)
class Framing:
    """What of a localized film the GP model reads: ``rule`` 'film' (the whole film) or 'hand' (the hand's box
    widened by ``margin`` and grown to height / width ``aspect``)."""

    rule: str = "film"
    margin: float = 0.0
    aspect: float = 1.0


@dataclass(frozen=True)
class GPSpec:
    input_size: int
    target_mean_months: float
    target_sd_months: float
    test_time_flip: bool = False
    framing: Framing = Framing()


@dataclass(frozen=True)
class ClassifierSpec:
    """A one-logit image classifier: its output names and decision threshold; input a square side (``input_size``,
    whole films letterboxed) or a height x width (``input_hw``, crops); Platt calibration (a, b) of the logit; dihedral
    views averaged at inference; the regions it was trained on (bone-scan crops)."""

    outputs: tuple[str, ...]
    threshold: float
    input_size: int | None = None
    input_hw: tuple[int, int] | None = None
    platt: tuple[float, float] = (1.0, 0.0)
    test_time_views: int = 1
    regions: tuple[str, ...] = ()


@dataclass(frozen=True)
class DetectorSpec:
    """An instance detector: class names, masks or boxes only, the long side films are scaled to (``max_size``),
    the film-level threshold (None when it has none), and the least score of an instance shown."""

    classes: tuple[str, ...]
    min_size: int
    max_size: int
    masks: bool = False
    threshold: float | None = None
    instance_score_threshold: float = 0.3


@dataclass(frozen=True)
class SegmenterSpec:
    """A segmentation network: its output classes, and the framing it was trained with (None: the module's default)."""

    classes: tuple[str, ...]
    band_rule: Mapping[str, Any] | None = None


def _agreement(r: _Reader) -> AgreementFigures | None:
    metrics = r("test_metrics", dict, {})
    m = metrics.get(AGREEMENT_GROUP, {}).get("all", {}).get("uncalibrated", {})
    if "abs_error_p90_months" not in m:
        return None
    fig = _Reader(m, r.path, f"test_metrics.{AGREEMENT_GROUP}.all.uncalibrated.")
    by_read = _Reader(metrics.get("agreement_by_read_age", {}), r.path, "test_metrics.agreement_by_read_age.")
    bands = tuple(AgreementBandFigures(b("read_years", _span), b("n", int), b("abs_error_p50_months", float),
                                       b("abs_error_p90_months", float), b("bias_months", float))
                  for b in (_Reader(x, r.path, "test_metrics.agreement_by_read_age.bands[].") for x in by_read("bands", list, [])))
    return AgreementFigures(fig("n", int), fig("abs_error_p50_months", float), fig("abs_error_p90_months", float),
                            fig("mae_months", float), bands, by_read("films", str, ""))


def _localizer(r: _Reader) -> LocalizerSpec:
    return LocalizerSpec(r("keypoints", _strings), r("input_size", int), r("heatmap_stride", int),
                         r("hand_threshold", float, 0.0), r("usual_hand_confidence", float, 0.0),
                         r("refine_margin", float, 0.15))


def _stages(r: _Reader) -> StageSpec:
    categories = r("categories", _strings)
    counts = r("stages_per_category", lambda v: MappingProxyType({c: int(v[c]) for c in categories}))
    return StageSpec(categories, counts, r("crop_size", int),
                     r("test_time_views", lambda v: tuple(_pair(x) for x in v), ((1.0, 0.0),)),
                     r("low_confidence_threshold", float, 0.5),
                     r("paired_disagreement_stages", lambda v: MappingProxyType({c: int(d) for c, d in v.items()}), {}),
                     _agreement(r))


def _gp(r: _Reader) -> GPSpec:
    framing = Framing()
    if r("input_framing", dict, None):
        f = r.sub("input_framing")
        framing = Framing(f("rule", str), f("margin", float, 0.0), f("aspect", float, 1.0))
    return GPSpec(r("input_size", int), r("target_mean_months", float), r("target_sd_months", float),
                  r("test_time_flip", _bool, False), framing)


def _classifier(r: _Reader) -> ClassifierSpec:
    spec = ClassifierSpec(r("outputs", _strings), r("threshold", float), r("input_size", int, None),
                          r("input_hw", lambda v: (int(v[0]), int(v[1])), None), r("platt", _pair, (1.0, 0.0)),
                          r("test_time_views", int, 1), r("regions", _strings, ()))
    if spec.input_size is None and spec.input_hw is None:
        raise ModelFileMismatch("model card has neither 'input_size' nor 'input_hw'", r.path)
    return spec


def _detector(r: _Reader) -> DetectorSpec:
    return DetectorSpec(r("classes", _strings), r("min_size", int), r("max_size", int), r("masks", _bool, False),
                        r("threshold", float, None),
                        r("instance_score_threshold", float, None) or r("score_threshold", float, 0.3))


def _segmenter(r: _Reader) -> SegmenterSpec:
    return SegmenterSpec(r("classes", _strings), r("band_rule", lambda v: MappingProxyType(dict(v)), None))


TASK_SPECS: dict[str, Callable[[_Reader], Any]] = {
    "localizer": _localizer, "stages": _stages, "gp": _gp, "hand_gate": _classifier, "polarity": _classifier,
    "fracture_film": _classifier, "bonescan_region": _classifier, "fracture": _detector,
    "bonescan_wholebody": _detector, "clavicle": _segmenter}


@dataclass(frozen=True)
class ModelCard:
    """A model card. ``spec``: the section of its task (None for a task inference does not know, e.g. a test's);
    ``raw``: the card as written, for what only people read (data, split, metrics, history)."""

    name: str
    task: str
    architecture: str
    weights: str
    sha256: str
    backbone: str | None
    normalization: Normalization
    spec: Any
    default: bool = False
    size_mb: float | None = None
    licence: str | None = None
    val_metrics: Mapping[str, Any] = field(default_factory=dict)
    test_metrics: Mapping[str, Any] = field(default_factory=dict)
    choice: str = ""
    history: str = ""
    path: Path | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def section(self, kind: type[S]) -> S:
        """The task section, checked to be of ``kind`` (a card of another task is a ``ModelFileMismatch``)."""
        if not isinstance(self.spec, kind):
            raise ModelFileMismatch(f"{self.name} is a {self.task!r} model, not one with a {kind.__name__}", self.path)
        return self.spec

    @property
    def headline_metrics(self) -> Mapping[str, Any]:
        return self.test_metrics or self.val_metrics


def parse_card(data: Mapping[str, Any], path: Path) -> ModelCard:
    """Check and type a card's JSON object (``path``: where it came from, for the errors)."""
    if not isinstance(data, Mapping):
        raise ModelFileMismatch("model card is not a JSON object", path)
    r = _Reader(data, path)
    task = r("task", str)
    norm = r.sub("input_norm")
    spec = TASK_SPECS[task](r) if task in TASK_SPECS else None
    choice = r("choice", str, "") or r("selection_rule", str, "")
    return ModelCard(name=r("name", str, path.stem), task=task, architecture=r("architecture", str),
                     weights=r("weights", str), sha256=r("sha256", str), backbone=r("backbone", str, None),
                     normalization=Normalization(norm("mean", float), norm("std", float)), spec=spec,
                     default=r("default", _bool, False), size_mb=r("size_mb", float, None),
                     licence=r("license", str, None), val_metrics=r("val_metrics", dict, {}),
                     test_metrics=r("test_metrics", dict, {}), choice=choice, history=r("history", str, ""),
                     path=path, raw=MappingProxyType(dict(data)))


CARD_SUMS = "cards.sha256"  # beside the cards: '<sha256>  <card file>' per line, as sha256sum writes


def _recorded_sums(folder: Path) -> dict[str, str] | None:
    path = folder / CARD_SUMS
    if not path.is_file():
        return None
    sums = {}
    for line in path.read_text().splitlines():
        digest, _, name = line.strip().partition("  ")
        if digest and name:
            sums[name] = digest
    return sums


def record_card(path: Path) -> str:
    """Record the sha256 of the card at ``path`` in ``cards.sha256`` beside it (after training or re-measuring it)."""
    path = Path(path)
    sums = _recorded_sums(path.parent) or {}
    sums[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    text = "".join(f"{d}  {n}\n" for n, d in sorted(sums.items()))
    tmp = path.parent / f".{CARD_SUMS}.{os.getpid()}.tmp"
    tmp.write_text(text)
    os.replace(tmp, path.parent / CARD_SUMS)
    return sums[path.name]


def read_card(path: Path) -> ModelCard:
    """Read and check the card at ``path``: where its folder records the cards' sha256 (``cards.sha256``), the card's
    must match, so that a card edited by hand (a threshold, say) is refused rather than used."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        data = json.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileMismatch(f"model card cannot be read: {exc}", path) from None
    sums = _recorded_sums(path.parent)
    if sums is not None:
        digest = hashlib.sha256(raw).hexdigest()
        if path.name not in sums:
            raise ModelFileMismatch(f"the card is not recorded in {CARD_SUMS} beside it", path)
        if sums[path.name] != digest:
            raise ModelFileMismatch(f"the card was changed after it was written (sha256 {digest[:12]}... against "
                                    f"{sums[path.name][:12]}... in {CARD_SUMS}): restore it, or record the change "
                                    "(bone_age.card.record_card) if it was meant", path)
    return parse_card(data, path)
