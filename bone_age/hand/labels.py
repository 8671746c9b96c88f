"""The label store: every bone a reader confirmed or corrected, as training data in the RUS-CHN crop-set layout.

A folder the user chooses (default ``labels_dir()``, under the user's data directory, never inside the package):

    images/<category>/<stage>/<film>_<bone>.png     the crop exactly as the stage classifier saw it
    context/<category>/<stage>/<film>_<bone>.png    a wider crop around it, for people
    index.jsonl                                     one line per bone: ``LabelEntry``

``images/`` is the layout ``bone-age-train stages --rus-chn-root`` reads; ``index.jsonl`` ties each crop to its film
(for splits by film), the model's stage, the reader's and the models that read it. Reviewing a film again replaces its
entries. Every file is written to a temporary name and renamed, under a lock, so a killed write leaves no partial file.
Nothing here leaves the machine; patient names are never written, and a patient id only as a one-way key.
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Mapping

import cv2
import numpy as np

from .._atomic import write_bytes
from .._hashing import file_sha256
from .._serial import JsonMixin
from ..errors import BoneAgeError
from ..io import Film
from .regions import crop_region
from .results import Assessment

__all__ = ["LabelStore", "LabelEntry", "LabelStoreError", "StageAgreement", "agreement_by_category", "summary_lines",
           "labels_dir", "film_sha256", "patient_key", "earlier_readings",
           "CONTEXT_FACTOR"]

INDEX = "index.jsonl"
CONTEXT_FACTOR = 2.5  # the context crop's side, in classifier-crop sides
CONTEXT_PX = 240


class LabelStoreError(BoneAgeError):
    """The label store cannot be written (a read-only folder, a broken index): nothing was changed."""


def labels_dir() -> Path:
    """``$BONE_AGE_LABELS``, else the user's data directory: ``$XDG_DATA_HOME/bone-age/labels`` (Linux, default
    ``~/.local/share``), ``%APPDATA%\\bone-age\\labels`` (Windows), ``~/Library/Application Support/bone-age/labels``
    (macOS)."""
    if os.environ.get("BONE_AGE_LABELS"):
        return Path(os.environ["BONE_AGE_LABELS"])
    if os.name == "nt":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    elif os.uname().sysname == "Darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "bone-age" / "labels"


def film_sha256(film: Film) -> str:
    """The film's identity in the store: the sha256 of its file (of its pixels for a film made from an array)."""
    src = Path(film.meta.source)
    if src.is_file():
        return file_sha256(src)
    return hashlib.sha256(np.ascontiguousarray(film.pixels).tobytes()).hexdigest()


