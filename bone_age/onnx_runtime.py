"""ONNX export of the shipped networks and inference through ONNX Runtime (the ``onnx`` extra).

``export_model`` writes ``<name>.onnx`` (dynamic batch; the detector and the segmenter also any film size) beside
``<name>.onnx.json``, which records the source weights' sha256 and the export's. ``OnnxModule`` runs an exported
network where the library calls a torch module (same inputs, torch tensors out), ``OnnxDetector`` the fracture
detector, so every consumer reads either. A model is run through ONNX Runtime only when an
export whose recorded source sha256 is the shipped weights' is found (``find_export``).
"""
from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import warnings
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from .errors import ModelFileMismatch
from .registry import LoadedModel

__all__ = ["EXPORTABLE", "export_model", "find_export", "OnnxModule", "OnnxDetector", "onnx_available", "onnx_dir"]

_logger = logging.getLogger(__name__)
HAND = ("localizer", "stages", "gp", "hand_gate", "polarity")  # the networks of the bone-age reading
SIDE = ("fracture_film", "clavicle", "bonescan_region", "fracture")  # the side modules' networks
DETECTION_OUTPUTS = ("boxes", "labels", "scores", "masks")
EXPORTABLE = HAND + SIDE
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
    if card.task in ("hand_gate", "polarity", "fracture_film"):
        x = torch.zeros(2, 3, spec.input_size, spec.input_size)
        return (x,), ["image"], {"image": {0: "batch"}, "output": {0: "batch"}}
    if card.task == "bonescan_region":
        x = torch.zeros(2, 3, *spec.input_hw)
        return (x,), ["image"], {"image": {0: "batch"}, "output": {0: "batch"}}
    if card.task == "fracture":  # torchvision's detector: a list of one (3, H, W) film in [0, 1], any size
        return ([torch.rand(3, spec.max_size, spec.max_size * 3 // 4)],), ["image"], {"image": {1: "height", 2: "width"}}
    if card.task == "clavicle":  # any sides that are multiples of 32 (the card's band rule gives them)
        x = torch.zeros(1, 3, 416, 896)
        return (x,), ["image"], {"image": {0: "batch", 2: "height", 3: "width"},
                                 "output": {0: "batch", 2: "height", 3: "width"}}
    raise ModelFileMismatch(f"{card.task!r} models are not exported (only {', '.join(EXPORTABLE)})", card.path)


def export_model(model: LoadedModel, out_dir: Path) -> Path:
    """``<name>.onnx`` and its card ``<name>.onnx.json`` in ``out_dir``; returns the ONNX file."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    inputs, names, axes = _example(model)
    module = copy.deepcopy(model.module).cpu().float().eval().to(memory_format=torch.contiguous_format)  # not the shared one
    outputs = ["output"]
    if model.card.task == "fracture":
        outputs = list(DETECTION_OUTPUTS if getattr(module.roi_heads, "mask_predictor", None) else DETECTION_OUTPUTS[:3])
        axes = dict(axes, **{k: {0: "instances"} for k in outputs})
    elif model.card.task == "fracture_film":  # read through its logit map (the evidence drawn on the film)
        module, outputs, axes = _LogitMap(module), ["logit_map"], {"image": {0: "batch"}, "logit_map": {0: "batch"}}
    path = out_dir / f"{model.name}.onnx"
    tmp = out_dir / f".{model.name}.onnx.tmp"
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes; the parity tests check what the export reads
        torch.onnx.export(module, inputs, str(tmp), input_names=names, output_names=outputs, dynamic_axes=axes,
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


class _LogitMap(torch.nn.Module):
    """An ``ImageClassifier`` exported as its logit map; ``OnnxModule`` gives the logit as the map's mean."""

    def __init__(self, net: torch.nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.logit_map(x)


class OnnxModule:
    """An exported network run by ONNX Runtime on the CPU, called like the torch module it replaces."""

    runtime = "onnx"

    def __init__(self, path: Path, threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # no busy-waiting between runs: the reading interleaves many small runs with torch and OpenCV work
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        threads = threads or int(os.environ.get("BONE_AGE_THREADS") or 0)  # set in an EnginePool's processes
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.outputs = [o.name for o in self.session.get_outputs()]
        self.output = self.outputs[0]
        self._device = torch.zeros(1)

    def _run(self, args: tuple[torch.Tensor, ...]) -> torch.Tensor:
        feeds = {}
        for name, a in zip(self.inputs, args):
            arr = a.detach().cpu().numpy()
            feeds[name] = np.ascontiguousarray(arr.astype(np.float32) if arr.dtype == np.float64 else arr)
        return torch.from_numpy(self.session.run(None, feeds)[0])

    def __call__(self, *args: torch.Tensor) -> torch.Tensor:
        out = self._run(args)
        return out.mean(dim=(2, 3)) if self.output == "logit_map" else out

    def logit_map(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, H/32, W/32) logit map of a classifier exported as its map (``fracture_film``)."""
        if self.output != "logit_map":
            raise AttributeError(f"this export gives {self.output!r}, not a logit map")
        return self._run((x,))

    def parameters(self) -> Iterator[torch.Tensor]:
        yield self._device  # consumers ask the device from a parameter: the CPU

    def eval(self) -> "OnnxModule":
        return self


class OnnxDetector(OnnxModule):
    """An exported torchvision detector, called like it: a list of (3, H, W) films -> a dict of outputs per film."""

    def __call__(self, images: list[torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        found = []
        for x in images:
            arrays = self.session.run(None, {self.inputs[0]: x.detach().cpu().float().numpy()})
            found.append({k: torch.from_numpy(v) for k, v in zip(self.outputs, arrays)})
        return found
