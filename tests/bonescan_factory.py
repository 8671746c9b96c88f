"""Synthetic bone scans in the BS-80K layouts: region crops with hot spots, whole-body phantoms with VOC boxes."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def crop(rng: np.random.Generator, hot: bool) -> np.ndarray:
    """A ~65 x 165 hemithorax-like crop: noisy uptake, ribs, and for ``hot`` a bright focal spot."""
    h, w = int(rng.integers(155, 180)), int(rng.integers(60, 72))
    img = rng.poisson(30, (h, w)).astype(np.float32)
    for y in range(20, h, 22):
        cv2.line(img, (0, y), (w, y + 8), 45, 2)
    if hot:
        cv2.circle(img, (int(rng.integers(12, w - 12)), int(rng.integers(20, h - 20))), int(rng.integers(4, 7)), 200, -1)
    return np.clip(img, 0, 255).astype(np.uint8)


def make_region_tree(root: Path, per_view: int = 40, seed: int = 0) -> None:
    """``chestRANT`` and ``chestRPOST`` folders with ``<region>.txt`` labels; every 4th id abnormal."""
    rng = np.random.default_rng(seed)
    for region in ("chestRANT", "chestRPOST"):
        d = root / region
        d.mkdir(parents=True)
        lines = []
        for i in range(1, per_view + 1):
            hot = i % 4 == 0
            cv2.imwrite(str(d / f"{i}.jpg"), crop(rng, hot))
            lines.append(f"{i}.jpg\t{int(hot)}")
        (d / f"{region}.txt").write_text("\n".join(lines) + "\n")


def body(rng: np.random.Generator | None = None) -> np.ndarray:
    """A 1024 x 256 whole-body phantom, head up; uptake counts as uint8."""
    img = np.zeros((1024, 256), np.float32)
    cv2.ellipse(img, (128, 70), (34, 46), 0, 0, 360, 90, -1)
    cv2.rectangle(img, (58, 130), (198, 560), 80, -1)
    cv2.rectangle(img, (72, 560), (184, 1000), 70, -1)
    if rng is not None:
        img += rng.normal(0, 6, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


VOC = """<annotation><filename>{name}</filename><size><width>256</width><height>1024</height><depth>1</depth></size>
{objects}</annotation>"""
OBJ = "<object><name>{label}</name><bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>"


def make_wholebody_tree(root: Path, n: int = 6, seed: int = 0) -> None:
    """wholeBodyANT/ant and wholeBodyPOST/post with one abnormal hot spot per scan (and a 'normal' one on some)."""
    rng = np.random.default_rng(seed)
    for folder, sub in (("wholeBodyANT", "ant"), ("wholeBodyPOST", "post")):
        (root / folder / sub).mkdir(parents=True)
        for i in range(n):
            img = body(rng)
            x, y = int(rng.integers(80, 176)), int(rng.integers(200, 800))
            cv2.circle(img, (x, y), 9, 250, -1)
            objs = [OBJ.format(label="abnormal", x1=x - 10, y1=y - 10, x2=x + 10, y2=y + 10)]
            if i % 2:
                cv2.circle(img, (128, 540), 12, 200, -1)
                objs.append(OBJ.format(label="normal", x1=115, y1=527, x2=141, y2=553))
            cv2.imwrite(str(root / folder / f"{i}.jpg"), img)
            (root / folder / sub / f"{i}.xml").write_text(VOC.format(name=f"{i}.jpg", objects="\n".join(objs)))
