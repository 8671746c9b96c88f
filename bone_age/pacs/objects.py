"""Results as DICOM, in the study of the film they read: a Comprehensive SR (the bone age, each bone's stage and
points, the Greulich-Pyle estimate, the ages, warnings, the models as algorithm identification), the PDF report
encapsulated, and the annotated film as a Secondary Capture marked not for diagnosis. A film not read (not a hand,
no sex) gets an SR that says why.

The study, patient and accession come from the source DICOM; for a film that is not DICOM they come from the
``patient`` fields given (``PatientFields``), in a new study. Every object gets its own series and SOP instance UID
and references the source image.
"""
from __future__ import annotations

import copy
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sr.coding import Code
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from .. import __version__
from ..hand.report import annotate, write_pdf
from ..hand.results import Assessment
from ..io import Film

__all__ = ["PatientFields", "SourceStudy", "sr_dataset", "failure_sr", "pdf_dataset", "sc_dataset", "result_datasets",
           "module_datasets", "write_datasets",
           "MANUFACTURER", "SCHEME"]

MANUFACTURER = "bone-age (open source)"
SCHEME = "99BONEAGE"  # a private coding scheme for the concepts DICOM has no code for
ENCAPSULATED_PDF = "1.2.840.10008.5.1.4.1.1.104.1"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
SERIES = {"sr": 9001, "pdf": 9002, "sc": 9003}  # series numbers of the results, apart from the film's


def _code(value: str, meaning: str) -> Code:
    return Code(value, SCHEME, meaning)


CONCEPTS = {"report": _code("BA001", "Bone age report (RUS-CHN)"), "bone_age": _code("BA002", "Bone age (RUS-CHN)"),
            "total": _code("BA003", "RUS-CHN total maturity score"), "gp": _code("BA004", "Greulich-Pyle bone age estimate"),
            "ca": _code("BA005", "Chronological age"), "diff": _code("BA006", "Bone age minus chronological age"),
            "bone": _code("BA007", "Bone"), "stage": _code("BA008", "Maturity stage"), "points": _code("BA009", "Points"),
            "set_by_reader": _code("BA010", "Stage set by reader"), "warning": _code("BA011", "Warning"),
            "not_read": _code("BA012", "Film not read"), "interpretation": _code("BA013", "Bone age against chronological age"),
            "range": _code("BA014", "Bone age range flag")}
YEARS, MONTHS, SCORE = Code("a", "UCUM", "year"), Code("mo", "UCUM", "month"), Code("{score}", "UCUM", "score")
ALGORITHM_NAME, ALGORITHM_VERSION = Code("111001", "DCM", "Algorithm Name"), Code("111003", "DCM", "Algorithm Version")


@dataclass(frozen=True)
class PatientFields:
    """Patient and study fields for a film that is not DICOM (or to fill what its DICOM lacks)."""

    patient_id: str = ""
    patient_name: str = ""
    patient_birth_date: str = ""  # YYYYMMDD
    patient_sex: str = ""  # F, M, O or empty
    accession_number: str = ""
    study_instance_uid: str = ""


@dataclass(frozen=True)
class SourceStudy:
    """What the results copy from the film's DICOM: study, patient and the image they reference."""

    dataset: Dataset  # the patient/study modules and the reference, not the pixels

    @classmethod
    def of(cls, path: Path | None, fields: PatientFields = PatientFields()) -> "SourceStudy":
        ds = Dataset()
        if path is not None and _is_dicom(path):
            import pydicom

            src = pydicom.dcmread(path, stop_before_pixels=True)
            for kw in ("PatientID", "PatientName", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate",
                       "StudyTime", "StudyID", "AccessionNumber", "ReferringPhysicianName", "SOPClassUID",
                       "SOPInstanceUID", "SeriesInstanceUID"):
                if kw in src:
                    setattr(ds, kw, src.data_element(kw).value)
        for kw, value in (("PatientID", fields.patient_id), ("PatientName", fields.patient_name),
                          ("PatientBirthDate", fields.patient_birth_date), ("PatientSex", fields.patient_sex),
                          ("AccessionNumber", fields.accession_number), ("StudyInstanceUID", fields.study_instance_uid)):
            if value and not ds.get(kw):
                setattr(ds, kw, value)
        if not ds.get("StudyInstanceUID"):
            ds.StudyInstanceUID = generate_uid()
        now = dt.datetime.now()
        for kw, value in (("PatientID", ""), ("PatientName", ""), ("PatientBirthDate", ""), ("PatientSex", ""),
                          ("StudyDate", now.strftime("%Y%m%d")), ("StudyTime", now.strftime("%H%M%S")),
                          ("StudyID", ""), ("AccessionNumber", ""), ("ReferringPhysicianName", "")):
            if kw not in ds:
                setattr(ds, kw, value)
        return cls(ds)

    @property
    def evidence(self) -> list[Dataset]:
        """The source image as SR evidence (when it is a DICOM instance)."""
        if "SOPInstanceUID" not in self.dataset or "SeriesInstanceUID" not in self.dataset:
            return []
        return [self.dataset]


