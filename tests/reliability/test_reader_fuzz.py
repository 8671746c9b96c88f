"""Fuzz: byte mutations, cuts and header lies over JPEG, PNG, TIFF and DICOM seeds raise nothing but
``UnreadableFilm``, and whatever reads is a finite film in [0, 1] (bounded examples; the long run is
``benchmarks/reader_fuzz.py``)."""
from pathlib import Path

import numpy as np
import pytest

from bad_files import dicom_bytes, film_pixels, jpeg_bytes, png_bytes, tiff_bytes
from bone_age import UnreadableFilm, read_film

# --- fuzz: byte mutations and header lies -------------------------------------------------------------------------
hypothesis = pytest.importorskip("hypothesis", reason="the fuzz tests need hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SEEDS = {}


def _seed(kind: str, tmp: Path) -> bytes:
    if kind not in SEEDS:
        px = film_pixels(1, (96, 80))
        SEEDS[kind] = {"jpg": lambda: jpeg_bytes(px), "png": lambda: png_bytes(px), "tif": lambda: tiff_bytes(px),
                       "dcm": lambda: dicom_bytes(px.astype(np.uint16) * 16, tmp)}[kind]()
    return SEEDS[kind]


mutation = st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=8)


@pytest.mark.parametrize("kind", ["jpg", "png", "tif", "dcm"])
@settings(max_examples=60, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=mutation, cut=st.one_of(st.none(), st.floats(0, 1)))
def test_mutated_files_raise_only_unreadable_film(tmp_path, kind, edits, cut):
    data = bytearray(_seed(kind, tmp_path))
    for where, value in edits:
        data[int(where * len(data))] = value
    if cut is not None:
        data = data[:max(1, int(cut * len(data)))]
    path = tmp_path / f"mutant.{kind}"
    path.write_bytes(bytes(data))
    try:
        film = read_film(path)
    except UnreadableFilm as exc:
        assert exc.reason and exc.path == str(path)
        return
    assert film.pixels.dtype == np.float32 and film.pixels.ndim == 2 and np.isfinite(film.pixels).all()
    assert 0 <= film.pixels.min() and film.pixels.max() <= 1
