"""Film -> RUS regions: keypoint heatmaps on a letterboxed copy, mapped back to film pixels, then the region rule."""
from __future__ import annotations

import logging
from dataclasses import replace

import cv2
import numpy as np
import torch

from ..card import LocalizerSpec
from ..io.film import Film
from ..registry import LoadedModel
from ..transforms import Letterbox, to_model_input
from .gate import HandGate
from .heatmaps import decode_heatmaps
from .regions import load_region_rule
from .results import HANDS, Localization

__all__ = ["Localizer"]

_logger = logging.getLogger(__name__)


def _unrotate(xy: np.ndarray, k: int, shape_hw: tuple[int, int]) -> np.ndarray:
    """Points in ``np.rot90(image, k)`` back to the pixels of ``image`` (of shape ``shape_hw``)."""
    h, w = shape_hw
    x, y = xy[:, 0], xy[:, 1]
    k %= 4
    if k == 0:
        return xy.copy()
    if k == 1:
        return np.stack([w - 1 - y, x], 1)
    if k == 2:
        return np.stack([w - 1 - x, h - 1 - y], 1)
    return np.stack([y, h - 1 - x], 1)


class Localizer:
    """Wraps a loaded localizer model; ``__call__`` returns a ``Localization`` in film pixels.

    With a ``gate``, the whole film must first pass the hand-film gate (a foot's toes can keep a hand's layout);
    a film it turns away is not searched further. Then the whole film is looked at letterboxed in its four quarter turns
    (as it lies first: seen there as surely as the usual validation hand, it is tried before the other turns are looked
    at) and, most confident turn first until a hand is found, again on a square crop around the keypoints seen (around
    their surer half when the hand was seen unsurely: a small hand on a large film is only found from closer; such a hand must
    then be as sure as the usual validation hand, ``the card's ``usual_hand_confidence````) for the final keypoints. A film is
    a hand when the mean keypoint confidence reaches the card's ``hand_threshold`` and the keypoints keep a hand's layout
    (finger joints in sequence away from the wrist, fingers ordered thumb to little finger). A hand accepted leaning
    more than ``UPRIGHT_DEG`` is located again on the film turned upright about it.
    A film at least ``TWO_HANDS_ASPECT`` times wider than tall is searched by halves first (both hands side by side):
    with a hand on each half the ``hand`` asked for (the left, as RUS-CHN reads, unless told otherwise) is read and the
    result's ``note`` says so; with none, or with one seen less surely than the usual hand, the whole film is searched
    (a hand found there is kept over the half's: a half can show part of one sideways hand). A less wide film is
    searched by halves when the whole of it passed the gate but no hand was accepted on it (a hand found so is, again,
    held to the usual confidence).
    """

    ORIENTATIONS = (0, 2, 1, 3)  # quarter turns; searched in the order of the keypoints' confidence
    UPRIGHT_DEG = 20.0  # a hand leaning more than this is located again turned upright
    TWO_HANDS_ASPECT = 1.5  # a film this much wider than tall is searched by halves first (two hands side by side)
    SEARCH = ("quarter turns by confidence, a closer look when unsure, halves of squarer films; "
              "an unsure half of a wide film yields to the whole")  # cached results keep it

    def __init__(self, model: LoadedModel, gate: HandGate | None = None):
        self.model = model
        self.gate = gate
        spec = model.card.section(LocalizerSpec)
        self.names: list[str] = list(spec.keypoints)
        self.letterbox = Letterbox(spec.input_size)
        self.stride = spec.heatmap_stride
        self.threshold = spec.hand_threshold
        self.usual_confidence = spec.usual_hand_confidence  # below: regions worth a check
        self.margin = spec.refine_margin
        self.rule = load_region_rule()

    @property
    def device(self) -> torch.device:
        return next(self.model.module.parameters()).device

    @torch.no_grad()
    def keypoints(self, images: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        """One pass: for each image, keypoints (K, 2) in its pixels and confidences (K,)."""
        boxes = [self.letterbox(np.ascontiguousarray(p)) for p in images]
        x = torch.from_numpy(np.stack([to_model_input(b.image, self.model.card.normalization) for b in boxes])).to(self.device)
        xy, conf = decode_heatmaps(self.model.module(x).float())
        xy = (xy.cpu().numpy() + 0.5) * self.stride - 0.5
        return [(b.to_film(k), c) for b, k, c in zip(boxes, xy, conf.cpu().numpy())]

    def _named(self, xy: np.ndarray, conf: np.ndarray) -> dict[str, tuple[float, float, float]]:
        return {n: (float(x), float(y), float(c)) for n, (x, y), c in zip(self.names, xy, conf)}

    def _accept(self, xy: np.ndarray, conf: np.ndarray, closer: bool = False) -> tuple[bool, str]:
        """A hand when the mean confidence reaches the threshold (for a hand ``closer`` looking found only, unsure
        at first sight: the usual confidence of the validation hands) and the keypoints keep a hand's layout."""
        mean, bar = float(np.mean(conf)), self.usual_confidence if closer else self.threshold
        if mean < bar:
            seen = " for a hand found only from closer" if closer else ""
            return False, f"no hand found (keypoint confidence {mean:.2f} < {bar:.2f}{seen})"
        return self._layout(self._named(xy, conf))

    def _refine(self, image: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Second pass on a square crop around the hand found in ``image``; keypoints back in its pixels."""
        lo, hi = xy.min(0), xy.max(0)
        side = float((hi - lo).max()) * (1 + 2 * self.margin)
        cx, cy = (lo + hi) / 2
        x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
        n = max(int(round(side)), 16)
        crop = np.zeros((n, n), np.float32)
        h, w = image.shape
        sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x0 + n, w), min(y0 + n, h)
        if sx1 > sx0 and sy1 > sy0:
            crop[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = image[sy0:sy1, sx0:sx1]
        (cxy, cconf), = self.keypoints([crop])
        return cxy + np.array([x0, y0], np.float32), cconf

    def __call__(self, film: Film, hand: str = "left") -> Localization:
        if hand not in HANDS:
            raise ValueError(f"hand must be one of {', '.join(HANDS)}, not {hand!r}")
        h, w = film.pixels.shape
        wide = w >= self.TWO_HANDS_ASPECT * h
        halves = self._by_halves(film.pixels, hand) if wide else None
        if halves is not None and halves.hand_confidence >= self.usual_confidence:
            return halves
        whole = self._locate(film.pixels)
        if whole.is_hand:  # kept over a half seen less surely than usual
            return whole
        if halves is not None:
            return halves
        gate_passed = self.gate is None or (whole.hand_film_probability or 0.0) >= self.gate.threshold
        if gate_passed and not wide and h < w:  # two hands on a squarer film?
            pick = self._by_halves(film.pixels, hand)  # found only from closer: held to the usual confidence
            if pick is not None and pick.hand_confidence >= self.usual_confidence:
                return pick
        return whole

    def _by_halves(self, pixels: np.ndarray, hand: str) -> Localization | None:
        """The hand found on the left or right half of ``pixels``: the one asked for when both halves hold one."""
        w = pixels.shape[1]
        found = [loc for x0, x1 in ((0, w // 2), (w // 2, w)) if (loc := self._locate(pixels[:, x0:x1], x0)).is_hand]
        if len(found) == 2:
            pick = max(found, key=lambda loc: (loc.hand_side == hand, loc.hand_confidence))
            half = "left" if pick is found[0] else "right"
            why = "RUS-CHN reads the left hand" if hand == "left" else "the right hand asked for; RUS-CHN reads the left"
            return replace(pick, note=f"two hands on the film: the {pick.hand_side} hand was read, on the image's "
                                      f"{half} half ({why})")
        return found[0] if found else None

    def _locate(self, pixels: np.ndarray, x0: int = 0) -> Localization:
        """The hand on ``pixels`` (a film, or the part of one that starts at column ``x0``), in film pixels."""
        passes, gate_p, gate_why = self.gate.verdict(pixels) if self.gate is not None else (True, None, "")
        if not passes:  # not a hand film: one upright pass records where the model looked, no orientation search
            (xy, conf), = self.keypoints([pixels])
            return self._result(pixels, 0, xy, conf, False, gate_why, gate_p, x0)
        k, xy, conf, ok, why = self._search(pixels)
        if gate_p is not None and not ok:  # a limb film whose hand joints the localizer cannot trust (cut off, turned)
            why = (f"a hand film (gate {gate_p:.2f}), but its joints were not located reliably: {why}; "
                   "the method needs the whole hand and wrist in a PA view")
        return self._result(pixels, k, xy, conf, ok, why, gate_p, x0)

    def _search(self, pixels: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, bool, str]:
        """The quarter turns, most confident first, each looked at closer, until a hand is accepted; else the most
        confident turn. (turn, keypoints, conf, ok, why)."""
        best = None
        for k, rotated, xy, conf in self._turns(pixels):
            verdict = self._accept(xy, conf)
            unsure = float(conf.mean()) < self.threshold  # a small hand on a large film: look around its surer half
            rxy, rconf = self._refine(rotated, xy[conf >= np.median(conf)] if unsure else xy)
            refined = self._accept(rxy, rconf, closer=unsure)
            if refined[0] or not verdict[0]:
                xy, conf, verdict = rxy, rconf, refined
            ok, why = verdict
            if ok:
                xy, conf = self._upright(rotated, xy, conf)
            if best is None or ok or float(conf.mean()) > float(best[2].mean()):
                best = (k, xy, conf, ok, why)
            if ok:
                break
        return best

    def _turns(self, pixels: np.ndarray):
        """(turn, turned image, keypoints, confidences) of the first look, surest turn first. A film seen as it lies as
        surely as the usual validation hand is tried so before the other turns are looked at (most films: one pass)."""
        def turned(k: int) -> np.ndarray:
            return np.ascontiguousarray(np.rot90(pixels, k))

        first, rest = self.ORIENTATIONS[0], self.ORIENTATIONS[1:]
        (xy, conf), = self.keypoints([np.rot90(pixels, first)])
        seen = {first: (xy, conf)}
        if float(conf.mean()) >= self.usual_confidence:
            yield first, turned(first), xy, conf
            seen = {}
        seen.update(zip(rest, self.keypoints([np.rot90(pixels, k) for k in rest])))
        for k in sorted(seen, key=lambda k: -float(seen[k][1].mean())):
            yield k, turned(k), *seen[k]

    def tilt_deg(self, xy: np.ndarray) -> float:
        """How far the hand leans from upright: the angle of wrist -> middle finger MCP from the image's up,
        clockwise positive."""
        p = dict(zip(self.names, xy))
        v = p["middle_finger_mcp"] - (p["radius"] + p["ulna"]) / 2
        return float(np.degrees(np.arctan2(v[0], -v[1])))

    def _upright(self, image: np.ndarray, xy: np.ndarray, conf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Accepted keypoints of a hand leaning more than ``UPRIGHT_DEG``: found again on ``image`` turned about the
        hand so that it stands upright (as the localizer learnt hands), mapped back; kept when that pass is not
        accepted."""
        tilt = self.tilt_deg(xy)
        if abs(tilt) <= self.UPRIGHT_DEG:
            return xy, conf
        turn = cv2.getRotationMatrix2D(tuple(float(v) for v in xy.mean(0)), tilt, 1.0)
        turned = cv2.warpAffine(image, turn, image.shape[::-1], flags=cv2.INTER_LINEAR, borderValue=0.0)
        txy, tconf = self._refine(turned, cv2.transform(xy[None].astype(np.float32), turn)[0])
        if not self._accept(txy, tconf)[0]:
            return xy, conf
        return cv2.transform(txy[None].astype(np.float32), cv2.invertAffineTransform(turn))[0], tconf

    def _result(self, pixels: np.ndarray, k: int, xy: np.ndarray, conf: np.ndarray, ok: bool, why: str,
                gate_p: float | None, x0: int = 0) -> Localization:
        kps = self._named(_unrotate(xy, k, pixels.shape) + np.array([x0, 0], np.float32), conf)
        return Localization(keypoints=kps, regions=self.rule.regions(kps), hand_confidence=float(np.mean(conf)),
                            hand_side=self._side(kps), is_hand=ok, reason="" if ok else why,
                            hand_film_probability=gate_p)

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
        for f in ("middle_finger", "pinky_finger"):  # tips are not used by the regions, so not checked
            d = [np.linalg.norm(p[f"{f}_{j}"] - wrist) for j in ("mcp", "pip", "dip")]
            if not all(b > a for a, b in zip(d, d[1:])):
                return False, f"{f.replace('_', ' ')} joints are not in sequence: not a hand layout"
        up = (p["middle_finger_mcp"] - wrist) / scale
        across = np.array([-up[1], up[0]])
        order = [float(np.dot(p[f"{f}_mcp"] - wrist, across)) for f in ("thumb", "forefinger", "middle_finger", "ring_finger", "pinky_finger")]
        if not (all(b > a for a, b in zip(order, order[1:])) or all(b < a for a, b in zip(order, order[1:]))):
            return False, "fingers are not ordered across the hand: not a hand layout"
        return True, ""
