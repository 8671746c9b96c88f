import io

import numpy as np
import pytest
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from bone_age import UnreadableFilm, read_film
from bone_age.io.film import film_from_array

from dicom_factory import make_dicom


def _bright_block_is_bright(film):
    p = film.pixels
    return p[25, 15] > p[25, 40] - 1e-6 and p.dtype == np.float32 and 0 <= p.min() and p.max() <= 1


def test_png_8_bit(tmp_path):
    img = (np.arange(64 * 48) % 256).reshape(64, 48).astype(np.uint8)
    Image.fromarray(img).save(tmp_path / "a.png")
    film = read_film(tmp_path / "a.png")
    np.testing.assert_allclose(film.pixels, img / 255.0, atol=1e-6)
    assert film.meta.original_dtype == "uint8" and film.meta.format == "PNG"


def test_png_16_bit_and_tiff_16_bit(tmp_path, gradient):
    Image.fromarray(gradient).save(tmp_path / "a.png")
    Image.fromarray(gradient).save(tmp_path / "a.tif")
    for name in ("a.png", "a.tif"):
        film = read_film(tmp_path / name)
        assert film.meta.original_dtype == "uint16"
        assert _bright_block_is_bright(film)
        assert film.pixels.max() == pytest.approx(1.0) and film.pixels.min() == pytest.approx(0.0)


def test_tiff_8_bit_and_jpeg(tmp_path):
    img = np.full((40, 50), 100, np.uint8)
    img[10:20, 10:20] = 220
    Image.fromarray(img).save(tmp_path / "a.tiff")
    Image.fromarray(img).save(tmp_path / "a.jpg", quality=95)
    for name in ("a.tiff", "a.jpg"):
        film = read_film(tmp_path / name)
        assert film.pixels[15, 15] == pytest.approx(220 / 255, abs=0.03)
        assert film.pixels[30, 40] == pytest.approx(100 / 255, abs=0.03)


