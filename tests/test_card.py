"""The typed model card: every shipped card parses into its task's section; a bad card is refused naming the field;
inference takes its normalisation from the card."""
import json
from pathlib import Path

import numpy as np
import pytest

from bone_age.card import (ClassifierSpec, DetectorSpec, GPSpec, LocalizerSpec, Normalization, SegmenterSpec,
                           StageSpec, parse_card, read_card)
from bone_age.errors import ModelFileMismatch
from bone_age.transforms import NORM, to_model_input

REPO = Path(__file__).resolve().parents[1]
SPECS = {"localizer": LocalizerSpec, "stages": StageSpec, "gp": GPSpec, "hand_gate": ClassifierSpec,
         "polarity": ClassifierSpec, "fracture_film": ClassifierSpec, "bonescan_region": ClassifierSpec,
         "fracture": DetectorSpec, "clavicle": SegmenterSpec}


@pytest.mark.parametrize("path", sorted((REPO / "models").glob("*.json")), ids=lambda p: p.stem)
def test_every_shipped_card_parses_into_its_section(path):
    card = read_card(path)
    assert isinstance(card.spec, SPECS[card.task]) and card.name == path.stem and len(card.sha256) == 64
    assert card.normalization == NORM and card.headline_metrics  # every card states the figures it was chosen on
    with pytest.raises(ModelFileMismatch, match="not one with a"):
        card.section(GPSpec if card.task != "gp" else StageSpec)


def _minimal(**fields) -> dict:
    return {"task": "hand_gate", "architecture": "ImageClassifier", "weights": "g.safetensors", "sha256": "0" * 64,
            "input_norm": {"mean": 0.5, "std": 0.25}, "outputs": ["hand_film"], "input_size": 160, "threshold": 0.9,
            **fields}


def test_a_missing_or_wrong_field_is_refused_by_name(tmp_path):
    assert parse_card(_minimal(), tmp_path / "g.json").spec.threshold == 0.9
    raw = _minimal()
    del raw["threshold"]
    with pytest.raises(ModelFileMismatch, match="no 'threshold' field") as err:
        parse_card(raw, tmp_path / "g.json")
    assert err.value.path == str(tmp_path / "g.json")
    with pytest.raises(ModelFileMismatch, match="'threshold' is not a number: 'high'"):
        parse_card(_minimal(threshold="high"), tmp_path / "g.json")
    with pytest.raises(ModelFileMismatch, match="'input_norm.std'"):
        parse_card(_minimal(input_norm={"mean": 0.5}), tmp_path / "g.json")
    with pytest.raises(ModelFileMismatch, match="neither 'input_size' nor 'input_hw'"):
        parse_card({k: v for k, v in _minimal().items() if k != "input_size"}, tmp_path / "g.json")
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ModelFileMismatch, match="cannot be read"):
        read_card(tmp_path / "broken.json")


def test_defaults_live_in_the_card_module():
    spec = parse_card(_minimal(), Path("g.json")).spec
    assert spec.platt == (1.0, 0.0) and spec.test_time_views == 1 and spec.regions == ()
    loc = parse_card({**_minimal(task="localizer", architecture="HeatmapNet"), "keypoints": ["a", "b"],
                      "heatmap_stride": 4}, Path("l.json")).spec
    assert (loc.hand_threshold, loc.usual_hand_confidence, loc.refine_margin) == (0.0, 0.0, 0.15)


def test_the_input_normalisation_comes_from_the_card():
    import torch

    from bone_age.hand.stage import StageClassifier
    from bone_age.registry import LoadedModel

    class Echo(torch.nn.Module):  # stage 2's probability is the mean of what the network is given, clipped
        def __init__(self):
            super().__init__()
            self.dummy = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x, category):
            p = x[:, 0].mean((1, 2)).clamp(0, 1)
            return torch.stack([1 - p, p], 1)

    def classifier(norm):
        raw = {"task": "stages", "architecture": "StageNet", "weights": "s.safetensors", "sha256": "0" * 64,
               "input_norm": norm, "categories": ["Radius"], "stages_per_category": {"Radius": 2}, "crop_size": 8}
        return StageClassifier(LoadedModel("s", parse_card(raw, Path("s.json")), Echo()))

    crops = np.full((1, 1, 8, 8), 0.6, np.float32)
    as_trained = classifier({"mean": 0.5, "std": 0.25}).probabilities(crops, ["Radius"])[0, 1]
    other = classifier({"mean": 0.0, "std": 1.0}).probabilities(crops, ["Radius"])[0, 1]
    assert as_trained == pytest.approx((0.6 - 0.5) / 0.25) and other == pytest.approx(0.6)
    assert np.allclose(to_model_input(crops[0], Normalization(0.0, 1.0))[:, 0], crops[0])


def test_training_writes_the_normalisation_into_the_card(tmp_path):
    import torch

    from bone_age.training.common import save_model

    save_model(torch.nn.Linear(2, 1), tmp_path / "m.v1", {"task": "tiny", "architecture": "TinyTest"})
    written = json.loads((tmp_path / "m.v1.json").read_text())
    assert written["input_norm"] == {"mean": NORM.mean, "std": NORM.std} and written["command"].startswith("bone-age-train")
