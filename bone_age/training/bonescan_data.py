"""The BS-80K layouts: region crops with ``<region>/<region>.txt`` labels, and whole-body scans with VOC boxes.

Region crops: ``<root>/<region>/<file>.jpg`` and ``<root>/<region>/<region>.txt`` with lines ``<file> <0|1>``
(tab or space separated; 1 = abnormal uptake). Region names end in the view, e.g. ``chestRANT``/``chestRPOST``;
the same file id in two views is the same patient.

Whole body: ``<root>/wholeBodyANT/<id>.jpg`` (256 x 1024) with ``<root>/wholeBodyANT/ant/<id>.xml`` (VOC boxes
labelled ``abnormal`` or ``normal``), and the same for ``wholeBodyPOST`` / ``post``.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from ..bonescan.regions import view_of

__all__ = ["RegionCrop", "UptakeBox", "WholeBodyScan", "read_region_crops", "read_voc", "read_wholebody",
           "WHOLE_BODY_FOLDERS"]

WHOLE_BODY_FOLDERS = {"ANT": ("wholeBodyANT", "ant"), "POST": ("wholeBodyPOST", "post")}
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass(frozen=True)
class RegionCrop:
    path: Path
    region: str  # the folder name, e.g. chestRANT
    view: str  # ANT, POST or '' when the name does not say
    file_id: str  # the patient key shared across views
    label: int  # 1 abnormal, 0 normal


@dataclass(frozen=True)
class UptakeBox:
    label: str  # 'abnormal' or 'normal'
    box_xyxy: tuple[float, float, float, float]


@dataclass(frozen=True)
class WholeBodyScan:
    path: Path
    view: str
    boxes: tuple[UptakeBox, ...]


def read_region_crops(root: Path, regions: list[str] | None = None) -> list[RegionCrop]:
    """All labelled crops under ``root`` (every folder that holds ``<name>/<name>.txt``, or only ``regions``)."""
    root = Path(root)
    folders = [root / r for r in regions] if regions else sorted(p.parent for p in root.glob("*/*.txt") if p.stem == p.parent.name)
    if not folders:
        raise FileNotFoundError(f"{root}: no region folders with a <region>/<region>.txt label file")
    crops = []
    for folder in folders:
        label_file = folder / f"{folder.name}.txt"
        if not label_file.is_file():
            raise FileNotFoundError(f"{label_file}: label file missing")
        for n, line in enumerate(label_file.read_text().splitlines(), 1):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 2 or parts[1] not in ("0", "1"):
                raise ValueError(f"{label_file}:{n}: expected '<file> <0|1>', got {line!r}")
            path = folder / parts[0]
            if not path.is_file():
                raise FileNotFoundError(f"{label_file}:{n}: {path.name} is listed but not present")
            crops.append(RegionCrop(path, folder.name, view_of(folder.name), Path(parts[0]).stem, int(parts[1])))
    return crops


def read_voc(xml_path: Path) -> tuple[UptakeBox, ...]:
    """The boxes of one Pascal VOC annotation file."""
    tree = ET.parse(xml_path)
    boxes = []
    for obj in tree.getroot().iter("object"):
        bb = obj.find("bndbox")
        name = (obj.findtext("name") or "").strip().lower()
        if bb is None or not name:
            raise ValueError(f"{xml_path}: an object without a name or bndbox")
        x1, y1, x2, y2 = (float(bb.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
        boxes.append(UptakeBox(name, (x1, y1, x2, y2)))
    return tuple(boxes)


def read_wholebody(root: Path) -> list[WholeBodyScan]:
    """Whole-body scans of both views with their boxes (a scan without an XML file has no boxes)."""
    root = Path(root)
    scans = []
    for view, (folder, sub) in WHOLE_BODY_FOLDERS.items():
        d = root / folder
        if not d.is_dir():
            continue
        for img in sorted(p for p in d.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES):
            xml = d / sub / f"{img.stem}.xml"
            scans.append(WholeBodyScan(img, view, read_voc(xml) if xml.is_file() else ()))
    if not scans:
        raise FileNotFoundError(f"{root}: no wholeBodyANT/ or wholeBodyPOST/ scans")
    return scans
