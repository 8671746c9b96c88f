from collections import Counter

from bone_age.training.splits import split_of


def test_split_is_fixed_and_roughly_proportional():
    ids = [str(i) for i in range(1000, 6000)]
    first = [split_of(i) for i in ids]
    assert first == [split_of(i) for i in ids]
    c = Counter(first)
    assert 0.07 < c["test"] / len(ids) < 0.13 and 0.07 < c["val"] / len(ids) < 0.13
