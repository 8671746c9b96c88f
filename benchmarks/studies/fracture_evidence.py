"""Does the film classifier's evidence point at the fracture? The pointing game on the fractured films of the
official valid and test splits, read as the fracture module reads them (polarity check, both models).

    python benchmarks/studies/fracture_evidence.py --data DIR

Per film, a hit when the point lies inside any ground-truth box: the classifier evidence's peak
(``FractureResult.evidence.peak_xy``); the centre of the detector's highest-scoring instance (a film with no
instance shown is a miss); the film's centre (a baseline). Also over the films called fractured alone.
Writes benchmarks/results/fracture_evidence.json.
"""
from __future__ import annotations

import sys

import argparse
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bone_age.errors import UnreadableFilm
from bone_age.fracture import FractureDetector
from bone_age.io import read_film
from bone_age.training.fracture import image_split
from bone_age.training.fracture_data import read_fracatlas
from bone_age.training.metrics import proportion_interval

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for _common

from _common import write_result  # noqa: E402

POINTS = ("evidence_peak", "detector_top_centre", "film_centre")


def inside(xy, boxes: np.ndarray) -> bool:
    x, y = xy
    return bool(np.any((boxes[:, 0] <= x) & (x <= boxes[:, 2]) & (boxes[:, 1] <= y) & (y <= boxes[:, 3])))


def share(rows: list[dict]) -> dict:
    """Per kind of point: the share of hits over ``rows`` and its 95 % Wilson interval."""
    out: dict = {"n_films": len(rows)}
    for k in POINTS:
        hits = sum(r[k] for r in rows)
        out[k] = {"hit_share": round(hits / max(len(rows), 1), 4), "ci95_wilson": list(proportion_interval(hits, len(rows)))}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True, help="FracAtlas root")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    det = FractureDetector(device=args.device)
    if det.film is None:
        raise SystemExit("no fracture_film model installed: there is no evidence map to measure")
    out, imgs = {}, read_fracatlas(args.data)
    for split in ("val", "test"):
        rows = []
        for img in tqdm([i for i in imgs if image_split(i) == split and i.fractured and len(i.boxes)], desc=split, mininterval=10):
            try:
                film = read_film(img.path)
            except UnreadableFilm:
                continue
            r = det.detect(film)
            top = r.instances[0].box_xyxy if r.instances else None
            h, w = film.pixels.shape
            rows.append({"called": r.fractured, "evidence_peak": inside(r.evidence.peak_xy, img.boxes),
                         "detector_top_centre": top is not None and inside(((top[0] + top[2]) / 2, (top[1] + top[3]) / 2), img.boxes),
                         "film_centre": inside((w / 2, h / 2), img.boxes)})
        out[split] = {"all": share(rows), "called_fractured": share([r for r in rows if r["called"]])}
    write_result("fracture_evidence", {"models": {"detector": det.model.name, "film": det.film.model.name},
                                        "rule": "a hit: the point inside any ground-truth box of the film", **out})


if __name__ == "__main__":
    main()
