"""Clavicle data layouts: JSRT films with SCR masks, and the CRASS12 layout.

JSRT/SCR: films ``<root>/**/<ID>.IMG.png`` (2048 x 2048 palette PNG: read through the palette) and masks
``<root>/**/left_clavicle[_png]/<ID>.(png|gif)`` and ``right_clavicle...`` (1024 x 1024). SCR's "left" is the
patient's left, which lies on the image's right.

CRASS12: ``<root>/image/*.png``, ``<root>/mask/*.png`` (one mask holding both clavicles; each connected part is
given to the patient's right or left by which half of the image its centre lies in), ``train.txt``/``val.txt``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..clavicle.results import SIDES
from ..io import read_film

__all__ = ["ClavicleCase", "read_jsrt", "read_crass", "read_cases", "load_masks", "SIDES"]



@dataclass(frozen=True)
class ClavicleCase:
    id: str
    image: Path
    right: Path | None = None  # patient's right clavicle mask (JSRT/SCR)
    left: Path | None = None
    both: Path | None = None  # CRASS12: one mask with both clavicles
    split: str | None = None  # CRASS12's own train/val lists, when given


def _mask_dirs(root: Path, side: str) -> list[Path]:
    dirs = [p for p in root.rglob(f"{side}_clavicle*") if p.is_dir()]
    return sorted(dirs, key=lambda p: (not p.name.endswith("_png"), str(p)))  # PNG copies before GIFs


def read_jsrt(root: Path) -> list[ClavicleCase]:
    """JSRT films that have both clavicle masks."""
    root = Path(root)
    images = {p.name.split(".")[0]: p for p in root.rglob("*.IMG.png")}
    if not images:
        raise FileNotFoundError(f"{root}: no JSRT films (*.IMG.png)")
    masks: dict[str, dict[str, Path]] = {}
    for side in SIDES:
        for d in reversed(_mask_dirs(root, side)):  # the preferred folder is read last and wins
            for m in d.iterdir():
                if m.suffix.lower() in (".png", ".gif"):
                    masks.setdefault(m.stem, {})[side] = m
    cases = [ClavicleCase(i, p, masks[i]["right"], masks[i]["left"]) for i, p in sorted(images.items())
             if len(masks.get(i, {})) == 2]
    if not cases:
        raise FileNotFoundError(f"{root}: JSRT films found but no left_clavicle/right_clavicle masks beside them")
    return cases


def read_crass(root: Path) -> list[ClavicleCase]:
    """CRASS12 cases (image/, mask/, train.txt, val.txt)."""
    root = Path(root)
    split = {}
    for name in ("train", "val"):
        f = root / f"{name}.txt"
        if f.is_file():
            split.update({Path(line.strip()).stem: name for line in f.read_text().splitlines() if line.strip()})
    cases = []
    for img in sorted((root / "image").glob("*.png")):
        mask = root / "mask" / img.name
        if not mask.is_file():
            raise FileNotFoundError(f"{mask}: mask missing for {img.name}")
        cases.append(ClavicleCase(img.stem, img, both=mask, split=split.get(img.stem)))
    if not cases:
        raise FileNotFoundError(f"{root}: no CRASS12 cases (image/*.png with mask/*.png)")
    return cases


def read_cases(root: Path) -> list[ClavicleCase]:
    """CRASS12 when ``root/image`` exists, else JSRT/SCR."""
    return read_crass(root) if (Path(root) / "image").is_dir() else read_jsrt(root)


def _binary(path: Path, hw: tuple[int, int]) -> np.ndarray:
    m = read_film(path).pixels > 0.5
    return cv2.resize(m.astype(np.uint8), (hw[1], hw[0]), interpolation=cv2.INTER_NEAREST)


def load_masks(case: ClavicleCase, hw: tuple[int, int]) -> np.ndarray:
    """(2, H, W) uint8 masks at ``hw``: patient's right, patient's left."""
    if case.both is None:
        return np.stack([_binary(case.right, hw), _binary(case.left, hw)])
    both = _binary(case.both, hw)
    n, labels, _, centroids = cv2.connectedComponentsWithStats(both)
    out = np.zeros((2, *hw), np.uint8)
    for k in range(1, n):
        out[0 if centroids[k][0] < hw[1] / 2 else 1][labels == k] = 1  # image left = patient's right
    return out
