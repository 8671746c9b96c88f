import json

import pytest

from bone_age._resources import assets_dir
from bone_age.hand.standard import load_standard, parse_sex

STD = load_standard()
# stages (1-based) in the standard's bone order: Radius, Ulna, MCPFirst, MCPThird, MCPFifth, PIPFirst, PIPThird,
# PIPFifth, MIPThird, MIPFifth, DIPFirst, DIPThird, DIPFifth
STAGES = [8, 6, 6, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6]


def test_hand_computed_female():
    # points: 125+95+28+14+15+26+20+21+21+23+31+24+25 = 468 -> table row 10.1 y (463..473)
    r = STD.score("F", dict(zip(STD.bones, STAGES)))
    assert [b.points for b in r.bones] == [125, 95, 28, 14, 15, 26, 20, 21, 21, 23, 31, 24, 25]
    assert r.total_score == 468
    assert r.bone_age_years == pytest.approx(10.1)
    assert r.range_flag == "within"


def test_hand_computed_male():
    # points: 118+80+26+13+14+23+19+19+18+21+28+23+23 = 425 -> table row 12.1 y (415..427)
    r = STD.score("male", dict(zip(STD.bones, STAGES)))
    assert r.total_score == 425
    assert r.bone_age_years == pytest.approx(12.1)


@pytest.mark.parametrize("sex", ["female", "male"])
def test_min_and_max_totals_flag_the_range(sex):
    lo = STD.score(sex, {b: 1 for b in STD.bones})
    hi = STD.score(sex, {b: STD.n_stages(b) for b in STD.bones})
    assert hi.total_score == 1000
    assert lo.total_score == sum(STD.points[sex][b][0] for b in STD.bones)
    assert lo.range_flag == "below" and hi.range_flag == "above"
    assert lo.bone_age_text.startswith("<=") and hi.bone_age_text.startswith(">=")
    assert STD.age_bounds(sex) == (lo.bone_age_years, hi.bone_age_years)


def test_age_bounds_are_the_published_ends():
    # lowest totals 82 (girls) and 69 (boys) fall in the table rows 2.2 y and 3.6 y; 1000 in 17.0 y and 18.0 y
    assert STD.age_bounds("F") == (2.2, 17.0)
    assert STD.age_bounds("M") == (3.6, 18.0)


@pytest.mark.parametrize("sex", ["female", "male"])
def test_age_never_falls_as_score_rises(sex):
    ages = [STD.age_for_score(sex, s)[0] for s in range(0, 1001)]
    assert all(b >= a for a, b in zip(ages, ages[1:]))
    assert ages[-1] > ages[0] + 10


@pytest.mark.parametrize("sex", ["female", "male"])
def test_score_for_age_inverts_the_table(sex):
    for age in (4.0, 8.0, 12.0, 14.5):
        s = STD.score_for_age(sex, age)
        assert abs(STD.age_for_score(sex, s)[0] - age) <= 0.2


def test_every_category_stage_count_matches_point_table():
    raw = json.loads((assets_dir() / "standards" / "rus_chn.json").read_text())
    for sex in ("female", "male"):
        for cat, bones in raw["categories"].items():
            for bone in bones:
                assert len(raw["points"][sex][bone]) == raw["stages_per_category"][cat], (sex, bone)
    assert len(STD.bones) == 13 and len(STD.categories) == 9


def test_errors_name_the_bone():
    stages = dict(zip(STD.bones, STAGES))
    with pytest.raises(ValueError, match="Radius"):
        STD.score("F", {**stages, "Radius": 15})
    with pytest.raises(ValueError, match="DIPFifth"):
        STD.score("F", {k: v for k, v in stages.items() if k != "DIPFifth"})
    with pytest.raises(ValueError, match="Hamate"):
        STD.score("F", {**stages, "Hamate": 3})
    with pytest.raises(ValueError, match="unknown sex"):
        STD.score("X", stages)
    with pytest.raises(ValueError, match="MCPThird"):
        STD.score("M", {**stages, "MCPThird": 0})


def test_overridden_bones_are_marked():
    r = STD.score("F", dict(zip(STD.bones, STAGES)), overridden={"Ulna"})
    assert [b.bone for b in r.bones if b.overridden] == ["Ulna"]


def test_parse_sex():
    assert parse_sex("F") == parse_sex("Female") == "female"
    assert parse_sex(" m ") == "male"
    with pytest.raises(ValueError):
        parse_sex(None)


def test_result_json_round_trip():
    r = STD.score("F", dict(zip(STD.bones, STAGES)))
    back = type(r).from_json(r.to_json())
    assert back == r


def test_paired_categories_are_fingers_three_and_five():
    assert load_standard().paired == {c: (f"{c}Third", f"{c}Fifth") for c in ("MCP", "PIP", "MIP", "DIP")}
