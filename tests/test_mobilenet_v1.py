import pytest

import lightnets
from lightnets.models.mobilenet_v1 import TABLE_1, TABLE_2, TABLE_6, TABLE_7


def test_table_1_input_sizes_follow_from_the_strides():
    """Each row's input is the previous row's input divided by that row's stride."""
    for previous, row in zip(TABLE_1, TABLE_1[1:]):
        assert row.input_size == previous.input_size // previous.stride, row
    assert TABLE_1[-1].input_size == 7  # what the 7×7 average pool expects


def test_table_1_misprinted_stride_is_corrected_to_1():
    """The paper prints the 7×7×1024 depthwise layer as s2; with s2 the map would shrink to 4×4."""
    last_depthwise = [row for row in TABLE_1 if row.type == "dw"][-1]
    assert last_depthwise.filter_shape == (3, 3, 1024) and last_depthwise.stride == 1


def test_mobilenet_v1_has_timm_mobilenetv1_100_parameter_count():
    assert lightnets.profile(lightnets.create_model("mobilenet_v1")).params == 4_231_976  # timm 'mobilenetv1_100'


def test_mobilenet_v1_table6_and_7_hold_the_printed_figures():
    assert TABLE_6[0.5] == (63.7, 149, 1.3) and TABLE_7[160] == (67.2, 290, 4.2)


@pytest.mark.parametrize("width_mult, paper", list(TABLE_6.items()))
def test_mobilenet_v1_table6_width_multipliers(profile_of, width_mult, paper):
    cost = profile_of("mobilenet_v1", width_mult=width_mult)
    assert cost.macs / 1e6 == pytest.approx(paper.mult_adds_millions, rel=0.01)  # Table 6
    assert round(cost.params / 1e6, 1) == paper.params_millions  # Table 6, 0.1 M precision


@pytest.mark.parametrize("resolution, paper", list(TABLE_7.items()))
def test_mobilenet_v1_table7_resolutions(profile_of, resolution, paper):
    cost = profile_of("mobilenet_v1", resolution=resolution)
    assert cost.macs / 1e6 == pytest.approx(paper.mult_adds_millions, rel=0.01)  # Table 7
    assert round(cost.params / 1e6, 1) == paper.params_millions  # resolution: same parameters


def test_mobilenet_v1_table2_weight_shares_by_layer_type(profile_of):
    cost = profile_of("mobilenet_v1")
    weights = cost.weights_by_type
    for kind, paper in TABLE_2.items():  # Table 2 counts weights only: no biases, no BatchNorm
        assert round(100 * weights[kind] / sum(weights.values()), 2) == paper.params_percent, kind


def test_mobilenet_v1_uses_relu_after_every_layer():
    """§3.1: every layer but the final FC is followed by BatchNorm and ReLU (not ReLU6)."""
    import torch.nn as nn

    model = lightnets.create_model("mobilenet_v1")
    assert sum(isinstance(m, nn.ReLU) for m in model.modules()) == 27
    assert not any(isinstance(m, nn.ReLU6) for m in model.modules())