def test_colour_and_palette_images_become_gray(tmp_path):
    rgb = np.zeros((32, 32, 3), np.uint8)
    rgb[..., 1] = 200
    Image.fromarray(rgb).save(tmp_path / "c.png")
    pal = Image.fromarray(np.full((32, 32), 3, np.uint8)).convert("P")
    pal.putpalette([255 - i // 3 for i in range(768)])  # inverted palette: index 3 -> gray 252
    pal.save(tmp_path / "p.png")
    assert read_film(tmp_path / "c.png").pixels.ndim == 2
    assert read_film(tmp_path / "p.png").pixels[0, 0] == pytest.approx(252 / 255, abs=1e-3)


@pytest.mark.parametrize("bits", [12, 16])
def test_dicom_monochrome2(tmp_path, gradient, bits):
    px = (gradient.astype(np.uint32) * (65535 // 4095 if bits == 16 else 1)).astype(np.uint16)
    path = make_dicom(tmp_path / "m2.dcm", px, bits_stored=bits, PatientSex="F", PatientBirthDate="20100105",
                      StudyDate="20200105", PixelSpacing=[0.1, 0.1], ImageLaterality="L")
    film = read_film(path)
    assert _bright_block_is_bright(film)
    m = film.meta
    assert (m.patient_sex, m.patient_birth_date, m.study_date, m.laterality) == ("female", "2010-01-05", "2020-01-05", "L")
    assert m.patient_age_years == pytest.approx(10.0, abs=0.01)
    assert m.pixel_spacing_mm == pytest.approx(0.1)
    assert m.photometric_interpretation == "MONOCHROME2" and not m.inverted


def test_dicom_monochrome1_inverted_once(tmp_path, gradient):
    inv = (4095 - gradient).astype(np.uint16)
    plain = read_film(make_dicom(tmp_path / "m1.dcm", inv, photometric="MONOCHROME1"))
    assert plain.meta.inverted and _bright_block_is_bright(plain)
    with_shape = read_film(make_dicom(tmp_path / "m1i.dcm", inv, photometric="MONOCHROME1", PresentationLUTShape="INVERSE"))
    np.testing.assert_allclose(with_shape.pixels, plain.pixels)  # not inverted twice
    ref = read_film(make_dicom(tmp_path / "m2.dcm", gradient))
    np.testing.assert_allclose(plain.pixels, ref.pixels, atol=1e-6)


def test_dicom_rescale_and_window(tmp_path, gradient):
    path = make_dicom(tmp_path / "w.dcm", gradient, RescaleSlope=2, RescaleIntercept=-100,
                      WindowCenter=4000, WindowWidth=2000, PatientAge="012Y")
    film = read_film(path)
    # modality value = 2*stored - 100; window 3000..5000 maps to 0..1
    stored = gradient[0, 40]
    expected = np.clip((2 * stored - 100 - (4000 - 0.5)) / 1999 + 0.5, 0, 1)
    assert film.pixels[0, 40] == pytest.approx(expected, abs=1e-3)
    assert film.pixels[25, 15] == pytest.approx(1.0)  # 2*4095-100 is above the window
    assert film.meta.patient_age_years == 12


def test_dicom_voi_lut_sequence(tmp_path, gradient):
    lut = Dataset()
    lut.LUTDescriptor = [4096, 0, 16]
    lut.LUTData = np.array([min(255, v // 8) * 257 for v in range(4096)], np.uint16).tobytes()  # saturates at 2040
    path = make_dicom(tmp_path / "lut.dcm", gradient, VOILUTSequence=Sequence([lut]))
    film = read_film(path)
    assert film.pixels[25, 15] == pytest.approx(1.0)
    assert film.pixels[0, 0] == pytest.approx(0.0)
    assert film.pixels[0, 10] == pytest.approx(min(255, int(gradient[0, 10]) // 8) / 255, abs=1e-3)


def test_dicom_rle_and_jpeg2000_compressed(tmp_path, gradient):
    from pydicom import dcmread
    from pydicom.uid import JPEG2000Lossless, RLELossless

    src = make_dicom(tmp_path / "u.dcm", gradient)
    ref = read_film(src).pixels
    for uid, name in ((RLELossless, "rle.dcm"), (JPEG2000Lossless, "j2k.dcm")):
        ds = dcmread(src)
        ds.compress(uid)
        ds.save_as(tmp_path / name)
        np.testing.assert_allclose(read_film(tmp_path / name).pixels, ref, atol=1e-6)


def test_dicom_jpeg_baseline(tmp_path):
    from pydicom import dcmread
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGBaseline8Bit

    img = np.full((64, 64), 60, np.uint8)
    img[20:40, 20:40] = 200
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=95)
    ds = dcmread(make_dicom(tmp_path / "u.dcm", img, bits_stored=8))
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.PixelData = encapsulate([buf.getvalue()])
    ds["PixelData"].is_undefined_length = True
    ds.save_as(tmp_path / "jpg.dcm")
    film = read_film(tmp_path / "jpg.dcm")
    assert film.pixels[30, 30] > 0.9 and film.pixels[5, 5] < 0.1


def test_multiframe_dicom_refused(tmp_path, gradient):
    stack = np.stack([gradient, gradient])
    path = make_dicom(tmp_path / "mf.dcm", gradient, NumberOfFrames=2)
    from pydicom import dcmread

    ds = dcmread(path)
    ds.PixelData = stack.tobytes()
    ds.save_as(path)
    with pytest.raises(UnreadableFilm, match="multi-frame"):
        read_film(path)


@pytest.mark.parametrize("content,reason", [
    (b"", "empty"),
    (b"this is not an image at all" * 10, "not a recognised image"),
])
def test_garbage_and_empty_files(tmp_path, content, reason):
    p = tmp_path / "bad.png"
    p.write_bytes(content)
    with pytest.raises(UnreadableFilm, match=reason) as exc:
        read_film(p)
    assert exc.value.path == str(p)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF"])
def test_truncated_raster(tmp_path, fmt):
    img = (np.random.default_rng(0).random((256, 256)) * 255).astype(np.uint8)
    p = tmp_path / f"t.{fmt.lower()}"
    Image.fromarray(img).save(p, format=fmt)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnreadableFilm):
        read_film(p)


def test_truncated_dicom(tmp_path, gradient):
    p = make_dicom(tmp_path / "t.dcm", gradient)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) - 3000])
    with pytest.raises(UnreadableFilm):
        read_film(p)


def test_missing_file(tmp_path):
    with pytest.raises(UnreadableFilm, match="no such file"):
        read_film(tmp_path / "nope.dcm")


def test_film_from_array():
    film = film_from_array(np.full((32, 40), 128, np.uint8))
    assert film.pixels.shape == (32, 40) and film.pixels[0, 0] == pytest.approx(128 / 255)
    with pytest.raises(UnreadableFilm):
        film_from_array(np.zeros((5, 5)))
