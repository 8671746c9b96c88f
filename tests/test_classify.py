"""Test-time views of the one-logit classifiers: the eight dihedral views, the logit averaged over them, and the
logit map (class activation map) turned back from each view."""
import numpy as np
import torch

from bone_age.classify import predict_logit_map, predict_logits
from bone_age.nets import ImageClassifier
from bone_age.transforms import dihedral, undo_dihedral


def test_the_eight_views_are_distinct_turns_and_mirrors():
    img = np.arange(16, dtype=np.float32).reshape(4, 4)
    views = [dihedral(img, k) for k in range(8)]
    assert np.array_equal(views[0], img) and np.array_equal(views[1], img[:, ::-1])
    assert np.array_equal(views[2], np.rot90(img))
    assert len({v.tobytes() for v in views}) == 8
    assert all(sorted(v.ravel()) == sorted(img.ravel()) for v in views)
    batch = np.stack([img, img + 100])
    assert np.array_equal(dihedral(batch, 5)[1], dihedral(img + 100, 5))
    assert all(np.array_equal(undo_dihedral(dihedral(batch, k), k), batch) for k in range(8))


class _LeftBright(torch.nn.Module):
    """Logit = mean of the left half minus mean of the right half (first channel): flips sign under a mirror."""

    def forward(self, x):
        w = x.shape[-1] // 2
        return (x[:, 0, :, :w].mean((1, 2)) - x[:, 0, :, w:].mean((1, 2)))[:, None]


def test_logits_are_averaged_over_the_views():
    rng = np.random.default_rng(0)
    images = rng.random((3, 8, 8)).astype(np.float32)
    one = predict_logits(_LeftBright(), images, "cpu", batch=2)
    assert np.all(np.abs(one) > 0)
    np.testing.assert_allclose(predict_logits(_LeftBright(), images, "cpu", views=2), 0, atol=1e-6)
    mirrored = predict_logits(_LeftBright(), images[..., ::-1].copy(), "cpu")
    np.testing.assert_allclose(mirrored, -one, atol=1e-6)


class _PooledMap(torch.nn.Module):
    """Logit map = the first channel average-pooled 4 x 4: a map that turns and mirrors with the image."""

    def logit_map(self, x):
        return torch.nn.functional.avg_pool2d(x[:, :1], 4)


def test_logit_maps_are_turned_back_before_averaging():
    rng = np.random.default_rng(1)
    img = rng.random((16, 16)).astype(np.float32)
    one = predict_logit_map(_PooledMap(), img, "cpu")
    assert one.shape == (4, 4) and np.ptp(one) > 0
    np.testing.assert_allclose(predict_logit_map(_PooledMap(), img, "cpu", views=8), one, atol=1e-6)


def test_the_classifier_logit_map_averages_to_its_logit():
    torch.manual_seed(0)
    model = ImageClassifier(1).eval()
    img = np.random.default_rng(2).random((64, 64)).astype(np.float32)
    m = predict_logit_map(model, img, "cpu", views=8)
    assert m.shape == (2, 2) and np.ptp(m) > 0
    np.testing.assert_allclose(m.mean(), predict_logits(model, img[None], "cpu", views=8)[0], rtol=1e-4, atol=1e-5)
