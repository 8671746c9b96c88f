"""The DICOM results pass the standard's own checker (dciodvfy, dicom3tools), read back with pydicom and dcmtk's
dsrdump, keep the study and the patient, and reference the film they read."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest

pytest.importorskip("highdicom", reason="the DICOM results need highdicom (the pacs extra)")

from bone_age.pacs.objects import PatientFields, SourceStudy, failure_sr, result_datasets, write_datasets  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
from dicom_factory import make_dicom  # noqa: E402
from test_report import fake_assessment  # noqa: E402


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    from bone_age.io import read_film

    root = tmp_path_factory.mktemp("dicom")
    px = (np.random.default_rng(0).random((400, 360)) * 4000).astype(np.uint16)
    src = make_dicom(root / "film.dcm", px, PatientSex="F", PatientID="P7", PatientName="张^小明",
                     SpecificCharacterSet="ISO_IR 192", StudyInstanceUID=pydicom.uid.generate_uid(),
                     SeriesInstanceUID=pydicom.uid.generate_uid(), AccessionNumber="A7", StudyDate="20240102")
    film = read_film(src)
    a = fake_assessment()
    study = SourceStudy.of(src)
    paths = write_datasets(root, "film", result_datasets(film, a, study))
    paths += write_datasets(root, "refused", {"sr": failure_sr("NotAHandFilm: a foot", study, a.model_versions)})
    return src, paths


def test_results_keep_the_study_and_reference_the_film(written):
    src, paths = written
    source = pydicom.dcmread(src)
    for p in paths:
        ds = pydicom.dcmread(p)
        assert ds.StudyInstanceUID == source.StudyInstanceUID and ds.PatientID == "P7" and ds.AccessionNumber == "A7"
        assert ds.SeriesInstanceUID != source.SeriesInstanceUID and ds.SOPInstanceUID != source.SOPInstanceUID
        assert str(ds.PatientName) == "张^小明"
    sr = pydicom.dcmread(paths[0])
    assert sr.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0].ReferencedSOPSequence[0] \
        .ReferencedSOPInstanceUID == source.SOPInstanceUID


@pytest.mark.skipif(not shutil.which("dciodvfy"), reason="dciodvfy (Debian dicom3tools) is not installed")
def test_every_object_passes_dciodvfy(written):
    _, paths = written
    for p in paths:
        out = subprocess.run(["dciodvfy", str(p)], capture_output=True)
        errors = [line for line in out.stderr.decode("utf-8", "replace").splitlines() if line.startswith("Error")]
        assert errors == [], f"{p.name}: {errors}"


@pytest.mark.skipif(not shutil.which("dsrdump"), reason="dsrdump (Debian dcmtk) is not installed")
def test_the_sr_reads_back_with_dcmtk(written):
    _, paths = written
    sr = next(p for p in paths if p.name == "film_sr.dcm")
    text = subprocess.run(["dsrdump", str(sr)], capture_output=True, text=True, check=True).stdout
    assert "Comprehensive SR Document" in text and '"Bone age (RUS-CHN)"' in text and '"Radius"' in text
    refused = subprocess.run(["dsrdump", str(next(p for p in paths if p.name == "refused_sr.dcm"))],
                             capture_output=True, text=True, check=True).stdout
    assert '"Film not read")="NotAHandFilm: a foot"' in refused


def test_a_film_that_is_not_dicom_gets_a_new_study_with_the_fields_given(tmp_path):
    from bone_age.io.film import film_from_array

    film = film_from_array(np.random.default_rng(1).random((300, 280)).astype(np.float32), "synthetic.png")
    a = fake_assessment()
    study = SourceStudy.of(None, PatientFields(patient_id="X9", patient_name="Doe^Jane"))
    paths = write_datasets(tmp_path, "x", result_datasets(film, a, study))
    uids = {pydicom.dcmread(p).StudyInstanceUID for p in paths}
    assert len(uids) == 1 and all(pydicom.dcmread(p).PatientID == "X9" for p in paths)


def test_a_side_modules_findings_become_an_sr_and_a_secondary_capture(tmp_path, written):
    from bone_age.fracture.results import FractureInstance, FractureResult
    from bone_age.io import read_film

    src, _ = written
    film = read_film(src)
    r = FractureResult(str(src), 0.8, True, 0.4, (FractureInstance(0.8, (10, 20, 80, 90), ((10, 20), (80, 20), (80, 90))),),
                       {"fracture.v4": "b" * 64})
    from bone_age.pacs.objects import module_datasets

    paths = write_datasets(tmp_path, "frac", module_datasets(film, r, SourceStudy.of(src), "Fracture"))
    sr, sc = (pydicom.dcmread(p) for p in paths)
    assert sr.StudyInstanceUID == sc.StudyInstanceUID == pydicom.dcmread(src).StudyInstanceUID
    texts = [i.TextValue for i in sr.ContentSequence if "TextValue" in i]
    assert any(t.startswith("0.80 (fracture suspected") for t in texts) and sc.Rows > 0
    if shutil.which("dciodvfy"):
        for p in paths:
            out = subprocess.run(["dciodvfy", str(p)], capture_output=True)
            assert not [x for x in out.stderr.decode("utf-8", "replace").splitlines() if x.startswith("Error")], p.name
