import pytest
import torch

import lightnets
from lightnets.models.mobilenet_v1 import (TABLE_1, TABLE_2, TABLE_4, TABLE_5, TABLE_6, TABLE_7,
                                           TABLE_8, TABLE_9, full_conv_mobilenet_v1, paper_top1,
                                           shallow_mobilenet_v1)


def test_table_1_input_sizes_follow_from_the_strides():
    """Each row's input is the previous row's input divided by that row's stride."""
    for previous, row in zip(TABLE_1, TABLE_1[1:]):
        assert row.input_size == previous.input_size // previous.stride, row
    assert TABLE_1[-1].input_size == 7  # what the 7×7 average pool expects


def test_table_1_misprinted_stride_is_corrected_to_1():
    """The paper prints the 7×7×1024 depthwise layer as s2; with s2 the map would shrink to 4×4."""
    last_depthwise = [row for row in TABLE_1 if row.type == "dw"][-1]
    assert last_depthwise.filter_shape == (3, 3, 1024) and last_depthwise.stride == 1


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
    """§3.2: every layer but the final FC is followed by BatchNorm and ReLU (not ReLU6)."""
    import torch.nn as nn

    model = lightnets.create_model("mobilenet_v1")
    assert sum(isinstance(m, nn.ReLU) for m in model.modules()) == 27
    assert not any(isinstance(m, nn.ReLU6) for m in model.modules())


def test_mobilenet_v1_tables_4_5_8_9_hold_the_printed_figures():
    assert TABLE_4["Conv MobileNet"] == (71.7, 4866, 29.3) and TABLE_4["MobileNet"] == TABLE_6[1.0]
    assert TABLE_5 == {"0.75 MobileNet": TABLE_6[0.75], "Shallow MobileNet": (65.3, 307, 2.9)}
    assert TABLE_8["VGG 16"] == (71.5, 15300, 138) and TABLE_8["GoogleNet"] == (69.8, 1550, 6.8)
    assert TABLE_9["0.50 MobileNet-160"] == (60.2, 76, 1.32)


def test_mobilenet_v1_table4_full_convolution_variant_costs_4866m_and_29_3m_params():
    cost = lightnets.profile(full_conv_mobilenet_v1())
    assert cost.macs / 1e6 == pytest.approx(4866, rel=0.001)  # ours 4867.3 M
    assert round(cost.params / 1e6, 1) == 29.3


def test_mobilenet_v1_table5_shallow_variant_costs_307m_and_2_9m_params():
    cost = lightnets.profile(shallow_mobilenet_v1())
    assert round(cost.macs / 1e6) == 307 and round(cost.params / 1e6, 1) == 2.9
    assert shallow_mobilenet_v1().eval()(torch.zeros(1, 3, 224, 224)).shape == (1, 1000)


def test_mobilenet_v1_table9_half_width_at_160px_costs_76m(profile_of):
    cost = profile_of("mobilenet_v1", width_mult=0.5, resolution=160)
    assert int(cost.macs / 1e6) == 76  # the paper truncates, as Table 7's 290 M (ours 290.7 M)


def test_paper_top1_only_where_the_paper_prints_one():
    assert paper_top1(0.25, 224) == (50.6, "Table 6") and paper_top1(1.0, 192) == (69.1, "Table 7")
    assert paper_top1(0.5, 160) == (60.2, "Table 9")
    assert paper_top1(0.75, 192) is None and paper_top1(0.5, 128) is None
