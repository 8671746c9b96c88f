"""The grey-scale polarity check: training on synthetic films in both polarities, its metrics, and the pipeline
reading a film stored inverted the right way round."""
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
from test_hand_gate import _hand, train_on_hands_and_chests

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "assets" / "samples" / "IMG0000035.jpg"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from bone_age.training.polarity import train_polarity

    return train_on_hands_and_chests(tmp_path_factory.mktemp("polarity"), train_polarity, "polarity_test", 30, epochs=3)


def test_polarity_learns_inverted_films(trained):
    from bone_age.polarity import PolarityCheck
    from bone_age.registry import load_model

    card = json.loads((trained / "models" / "polarity_test.json").read_text())
    assert card["task"] == "polarity" and card["threshold"] == 0.5 and card["val_metrics"]["auc"] > 0.5
    check = PolarityCheck(load_model("polarity_test", "cpu", trained / "models"))
    rng = np.random.default_rng(3)
    films = [_hand(rng) / 255.0 for _ in range(6)]
    as_stored = [check.probability(f) for f in films]
    inverted = [check.probability(1.0 - f) for f in films]
    assert np.mean(inverted) > np.mean(as_stored) + 0.3
    pixels, p = check.bone_bright(1.0 - films[0])
    if p is not None:  # judged inverted: given back bone bright
        assert p >= check.threshold and np.allclose(pixels, films[0], atol=1e-6)


def test_polarity_metrics_count_each_kind_of_error():
    from bone_age.training.hand_gate import GateFilm
    from bone_age.training.polarity import polarity_metrics

    films = [GateFilm(Path(f"{k}.png"), True, src, "val") for k, src in enumerate(["rsna_hand"] * 3 + ["chest"] * 2)]
    #                  as stored (5 films)       inverted (the same 5)
    p = np.array([0.1, 0.7, 0.2, 0.1, 0.1, 0.9, 0.9, 0.4, 0.8, 0.3])
    m = polarity_metrics(films, p)
    assert m["rsna_hand"] == {"n": 3, "stored_called_inverted": 1, "inverted_missed": 1}
    assert m["chest"] == {"n": 2, "stored_called_inverted": 0, "inverted_missed": 1}
    assert 0.5 < m["auc"] < 1.0


@dataclass
class _Judged:
    """A stand-in polarity check with a fixed verdict (the wiring is under test, not the model)."""
    p: float
    threshold: float = 0.5

    @property
    def model(self):
        from types import SimpleNamespace

        return SimpleNamespace(name="polarity_stub", sha256="0" * 64, version_key="polarity_stub")  # as LoadedModel

    def bone_bright(self, pixels):
        return (np.ascontiguousarray(1.0 - pixels), self.p) if self.p >= self.threshold else (pixels, None)


@pytest.fixture(scope="module")
def engine():
    from bone_age.registry import list_models

    if not (list_models("localizer") and list_models("stages")):
        pytest.skip("no shipped localizer/stage models")
    from bone_age.hand.pipeline import Engine

    return Engine(device="cpu")


def test_a_film_judged_inverted_is_read_the_right_way_round(engine, monkeypatch):
    from bone_age import read_film
    from bone_age.polarity import INVERTED_WARNING

    film = read_film(SAMPLE)
    monkeypatch.setattr(engine, "polarity", None)
    upright = engine.assess(film, sex="M")
    monkeypatch.setattr(engine, "polarity", _Judged(0.93))
    flipped = engine.assess(replace(film, pixels=np.ascontiguousarray(1.0 - film.pixels)), sex="M")
    assert flipped.read_inverted and not upright.read_inverted
    assert flipped.warnings[0] == INVERTED_WARNING.format(p=0.93)
    assert [s.stage for s in flipped.stages] == [s.stage for s in upright.stages]
    assert flipped.bone_age_years == upright.bone_age_years and "polarity_stub" in flipped.model_versions
    monkeypatch.setattr(engine, "polarity", _Judged(0.2))
    kept = engine.assess(film, sex="M")
    assert not kept.read_inverted and [s.stage for s in kept.stages] == [s.stage for s in upright.stages]


def test_shipped_check_reads_an_inverted_sample_right(engine):
    from bone_age import read_film

    if engine.polarity is None:
        pytest.skip("no shipped polarity model")
    film = read_film(SAMPLE)
    upright = engine.assess(film, sex="M")
    flipped = engine.assess(replace(film, pixels=np.ascontiguousarray(1.0 - film.pixels)), sex="M")
    assert not upright.read_inverted and flipped.read_inverted
    assert [s.stage for s in flipped.stages] == [s.stage for s in upright.stages]
