"""Reading a stage from a bone's stage distribution: the median, also for the ordinal head's padded output; distributions
averaged over the card's test-time views."""
from pathlib import Path

import numpy as np
import torch

from bone_age.card import parse_card
from bone_age.hand.results import Region
from bone_age.hand.scoring import median_stage
from bone_age.hand.stage import StageClassifier
from bone_age.nets import StageNet
from bone_age.registry import LoadedModel


def test_median_is_not_the_most_probable_stage():
    p = np.array([[0.30, 0.05, 0.30, 0.35], [0.0, 0.0, 0.0, 1.0], [0.6, 0.4, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]])
    assert median_stage(p).tolist() == [3, 4, 1, 2]
    assert int(np.argmax(p[0])) + 1 == 4  # argmax would skip to the last stage


def test_median_of_the_ordinal_head_counts_the_thresholds_exceeded():
    net = StageNet([5, 8, 3], backbone="efficientnet_lite0").eval()
    cat = torch.tensor([0, 1, 2] * 20)
    z = torch.linspace(-5, 5, 60)
    with torch.no_grad():
        probs = net.probabilities(z, cat).numpy()
        exceeded = (net.cumulative_logits(z, cat) > 0).sum(1).numpy()
    read = median_stage(probs)
    assert (read == exceeded + 1).all()
    assert (read <= net.n_stages[cat].numpy()).all() and len(set(read.tolist())) > 3


class _MeanBrightness(torch.nn.Module):
    """Stand-in stage model: two stages, P(stage 2) = the crop's mean intensity in [0, 1]."""

    def __init__(self):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor, category: torch.Tensor) -> torch.Tensor:
        p2 = (x[:, 0] * 0.25 + 0.5).clamp(0, 1).mean((1, 2))
        return torch.stack([1 - p2, p2], 1)


def _stage_card(fields: dict):
    """A stage model's card with ``fields`` over the least a card needs."""
    raw = {"task": "stages", "architecture": "StageNet", "weights": "stub.safetensors", "sha256": "0" * 64,
           "input_norm": {"mean": 0.5, "std": 0.25}, "categories": ["Radius"], "stages_per_category": {"Radius": 2},
           "crop_size": 16, "name": "stub", **fields}
    return parse_card(raw, Path(f"{raw['name']}.json"))


def _classifier(views):
    return StageClassifier(LoadedModel("stub", _stage_card({} if views is None else {"test_time_views": views}),
                                       _MeanBrightness()))


def test_stage_views_are_read_and_averaged():
    film = np.tile(np.linspace(0, 1, 200, dtype=np.float32), (200, 1))  # brighter to the right
    region = Region("Radius", "Radius", (60, 60, 140, 140), (120.0, 100.0), 1.0, angle_deg=0.0, crop_side_px=80.0)
    views = [[1.0, 0.0], [0.5, 0.0], [1.0, 90.0]]
    crops = _classifier(views).crops(film, (region,), "left")
    assert crops.shape == (1, 3, 16, 16)
    plain = _classifier(None).crops(film, (region,), "left")
    np.testing.assert_array_equal(crops[0, 0], plain[0, 0])
    assert crops[0, 1].std() < 0.6 * crops[0, 0].std()  # half the side: half the brightness range
    across, down = crops[0].mean(1).std(-1), crops[0].mean(2).std(-1)  # brightness change along x, along y
    assert across[0] > 0.1 > down[0] and down[2] > 0.1 > across[2]  # the turned view: the gradient runs the other way
    averaged = _classifier(views).probabilities(crops, ["Radius"])
    single = [_classifier(None).probabilities(crops[:, v:v + 1], ["Radius"]) for v in range(3)]
    np.testing.assert_allclose(averaged, np.mean(single, 0), atol=1e-6)
    assert not np.allclose(single[0], single[1])


def test_the_cards_held_out_agreement_is_read_only_when_measured():
    from bone_age.hand.stage import agreement

    assert agreement(_stage_card({"name": "s"})) is None
    assert agreement(_stage_card({"test_metrics": {"test": {"all": {"uncalibrated": {"n": 9, "mae_months": 8.0}}}}})) is None
    figures = {"n": 103, "mae_months": 8.88, "abs_error_p50_months": 6.2, "abs_error_p90_months": 19.4}
    a = agreement(_stage_card({"name": "stage.v9", "test_metrics": {"test": {"all": {"uncalibrated": figures}}}}))
    assert (a.films, a.half_within_months, a.most_within_months, a.mae_months) == (103, 6.2, 19.4, 8.88)
    assert "stage.v9" in a.reference
    assert "On 103 held-out films" in a.sentence() and "within 6 months" in a.sentence() and "within 19 months" in a.sentence()


def test_the_agreement_of_the_films_read_at_about_this_age_is_stated_when_enough():
    from bone_age.hand.results import Agreement
    from bone_age.hand.stage import agreement

    figures = {"n": 103, "mae_months": 8.88, "abs_error_p50_months": 6.2, "abs_error_p90_months": 19.4}
    bands = [{"read_years": [9, 12], "n": 150, "abs_error_p50_months": 7.0, "abs_error_p90_months": 18.2, "bias_months": -2.6},
             {"read_years": [12, 15], "n": 140, "abs_error_p50_months": 4.6, "abs_error_p90_months": 13.0, "bias_months": 0.3},
             {"read_years": [15, 20], "n": 19, "abs_error_p50_months": 12.0, "abs_error_p90_months": 24.0, "bias_months": 8.0}]
    a = agreement(_stage_card({"name": "s", "test_metrics": {"test": {"all": {"uncalibrated": figures}},
                                                            "agreement_by_read_age": {"films": "566 held-out films",
                                                                                      "bands": bands}}}))
    assert a.band_for(11.99).read_years == (9, 12) and a.band_for(12.0).read_years == (12, 15)
    assert a.band_for(16.0) is None and a.band_for(3.0) is None  # too few films; no band there
    nine = a.sentence(10.0)
    assert nine.startswith(a.sentence()) and "of the 150 read at 9-12 y (566 held-out films)" in nine
    assert "half within 7 and 90 % within 18 months, on average 3 months below the radiologist" in nine
    assert "on average level with the radiologist" in a.sentence(13.0) and a.sentence(16.0) == a.sentence()
    assert Agreement.from_json(a.to_json()) == a
