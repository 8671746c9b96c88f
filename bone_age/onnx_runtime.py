"""ONNX export of the bone-age reading's networks and inference through ONNX Runtime (the ``onnx`` extra).

``export_model`` writes ``<name>.onnx`` (dynamic batch) beside ``<name>.onnx.json``, which records the source
weights' sha256 and the export's. ``OnnxModule`` runs an exported network where the library calls a torch module
(same inputs, torch tensors out), so every consumer reads either. A model is run through ONNX Runtime only when an
export whose recorded source sha256 is the shipped weights' is found (``find_export``).
"""
from __future__ import annotations

import copy
import hashlib
import json
import logging
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from .errors import ModelFileMismatch
from .registry import LoadedModel

__all__ = ["EXPORTABLE", "export_model", "find_export", "OnnxModule", "onnx_available", "onnx_dir"]

_logger = logging.getLogger(__name__)
EXPORTABLE = ("localizer", "stages", "gp", "hand_gate", "polarity")  # the networks of the bone-age reading
OPSET = 17


def onnx_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def onnx_dir(models: Path) -> Path:
    """Where exports live by default: ``models/onnx``."""
    return Path(models) / "onnx"


def _example(model: LoadedModel) -> tuple[tuple[torch.Tensor, ...], list[str], dict]:
    """Example inputs, their names and dynamic axes for the card's architecture."""
    card = model.card
    spec = card.spec
    if card.task == "localizer":
        x = torch.zeros(2, 3, spec.input_size, spec.input_size)
        return (x,), ["image"], {"image": {0: "batch"}, "output": {0: "batch"}}
    if card.task == "stages":
        x = torch.zeros(2, 3, spec.crop_size, spec.crop_size)
        return (x, torch.zeros(2, dtype=torch.long)), ["crops", "category"], \
            {"crops": {0: "batch"}, "category": {0: "batch"}, "output": {0: "batch"}}
    if card.task == "gp":
        x = torch.zeros(2, 3, spec.input_size, spec.input_size)
        return (x, torch.zeros(2, dtype=torch.bool)), ["image", "male"], \
            {"image": {0: "batch"}, "male": {0: "batch"}, "output": {0: "batch"}}
    if card.task in ("hand_gate", "polarity"):
        x = torch.zeros(2, 3, spec.input_size, spec.input_size)
        return (x,), ["image"], {"image": {0: "batch"}, "output": {0: "batch"}}
    raise ModelFileMismatch(f"{card.task!r} models are not exported (only {', '.join(EXPORTABLE)})", card.path)


def export_model(model: LoadedModel, out_dir: Path) -> Path:
    """``<name>.onnx`` and its card ``<name>.onnx.json`` in ``out_dir``; returns the ONNX file."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    inputs, names, axes = _example(model)
    module = copy.deepcopy(model.module).cpu().float().eval().to(memory_format=torch.contiguous_format)  # not the shared one
    path = out_dir / f"{model.name}.onnx"
    tmp = out_dir / f".{model.name}.onnx.tmp"
    with torch.no_grad():
        torch.onnx.export(module, inputs, str(tmp), input_names=names, output_names=["output"], dynamic_axes=axes,
                          opset_version=OPSET, dynamo=False)
    tmp.replace(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    card = {"source_model": model.name, "source_sha256": model.sha256, "onnx_sha256": digest, "opset": OPSET,
            "inputs": names, "torch": torch.__version__, "task": model.card.task}
    (out_dir / f"{model.name}.onnx.json").write_text(json.dumps(card, indent=1))
    _logger.info("exported %s to %s", model.name, path)
    return path


def find_export(model: LoadedModel, folder: Path) -> Path | None:
    """The export of ``model`` in ``folder`` when its card names these very weights (sha256) and the file is
    intact; else None."""
    path, card_path = Path(folder) / f"{model.name}.onnx", Path(folder) / f"{model.name}.onnx.json"
    if not (path.is_file() and card_path.is_file()):
        return None
    card = json.loads(card_path.read_text())
    if card.get("source_sha256") != model.sha256:
        _logger.warning("%s: the ONNX export is of other weights; torch is used", model.name)
        return None
    if hashlib.sha256(path.read_bytes()).hexdigest() != card.get("onnx_sha256"):
        raise ModelFileMismatch("the ONNX file does not match its card's sha256", path)
    return path


class OnnxModule:
    """An exported network run by ONNX Runtime on the CPU, called like the torch module it replaces."""

    runtime = "onnx"

    def __init__(self, path: Path, threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # no busy-waiting between runs: the reading interleaves many small runs with torch and OpenCV work
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self._device = torch.zeros(1)

    def __call__(self, *args: torch.Tensor) -> torch.Tensor:
        feeds = {}
        for name, a in zip(self.inputs, args):
            arr = a.detach().cpu().numpy()
            feeds[name] = np.ascontiguousarray(arr.astype(np.float32) if arr.dtype == np.float64 else arr)
        return torch.from_numpy(self.session.run(None, feeds)[0])

    def parameters(self) -> Iterator[torch.Tensor]:
        yield self._device  # consumers ask the device from a parameter: the CPU

    def eval(self) -> "OnnxModule":
        return self
