"""DICOM films through pydicom: Modality LUT, VOI LUT or window, MONOCHROME1 inverted once, metadata kept."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np

from ..errors import UnreadableFilm
from ..results import FilmMeta

NAME = "DICOM (pydicom)"


def can_read(path: Path, head: bytes) -> bool:
    return head[128:132] == b"DICM" or path.suffix.lower() in (".dcm", ".dicom")


def read(path: Path, max_pixels: int) -> tuple[np.ndarray, FilmMeta]:
    """The film of a DICOM file; any failure of the file (a broken header, an unknown VR, short pixel data) is an
    ``UnreadableFilm`` saying so."""
    try:
        return _read(path, max_pixels)
    except UnreadableFilm:
        raise
    except Exception as exc:  # pydicom raises many kinds for a broken file: NotImplementedError, struct.error, ...
        raise UnreadableFilm(f"broken DICOM file ({type(exc).__name__}: {exc})", path) from None


def _read(path: Path, max_pixels: int) -> tuple[np.ndarray, FilmMeta]:
    import pydicom
    from pydicom.errors import InvalidDicomError
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    with open(path, "rb") as f:
        has_preamble = f.read(132)[128:132] == b"DICM"
    try:
        ds = pydicom.dcmread(path, force=not has_preamble)
    except (InvalidDicomError, EOFError, OSError, ValueError, KeyError) as exc:
        raise UnreadableFilm(f"not a readable DICOM file ({exc})", path) from None
    if "PixelData" not in ds:
        if not has_preamble and not any(tag in ds for tag in (0x00080016, 0x00080060, 0x00280010, 0x00100020)):
            raise UnreadableFilm("not a DICOM file (no DICM preamble and no DICOM data elements)", path)
        raise UnreadableFilm("DICOM file has no pixel data", path)
    rows, cols = int(ds.get("Rows", 0) or 0), int(ds.get("Columns", 0) or 0)
    if rows * cols > max_pixels:
        from .raster import too_large

        raise too_large(path, cols, rows, max_pixels)
    if int(ds.get("NumberOfFrames", 1) or 1) > 1:
        raise UnreadableFilm(f"multi-frame DICOM ({ds.NumberOfFrames} frames) is not a single film", path)
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2"))
    if photometric not in ("MONOCHROME1", "MONOCHROME2"):
        raise UnreadableFilm(f"photometric interpretation {photometric} is not a grayscale radiograph", path)
    try:
        stored = ds.pixel_array
    except Exception as exc:  # pydicom raises many types for broken or unsupported pixel data
        syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
        name = getattr(syntax, "name", syntax)
        raise UnreadableFilm(f"cannot decode pixel data (transfer syntax {name}: {exc})", path) from None
    if stored.ndim != 2:
        raise UnreadableFilm(f"expected one 2-D frame, got pixel array of shape {stored.shape}", path)

    modality = apply_modality_lut(stored, ds)  # stays integer when there is no rescale, as a VOI LUT indexes it
    values = modality.astype(np.float64)
    if "VOILUTSequence" in ds:
        out = apply_voi_lut(modality, ds, prefer_lut=True).astype(np.float64)
        bits = int(ds.VOILUTSequence[0].LUTDescriptor[2]) or 16
        unit = np.clip(out / (2**bits - 1), 0.0, 1.0)
    elif "WindowCenter" in ds and "WindowWidth" in ds:
        unit = _window(values, _first(ds.WindowCenter), _first(ds.WindowWidth), str(ds.get("VOILUTFunction", "LINEAR")))
    else:
        lo, hi = float(values.min()), float(values.max())
        unit = (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)

    # MONOCHROME1 and a Presentation LUT Shape of INVERSE state the same inversion: apply it once.
    inverted = photometric == "MONOCHROME1" or str(ds.get("PresentationLUTShape", "")).upper() == "INVERSE"
    if inverted:
        unit = 1.0 - unit
    meta = FilmMeta(
        source=str(path), format="DICOM", original_dtype=str(stored.dtype), height_px=int(stored.shape[0]),
        width_px=int(stored.shape[1]), photometric_interpretation=photometric, pixel_spacing_mm=_spacing(ds),
        patient_sex=_sex(ds), patient_birth_date=_date(ds.get("PatientBirthDate")),
        patient_age_years=_age_years(ds), study_date=_date(ds.get("StudyDate")),
        laterality=str(ds.get("ImageLaterality") or ds.get("Laterality") or "") or None,
        patient_id=str(ds.get("PatientID", "")) or None, patient_name=str(ds.get("PatientName", "")) or None,
        inverted=inverted,
    )
    return unit.astype(np.float32), meta


def _first(value) -> float:
    """A window value may be multi-valued (several windows): take the first."""
    return float(value[0]) if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue" else float(value)


def _window(values: np.ndarray, center: float, width: float, function: str) -> np.ndarray:
    """DICOM PS3.3 C.11.2.1.2 windowing, output scaled to [0, 1]."""
    function = function.upper()
    if function == "SIGMOID":
        return 1.0 / (1.0 + np.exp(-4.0 * (values - center) / width))
    if function == "LINEAR_EXACT":
        return np.clip((values - center) / width + 0.5, 0.0, 1.0)
    width = max(width, 1.0)
    return np.clip((values - (center - 0.5)) / (width - 1.0) + 0.5, 0.0, 1.0)


def _spacing(ds) -> float | None:
    for key in ("PixelSpacing", "ImagerPixelSpacing"):
        if key in ds and ds.get(key):
            return float(ds.get(key)[0])
    return None


def _sex(ds) -> str | None:
    return {"F": "female", "M": "male"}.get(str(ds.get("PatientSex", "")).strip().upper())


def _date(value) -> str | None:
    text = str(value or "").strip()
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:])).isoformat()
    except ValueError:
        return None


def _age_years(ds) -> float | None:
    """Age at the study: from PatientAge ('012Y', '030M', '020W', '100D') or from birth and study dates."""
    text = str(ds.get("PatientAge", "")).strip().upper()
    if len(text) == 4 and text[:3].isdigit() and text[3] in "YMWD":
        return round(int(text[:3]) / {"Y": 1, "M": 12, "W": 52.1775, "D": 365.25}[text[3]], 3)
    birth, study = _date(ds.get("PatientBirthDate")), _date(ds.get("StudyDate"))
    if birth and study:
        return round((date.fromisoformat(study) - date.fromisoformat(birth)).days / 365.25, 3)
    return None
