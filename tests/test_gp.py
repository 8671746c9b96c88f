"""The GP second opinion: the resize rule, and a plausible estimate on a real film."""
from pathlib import Path

import numpy as np
import pytest

from bone_age.gp import squash
from bone_age.registry import list_models

REPO = Path(__file__).resolve().parents[1]


def test_squash_rule_maps_any_shape_to_the_training_square():
    film = np.zeros((1024, 758), np.float32)  # an unsquashed RSNA film shape
    film[:512, :379] = 1.0  # top-left quarter bright
    out = squash(film, 192)
    assert out.shape == (192, 192)
    assert out[:90, :90].mean() > 0.99 and out[100:, 100:].mean() < 0.01  # the quarter stays a quarter: aspect not kept
    small = squash(np.ones((120, 90), np.float32), 192)
    assert small.shape == (192, 192) and np.allclose(small, 1.0)


@pytest.mark.skipif(not list_models("gp"), reason="no shipped GP model")
def test_gp_estimate_is_in_months_and_plausible():
    from bone_age.gp import GPRegressor
    from bone_age.io import read_film
    from bone_age.registry import default_model, load_model

    gp = GPRegressor(load_model(default_model("gp")))
    film = read_film(REPO / "assets/samples/IMG0000035.jpg")
    months, sd = gp.predict_months([film.pixels, film.pixels], [True, False])
    assert 120 < months[0] < 240 and 0 < sd[0] < 60  # a late adolescent (closing radius plate)
    assert months[0] != months[1]  # sex is an input
