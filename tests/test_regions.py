import numpy as np
import pytest

from bone_age.hand.localize import Localizer, _unrotate
from bone_age.hand.regions import RotatedRect, crop_region, load_region_rule
from bone_age.hand.standard import load_standard
from bone_age.training.landmarks import FINGERS, KEYPOINTS


def synthetic_hand(scale: float = 100.0, angle_deg: float = 0.0, origin=(400.0, 700.0)) -> dict:
    """An upright left hand (PA view, thumb on the image's right): wrist at the bottom, fingers up."""
    xs = {"pinky_finger": -1.5, "ring_finger": -0.5, "middle_finger": 0.5, "forefinger": 1.5}
    pts = {"radius": (0.8, 0.3), "ulna": (-0.8, 0.3)}
    for f, x in xs.items():
        for j, y in zip(("base", "mcp", "pip", "dip", "tip"), (-0.6, -2.5, -3.6, -4.3, -4.9)):
            pts[f"{f}_{j}"] = (x, y)
    for j, (x, y) in zip(("cmc", "mcp", "ip", "tip"), ((1.6, -0.6), (2.4, -1.6), (2.9, -2.4), (3.3, -3.0))):
        pts[f"thumb_{j}"] = (x, y)
    a = np.deg2rad(angle_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    out = {}
    for k, (x, y) in pts.items():
        p = rot @ (np.array([x, y]) * scale) + np.array(origin)
        out[k] = (float(p[0]), float(p[1]), 0.9)
    assert set(out) == set(KEYPOINTS) and len(FINGERS) == 5
    return out


def test_rule_gives_13_regions_in_standard_order():
    regions = load_region_rule().regions(synthetic_hand())
    assert [r.bone for r in regions] == list(load_standard().bones)
    for r in regions:
        x1, y1, x2, y2 = r.box_xyxy
        assert x1 < r.center_xy[0] < x2 and y1 < r.center_xy[1] < y2
        assert r.crop_side_px >= max(r.size_wh) and r.confidence == pytest.approx(0.9)


@pytest.mark.parametrize("angle", [0.0, 30.0, -75.0, 180.0])
def test_growth_keypoint_inside_crop_at_any_rotation(angle):
    rule = load_region_rule()
    kps = synthetic_hand(angle_deg=angle)
    for r in rule.regions(kps):
        gx, gy, _ = kps[rule.bones[r.bone]["growth"]]
        a = np.deg2rad(r.angle_deg)
        d = np.array([gx, gy]) - np.array(r.center_xy)
        along = d @ np.array([np.sin(a), -np.cos(a)])
        across = d @ np.array([np.cos(a), np.sin(a)])
        assert max(abs(along), abs(across)) < r.crop_side_px / 2, r.bone


def test_regions_scale_with_the_hand():
    rule = load_region_rule()
    small = rule.regions(synthetic_hand(scale=50))
    big = rule.regions(synthetic_hand(scale=100))
    for s, b in zip(small, big):
        assert b.crop_side_px == pytest.approx(2 * s.crop_side_px, rel=1e-6)


def test_rotated_rect_box_and_angle():
    r = RotatedRect((50.0, 50.0), length=40.0, width=10.0, angle_deg=90.0)  # bone lying horizontally
    x1, y1, x2, y2 = r.box_xyxy()
    assert (x2 - x1, y2 - y1) == pytest.approx((40.0, 10.0))


def test_crop_is_distal_end_up_and_mirrors():
    img = np.zeros((200, 200), np.float32)
    img[40:60, 95:105] = 1.0  # bright "distal end" above the centre
    from dataclasses import replace

    from bone_age.hand.results import Region

    # centre on the pixel grid's centre so that a quarter turn of the film maps pixels exactly
    region = Region("X", "X", (90, 40, 110, 160), (99.5, 99.5), 1.0, angle_deg=0.0, size_wh=(20.0, 100.0), crop_side_px=120.0)
    crop = crop_region(img, region, 60)
    assert crop[:30].sum() > 0 and crop[30:].sum() == 0
    turned = crop_region(np.rot90(img, -1).copy(), replace(region, angle_deg=90.0), 60)  # distal end now points right
    np.testing.assert_allclose(turned, crop, atol=1e-5)
    mirrored = crop_region(img, region, 60, mirror=True)
    np.testing.assert_allclose(mirrored, crop[:, ::-1])


def test_a_large_box_is_area_averaged_where_it_would_alias_and_keeps_its_place():
    from bone_age.transforms import crop_rotated

    yy, xx = np.mgrid[0:1200, 0:1000].astype(np.float32)
    checker = ((xx + yy) % 2).astype(np.float32)  # detail finer than the crop can hold: it must average to grey
    assert crop_rotated(checker, (500.0, 600.0), (400.0, 400.0), 17.0, (80, 80)).std() < 0.02
    smooth = lambda x, y: 0.5 + 0.4 * np.sin(x / 60.0) * np.cos(y / 45.0)
    c, side, angle = (500.3, 600.7), 400.0, -30.0
    crop = crop_rotated(smooth(xx, yy).astype(np.float32), c, (side, side), angle, (80, 80))
    u, v = np.meshgrid(np.arange(80) - 40.0, np.arange(80) - 40.0)
    a, k = np.deg2rad(angle), side / 80
    film_x, film_y = c[0] + k * (np.cos(a) * u - np.sin(a) * v), c[1] + k * (np.sin(a) * u + np.cos(a) * v)
    np.testing.assert_allclose(crop, smooth(film_x, film_y), atol=0.01)  # the same place of the film, turned the same way


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_unrotate_maps_points_back(k):
    img = np.zeros((30, 50))
    img[7, 41] = 1
    r = np.rot90(img, k)
    y, x = np.argwhere(r == 1)[0]
    back = _unrotate(np.array([[x, y]], float), k, img.shape)
    assert tuple(back[0]) == (41, 7)


def test_layout_check():
    ok, _ = Localizer._layout(synthetic_hand())
    assert ok
    collapsed = {k: (10.0, 10.0, 0.9) for k in KEYPOINTS}
    assert not Localizer._layout(collapsed)[0]
    shuffled = synthetic_hand()
    shuffled["middle_finger_pip"], shuffled["middle_finger_tip"] = shuffled["middle_finger_tip"], shuffled["middle_finger_pip"]
    assert not Localizer._layout(shuffled)[0]


def test_side_of_a_left_and_a_mirrored_hand():
    left = synthetic_hand()
    assert Localizer._side(left) == "left"
    right = {k: (800 - x, y, c) for k, (x, y, c) in left.items()}
    assert Localizer._side(right) == "right"
    assert Localizer._side(synthetic_hand(angle_deg=180)) == "left"
