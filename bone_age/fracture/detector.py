"""Fracture detection on musculoskeletal films: Mask R-CNN instances and a film-level probability."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from ..card import DetectorSpec
from ..detection import fit_long_side
from ..io import FilmSource
from ..io.film import as_film
from ..outline import largest_outline
from ..polarity import bone_bright, polarity_check
from ..registry import LoadedModel, default_model, load_model, optional_model, resolve_device
from .film import FilmClassifier
from .results import FractureInstance, FractureResult

__all__ = ["FractureDetector", "detect"]


class FractureDetector:
    """Wraps a loaded fracture ``Detector`` (the film scaled so its long side is the card's ``max_size``) and, when
    a ``fracture_film`` model is installed (or given or named by ``film_model``; ``False`` for none), the whole-film
    classifier that gives the film-level probability and threshold (else the detector's highest instance score).
    ``polarity``: the check that reads a film stored inverted (bone dark) the right way round (default the shipped
    one if present; ``False`` for none). ``runtime``: 'torch', 'onnx' or 'auto' (``registry.load_model``)."""

    def __init__(self, model: str | LoadedModel | None = None, device: str = "auto",
                 film_model: str | bool | LoadedModel | None = None, polarity: str | bool | None = None,
                 runtime: str = "torch"):
        self.device = resolve_device(device)
        self.polarity = polarity_check(polarity, self.device, runtime)
        self.model = model if isinstance(model, LoadedModel) else \
            load_model(model or default_model("fracture"), self.device, runtime=runtime)
        spec = self.model.card.section(DetectorSpec)
        self.max_side, self.threshold, self.show_score = spec.max_size, spec.threshold, spec.instance_score_threshold
        film = optional_model("fracture_film", film_model, self.device, runtime)
        self.film = FilmClassifier(film) if film else None
        if self.film:
            self.threshold = self.film.threshold

    @property
    def model_versions(self) -> dict[str, str]:
        return {m.version_key: m.sha256 for m in [self.model] + [x.model for x in (self.film, self.polarity) if x]}

    @torch.no_grad()
    def detect(self, source: FilmSource) -> FractureResult:
        film = as_film(source)
        px, inverted_p = bone_bright(self.polarity, film.pixels)
        small, s = fit_long_side(px, self.max_side)
        out = self.model.module([torch.from_numpy(np.repeat(small[None], 3, 0)).to(self.device)])[0]
        scores = out["scores"].cpu().numpy()
        top = float(scores.max()) if scores.size else 0.0
        p_film, evidence = self.film.read(px) if self.film else (None, None)
        prob = top if p_film is None else p_film
        instances = []
        for k in np.flatnonzero(scores >= self.show_score):
            box = tuple(round(float(v) / s, 1) for v in out["boxes"][k].cpu())
            contour = ()
            if "masks" in out:
                c = largest_outline(out["masks"][k, 0].cpu().numpy() >= 0.5) / s
                contour = tuple((round(float(x), 1), round(float(y), 1)) for x, y in c)
            instances.append(FractureInstance(round(float(scores[k]), 4), box, contour))
        return FractureResult(film.meta.source, round(prob, 4), prob >= self.threshold, self.threshold, tuple(instances),
                              self.model_versions, round(top, 4), None if p_film is None else round(p_film, 4), inverted_p is not None,
                              evidence)

    read = detect  # the module protocol's name


@lru_cache(maxsize=2)
def _detector(device: str) -> FractureDetector:
    return FractureDetector(device=device)


def detect(source: FilmSource, device: str = "auto") -> FractureResult:
    """One call: fracture probability, boxes and outlines on a film with the shipped model (loaded once)."""
    return _detector(device).detect(source)
