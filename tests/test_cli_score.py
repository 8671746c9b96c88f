"""The batch folder command: rows for good and bad films, resume, no overwrite, inputs untouched."""
import csv
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bone_age.cli import main
from bone_age.registry import list_models

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not (list_models("localizer") and list_models("stages")), reason="no shipped models")


def _digest(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def _folder_with_hand(tmp_path: Path, name: str) -> Path:
    """tmp_path/films holding the shipped right-hand sample under ``name``."""
    films = tmp_path / "films"
    films.mkdir()
    shutil.copy(REPO / "assets/samples/IMG0000035.jpg", films / name)
    return films


def _scored_with_and_without(films: Path, tmp_path: Path, flag: str) -> tuple[dict, dict]:
    """The folder scored as a boy's films without and with ``flag``: each run's rows by file name."""
    rows = []
    for extra in ([], [flag]):
        out = tmp_path / f"scored{len(rows)}.csv"
        assert main(["score", str(films), "--out", str(out), "--sex", "M", "--device", "cpu"] + extra) == 0
        rows.append({Path(r["path"]).name: r for r in csv.DictReader(open(out))})
    return rows[0], rows[1]


def test_score_folder_resume_and_errors(tmp_path, capsys):
    films = _folder_with_hand(tmp_path, "hand.jpg")
    (films / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    Image.fromarray((np.random.default_rng(1).random((400, 300)) * 255).astype(np.uint8)).save(films / "noise.png")
    before = _digest(films)
    out = tmp_path / "out" / "results.csv"
    assert main(["score", str(films), "--out", str(out), "--sex", "M", "--device", "cpu", "--reports", str(tmp_path / "rep")]) == 0
    rows = {Path(r["path"]).name: r for r in csv.DictReader(open(out))}
    assert rows["hand.jpg"]["status"] == "scored" and float(rows["hand.jpg"]["bone_age_years"]) > 0
    assert rows["broken.png"]["status"] == "failed" and "UnreadableFilm" in rows["broken.png"]["reason"]
    assert rows["noise.png"]["status"] == "rejected" and "NotAHandFilm" in rows["noise.png"]["reason"]
    assert (tmp_path / "rep" / "hand.pdf").is_file() and (tmp_path / "rep" / "hand.png").is_file()
    assert "scored 1, rejected 1, failed 1" in capsys.readouterr().out
    assert _digest(films) == before

    assert main(["score", str(films), "--out", str(out), "--sex", "M", "--device", "cpu"]) == 0
    assert "already done 3" in capsys.readouterr().out
    assert len(list(csv.DictReader(open(out)))) == 3


def test_score_uses_the_patients_csv_and_jsonl(tmp_path, capsys):
    import json

    films = _folder_with_hand(tmp_path, "1234.jpg")
    (tmp_path / "sex.csv").write_text("id,male\n1234,False\n")
    out = tmp_path / "r.jsonl"
    assert main(["score", str(films), "--out", str(out), "--sex-csv", str(tmp_path / "sex.csv"), "--device", "cpu"]) == 0
    row = json.loads(out.read_text().splitlines()[0])
    assert row["sex"] == "female" and row["status"] == "scored" and row["chronological_age_years"] == ""
    assert "no row" not in capsys.readouterr().err

    (tmp_path / "patients.csv").write_text("file,sex,age_months\n1234.jpg,M,150\n")
    out = tmp_path / "r2.jsonl"
    assert main(["score", str(films), "--out", str(out), "--patients-csv", str(tmp_path / "patients.csv"),
                 "--sex", "F", "--device", "cpu"]) == 0
    row = json.loads(out.read_text().splitlines()[0])
    assert row["sex"] == "male" and row["chronological_age_years"] == 12.5
    assert row["bone_age_minus_chronological_years"] == pytest.approx(row["bone_age_years"] - 12.5, abs=0.051)

    (tmp_path / "other.csv").write_text("id,sex\n9999,F\n")  # names no film in the folder
    assert main(["score", str(films), "--out", str(tmp_path / "r3.csv"), "--patients-csv", str(tmp_path / "other.csv"),
                 "--sex", "M", "--device", "cpu"]) == 0
    assert "has no row for 1 of 1 films (e.g. 1234.jpg)" in capsys.readouterr().err


def test_a_bad_patients_csv_or_sex_stops_before_any_film(tmp_path, capsys):
    films = _folder_with_hand(tmp_path, "a.jpg")
    (tmp_path / "p.csv").write_text("file,age\na.jpg,ten\n")
    out = tmp_path / "r.csv"
    assert main(["score", str(films), "--out", str(out), "--patients-csv", str(tmp_path / "p.csv"), "--device", "cpu"]) == 2
    assert "line 2: age 'ten' is not a number" in capsys.readouterr().err
    assert main(["score", str(films), "--out", str(out), "--sex", "X", "--device", "cpu"]) == 2
    assert "unknown sex 'X'" in capsys.readouterr().err
    assert not out.exists()


def test_score_without_sex_gives_a_row_not_a_crash(tmp_path, capsys):
    films = _folder_with_hand(tmp_path, "a.jpg")
    out = tmp_path / "r.csv"
    assert main(["score", str(films), "--out", str(out), "--device", "cpu"]) == 0
    row = next(csv.DictReader(open(out)))
    assert row["status"] == "failed" and "MissingSex" in row["reason"] and "--patients-csv" in row["reason"]


def test_assess_command_prints_table(capsys, tmp_path):
    from bone_age.hand.stage import agreement
    from bone_age.registry import default_model, model_card

    assert main(["assess", str(REPO / "assets/samples/IMG0000035.jpg"), "--sex", "F", "--device", "cpu",
                 "--set-stage", "Radius=14", "--report", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Radius" in out and "set by hand" in out and "Bone age (RUS-CHN)" in out
    shipped = agreement(model_card(default_model("stages")))
    assert shipped is not None and shipped.sentence() in out  # the card's held-out figures, printed with the bone age
    assert (tmp_path / "IMG0000035.pdf").is_file()


def test_assess_json_with_a_report_prints_only_json(capsys, tmp_path):
    import json

    assert main(["assess", str(REPO / "assets/samples/IMG0000035.jpg"), "--sex", "F", "--device", "cpu", "--json",
                 "--report", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["sex"] == "female" and "wrote" in captured.err
    assert (tmp_path / "IMG0000035.pdf").is_file()


def test_assess_many_matches_assess_and_keeps_errors_in_place():
    from bone_age.hand.pipeline import Engine
    from bone_age.io import read_film
    from bone_age.io.film import film_from_array

    engine = Engine(device="cpu", gp=False)
    film = read_film(REPO / "assets/samples/IMG0000035.jpg")
    noise = film_from_array(np.random.default_rng(2).random((300, 240)).astype(np.float32))
    many = engine.assess_many([film, noise, film], ["M", "M", None])
    one = engine.assess(film, sex="M")
    from bone_age.errors import MissingSex, NotAHandFilm

    assert isinstance(many[1], NotAHandFilm) and isinstance(many[2], MissingSex)
    assert [s.stage for s in many[0].stages] == [s.stage for s in one.stages]
    assert many[0].total_score == one.total_score


@pytest.mark.skipif(not list_models("polarity"), reason="no shipped polarity model")
def test_a_film_stored_inverted_is_read_right_unless_as_stored(tmp_path, capsys):
    films = _folder_with_hand(tmp_path, "hand.jpg")
    Image.fromarray(255 - np.asarray(Image.open(films / "hand.jpg").convert("L"))).save(films / "hand_negative.png")
    checked, as_stored = _scored_with_and_without(films, tmp_path, "--as-stored")
    assert "grey scale inverted" in checked["hand_negative.png"]["warnings"]
    assert "grey scale inverted" not in checked["hand.jpg"]["warnings"]
    assert checked["hand_negative.png"]["stages"] == checked["hand.jpg"]["stages"] == as_stored["hand.jpg"]["stages"]
    assert "grey scale inverted" not in as_stored["hand_negative.png"]["warnings"]


@pytest.mark.skipif(not list_models("hand_gate"), reason="no shipped hand-film gate")
def test_a_film_the_gate_turns_away_names_the_way_round_it_and_no_hand_check_reads_with_a_warning(tmp_path, capsys):
    films = _folder_with_hand(tmp_path, "hand.jpg")
    shutil.copy(REPO / "assets/samples/IMG0000037.jpg", films / "foot.jpg")  # a foot: the gate turns it away
    checked, unchecked = _scored_with_and_without(films, tmp_path, "--no-hand-check")
    assert checked["foot.jpg"]["status"] == "rejected" and "--no-hand-check" in checked["foot.jpg"]["reason"]
    assert "hand-film check" not in checked["hand.jpg"]["warnings"]
    assert "read without the hand-film check" in unchecked["hand.jpg"]["warnings"]
    assert unchecked["hand.jpg"]["stages"] == checked["hand.jpg"]["stages"]
    foot = unchecked["foot.jpg"]  # the localizer alone decides: read with the warning, or refused on its own grounds
    assert ("read without the hand-film check" in foot["warnings"] if foot["status"] == "scored"
            else "hand-film probability" not in foot["reason"])


def test_score_with_engine_processes_gives_the_rows_of_one_engine(tmp_path):
    """`score --processes 2`: two engine processes, groups scored at once, the same rows (errors included) in the
    same order, and reports still written by the command."""
    films = tmp_path / "films"
    films.mkdir()
    for stem in ("IMG0000035", "IMG0000037", "IMG0000111", "IMG0003712"):
        shutil.copy(REPO / "assets" / "samples" / f"{stem}.jpg", films / f"{stem}.jpg")
    (films / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    rows = []
    for extra in ([], ["--processes", "2", "--reports", str(tmp_path / "rep")]):
        out = tmp_path / f"scored{len(rows)}.csv"
        assert main(["score", str(films), "--out", str(out), "--sex", "F", "--device", "cpu", "--batch", "1"] + extra) == 0
        rows.append([{k: v for k, v in r.items() if k != "time_ms"} for r in csv.DictReader(open(out))])
    assert rows[0] == rows[1] and [r["status"] for r in rows[0]].count("scored") == 3
    assert (tmp_path / "rep" / "IMG0000111.pdf").is_file()
    assert main(["score", str(films), "--out", str(tmp_path / "none.csv"), "--processes", "0"]) != 0
    assert not (tmp_path / "none.csv").exists()
