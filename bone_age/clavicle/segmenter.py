"""Both clavicles on a frontal chest film: U-Net probability maps on the top band, outlines and measurements."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import torch

from .._resources import assets_dir
from ..card import SegmenterSpec
from ..io import FilmSource
from ..io.film import as_film
from ..outline import largest_outline
from ..polarity import INVERTED_WARNING, bone_bright, polarity_check
from ..registry import LoadedModel, default_model, load_model, resolve_device
from ..transforms import sigmoid, to_model_input
from .results import SIDES, ClavicleResult, ClavicleSide

__all__ = ["ClavicleSegmenter", "segment", "band_input", "measure"]


@lru_cache(maxsize=2)
def band_rule(path: str | None = None) -> dict:
    return json.loads(Path(path or assets_dir() / "standards" / "clavicle_band.json").read_text())


def band_input(pixels: np.ndarray, rule: dict | None = None) -> tuple[np.ndarray, int]:
    """The network's input (top band resized to ``input_wh``) and the band's height in film rows."""
    rule = rule or band_rule()
    rows = max(1, int(round(pixels.shape[0] * rule["band_fraction"])))
    w, h = rule["input_wh"]
    band = np.ascontiguousarray(pixels[:rows], np.float32)
    return cv2.resize(band, (w, h), interpolation=cv2.INTER_AREA if band.shape[1] > w else cv2.INTER_LINEAR), rows


def measure(side: str, mask: np.ndarray, prob: np.ndarray, spacing: float | None) -> ClavicleSide:
    """Outline, area and length of the largest connected part of ``mask``."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8))
    if n <= 1:
        return ClavicleSide(side, False)
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    part = (labels == k).astype(np.uint8)
    c = largest_outline(part)
    area, length = float(part.sum()), float(max(cv2.minAreaRect(c)[1]))
    return ClavicleSide(side, True, tuple((float(x), float(y)) for x, y in c), area, round(length, 1),
                        round(area * spacing**2, 1) if spacing else None, round(length * spacing, 1) if spacing else None,
                        round(float(prob[part > 0].mean()), 4))


class ClavicleSegmenter:
    """Wraps a loaded clavicle ``UNet``. ``device``: 'auto' (GPU when present), 'cpu' or 'cuda'. ``polarity``: the
    check that reads a film stored inverted (bone dark) the right way round (default the shipped one if present;
    ``False`` for none)."""

    def __init__(self, model: str | LoadedModel | None = None, device: str = "auto", polarity: str | bool | None = None,
                 runtime: str = "torch"):
        self.device = resolve_device(device)
        self.polarity = polarity_check(polarity, self.device, runtime)
        self.model = model if isinstance(model, LoadedModel) else \
            load_model(model or default_model("clavicle"), self.device, runtime=runtime)
        self.rule = self.model.card.section(SegmenterSpec).band_rule or band_rule()  # the framing the model was trained on

    @torch.no_grad()
    def probabilities(self, pixels: np.ndarray) -> np.ndarray:
        """(2, H, W) per-pixel probabilities (patient's right, left) over the whole film (zero below the band)."""
        x, rows = band_input(pixels, self.rule)
        dev = next(self.model.module.parameters()).device
        logits = self.model.module(torch.from_numpy(to_model_input(x, self.model.card.normalization))[None].to(dev))[0].float().cpu().numpy()
        out = np.zeros((2, *pixels.shape), np.float32)
        for i in range(2):
            out[i, :rows] = cv2.resize(sigmoid(logits[i]).astype(np.float32), (pixels.shape[1], rows), interpolation=cv2.INTER_LINEAR)
        return out

    def segment(self, source: FilmSource, pixel_spacing_mm: float | None = None) -> ClavicleResult:
        """Outline and measure both clavicles. Spacing: the argument, else the file's (DICOM), else unknown (mm left empty)."""
        film = as_film(source)
        spacing = pixel_spacing_mm or film.meta.pixel_spacing_mm
        pixels, inverted_p = bone_bright(self.polarity, film.pixels)
        prob = self.probabilities(pixels)
        sides = tuple(measure(s, prob[i] >= self.rule["mask_threshold"], prob[i], spacing) for i, s in enumerate(SIDES))
        warnings = (INVERTED_WARNING.format(p=inverted_p),) if inverted_p is not None else ()
        warnings += tuple(f"no {s.side} clavicle found" for s in sides if not s.found)
        if spacing is None:
            warnings += ("pixel spacing unknown: sizes in pixels only",)
        h, w = film.pixels.shape
        return ClavicleResult(film.meta.source, h, w, sides, spacing, warnings, self.model_versions, inverted_p is not None)

    read = segment  # the module protocol's name

    @property
    def model_versions(self) -> dict[str, str]:
        return {m.version_key: m.sha256 for m in (self.model, self.polarity and self.polarity.model) if m}


@lru_cache(maxsize=2)
def _segmenter(device: str) -> ClavicleSegmenter:
    return ClavicleSegmenter(device=device)


def segment(source: FilmSource, pixel_spacing_mm: float | None = None, device: str = "auto") -> ClavicleResult:
    """One call: both clavicles of a frontal chest film with the shipped model (loaded once)."""
    return _segmenter(device).segment(source, pixel_spacing_mm)
