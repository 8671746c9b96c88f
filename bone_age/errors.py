"""The exception family: every failure a user can act on is a ``BoneAgeError``."""
from __future__ import annotations

from pathlib import Path

__all__ = ["BoneAgeError", "UnreadableFilm", "NotAHandFilm", "FilmTooSmall", "ModelFileMismatch", "MissingSex",
           "OutputRefused"]


class BoneAgeError(Exception):
    """Base of the family; carries the path (if any) and a reason a person can act on."""

    def __init__(self, reason: str, path: str | Path | None = None):
        self.reason = reason
        self.path = None if path is None else str(path)
        super().__init__(f"{self.path}: {reason}" if self.path else reason)


class UnreadableFilm(BoneAgeError):
    """The file is missing, empty, truncated, of an unknown format, or not a single 2-D image."""


class NotAHandFilm(BoneAgeError):
    """The image was read but the localizer found no hand-and-wrist radiograph in it."""


class FilmTooSmall(NotAHandFilm):
    """The film is too small for its bones to be read (a thumbnail or a screen grab): turned away like a film with
    no hand, with its size in the reason."""


class ModelFileMismatch(BoneAgeError):
    """A weight file is missing, does not match its model card (sha256), or does not fit the architecture."""


class MissingSex(BoneAgeError):
    """RUS-CHN points depend on sex; none was given and the file carries none."""


class OutputRefused(BoneAgeError):
    """An output cannot be written, is locked by another run, or is not this command's: refused before any film is
    read, and nothing is overwritten."""
