import math

import pytest

from ssdlite.config_groups import AnchorConfig
from ssdlite.model.anchors import AnchorGenerator

GRIDS_300 = [(19, 19), (10, 10), (5, 5), (3, 3), (2, 2), (1, 1)]
# ssdlite_mobilenet_v2_coco.config: min_scale, max_scale, aspect_ratios
TF_ANCHORS = AnchorConfig(min_scale=0.2, max_scale=0.95, aspect_ratios=(1.0, 2.0, 0.5, 3.0, 1.0 / 3.0))


def tf_generator() -> AnchorGenerator:
    return AnchorGenerator(TF_ANCHORS)


def test_1917_anchors_at_300():
    generator = tf_generator()
    assert generator.num_anchors_per_location(6) == [3, 6, 6, 6, 6, 6]
    assert generator(GRIDS_300, (300, 300)).shape == (1917, 4)


def test_scales_follow_the_tf_schedule():
    specs = tf_generator().box_specs(6)
    assert specs[0] == [(0.1, 1.0), (0.2, 2.0), (0.2, 0.5)]
    for k in range(1, 6):
        assert [s for s, _ in specs[k][:5]] == pytest.approx([0.2 + 0.15 * k] * 5)
        next_scale = 0.2 + 0.15 * (k + 1) if k < 5 else 1.0
        assert specs[k][5] == pytest.approx((math.sqrt((0.2 + 0.15 * k) * next_scale), 1.0))


def test_anchor_values_worked_by_hand():
    anchors = tf_generator()(GRIDS_300, (300, 300))
    centre = 0.5 / 19 * 300  # 7.8947
    # first cell of the 19x19 map: (scale 0.1, ratio 1) is 30 px square
    assert anchors[0].tolist() == pytest.approx([centre - 15, centre - 15, centre + 15, centre + 15], abs=1e-4)
    # (0.2, ratio 2): w = 0.2 sqrt(2) 300 = 84.85, h = 0.2 / sqrt(2) 300 = 42.43
    assert anchors[1].tolist() == pytest.approx(
        [centre - 42.4264, centre - 21.2132, centre + 42.4264, centre + 21.2132], abs=1e-3
    )
    # second cell of the first row moves right by one stride (300 / 19)
    assert (anchors[3] - anchors[0]).tolist() == pytest.approx([300 / 19, 0, 300 / 19, 0], abs=1e-4)
    # first anchor of the 10x10 map: centre 15, scale 0.35 -> 105 px square
    assert anchors[19 * 19 * 3].tolist() == pytest.approx([-37.5, -37.5, 67.5, 67.5], abs=1e-4)
    # last anchor: the 1x1 map's interpolated box, sqrt(0.95 * 1.0) * 300 = 292.40 px
    half = math.sqrt(0.95) * 150
    assert anchors[-1].tolist() == pytest.approx([150 - half, 150 - half, 150 + half, 150 + half], abs=1e-3)


def test_non_square_input_scales_each_axis():
    anchors = tf_generator()([(1, 2)], (100, 200))
    # one map: scale 0.2 (ratio 1) on a 100 x 200 input is 40 wide and 20 high, centres at x = 50, 150
    assert anchors[0].tolist() == pytest.approx([50 - 10, 50 - 5, 50 + 10, 50 + 5])
    assert anchors.shape == (2 * 3, 4)


def test_bad_settings_raise():
    with pytest.raises(ValueError, match="min_scale"):
        AnchorGenerator(AnchorConfig(min_scale=0.9, max_scale=0.2))
    with pytest.raises(ValueError, match="aspect_ratios"):
        AnchorGenerator(AnchorConfig(aspect_ratios=(1.0, -2.0)))


def test_the_stride8_map_gets_the_small_three_box_set_first():
    generator = AnchorGenerator(TF_ANCHORS, stride8_map=True)  # stride8_anchor_scale 0.1
    specs = generator.box_specs(7)
    assert specs[0] == [(0.05, 1.0), (0.1, 2.0), (0.1, 0.5)]
    assert specs[1:] == tf_generator().box_specs(6)  # the six TF maps as before
    anchors = generator([(38, 38), *GRIDS_300], (300, 300))
    assert anchors.shape == (38 * 38 * 3 + 1917, 4)
    # first cell of the 38x38 map: (0.05, 1) is 15 px square around (3.947, 3.947)
    centre = 0.5 / 38 * 300
    assert anchors[0].tolist() == pytest.approx([centre - 7.5, centre - 7.5, centre + 7.5, centre + 7.5], abs=1e-4)
