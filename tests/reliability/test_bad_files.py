"""Each bad input the reader met in a hostile-but-fair test is an ``UnreadableFilm`` with a true reason (issue 37:
reproducers 1-5), and a fuzz of byte mutations and header lies over JPEG, PNG, TIFF and DICOM raises nothing else."""
import os
import resource
from pathlib import Path

import numpy as np
import pytest

from bad_files import (dicom_bytes, film_pixels, jpeg_bytes, jpeg_cut, jpeg_size_lie, png_bytes, tiff_size_lie)
from bone_age import UnreadableFilm, read_film
from bone_age.io.film import MAX_SIDE_PX

REPO = Path(__file__).resolve().parents[2]


def _reason(path: Path) -> str:
    with pytest.raises(UnreadableFilm) as err:
        read_film(path)
    assert err.value.path == str(path)
    return err.value.reason


@pytest.mark.parametrize("name, data", [
    ("lie.png", png_bytes(film_pixels(), size=(100_000, 100_000))),
    ("lie.jpg", jpeg_size_lie(film_pixels(), 65_000, 65_000)),
    ("lie.tif", tiff_size_lie(film_pixels(), 60_000, 60_000))])
def test_a_header_claiming_a_huge_image_is_too_large_not_a_crash(tmp_path, name, data):
    (tmp_path / name).write_bytes(data)
    assert _reason(tmp_path / name).startswith("too large")


def test_a_small_file_of_many_pixels_is_refused_from_its_header(tmp_path):
    path = tmp_path / "big.png"
    path.write_bytes(png_bytes(np.zeros((12000, 12000), np.uint8)))  # 140 KB, 144 megapixels
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert "144 megapixels is over the cap of 40" in _reason(path)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # kB: never decoded


def test_the_pixel_cap_is_configurable_and_large_films_are_kept_smaller(tmp_path, monkeypatch):
    path = tmp_path / "wide.png"
    path.write_bytes(png_bytes(np.tile(film_pixels(), (1, 20))[:, :5000]))  # 320 x 5000
    film = read_film(path)
    assert max(film.pixels.shape) == MAX_SIDE_PX and (film.meta.width_px, film.meta.height_px) == film.pixels.shape[::-1]
    monkeypatch.setenv("BONE_AGE_MAX_PIXELS", "1e6")
    assert "over the cap of 1 megapixels" in _reason(path)


def test_films_with_missing_data_are_truncated_not_read_with_filler(tmp_path):
    hand = np.asarray(__import__("PIL.Image", fromlist=["Image"]).open(REPO / "assets/samples/IMG0000035.jpg").convert("L"))
    (tmp_path / "cut.jpg").write_bytes(jpeg_cut(hand))
    (tmp_path / "cut.png").write_bytes(png_bytes(hand, rows=hand.shape[0] // 3))
    assert _reason(tmp_path / "cut.jpg").startswith("truncated")
    assert _reason(tmp_path / "cut.png").startswith("truncated: the image data holds 33 %")
    (tmp_path / "whole.jpg").write_bytes(jpeg_bytes(hand))
    assert read_film(tmp_path / "whole.jpg").pixels.shape == hand.shape  # the whole file still reads
    black_border = hand.copy()
    black_border[-200:] = 0  # a collimated film's black edge is not filler
    (tmp_path / "border.png").write_bytes(png_bytes(black_border))
    assert read_film(tmp_path / "border.png").pixels.shape == hand.shape


def test_broken_dicom_files_say_so(tmp_path):
    good = dicom_bytes(film_pixels().astype(np.uint16) * 8, tmp_path)
    cases = {"head.dcm": good[:152], "noise.dcm": os.urandom(4096), "no_pixels.dcm": good[:good.rfind(b"\xe0\x7f\x10\x00")]}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        reason = _reason(tmp_path / name)
        assert reason, name
    assert _reason(tmp_path / "noise.dcm").startswith("not a DICOM file")
    assert _reason(tmp_path) .startswith("this is a folder")
    assert _reason(tmp_path / "absent.png") == "no such file"
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    assert _reason(empty) == "the file is empty"


def test_a_file_without_read_permission_is_said_in_words(tmp_path, monkeypatch):
    path = tmp_path / "locked.png"
    path.write_bytes(png_bytes(film_pixels()))
    path.chmod(0)
    if os.geteuid() == 0:  # root reads anything: the refusal the system gives everyone else, given to the reader
        import bone_age.io.film as film_module

        def refused(*args, **kwargs):
            raise PermissionError(13, "Permission denied", str(path))

        monkeypatch.setattr(film_module, "open", refused, raising=False)
    assert _reason(path) == "no permission to read the file"
