"""Film -> RUS regions: keypoint heatmaps on a letterboxed copy, mapped back to film pixels, then the region rule."""
from __future__ import annotations

import logging

import numpy as np
import torch

from .heatmaps import decode_heatmaps
from .io.film import Film
from .regions import load_region_rule
from .registry import LoadedModel
from .results import Localization
from .transforms import Letterbox, to_model_input

__all__ = ["Localizer"]

_logger = logging.getLogger(__name__)


class Localizer:
    """Wraps a loaded localizer model; ``__call__`` returns a ``Localization`` in film pixels.

    A film is called a hand when the mean keypoint confidence reaches ``card['hand_threshold']`` and the
    keypoints keep a hand's layout (fingers ordered from thumb to little finger, finger bones in sequence).
    """

    def __init__(self, model: LoadedModel):
        self.model = model
        self.names: list[str] = list(model.card["keypoints"])
        self.letterbox = Letterbox(int(model.card["input_size"]))
        self.stride = int(model.card["heatmap_stride"])
        self.threshold = float(model.card.get("hand_threshold", 0.0))
        self.rule = load_region_rule()

    @property
    def device(self) -> torch.device:
        return next(self.model.module.parameters()).device

    @torch.no_grad()
    def keypoints_batch(self, films: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each film's pixels: keypoints (K, 2) in film pixels and confidences (K,)."""
        boxes = [self.letterbox(p) for p in films]
        x = torch.from_numpy(np.stack([to_model_input(b.image) for b in boxes])).to(self.device)
        xy, conf = decode_heatmaps(self.model.module(x).float())
        xy = (xy.cpu().numpy() + 0.5) * self.stride - 0.5
        return [(b.to_film(k), c) for b, k, c in zip(boxes, xy, conf.cpu().numpy())]

    def __call__(self, film: Film) -> Localization:
        return self.localize_many([film])[0]

    def localize_many(self, films: list[Film]) -> list[Localization]:
        out = []
        for film, (xy, conf) in zip(films, self.keypoints_batch([f.pixels for f in films])):
            kps = {n: (float(x), float(y), float(c)) for n, (x, y), c in zip(self.names, xy, conf)}
            hand_conf = float(np.mean(conf))
            layout_ok, why = self._layout(kps)
            is_hand = hand_conf >= self.threshold and layout_ok
            reason = "" if is_hand else (why or f"no hand found (keypoint confidence {hand_conf:.2f} < {self.threshold:.2f})")
            out.append(Localization(keypoints=kps, regions=self.rule.regions(kps), hand_confidence=hand_conf,
                                    hand_side=self._side(kps), is_hand=is_hand, reason=reason))
        return out

    @staticmethod
    def _side(kps: dict) -> str:
        """'left' or 'right' for a PA view: with fingers up, a left hand has its thumb on the image's right."""
        wrist = np.array(kps["radius"][:2]) / 2 + np.array(kps["ulna"][:2]) / 2
        up = np.array(kps["middle_finger_mcp"][:2]) - wrist
        thumb = np.array(kps["thumb_mcp"][:2]) - wrist
        cross = up[0] * thumb[1] - up[1] * thumb[0]
        return "left" if cross > 0 else "right"

    @staticmethod
    def _layout(kps: dict) -> tuple[bool, str]:
        """A hand's layout: each finger's joints run away from the wrist, and the finger bases are ordered
        thumb -> index -> middle -> ring -> little across the hand."""
        p = {k: np.array(v[:2]) for k, v in kps.items()}
        wrist = (p["radius"] + p["ulna"]) / 2
        scale = np.linalg.norm(p["middle_finger_mcp"] - wrist)
        if not np.isfinite(scale) or scale < 1e-6:
            return False, "keypoints collapse to one place: no hand layout"
        for f in ("middle_finger", "pinky_finger"):
            d = [np.linalg.norm(p[f"{f}_{j}"] - wrist) for j in ("mcp", "pip", "dip", "tip")]
            if not all(b > a for a, b in zip(d, d[1:])):
                return False, f"{f.replace('_', ' ')} joints are not in sequence: not a hand layout"
        up = (p["middle_finger_mcp"] - wrist) / scale
        across = np.array([-up[1], up[0]])
        order = [float(np.dot(p[f"{f}_mcp"] - wrist, across)) for f in ("thumb", "forefinger", "middle_finger", "ring_finger", "pinky_finger")]
        if not (all(b > a for a, b in zip(order, order[1:])) or all(b < a for a, b in zip(order, order[1:]))):
            return False, "fingers are not ordered across the hand: not a hand layout"
        return True, ""
