import json
import subprocess
import sys

from bone_age.cli import main


def test_standard_command_female(capsys):
    assert main(["standard", "--sex", "F", "--stages", *"8 6 6 5 5 6 6 6 6 6 6 6 6".split()]) == 0
    out = capsys.readouterr().out
    assert "total score 468" in out and "10.1 y" in out


def test_standard_command_male_json(capsys):
    assert main(["standard", "--sex", "M", "--json", "--stages", *"8 6 6 5 5 6 6 6 6 6 6 6 6".split()]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total_score"] == 425 and data["bone_age_years"] == 12.1 and data["sex"] == "male"


def test_standard_command_bad_input(capsys):
    assert main(["standard", "--sex", "F", "--stages", "1", "2"]) == 2
    assert "13 stages" in capsys.readouterr().err
    assert main(["standard", "--sex", "F", "--stages", *["1"] * 12, "99"]) == 2
    assert "DIPFifth" in capsys.readouterr().err
    assert main(["standard", "--sex", "Q", "--stages", *["1"] * 13]) == 2
    assert "unknown sex" in capsys.readouterr().err


def test_version_and_help():
    out = subprocess.run([sys.executable, "-m", "bone_age.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("bone-age ")
    out = subprocess.run([sys.executable, "-m", "bone_age.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "standard" in out.stdout and "Traceback" not in out.stderr


def test_models_command_lists_shipped_models(capsys):
    from bone_age.registry import list_models

    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in list_models():
        assert name in out


def test_models_command_without_models_says_where_they_come_from(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BONE_AGE_MODELS", str(tmp_path / "empty"))
    assert main(["models"]) == 1
    err = capsys.readouterr().err
    assert str(tmp_path / "empty") in err and "BONE_AGE_MODELS" in err


def test_train_refuses_missing_arguments(capsys):
    from bone_age.training.cli import main as train

    assert train(["localizer", "--out", "x"]) == 2
    assert "needs --data" in capsys.readouterr().err


def test_train_takes_data_root_as_the_data_folder(tmp_path, capsys):
    from bone_age.training.cli import build_parser
    from bone_age.training.cli import main as train

    args = build_parser().parse_args(["fracture", "--data-root", str(tmp_path), "--out", "x"])
    assert args.data == [str(tmp_path)]
    assert train(["fracture", "--data-root", str(tmp_path / "absent"), "--out", str(tmp_path / "m")]) == 2
    assert "absent" in capsys.readouterr().err and not list(tmp_path.glob("m*"))  # a clear error, nothing written


def test_bone_age_train_forwards_to_the_training_command_with_a_notice():
    out = subprocess.run([sys.executable, "-m", "bone_age.cli", "train", "localizer", "--out", "x"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "bone-age-train" in out.stderr and "needs --data" in out.stderr
    direct = subprocess.run([sys.executable, "-m", "bone_age.training", "--help"], capture_output=True, text=True)
    assert direct.returncode == 0 and direct.stdout.startswith("usage: bone-age-train")


def test_export_goes_on_past_a_network_the_exporter_cannot_take(tmp_path, monkeypatch, capsys):
    import pytest

    from bone_age import onnx_runtime
    from bone_age.registry import default_model, list_models

    if not list_models("gp"):
        pytest.skip("no shipped models")
    done = []

    def fake_export(model, out):
        if model.card.task == "gp":
            raise RuntimeError("unsupported operator")
        done.append(model.name)
        return out / f"{model.name}.onnx"

    monkeypatch.setattr(onnx_runtime, "export_model", fake_export)
    assert main(["export", "onnx", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"not exported: {default_model('gp')}: RuntimeError: unsupported operator" in err
    assert default_model("stages") in done and default_model("clavicle") in done  # the others still exported
