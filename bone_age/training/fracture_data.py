"""The FracAtlas layout: ``images/Fractured``, ``images/Non_fractured``, ``Annotations/COCO JSON``, ``dataset.csv``
and the official ``Utilities/Fracture Split/{train,valid,test}.csv`` (fractured images only).

Quirks handled: IMG0003298 lies in Fractured with an instance in the COCO file but ``fractured=0`` in dataset.csv
(the folder and the annotation win); the VGG JSON lacks 5 regions, so instances come from the COCO JSON only.
Non-fractured images, which the official split leaves out, carry ``split=None`` (training splits them by hash).
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["FracAtlasImage", "read_fracatlas", "OFFICIAL_SPLITS", "TAGS"]

OFFICIAL_SPLITS = {"train": "train", "valid": "val", "test": "test"}
TAGS = ("hand", "leg", "hip", "shoulder", "mixed", "hardware", "multiscan", "frontal", "lateral", "oblique")  # dataset.csv flags
COCO_FILE = Path("Annotations") / "COCO JSON" / "COCO_fracture_masks.json"


@dataclass
class FracAtlasImage:
    id: str  # file name, e.g. IMG0000019.jpg
    path: Path
    fractured: bool
    split: str | None  # train / val / test of the official split; None for images it leaves out
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))  # xyxy, image pixels
    polygons: list[list[np.ndarray]] = field(default_factory=list)  # per instance, (N, 2) arrays
    tags: frozenset[str] = frozenset()  # the dataset.csv flags set to 1 (body part, hardware, view; see TAGS)


def _official(root: Path) -> dict[str, str]:
    out = {}
    for name, split in OFFICIAL_SPLITS.items():
        f = root / "Utilities" / "Fracture Split" / f"{name}.csv"
        if not f.is_file():
            raise FileNotFoundError(f"{f}: the official Fracture Split is required")
        with open(f, newline="") as fh:
            out.update({r["image_id"]: split for r in csv.DictReader(fh)})
    return out


def read_fracatlas(root: Path) -> list[FracAtlasImage]:
    """Every image of the release with its label, split and instances."""
    root = Path(root)
    for need in ("dataset.csv", COCO_FILE, Path("images") / "Fractured"):
        if not (root / need).exists():
            raise FileNotFoundError(f"{root / need}: not a FracAtlas folder")
    coco = json.loads((root / COCO_FILE).read_text())
    names = {im["id"]: im["file_name"] for im in coco["images"]}
    inst: dict[str, list[dict]] = {}
    for a in coco["annotations"]:
        inst.setdefault(names[a["image_id"]], []).append(a)
    official = _official(root)
    out = []
    with open(root / "dataset.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        name = r["image_id"]
        folder = "Fractured" if (root / "images" / "Fractured" / name).is_file() else "Non_fractured"
        fractured = folder == "Fractured" or r["fractured"] == "1"
        img = FracAtlasImage(name, root / "images" / folder / name, fractured, official.get(name),
                             tags=frozenset(t for t in TAGS if r.get(t) == "1"))
        anns = inst.get(name, [])
        if anns:
            img.boxes = np.array([[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]]
                                  for a in anns], np.float32)
            img.polygons = [[np.asarray(p, np.float32).reshape(-1, 2) for p in a["segmentation"]] for a in anns]
        out.append(img)
    return out
