"""The node against a real PACS: Orthanc sends it a hand film and gets back, in the same study, an SR whose bone age
is the library's, the encapsulated PDF and the annotated secondary capture; a film that is not a hand, and one
without sex, get an SR that says why."""
from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from bone_age.registry import list_models

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
from orthanc_server import pacs  # noqa: E402,F401,F811  (the fixture: Orthanc and the node, started and stopped here)
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not list_models("stages"), reason="no shipped models")]


def _dicom_film(path: Path, sample: str, **tags) -> Path:
    from dicom_factory import make_dicom

    px = np.asarray(Image.open(REPO / "assets" / "samples" / f"{sample}.jpg").convert("L")).astype(np.uint16) * 16
    return make_dicom(path, px, StudyInstanceUID=pydicom.uid.generate_uid(), SeriesInstanceUID=pydicom.uid.generate_uid(),
                      PatientID=tags.pop("PatientID", "P-1"), PatientName="Test^Child", StudyDate="20140601",
                      AccessionNumber="ACC1", **tags)


def _send_and_collect(server, path: Path, expected: int, seconds: float = 180) -> list[pydicom.Dataset]:
    """Upload ``path`` to Orthanc, have Orthanc send it to the node, and wait for ``expected`` results in its study."""
    up = server.post("/instances", path.read_bytes())
    server.post("/modalities/boneage/store", up["ID"].encode(), "text/plain")
    study = server.get(f"/instances/{up['ID']}/study")["ID"]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ids = [i["ID"] for i in server.get(f"/studies/{study}/instances")]
        if len(ids) >= expected + 1:
            break
        time.sleep(1)
    results = [pydicom.dcmread(io.BytesIO(server.get(f"/instances/{i}/file"))) for i in ids if i != up["ID"]]
    assert len(results) == expected, f"{len(results)} results after {seconds} s"
    return results


def _num(sr: pydicom.Dataset, meaning: str) -> float:
    for item in sr.ContentSequence:
        if item.ConceptNameCodeSequence[0].CodeMeaning == meaning:
            return float(item.MeasuredValueSequence[0].NumericValue)
    raise KeyError(meaning)


def _text(sr: pydicom.Dataset, meaning: str) -> str:
    return next(item.TextValue for item in sr.ContentSequence if item.ConceptNameCodeSequence[0].CodeMeaning == meaning)


def test_a_hand_film_sent_by_the_pacs_comes_back_as_sr_pdf_and_sc_in_its_study(pacs, tmp_path):
    import bone_age

    server, node, root = pacs
    film = _dicom_film(tmp_path / "hand.dcm", "IMG0000111", PatientSex="M", PatientBirthDate="20100101")
    results = _send_and_collect(server, film, 3)
    source = pydicom.dcmread(film)
    by_class = {r.SOPClassUID: r for r in results}
    sr = by_class["1.2.840.10008.5.1.4.1.1.88.33"]
    pdf = by_class["1.2.840.10008.5.1.4.1.1.104.1"]
    sc = by_class["1.2.840.10008.5.1.4.1.1.7"]
    for r in results:
        assert r.StudyInstanceUID == source.StudyInstanceUID and r.PatientID == "P-1" and r.AccessionNumber == "ACC1"
        assert r.SeriesInstanceUID != source.SeriesInstanceUID
    expected = bone_age.assess(film, device="cpu")
    assert _num(sr, "Bone age (RUS-CHN)") == pytest.approx(expected.bone_age_years, abs=0.01)
    assert _num(sr, "RUS-CHN total maturity score") == expected.total_score
    assert _num(sr, "Chronological age") == pytest.approx(expected.chronological_age_years, abs=0.01)
    assert pdf.EncapsulatedDocument[:5] == b"%PDF-" and "NOT FOR DIAGNOSIS" in sc.ImageComments
    assert sc.SourceImageSequence[0].ReferencedSOPInstanceUID == source.SOPInstanceUID
    assert "bone age" in (root / "node.log").read_text()


def test_a_foot_and_a_film_without_sex_get_an_sr_that_says_why(pacs, tmp_path):
    server, _, _ = pacs
    foot = _dicom_film(tmp_path / "foot.dcm", "IMG0000037", PatientSex="F", PatientID="P-2")
    no_sex = _dicom_film(tmp_path / "nosex.dcm", "IMG0000111", PatientID="P-3")
    for path, why in ((foot, "NotAHandFilm"), (no_sex, "MissingSex")):
        sr, = _send_and_collect(server, path, 1)
        assert sr.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.33" and _text(sr, "Film not read").startswith(why)


def test_a_caller_not_allowed_is_refused_and_a_bad_object_leaves_the_node_serving(pacs, tmp_path):
    from pynetdicom import AE
    from pynetdicom.sop_class import Verification

    server, node, _ = pacs
    stranger = AE(ae_title="STRANGER")
    stranger.add_requested_context(Verification)
    assoc = stranger.associate("127.0.0.1", node.port, ae_title="BONEAGE")
    assert not assoc.is_established  # only ORTHANC may call
    friend = AE(ae_title="ORTHANC")
    friend.add_requested_context(Verification)
    friend.add_requested_context("1.2.840.10008.5.1.4.1.1.7")
    assoc = friend.associate("127.0.0.1", node.port, ae_title="BONEAGE")
    assert assoc.is_established
    assert assoc.send_c_echo().Status == 0
    empty = pydicom.Dataset()  # no pixel data: refused with a status, not a crash
    empty.SOPClassUID, empty.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.7", pydicom.uid.generate_uid()
    empty.file_meta = pydicom.dataset.FileMetaDataset()
    empty.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    status = assoc.send_c_store(empty)
    assert status.Status == 0xC000
    assoc.release()
    assert node.proc.poll() is None
