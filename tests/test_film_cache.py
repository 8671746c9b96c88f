import json
import logging
from types import SimpleNamespace

from bone_age.training.film_cache import FilmCache, localizer_identity


def _localizer(sha, gate_sha=None, upright=20.0, search="turns"):
    gate = SimpleNamespace(model=SimpleNamespace(name="gate", sha256=gate_sha)) if gate_sha else None
    return SimpleNamespace(model=SimpleNamespace(name="loc", sha256=sha), gate=gate, UPRIGHT_DEG=upright, TWO_HANDS_ASPECT=1.5,
                           SEARCH=search)


def test_entries_are_kept_and_reused_only_for_the_same_weights(tmp_path, caplog):
    path, calls = tmp_path / "sub" / "cache.json", []

    def make(v):
        return lambda: calls.append(v) or v

    made_by = localizer_identity(_localizer("s1", "g1"))
    cache = FilmCache(path, made_by)
    assert cache.get("a.png", make(1)) == 1 and cache.get("a.png", make(2)) == 1 and calls == [1]
    cache.save()
    assert FilmCache(path, made_by).get("a.png", make(3)) == 1 and calls == [1]  # read back, not made again
    for other in (_localizer("s2", "g1"), _localizer("s1", "g2"), _localizer("s1"), _localizer("s1", "g1", upright=30.0),
                  _localizer("s1", "g1", search="turns, closer")):
        with caplog.at_level(logging.WARNING):
            assert FilmCache(path, localizer_identity(other)).get("a.png", make(4)) == 4
        assert "not reused" in caplog.text
    path.write_text(json.dumps({"a.png": 1}))  # a cache written before the weights were recorded
    assert FilmCache(path, made_by).get("a.png", make(5)) == 5


def test_no_path_means_no_file(tmp_path):
    cache = FilmCache(None, "x")
    assert cache.get("k", lambda: 7) == 7
    cache.save()
    assert not list(tmp_path.iterdir())
