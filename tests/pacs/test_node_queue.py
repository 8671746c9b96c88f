"""The node keeps its queue on disk: films received before a stop are read after the restart, and a film whose results
cannot be delivered stays queued (pynetdicom in-process, a stand-in engine: no models needed)."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pydicom
import pytest

pytest.importorskip("pynetdicom", reason="the node needs pynetdicom (the pacs extra)")
pytest.importorskip("highdicom", reason="the node's results need highdicom (the pacs extra)")

from bone_age.pacs.node import BoneAgeNode, parse_destination  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
from ports import free_port  # noqa: E402
from dicom_factory import make_dicom  # noqa: E402
from test_report import fake_assessment  # noqa: E402


class StandIn:
    model_versions = {"stand-in": "0" * 64}

    def assess(self, film):
        return fake_assessment()


def _film(path: Path) -> Path:
    px = (np.random.default_rng(0).random((300, 260)) * 4000).astype(np.uint16)
    return make_dicom(path, px, PatientSex="F", StudyInstanceUID=pydicom.uid.generate_uid(),
                      SeriesInstanceUID=pydicom.uid.generate_uid())


def _wait(predicate, seconds=30):
    end = time.monotonic() + seconds
    while not predicate() and time.monotonic() < end:
        time.sleep(0.1)
    return predicate()


def test_queued_films_are_read_after_a_restart(tmp_path):
    queue, outbox = tmp_path / "queue", tmp_path / "outbox"
    queue.mkdir()
    film = _film(queue / "1.2.3.dcm")  # left by a node that stopped before reading it
    node = BoneAgeNode(StandIn(), "BONEAGE", free_port(), queue, host="127.0.0.1", outbox=outbox)
    node.start()
    try:
        assert _wait(lambda: len(list(outbox.glob("*.dcm"))) == 3)
        assert not film.exists()  # delivered: no longer queued
    finally:
        node.stop()


def test_undeliverable_results_stay_queued(tmp_path):
    from pynetdicom import AE

    queue = tmp_path / "queue"
    port = free_port()
    node = BoneAgeNode(StandIn(), "BONEAGE", port, queue, host="127.0.0.1",
                       forward=parse_destination(f"NOBODY@127.0.0.1:{free_port()}"))  # nothing listens there
    node.start()
    try:
        ds = pydicom.dcmread(_film(tmp_path / "f.dcm"))
        ae = AE(ae_title="PACS")
        ae.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
        assoc = ae.associate("127.0.0.1", port, ae_title="BONEAGE")
        assert assoc.send_c_store(ds).Status == 0
        assoc.release()
        assert _wait(lambda: (queue / f"{ds.SOPInstanceUID}.dcm").exists())
        time.sleep(2)  # the delivery was tried and failed
        assert (queue / f"{ds.SOPInstanceUID}.dcm").exists()
    finally:
        node.stop()
