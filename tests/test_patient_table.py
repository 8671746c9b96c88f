"""The batch's patient table: columns found by name, values checked with the line named, ages in years."""
from pathlib import Path

import pytest

from bone_age.hand.patient_table import Patient, films_without_row, patient_for, read_patient_table


def _csv(tmp_path, text: str) -> Path:
    path = tmp_path / "patients.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_sex_and_age_by_file_name_and_stem(tmp_path):
    table = read_patient_table(_csv(tmp_path, "\ufeffFile,Sex,Age_Months\nscans/a.png,F,30\nb,m,\nc.dcm,,126\n"))
    assert patient_for(table, Path("x/a.png")) == Patient("female", 2.5)
    assert patient_for(table, Path("b.jpg")) == Patient("male", None)
    assert patient_for(table, Path("c.dcm")) == Patient(None, 10.5)
    assert patient_for(table, Path("d.png")) == Patient()
    assert films_without_row(table, [Path("x/a.png"), Path("b.jpg"), Path("d.png")]) == [Path("d.png")]


def test_male_flag_and_age_in_years(tmp_path):
    table = read_patient_table(_csv(tmp_path, "id,male,chronological_age\n1,True,7.25\n2,0,12\n"))
    assert table["1"] == Patient("male", 7.25) and table["2"] == Patient("female", 12.0)


@pytest.mark.parametrize("text, message", [
    ("id,sex\n1,F\n2,X\n", "line 3: unknown sex 'X'"),
    ("id,male\n1,yes\n", "line 2: male must be true or false"),
    ("id,age\n1,seven\n", "line 2: age 'seven' is not a number"),
    ("id,age\n1,-1\n", "line 2: age '-1' is out of range"),
    ("id,age\n1,nan\n", "line 2: age 'nan' is out of range"),
    ("file,sex\na.png,F\na.png,M\n", "line 3: a.png is named twice"),
    ("file,sex\n,F\n", "line 2: no film named"),
    ("file,weight\na.png,20\n", "needs a film column"),
    ("sex,age\nF,3\n", "needs a film column"),
])
def test_a_bad_table_is_refused_with_the_line(tmp_path, text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        read_patient_table(_csv(tmp_path, text))
