"""Long work off the GUI thread: a callable run in a QThread, its result or error sent back as a signal."""
from __future__ import annotations

from typing import Callable

from PyQt6.QtCore import QObject, pyqtSignal

from bone_age import BoneAgeError

__all__ = ["Worker"]


class Worker(QObject):
    """Runs one callable off the GUI thread; the result or the error comes back as a signal."""

    done = pyqtSignal(object)
    failed = pyqtSignal(str)

    def __init__(self, fn: Callable[[], object]):
        super().__init__()
        self.fn = fn

    def run(self) -> None:
        try:
            self.done.emit(self.fn())
        except BoneAgeError as exc:
            self.failed.emit(f"{type(exc).__name__}: {exc.reason}")
        except Exception as exc:  # shown in the status bar rather than lost in a thread
            self.failed.emit(f"{type(exc).__name__}: {exc}")
