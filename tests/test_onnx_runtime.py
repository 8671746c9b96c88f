"""ONNX export and ONNX Runtime inference: the same readings as torch on the shipped samples (stage probabilities
within 1e-3, bone ages within 0.1 y), used only for an export of the very weights, and said in model_versions."""
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from bone_age.errors import ModelFileMismatch
from bone_age.registry import list_models

pytest.importorskip("onnxruntime", reason="ONNX Runtime is the onnx extra")
pytest.importorskip("onnx", reason="exporting needs the onnx package (the onnx extra)")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not list_models("stages"), reason="no shipped models")]

REPO = Path(__file__).resolve().parents[1]
SAMPLES = ("IMG0000111", "IMG0000035", "IMG0000122", "IMG0003116", "IMG0003712")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """The shipped models beside their exports, in a folder of the test's own."""
    from bone_age._resources import models_dir
    from bone_age.cli import main

    root = tmp_path_factory.mktemp("models")
    for p in models_dir().iterdir():
        if p.is_file():
            os.symlink(p, root / p.name)
    mp = pytest.MonkeyPatch()
    mp.setenv("BONE_AGE_MODELS", str(root))
    assert main(["export", "onnx"]) == 0
    yield root
    mp.undo()


def test_onnx_reads_the_samples_as_torch_does(models):
    from bone_age import Engine

    from bone_age import assess

    torch_engine, onnx_engine = Engine(device="cpu"), Engine(device="cpu", runtime="onnx")
    assert all(k.endswith("(onnx)") for k in onnx_engine.model_versions)
    one_call = assess(REPO / "assets" / "samples" / "IMG0000035.jpg", sex="F", device="cpu", runtime="onnx")
    assert all(k.endswith("(onnx)") for k in one_call.model_versions)
    assert set(onnx_engine.model_versions.values()) == set(torch_engine.model_versions.values())  # the same weights
    for stem in SAMPLES:
        for sex in ("F", "M"):
            a = torch_engine.assess(REPO / "assets" / "samples" / f"{stem}.jpg", sex=sex)
            b = onnx_engine.assess(REPO / "assets" / "samples" / f"{stem}.jpg", sex=sex)
            assert abs(a.bone_age_years - b.bone_age_years) <= 0.1, (stem, sex, a.bone_age_years, b.bone_age_years)
            assert abs(a.gp_bone_age_years - b.gp_bone_age_years) <= 0.1
            pa = np.concatenate([s.probabilities for s in a.stages])
            pb = np.concatenate([s.probabilities for s in b.stages])
            assert np.abs(pa - pb).max() < 1e-3, stem


def test_an_export_of_other_weights_is_not_used(models, tmp_path):
    import json

    from bone_age.registry import default_model, load_model

    name = default_model("gp")
    card = models / "onnx" / f"{name}.onnx.json"
    saved = card.read_text()
    card.write_text(json.dumps(dict(json.loads(saved), source_sha256="0" * 64)))
    try:
        from bone_age.registry import _onnx_cached

        _onnx_cached.cache_clear()
        assert load_model(name, "cpu", runtime="auto").runtime == "torch"
        with pytest.raises(ModelFileMismatch, match="no ONNX export of these weights"):
            load_model(name, "cpu", runtime="onnx")
    finally:
        card.write_text(saved)
        _onnx_cached.cache_clear()
    assert load_model(name, "cpu", runtime="auto").runtime == "onnx"
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_side_modules_read_the_same_through_onnx(models):
    """The fracture detector and film classifier, the clavicle segmenter and the bone-scan region classifier: the same
    outputs through ONNX Runtime as through torch, said in model_versions."""
    from bone_age.io import read_film
    from bone_age.modules import MODULES
    from tests.bonescan_factory import crop

    foot = REPO / "assets" / "samples" / "IMG0000037.jpg"
    torch_fr, onnx_fr = (MODULES["fracture"].load("cpu", runtime=r) for r in ("torch", "onnx"))
    a, b = torch_fr.read(foot), onnx_fr.read(foot)
    assert abs(a.probability - b.probability) < 1e-3 and a.fractured == b.fractured
    assert np.abs(np.array(a.evidence.grid) - np.array(b.evidence.grid)).max() < 1e-2
    assert len(a.instances) == len(b.instances) > 0  # the detector: the same instances where they lie
    for x, y in zip(a.instances, b.instances):
        assert abs(x.score - y.score) < 0.01 and np.abs(np.subtract(x.box_xyxy, y.box_xyxy)).max() < 2.0
    assert all(k.endswith("(onnx)") for k in b.model_versions) and \
        not any(k.endswith("(onnx)") for k in a.model_versions)

    torch_cl, onnx_cl = (MODULES["clavicle"].load("cpu", runtime=r) for r in ("torch", "onnx"))
    film = read_film(foot).pixels
    assert np.abs(torch_cl.probabilities(film) - onnx_cl.probabilities(film)).max() < 1e-3

    torch_bs, onnx_bs = (MODULES["bonescan"].load("cpu", runtime=r) for r in ("torch", "onnx"))
    rng = np.random.default_rng(0)
    crops = [crop(rng, hot) for hot in (True, False, True)]
    pa, pb = torch_bs.classifier.probabilities(crops), onnx_bs.classifier.probabilities(crops)
    assert np.abs(pa - pb).max() < 1e-3
