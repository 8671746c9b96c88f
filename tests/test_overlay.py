"""Region overlays: a stage's colour, labels raised clear of each other, and a mask's outline."""
import numpy as np

from bone_age.hand.results import BoneStage
from bone_age.overlay import STAGE_COLORS, raise_clear, stage_color


def _overlap(p, q) -> bool:
    return p[0] < q[0] + q[2] and q[0] < p[0] + p[2] and p[1] < q[1] + q[3] and q[1] < p[1] + p[3]


def test_labels_are_raised_clear_of_those_before_them():
    radius, ulna, apart = (100, 50, 80, 20), (60, 52, 60, 20), (400, 50, 80, 20)
    placed = raise_clear([radius, ulna, apart, (90, 49, 30, 20)])
    assert placed[0] == radius and placed[2] == apart  # nothing in the way: left where asked
    assert placed[1][:1] == (60,) and placed[1][1] < 30  # above the radius label
    assert not any(_overlap(p, q) for i, p in enumerate(placed) for q in placed[i + 1:])


def test_stage_colours():
    def stage(**kw):
        return BoneStage(bone="Radius", category="Radius", stage=3, probabilities=(0.1,), confidence=0.9, points=40, **kw)

    assert stage_color(stage()) == STAGE_COLORS["model"]
    assert stage_color(stage(low_confidence=True)) == STAGE_COLORS["low_confidence"]
    assert stage_color(stage(low_confidence=True, overridden=True)) == STAGE_COLORS["set_by_hand"]


def test_largest_outline_keeps_the_bigger_part_and_is_empty_without_one():
    from bone_age.outline import largest_outline

    mask = np.zeros((40, 60), bool)
    mask[5:10, 5:10] = True
    mask[20:35, 30:55] = True
    xy = largest_outline(mask)
    assert (xy[:, 0].min(), xy[:, 0].max(), xy[:, 1].min(), xy[:, 1].max()) == (30, 54, 20, 34)
    assert largest_outline(np.zeros((8, 8), bool)).shape == (0, 2)