def _is_dicom(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(132)[128:132] == b"DICM"


def _container(items: list) -> "object":
    from highdicom.sr import ContainerContentItem

    root = ContainerContentItem(name=CONCEPTS["report"], template_id=None)
    root.ContentSequence = items
    return root


def _algorithm_items(model_versions: dict[str, str]) -> list:
    from highdicom.sr import TextContentItem

    items = [TextContentItem(ALGORITHM_NAME, "bone-age RUS-CHN", relationship_type="HAS ACQ CONTEXT"),
             TextContentItem(ALGORITHM_VERSION, __version__, relationship_type="HAS ACQ CONTEXT")]
    items += [TextContentItem(ALGORITHM_VERSION, f"{name} sha256 {sha}", relationship_type="HAS ACQ CONTEXT")
              for name, sha in model_versions.items()]
    return items


def _sr(study: SourceStudy, content, description: str):
    from highdicom.sr import ComprehensiveSR

    source = study.dataset
    if not study.evidence:  # highdicom takes the patient and study from an evidence item: one naming nothing real
        source = copy.deepcopy(source)
        source.SOPClassUID, source.SOPInstanceUID, source.SeriesInstanceUID = SECONDARY_CAPTURE, generate_uid(), generate_uid()
    sr = ComprehensiveSR(evidence=[source], content=content, series_instance_uid=generate_uid(),
                         series_number=SERIES["sr"], sop_instance_uid=generate_uid(), instance_number=1,
                         manufacturer=MANUFACTURER, is_complete=True, is_final=False, is_verified=False,
                         record_evidence=bool(study.evidence))  # patient and study from the source
    sr.SeriesDescription = description
    sr.SpecificCharacterSet = "ISO_IR 192"  # UTF-8: names and text beyond ASCII (±, Chinese names)
    return sr


def sr_dataset(a: Assessment, study: SourceStudy):
    """The Comprehensive SR of an assessment."""
    from highdicom.sr import ContainerContentItem, NumContentItem, TextContentItem

    items = [NumContentItem(CONCEPTS["bone_age"], round(a.bone_age_years, 2), YEARS, relationship_type="CONTAINS"),
             TextContentItem(CONCEPTS["range"], a.range_flag, relationship_type="CONTAINS"),
             NumContentItem(CONCEPTS["total"], a.total_score, SCORE, relationship_type="CONTAINS")]
    if a.gp_bone_age_years is not None:
        items.append(NumContentItem(CONCEPTS["gp"], round(a.gp_bone_age_years, 2), YEARS, relationship_type="CONTAINS"))
    if a.chronological_age_years is not None:
        items.append(NumContentItem(CONCEPTS["ca"], round(a.chronological_age_years, 2), YEARS, relationship_type="CONTAINS"))
        items.append(NumContentItem(CONCEPTS["diff"], round(a.bone_age_minus_chronological_years, 2), YEARS,
                                    relationship_type="CONTAINS"))
    if a.interpretation is not None:
        items.append(TextContentItem(CONCEPTS["interpretation"], a.interpretation.sentence(), relationship_type="CONTAINS"))
    for s in a.stages:
        bone = ContainerContentItem(CONCEPTS["bone"], relationship_type="CONTAINS")
        bone.ContentSequence = [
            TextContentItem(CONCEPTS["bone"], s.bone, relationship_type="CONTAINS"),
            NumContentItem(CONCEPTS["stage"], s.stage, Code("1", "UCUM", "no units"), relationship_type="CONTAINS"),
            NumContentItem(CONCEPTS["points"], s.points, SCORE, relationship_type="CONTAINS"),
            TextContentItem(CONCEPTS["set_by_reader"], "yes" if s.overridden else "no", relationship_type="CONTAINS")]
        items.append(bone)
    items += [TextContentItem(CONCEPTS["warning"], w[:1024], relationship_type="CONTAINS") for w in a.warnings]
    return _sr(study, _container(_algorithm_items(a.model_versions) + items), "RUS-CHN bone age (research use)")


def failure_sr(reason: str, study: SourceStudy, model_versions: dict[str, str]):
    """An SR saying why the film was not read (not a hand film, no sex, unreadable)."""
    from highdicom.sr import TextContentItem

    items = [TextContentItem(CONCEPTS["not_read"], reason[:1024], relationship_type="CONTAINS")]
    return _sr(study, _container(_algorithm_items(model_versions) + items), "RUS-CHN bone age: film not read")


def _instance(study: SourceStudy, sop_class: str, series: int, description: str) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    for elem in study.dataset:
        if elem.keyword not in ("SOPClassUID", "SOPInstanceUID", "SeriesInstanceUID"):
            ds.add(elem)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, meta.MediaStorageSOPInstanceUID
    ds.SeriesInstanceUID, ds.SeriesNumber, ds.InstanceNumber = generate_uid(), series, 1
    ds.SeriesDescription = description
    ds.Manufacturer = MANUFACTURER
    now = dt.datetime.now()
    ds.ContentDate, ds.ContentTime = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    ds.InstanceCreationDate, ds.InstanceCreationTime = ds.ContentDate, ds.ContentTime
    if study.evidence:
        ref = Dataset()
        ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = study.dataset.SOPClassUID, study.dataset.SOPInstanceUID
        ds.SourceImageSequence = [ref]
    return ds


def pdf_dataset(film: Film, a: Assessment, study: SourceStudy, lang: str = "en") -> Dataset:
    """The PDF report as Encapsulated PDF Storage."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        pdf = write_pdf(Path(tmp) / "report.pdf", film, a, lang).read_bytes()
    ds = _instance(study, ENCAPSULATED_PDF, SERIES["pdf"], "RUS-CHN bone age report (PDF, research use)")
    ds.Modality = "DOC"
    ds.ConversionType = "WSD"
    ds.BurnedInAnnotation = "YES"
    ds.AcquisitionDateTime = ""
    ds.DocumentTitle = "RUS-CHN bone age report"
    ds.ConceptNameCodeSequence = []
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocument = pdf + (b"\0" if len(pdf) % 2 else b"")
    ds.EncapsulatedDocumentLength = len(pdf)
    return ds


def sc_dataset(film: Film, a: Assessment, study: SourceStudy) -> Dataset:
    """The annotated film (regions, bones and stages burnt in, 'NOT FOR DIAGNOSIS') as Secondary Capture Image
    Storage, RGB."""
    return _sc(annotate(film.pixels, a, max_side=1600), study, "RUS-CHN regions and stages (NOT FOR DIAGNOSIS)",
               {"left": "L", "right": "R"}.get(a.hand_side, ""))


def _sc(img: np.ndarray, study: SourceStudy, description: str, laterality: str) -> Dataset:
    """A BGR image, marked not for diagnosis, as a Secondary Capture in the study."""
    h = img.shape[0]
    cv2.putText(img, "NOT FOR DIAGNOSIS - research use - bone-age", (10, h - 12), cv2.FONT_HERSHEY_SIMPLEX,
                max(0.5, h / 1600), (0, 255, 255), 2, cv2.LINE_AA)
    rgb = np.ascontiguousarray(img[..., ::-1])
    ds = _instance(study, SECONDARY_CAPTURE, SERIES["sc"], description)
    ds.Modality, ds.ConversionType, ds.PatientOrientation = "OT", "WSD", ""
    ds.Laterality = laterality
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.BurnedInAnnotation = "YES"
    ds.ImageComments = "NOT FOR DIAGNOSIS: research use; findings need a qualified reader's confirmation"
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.Rows, ds.Columns = rgb.shape[:2]
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = rgb.tobytes()
    return ds


def module_datasets(film: Film, result, study: SourceStudy, title: str) -> dict[str, Dataset]:
    """A side module's findings (``results.ModuleResult``: fracture, clavicle, bone scan) as an SR of its summary
    lines and a Secondary Capture of the film with its shapes drawn, marked not for diagnosis."""
    from highdicom.sr import TextContentItem

    lines = [TextContentItem(_code("BA020", label or "Note"), text[:1024], relationship_type="CONTAINS")
             for label, text in result.summary_lines()]
    versions = getattr(result, "model_versions", {}) or {}
    sr = _sr(study, _container(_algorithm_items(versions) + lines), f"{title} findings (research use)")
    sr.ContentSequence[0].ConceptNameCodeSequence[0].CodeMeaning = f"{title} findings"
    s = min(1.0, 1600 / max(film.pixels.shape))
    img = cv2.cvtColor((cv2.resize(film.pixels, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) * 255).astype(np.uint8),
                       cv2.COLOR_GRAY2BGR)
    for shape in result.shapes():
        color = tuple(int(c) for c in shape.color[::-1])
        pts = np.round(np.array(shape.points, dtype=np.float64) * s).astype(np.int32)
        if shape.kind == "rect":
            cv2.rectangle(img, tuple(pts[:2]), tuple(pts[2:]), color, 2)
        else:
            cv2.polylines(img, [pts.reshape(-1, 2)], True, color, 2)
    sc = _sc(img, study, f"{title} findings (NOT FOR DIAGNOSIS)", "")
    return {"sr": sr, "sc": sc}


def result_datasets(film: Film, a: Assessment, study: SourceStudy, lang: str = "en") -> dict[str, Dataset]:
    """The SR, the encapsulated PDF and the Secondary Capture of one assessment."""
    return {"sr": sr_dataset(a, study), "pdf": pdf_dataset(film, a, study, lang), "sc": sc_dataset(film, a, study)}


def write_datasets(folder: Path, stem: str, datasets: dict[str, Dataset]) -> list[Path]:
    """Each dataset as ``<stem>_<kind>.dcm`` in ``folder`` (written atomically)."""
    from .._atomic import write_bytes

    out = []
    for kind, ds in datasets.items():
        buf = io.BytesIO()
        ds.save_as(buf, enforce_file_format=True)
        out.append(write_bytes(Path(folder) / f"{stem}_{kind}.dcm", buf.getvalue()))
    return out
