"""Stage-classifier data: localized RSNA films for the weak path, the RUS-CHN crop tree for the supervised path."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from ..hand.localize import Localizer
from ..hand.regions import load_region_rule
from ..hand.results import Region
from ..io import Film, read_film
from .film_cache import FilmCache, localizer_identity
from .rsna import AgedFilm

_logger = logging.getLogger(__name__)


@dataclass
class StageFilm:
    id: str
    pixels: np.ndarray  # uint8 film
    regions: tuple[Region, ...]
    side: str
    male: bool
    age_years: float


RSNA_ASPECT = 1.32  # median height / width of the RSNA films (rsna_hands sizes); the 299 px copy squashed it to 1


def unsquash(film: Film, aspect: float = RSNA_ASPECT) -> Film:
    """A film of the 299 px RSNA copy stretched back to the typical RSNA height / width, so that bones keep
    roughly their shape in the crops (each film's own aspect ratio was not kept by the copy)."""
    w = film.pixels.shape[1]
    return Film(cv2.resize(film.pixels, (w, round(w * aspect)), interpolation=cv2.INTER_LINEAR), film.meta)


def localize_films(films: list[AgedFilm], localizer: Localizer, cache: Path | None = None,
                   squashed: bool = False) -> list[StageFilm]:
    """Read and localize each film (keypoints cached by file path, see ``FilmCache``); films not found to be hands
    are dropped. ``squashed``: films of the 299 px RSNA copy, un-squashed first (see ``unsquash``)."""
    cached = FilmCache(cache, localizer_identity(localizer))
    rule = load_region_rule()
    out, rejected = [], 0

    def locate(film: Film) -> dict:
        loc = localizer(film)
        return {"keypoints": loc.keypoints, "is_hand": loc.is_hand, "side": loc.hand_side}

    for f in tqdm(films, desc="localizing", unit="film", mininterval=5):
        film = unsquash(read_film(f.path)) if squashed else read_film(f.path)
        entry = cached.get(str(f.path), lambda: locate(film))
        if not entry["is_hand"]:
            rejected += 1
            continue
        out.append(StageFilm(f.id, (film.pixels * 255).astype(np.uint8), rule.regions(entry["keypoints"]),
                             entry["side"], f.male, f.boneage_months / 12.0))
    cached.save()
    _logger.info("%d films localized, %d rejected as not a hand", len(out), rejected)
    return out


@dataclass(frozen=True)
class LabelledCrop:
    path: Path
    category: str
    stage: int


_STAGE_DIR = re.compile(r"^\d+$")


def load_rus_chn_tree(root: Path, categories: list[str]) -> dict[str, list[LabelledCrop]]:
    """The RUS-CHN crop set: ``[images/]<category>/<stage>/<file>`` with ``train.txt``/``test.txt`` listing
    files (relative to the root or to ``images/``, optionally followed by a stage label). Returns
    {'train': [...], 'test': [...]}; without the txt files every crop is in 'train'."""
    root = Path(root)
    base = root / "images" if (root / "images").is_dir() else root
    found: dict[str, LabelledCrop] = {}
    for cat in categories:
        for stage_dir in sorted((base / cat).glob("*")) if (base / cat).is_dir() else []:
            if stage_dir.is_dir() and _STAGE_DIR.match(stage_dir.name):
                for p in sorted(stage_dir.iterdir()):
                    if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"):
                        found[p.relative_to(base).as_posix()] = LabelledCrop(p, cat, int(stage_dir.name))
    if not found:
        raise FileNotFoundError(f"{root}: no crops in <category>/<stage>/ folders for categories {', '.join(categories)}")
    splits: dict[str, list[LabelledCrop]] = {}
    for name in ("train", "test"):
        listing = root / f"{name}.txt"
        if not listing.is_file():
            continue
        items = []
        for line in listing.read_text().splitlines():
            parts = line.strip().split()
            if not parts:
                continue
            rel = parts[0].replace("\\", "/").removeprefix("images/")
            crop = found.get(rel)
            if crop is None:
                _logger.warning("%s lists %s, which is not in the tree", listing.name, parts[0])
                continue
            if len(parts) > 1 and parts[1].isdigit():
                crop = LabelledCrop(crop.path, crop.category, int(parts[1]))
            items.append(crop)
        splits[name] = items
    if "train" not in splits:
        splits["train"] = list(found.values())
    _logger.info("RUS-CHN tree: %s", {k: len(v) for k, v in splits.items()})
    return splits


def read_crop(path: Path, size: int) -> np.ndarray:
    """A labelled crop as float [0, 1], letterboxed into a square of ``size`` (aspect kept)."""
    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise ValueError(f"cannot read crop {path}")
    h, w = img.shape
    s = size / max(h, w)
    img = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    out = np.zeros((size, size), np.float32)
    y0, x0 = (size - img.shape[0]) // 2, (size - img.shape[1]) // 2
    out[y0:y0 + img.shape[0], x0:x0 + img.shape[1]] = img / 255.0
    return out
