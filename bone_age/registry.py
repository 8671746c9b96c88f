"""Model name -> card, architecture and weights. Weights are loaded from safetensors only, after a sha256 check."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import torch
from torch import nn

from . import detection, nets  # noqa: F401  (they register the architectures)
from ._hashing import file_sha256
from ._resources import models_dir
from .architectures import architecture_builder, known_architectures, register_architecture
from .card import ModelCard, read_card
from .errors import ModelFileMismatch

__all__ = ["LoadedModel", "list_models", "load_model", "optional_model", "register_architecture", "model_card", "default_model",
           "resolve_device", "amp_enabled", "autocast", "NO_MODELS_HINT"]

_logger = logging.getLogger(__name__)


def resolve_device(device: str) -> str:
    """'auto' -> 'cuda' when a GPU is present, else 'cpu'; anything else as given."""
    return ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device


def amp_enabled(device: torch.device | str) -> bool:
    """Mixed precision where it pays: on a CUDA device; never on the CPU (whose readings stay float32's)."""
    return torch.device(device).type == "cuda"


def autocast(device: torch.device | str):
    """float16 autocast when ``amp_enabled(device)``, else a context that changes nothing."""
    return torch.autocast(device_type=torch.device(device).type, dtype=torch.float16, enabled=amp_enabled(device))


@dataclass(frozen=True)
class LoadedModel:
    """A model ready to run: its name, its card and its network (a torch module, or ``onnx_runtime.OnnxModule``
    when ``runtime`` is 'onnx')."""

    name: str
    card: ModelCard
    module: nn.Module = field(repr=False)
    runtime: str = "torch"

    @property
    def sha256(self) -> str:
        return self.card.sha256

    @property
    def version_key(self) -> str:
        """The name a result's ``model_versions`` gives it: with the runtime when it is not torch."""
        return self.name if self.runtime == "torch" else f"{self.name} ({self.runtime})"


def list_models(task: str | None = None, root: Path | None = None) -> list[str]:
    """Names of the models whose card and weights are present (optionally of one task)."""
    root = Path(root or models_dir())
    names = []
    for path in sorted(root.glob("*.json")):
        card = read_card(path)
        if (root / card.weights).is_file() and (task is None or card.task == task):
            names.append(path.stem)
    return names


NO_MODELS_HINT = ("the weights ship in the repository's models/ folder: install from a clone with `pip install -e .`, "
                  "or set BONE_AGE_MODELS to that folder")


def default_model(task: str, root: Path | None = None) -> str:
    """The model of ``task`` whose card says ``"default": true`` (or the only one present)."""
    names = list_models(task, root)
    flagged = [n for n in names if model_card(n, root).default]
    if len(flagged) == 1 or len(names) == 1:
        return (flagged or names)[0]
    where = Path(root or models_dir())
    if not names:
        raise ModelFileMismatch(f"no {task} model here; {NO_MODELS_HINT}", where)
    raise ModelFileMismatch(f"no default {task} model among {names}: mark one \"default\": true in its card", where)


def optional_model(task: str, choice: str | bool | LoadedModel | None,
                   device: str | torch.device = "cpu", runtime: str = "torch") -> LoadedModel | None:
    """An optional companion model: ``choice`` when it is a loaded one, the one it names, the task's shipped default
    when ``choice`` is None or True and one is installed, or None (``False``, or nothing installed)."""
    if isinstance(choice, LoadedModel):
        return choice
    if choice is False or not (isinstance(choice, str) or list_models(task)):
        return None
    return load_model(choice if isinstance(choice, str) else default_model(task), device, runtime=runtime)


def model_card(name: str, root: Path | None = None) -> ModelCard:
    """The checked card of model ``name``."""
    path = Path(root or models_dir()) / f"{name}.json"
    if not path.is_file():
        known = ", ".join(list_models(root=root)) or "none"
        raise ModelFileMismatch(f"no model card for {name!r} (models present: {known})", path)
    return read_card(path)


@lru_cache(maxsize=16)
def _load_cached(name: str, root: str, device: str) -> LoadedModel:
    from safetensors.torch import load_file

    card = model_card(name, Path(root))
    weights = Path(root) / card.weights
    if weights.suffix != ".safetensors":
        raise ModelFileMismatch("only .safetensors weights are loaded", weights)
    if not weights.is_file():
        raise ModelFileMismatch("weight file named by the card is missing", weights)
    digest = file_sha256(weights)
    if digest != card.sha256:
        raise ModelFileMismatch(f"sha256 {digest[:12]}... does not match the card's {card.sha256[:12]}...", weights)
    builder = architecture_builder(card.architecture)
    if builder is None:
        raise ModelFileMismatch(f"unknown architecture {card.architecture!r} (known: {', '.join(known_architectures())})",
                                weights)
    module = builder(card)
    try:
        module.load_state_dict(load_file(str(weights)))
    except RuntimeError as exc:
        raise ModelFileMismatch(f"weights do not fit {card.architecture}: {str(exc)[:300]}", weights) from None
    module.eval().to(device).to(memory_format=torch.channels_last)  # ~20 % faster convolutions on the CPU
    _logger.info("loaded %s (%s) on %s", name, digest[:12], device)
    return LoadedModel(name, card, module)


def load_model(name: str, device: str | torch.device = "cpu", root: Path | None = None,
               runtime: str = "torch") -> LoadedModel:
    """Load a shipped model by name (once per process; later calls reuse it). ``runtime``: 'torch'; 'onnx' (through
    ONNX Runtime on the CPU, from an export of these very weights: ``bone-age export onnx``); or 'auto' (ONNX Runtime
    where such an export and the ``onnx`` extra are there and the device is the CPU, else torch)."""
    if runtime not in ("torch", "onnx", "auto"):
        raise ValueError(f"runtime must be torch, onnx or auto, got {runtime!r}")
    root = str(Path(root or models_dir()))
    if runtime == "torch" or (runtime == "auto" and str(device) != "cpu"):
        return _load_cached(name, root, str(device))
    return _onnx_cached(name, root, runtime)


@lru_cache(maxsize=16)
def _onnx_cached(name: str, root: str, runtime: str) -> LoadedModel:
    from .onnx_runtime import EXPORTABLE, OnnxDetector, OnnxModule, find_export, onnx_available, onnx_dir

    model = _load_cached(name, root, "cpu")
    found = find_export(model, onnx_dir(Path(root))) if model.card.task in EXPORTABLE else None
    if found is not None and onnx_available():
        runner = OnnxDetector if model.card.task == "fracture" else OnnxModule
        return LoadedModel(model.name, model.card, runner(found), "onnx")
    if runtime == "onnx":
        why = "the onnx extra (onnxruntime) is not installed" if found is not None else \
            f"no ONNX export of these weights in {onnx_dir(Path(root))} (bone-age export onnx)"
        raise ModelFileMismatch(f"cannot run {model.name} through ONNX Runtime: {why}", Path(root))
    return model