def patient_key(patient_id: str | None) -> str | None:
    """A one-way key for a patient id (matches a patient's readings without storing the id)."""
    return None if not patient_id else hashlib.sha256(f"bone-age-patient:{patient_id}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class LabelEntry(JsonMixin):
    """One reviewed bone. ``status``: 'confirmed' (the reader kept the model's stage) or 'corrected'."""

    film_sha256: str
    source: str
    bone: str
    category: str
    stage_model: int
    stage_reader: int
    status: str
    reader: str
    time: str
    crop: str  # relative to the store: images/<category>/<stage>/<file>
    context: str
    sex: str
    chronological_age_years: float | None
    bone_age_years: float  # the film's RUS-CHN bone age with the reader's stages
    patient: str | None  # patient_key of the DICOM patient id, when the film carried one
    hand_side: str
    region: dict = field(default_factory=dict)  # centre, size, angle, crop side and box, film pixels
    model_versions: dict = field(default_factory=dict)


class LabelStore:
    """A label store at ``root`` (created on first write). ``crop_size``: the side of the classifier crops written
    (the stage model's ``crop_size``)."""

    def __init__(self, root: Path | str | None = None, crop_size: int = 80):
        self.root = Path(root) if root is not None else labels_dir()
        self.crop_size = crop_size

    # --- reading ----------------------------------------------------------------------------------------------------
    def entries(self) -> list[LabelEntry]:
        path = self.root / INDEX
        if not path.is_file():
            return []
        out = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    out.append(LabelEntry.from_json(line))
                except (ValueError, TypeError, KeyError) as exc:
                    raise LabelStoreError(f"line {n} of the index is not a label entry ({exc})", path) from None
        return out

    def examples(self, category: str, stage: int, limit: int = 3) -> list[Path]:
        """Context crops the readers confirmed or set at ``stage`` of ``category``, newest first."""
        hits = [e for e in reversed(self.entries()) if e.category == category and e.stage_reader == stage]
        return [self.root / e.context for e in hits[:limit] if (self.root / e.context).is_file()]

    # --- writing ----------------------------------------------------------------------------------------------------
    def check_writable(self) -> None:
        """``LabelStoreError`` unless the store can be written (checked before anything is changed)."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".probe.{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise LabelStoreError(f"the label store cannot be written ({exc.strerror or exc}); choose another folder",
                                  self.root) from None

    def save_review(self, film: Film, a: Assessment, reader: str, reviewed: Iterable[str],
                    model_stages: Mapping[str, int] | None = None) -> list[LabelEntry]:
        """Store the bones of ``a`` named in ``reviewed`` (all 13 for a reviewed film), replacing any earlier review
        of the same film. ``model_stages``: the stages the model read (default: ``a``'s stages that were not set by
        hand); a bone whose stage differs from the model's is 'corrected'."""
        self.check_writable()
        reviewed = set(reviewed)
        sha = film_sha256(film)
        pixels = 1.0 - film.pixels if a.read_inverted else film.pixels  # bone bright, as the classifier read it
        when = datetime.now(timezone.utc).isoformat(timespec="seconds")
        model_stages = dict(model_stages or {})
        new, files = [], {}
        for region, s in zip(a.regions, a.stages):
            if s.bone not in reviewed:
                continue
            model = model_stages.get(s.bone, s.stage)
            name = f"{sha[:16]}_{s.bone}.png"
            crop_rel = f"images/{s.category}/{s.stage}/{name}"
            context_rel = f"context/{s.category}/{s.stage}/{name}"
            mirror = a.hand_side == "right"
            files[crop_rel] = crop_region(pixels, region, self.crop_size, mirror)
            wide = replace(region, crop_side_px=region.crop_side_px * CONTEXT_FACTOR)
            files[context_rel] = crop_region(pixels, wide, CONTEXT_PX, mirror)
            new.append(LabelEntry(
                sha, _resolved(a.source), s.bone, s.category, int(model), int(s.stage), "confirmed" if model == s.stage else "corrected",
                reader, when, crop_rel, context_rel, a.sex, a.chronological_age_years, a.bone_age_years,
                patient_key(a.film.patient_id if a.film else None), a.hand_side,
                {"center_xy": list(region.center_xy), "size_wh": list(region.size_wh), "angle_deg": region.angle_deg,
                 "crop_side_px": region.crop_side_px, "box_xyxy": list(region.box_xyxy)}, dict(a.model_versions)))
        with self._lock():
            old = self.entries()
            replaced = [e for e in old if e.film_sha256 == sha]
            for rel, img in files.items():
                ok, png = cv2.imencode(".png", (np.clip(img, 0, 1) * 255).round().astype(np.uint8))
                write_bytes(self.root / rel, png.tobytes())
            kept = [e for e in old if e.film_sha256 != sha]
            self._write_index(kept + new)
            for e in replaced:  # files of the earlier review no longer named by the index
                for rel in (e.crop, e.context):
                    if rel not in files:
                        (self.root / rel).unlink(missing_ok=True)
        return new

    def _write_index(self, entries: list[LabelEntry]) -> None:
        text = "".join(e.to_json() + "\n" for e in entries)
        write_bytes(self.root / INDEX, text.encode("utf-8"))

    def _lock(self) -> "_StoreLock":
        return _StoreLock(self.root / ".lock")


class _StoreLock:
    """An exclusive lock file (created with O_EXCL); waits up to ``timeout_s`` for another writer, then refuses."""

    def __init__(self, path: Path, timeout_s: float = 10.0):
        self.path, self.timeout_s = path, timeout_s

    def __enter__(self) -> "_StoreLock":
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                os.write(fd, str(os.getpid()).encode())
                os.close(fd)
                return self
            except FileExistsError:
                if time.monotonic() > deadline:
                    raise LabelStoreError(f"another writer holds {self.path.name}; if none is running, delete it",
                                          self.path) from None
                time.sleep(0.05)

    def __exit__(self, *exc) -> None:
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class StageAgreement(JsonMixin):
    """The model's stages against the readers' on the stored bones of one category (or all): how many, and the
    share read exactly and within one stage."""

    n: int
    exact: float
    within_one: float


def agreement_by_category(entries: Iterable[LabelEntry]) -> dict[str, StageAgreement]:
    """The clinic's own measure of the model: per category and over all stored bones."""
    groups: dict[str, list[tuple[int, int]]] = {}
    for e in entries:
        for key in (e.category, "all"):
            groups.setdefault(key, []).append((e.stage_model, e.stage_reader))
    out = {}
    for key, pairs in groups.items():
        d = np.abs(np.subtract(*np.array(pairs).T))
        out[key] = StageAgreement(len(pairs), round(float((d == 0).mean()), 4), round(float((d <= 1).mean()), 4))
    return out


def summary_lines(store: LabelStore) -> list[str]:
    """What ``bone-age labels DIR`` prints: films, bones, readers, counts per category and stage, agreement."""
    entries = store.entries()
    if not entries:
        return [f"{store.root}: no labels yet"]
    films = {e.film_sha256 for e in entries}
    readers: dict[str, int] = {}
    for e in entries:
        readers[e.reader] = readers.get(e.reader, 0) + 1
    lines = [f"{store.root}: {len(entries)} bones of {len(films)} films; readers: "
             + ", ".join(f"{r} ({n} bones)" for r, n in sorted(readers.items())),
             f"{sum(e.status == 'corrected' for e in entries)} bones corrected, "
             f"{sum(e.status == 'confirmed' for e in entries)} confirmed", "",
             f"{'category':<10} {'bones':>5}  {'exact':>6} {'within 1':>8}  stages (reader's: count)"]
    agree = agreement_by_category(entries)
    for cat in sorted({e.category for e in entries}) + ["all"]:
        a = agree[cat]
        counts: dict[int, int] = {}
        for e in entries:
            if cat in ("all", e.category):
                counts[e.stage_reader] = counts.get(e.stage_reader, 0) + 1
        stages = " ".join(f"{k}:{n}" for k, n in sorted(counts.items())) if cat != "all" else ""
        lines.append(f"{cat:<10} {a.n:>5}  {a.exact:>6.1%} {a.within_one:>8.1%}  {stages}")
    return lines


def _resolved(source: str) -> str:
    """A film's path made absolute (a source that is not a file, an array's name, as it is)."""
    return str(Path(source).resolve()) if Path(source).is_file() else source


def earlier_readings(store: LabelStore, a: Assessment, film: Film | None = None) -> list[tuple[float, float]]:
    """(chronological age, bone age) of this patient's other reviewed films in the store (matched by the key of the
    DICOM patient id; none without one, or without a chronological age)."""
    key = patient_key(a.film.patient_id if a.film else None)
    if key is None or not (store.root / INDEX).is_file():
        return []
    this = film_sha256(film) if film is not None else None
    seen: dict[str, tuple[float, float]] = {}
    for e in store.entries():
        if e.patient == key and e.film_sha256 != this and e.chronological_age_years is not None:
            seen[e.film_sha256] = (e.chronological_age_years, e.bone_age_years)
    return sorted(seen.values())
