import json

import pytest
import torch
from torch import nn

from bone_age.card import record_card
from bone_age.errors import ModelFileMismatch
from bone_age.registry import default_model, list_models, load_model, register_architecture
from bone_age.training.common import save_model


@register_architecture("TinyTest")
def _tiny(card):
    return nn.Linear(card.raw["n_in"], 2)


def _save(tmp_path, name="tiny.v1", **extra):
    torch.manual_seed(0)
    return save_model(nn.Linear(3, 2), tmp_path / name, {"task": "tiny", "architecture": "TinyTest", "n_in": 3, **extra})


def test_save_and_load_round_trip(tmp_path):
    _save(tmp_path)
    card = json.loads((tmp_path / "tiny.v1.json").read_text())
    assert len(card["sha256"]) == 64 and card["weights"] == "tiny.v1.safetensors"
    m = load_model("tiny.v1", root=tmp_path)
    torch.manual_seed(0)
    ref = nn.Linear(3, 2)
    assert torch.equal(m.module.weight, ref.weight)
    assert list_models("tiny", tmp_path) == ["tiny.v1"] and default_model("tiny", tmp_path) == "tiny.v1"


def test_tampered_weights_are_refused(tmp_path):
    w = _save(tmp_path, "tampered.v1")
    data = bytearray(w.read_bytes())
    data[-1] ^= 0xFF
    w.write_bytes(bytes(data))
    with pytest.raises(ModelFileMismatch, match="sha256"):
        load_model("tampered.v1", root=tmp_path)


def test_pickle_weights_are_refused(tmp_path):
    _save(tmp_path, "pickled.v1")
    card = json.loads((tmp_path / "pickled.v1.json").read_text())
    torch.save({}, tmp_path / "pickled.v1.pt")
    card["weights"] = "pickled.v1.pt"
    (tmp_path / "pickled.v1.json").write_text(json.dumps(card))
    record_card(tmp_path / "pickled.v1.json")
    with pytest.raises(ModelFileMismatch, match="safetensors"):
        load_model("pickled.v1", root=tmp_path)


def test_wrong_architecture_shape_and_unknown_name(tmp_path):
    _save(tmp_path, "wrong.v1")
    card = json.loads((tmp_path / "wrong.v1.json").read_text())
    card["n_in"] = 5
    (tmp_path / "wrong.v1.json").write_text(json.dumps(card))
    record_card(tmp_path / "wrong.v1.json")
    with pytest.raises(ModelFileMismatch, match="do not fit"):
        load_model("wrong.v1", root=tmp_path)
    with pytest.raises(ModelFileMismatch, match="no model card"):
        load_model("nope.v9", root=tmp_path)


def test_shipped_cards_match_their_weights():
    from bone_age._resources import models_dir
    from bone_age.registry import file_sha256 as sha256_of

    names = list_models()
    for name in names:
        card = json.loads((models_dir() / f"{name}.json").read_text())
        assert sha256_of(models_dir() / card["weights"]) == card["sha256"], name
        assert (models_dir() / card["weights"]).stat().st_size < 25e6, name
        for key in ("task", "architecture", "data", "split", "command"):
            assert key in card, (name, key)


def test_a_missing_or_undecided_default_says_what_to_do(tmp_path):
    with pytest.raises(ModelFileMismatch, match="pip install -e"):
        default_model("tiny", tmp_path / "absent")
    _save(tmp_path, "tiny.v1")
    _save(tmp_path, "tiny.v2")
    with pytest.raises(ModelFileMismatch, match="mark one \"default\": true"):
        default_model("tiny", tmp_path)


def test_a_card_edited_by_hand_is_refused(tmp_path):
    _save(tmp_path, "edited.v1")
    path = tmp_path / "edited.v1.json"
    card = json.loads(path.read_text())
    card["threshold"] = 0.01  # a hand edit that would change every reading
    path.write_text(json.dumps(card))
    with pytest.raises(ModelFileMismatch, match="changed after it was written"):
        load_model("edited.v1", root=tmp_path)
    record_card(path)  # recorded on purpose: accepted
    assert load_model("edited.v1", root=tmp_path).card.raw["threshold"] == 0.01
