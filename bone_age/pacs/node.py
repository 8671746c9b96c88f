"""A DICOM node for a PACS: a Storage SCP that takes hand films (CR, DX, secondary capture) and C-ECHO, queues each
film on disk, reads it off the network thread with one Engine, and sends the SR, the encapsulated PDF and the
annotated Secondary Capture back by C-STORE (or writes them to an outbox). A film not read (not a hand, no sex,
unreadable) gets an SR saying why. Only the calling AE titles allowed are accepted; a bad object is refused with a
DICOM status and the node goes on; queued films survive a restart; SIGTERM stops it cleanly.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pydicom.dataset import Dataset

from .._atomic import write_bytes
from ..errors import BoneAgeError
from ..io import read_film
from .objects import SourceStudy, failure_sr, result_datasets, write_datasets

__all__ = ["Destination", "BoneAgeNode", "STORAGE_CLASSES", "parse_destination", "queue_default"]

_logger = logging.getLogger(__name__)
STORAGE_CLASSES = {  # what the node accepts
    "1.2.840.10008.5.1.4.1.1.1": "Computed Radiography Image Storage",
    "1.2.840.10008.5.1.4.1.1.1.1": "Digital X-Ray Image Storage - For Presentation",
    "1.2.840.10008.5.1.4.1.1.1.1.1": "Digital X-Ray Image Storage - For Processing",
    "1.2.840.10008.5.1.4.1.1.7": "Secondary Capture Image Storage",
}
RESULT_CLASSES = ("1.2.840.10008.5.1.4.1.1.88.33",  # Comprehensive SR
                  "1.2.840.10008.5.1.4.1.1.104.1",  # Encapsulated PDF
                  "1.2.840.10008.5.1.4.1.1.7")  # Secondary Capture
CANNOT_UNDERSTAND, OUT_OF_RESOURCES = 0xC000, 0xA700


@dataclass(frozen=True)
class Destination:
    ae_title: str
    host: str
    port: int


def parse_destination(text: str) -> Destination:
    """``AE@HOST:PORT``."""
    ae, _, where = text.partition("@")
    host, _, port = where.rpartition(":")
    if not (ae and host and port.isdigit()):
        raise ValueError(f"--forward takes AE@HOST:PORT, got {text!r}")
    return Destination(ae, host, int(port))


class BoneAgeNode:
    """``engine``: an object with ``assess(film) -> Assessment`` (one, models loaded once). ``queue_dir``: where
    received films wait (kept across restarts). Results go to ``forward`` by C-STORE, else to ``outbox``."""

    def __init__(self, engine, ae_title: str, port: int, queue_dir: Path, host: str = "0.0.0.0",
                 allow: set[str] | None = None, forward: Destination | None = None, outbox: Path | None = None,
                 lang: str = "en", on_done: Callable[[str, str], None] | None = None):
        if forward is None and outbox is None:
            raise ValueError("give a destination for the results: --forward AE@HOST:PORT or --outbox DIR")
        self.engine, self.ae_title, self.port, self.host = engine, ae_title, port, host
        self.allow, self.forward, self.outbox, self.lang = allow, forward, outbox, lang
        self.queue_dir = Path(queue_dir)
        self.queue_dir.mkdir(parents=True, exist_ok=True)
        self.on_done = on_done
        self._queue: queue.Queue[Path | None] = queue.Queue()
        self._server = None
        self._worker: threading.Thread | None = None

    # --- network side -------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Listen (in the background) and start the worker; films left in the queue by an earlier run go first."""
        from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, evt
        from pynetdicom.sop_class import Verification

        ae = AE(ae_title=self.ae_title)
        ae.add_supported_context(Verification)
        for uid in STORAGE_CLASSES:
            ae.add_supported_context(uid, ALL_TRANSFER_SYNTAXES)
        if self.allow:
            ae.require_calling_aet = sorted(self.allow)
        for path in sorted(self.queue_dir.glob("*.dcm"), key=lambda p: p.stat().st_mtime):
            self._queue.put(path)
        self._worker = threading.Thread(target=self._work, name="bone-age-node-worker", daemon=True)
        self._worker.start()
        self._server = ae.start_server((self.host, self.port), block=False,
                                       evt_handlers=[(evt.EVT_C_STORE, self._on_store)])
        _logger.info("listening as %s on %s:%d; results to %s", self.ae_title, self.host, self.port,
                     f"{self.forward.ae_title}@{self.forward.host}:{self.forward.port}" if self.forward else self.outbox)

    def _on_store(self, event) -> int:
        try:
            ds = event.dataset
            ds.file_meta = event.file_meta
        except Exception as exc:  # an object that does not decode: refused, the node goes on
            _logger.warning("refused an object from %s: %s", event.assoc.requestor.ae_title, exc)
            return CANNOT_UNDERSTAND
        if "PixelData" not in ds or "SOPInstanceUID" not in ds:
            _logger.warning("refused an object without pixel data from %s", event.assoc.requestor.ae_title)
            return CANNOT_UNDERSTAND
        path = self.queue_dir / f"{ds.SOPInstanceUID}.dcm"
        try:
            import io

            buf = io.BytesIO()
            ds.save_as(buf, enforce_file_format=True)
            write_bytes(path, buf.getvalue())
        except Exception as exc:
            _logger.error("cannot queue %s: %s", ds.SOPInstanceUID, exc)
            return OUT_OF_RESOURCES
        self._queue.put(path)
        return 0x0000

    # --- worker side --------------------------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            path = self._queue.get()
            if path is None:
                return
            if not path.exists():
                continue
            try:
                self._process(path)
                path.unlink(missing_ok=True)
            except Exception as exc:  # kept in the queue, tried again at the next start
                _logger.error("%s: could not deliver the results (%s); kept in the queue", path.name, exc)

    def _process(self, path: Path) -> None:
        t0 = time.perf_counter()
        study = SourceStudy.of(path)
        try:
            film = read_film(path)
            a = self.engine.assess(film)
            datasets, said = result_datasets(film, a, study, self.lang), f"bone age {a.bone_age_years:.1f} y"
        except BoneAgeError as exc:
            versions = getattr(self.engine, "model_versions", {})
            datasets, said = {"sr": failure_sr(f"{type(exc).__name__}: {exc.reason}", study, versions)}, \
                f"not read ({type(exc).__name__})"
        where = self._deliver(path.stem, datasets)
        _logger.info("study %s image %s: %s; %d objects %s (%.1f s)", study.dataset.StudyInstanceUID, path.stem, said,
                     len(datasets), where, time.perf_counter() - t0)
        if self.on_done:
            self.on_done(path.stem, said)

    def _deliver(self, stem: str, datasets: dict[str, Dataset]) -> str:
        if self.forward is None:
            write_datasets(self.outbox, stem, datasets)
            return f"written to {self.outbox}"
        from pynetdicom import AE

        ae = AE(ae_title=self.ae_title)
        for uid in RESULT_CLASSES:
            ae.add_requested_context(uid)
        assoc = ae.associate(self.forward.host, self.forward.port, ae_title=self.forward.ae_title)
        if not assoc.is_established:
            raise ConnectionError(f"{self.forward.ae_title}@{self.forward.host}:{self.forward.port} refused the association")
        try:
            for kind, ds in datasets.items():
                status = assoc.send_c_store(ds)
                if not status or status.Status != 0x0000:
                    raise ConnectionError(f"C-STORE of the {kind} refused (status {getattr(status, 'Status', 'none')})")
        finally:
            assoc.release()
        return f"sent to {self.forward.ae_title}"

    def stop(self, timeout: float = 60.0) -> None:
        """Stop listening, let the worker finish the film in hand, and return; the rest stays queued on disk."""
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        if self._worker is not None:
            pending = []
            while True:  # what is still queued stays on disk for the next start
                try:
                    pending.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._queue.put(None)
            self._worker.join(timeout)
            self._worker = None
        _logger.info("stopped (%d films left in the queue)", len(list(self.queue_dir.glob("*.dcm"))))


def queue_default() -> Path:
    from ..hand.labels import labels_dir

    return labels_dir().parent / "queue"
