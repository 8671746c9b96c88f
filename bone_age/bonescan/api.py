"""Reading bone scans: a region crop gets the region classifier; a whole-body scan gets its chest regions cut
and classified, and hot spots from the whole-body detector when one has been trained."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from ..card import DetectorSpec
from ..io import Film, FilmSource
from ..io.film import as_film
from ..registry import default_model, list_models, load_model, resolve_device
from .classify import RegionClassifier
from .regions import cut_regions, load_region_rule, view_of
from .results import BoneScanResult, Hotspot, RegionFinding

__all__ = ["BoneScanReader", "read_scan", "kind_of"]

REGION_TASK, WHOLEBODY_TASK = "bonescan_region", "bonescan_wholebody"
NO_DETECTOR = ("no whole-body detector: it needs the BS-80K whole-body release to train "
               "(`bone-age train bonescan-wholebody --data DIR`); only the chest regions were read")
WHOLEBODY_NOTE = ("whole-body chest regions are cut by a body-proportion rule (assets/standards/bonescan_regions.json) "
                  "not checked against BS-80K's own crops; the region classifier was trained on right-chest crops only")


def kind_of(pixels: np.ndarray) -> str:
    """'wholebody' for a tall scan at least 160 px wide (BS-80K: 256 x 1024), else 'region' (crops: ~65 x 165)."""
    h, w = pixels.shape
    return "wholebody" if w >= 160 and h >= 2.5 * w else "region"


class BoneScanReader:
    """Keeps the bone-scan models loaded. ``device``: 'auto' (GPU when present), 'cpu' or 'cuda'; ``runtime``: 'torch',
    'onnx' or 'auto' for the region classifier (``registry.load_model``)."""

    def __init__(self, classifier: str | None = None, detector: str | bool | None = None, device: str = "auto",
                 runtime: str = "torch"):
        self.device = resolve_device(device)
        self.classifier = RegionClassifier(load_model(classifier or default_model(REGION_TASK), self.device,
                                                      runtime=runtime))
        self.detector = None
        if detector is not False and (detector or list_models(WHOLEBODY_TASK)):
            self.detector = load_model(detector if isinstance(detector, str) else default_model(WHOLEBODY_TASK), self.device)

    @property
    def model_versions(self) -> dict[str, str]:
        return {m.version_key: m.sha256 for m in [self.classifier.model] + ([self.detector] if self.detector else [])}

    def read(self, source: FilmSource, kind: str = "auto", view: str | None = None) -> BoneScanResult:
        """Read one scan or crop. ``view`` 'ANT'/'POST' (else taken from the file or folder name, e.g. chestRPOST)."""
        film = as_film(source)
        src = film.meta.source
        view = (view or view_of(Path(src).parent.name) or view_of(Path(src).stem)).upper()
        kind = kind_of(film.pixels) if kind == "auto" else kind
        if kind == "region":
            return self._region(film, view)
        if kind == "wholebody":
            return self._wholebody(film, view)
        raise ValueError(f"kind must be 'auto', 'region' or 'wholebody', got {kind!r}")

    def _finding(self, name: str, view: str, p: float, box=None) -> RegionFinding:
        t = self.classifier.threshold
        return RegionFinding(name, view, round(float(p), 4), bool(p >= t), t, box)

    def _region(self, film: Film, view: str) -> BoneScanResult:
        p, = self.classifier.probabilities([film.pixels])
        region = Path(film.meta.source).parent.name or "region"
        trained_on = self.classifier.regions
        notes = () if region in trained_on else (f"the region classifier was trained on {', '.join(trained_on)} crops; "
                                                 f"{region!r} may be another region",)
        return BoneScanResult(film.meta.source, "region", view, (self._finding(region, view, p),),
                              detector="not used for region crops", notes=notes, model_versions=self.model_versions)

    def _wholebody(self, film: Film, view: str) -> BoneScanResult:
        if view not in ("ANT", "POST"):
            raise ValueError(f"{film.meta.source}: a whole-body scan needs its view (ANT or POST) to tell right from "
                             "left: pass view=, or keep it in a wholeBodyANT/wholeBodyPOST folder")
        boxes = cut_regions(film.pixels, view)
        rule = load_region_rule()
        names = [n for n in boxes if rule.regions[n].get("classifier_region")]
        probs = self.classifier.probabilities([film.pixels[y1:y2, x1:x2] for x1, y1, x2, y2 in (boxes[n] for n in names)]) if names else []
        findings = tuple(self._finding(n, view, p, boxes[n]) for n, p in zip(names, probs))
        hotspots, detector = (), NO_DETECTOR
        if self.detector is not None:
            hotspots, detector = self._hotspots(film.pixels), self.detector.name
        return BoneScanResult(film.meta.source, "wholebody", view, findings, hotspots, detector, (WHOLEBODY_NOTE,),
                              self.model_versions)

    @torch.no_grad()
    def _hotspots(self, pixels: np.ndarray) -> tuple[Hotspot, ...]:
        spec = self.detector.card.section(DetectorSpec)
        x = torch.from_numpy(np.repeat(pixels[None], 3, 0)).to(self.device)
        out = self.detector.module([x])[0]
        keep = out["scores"] >= spec.instance_score_threshold
        return tuple(Hotspot(spec.classes[int(lab) - 1], round(float(s), 4), tuple(round(float(v), 1) for v in b))
                     for b, lab, s in zip(out["boxes"][keep].cpu(), out["labels"][keep].cpu(), out["scores"][keep].cpu()))


@lru_cache(maxsize=2)
def _reader(device: str) -> BoneScanReader:
    return BoneScanReader(device=device)


def read_scan(source: FilmSource, kind: str = "auto", view: str | None = None,
              device: str = "auto") -> BoneScanResult:
    """One call: read a bone-scan region crop or whole-body scan with the shipped models (loaded once)."""
    return _reader(device).read(source, kind, view)
