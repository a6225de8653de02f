import pytest
from torch import nn

import lightnets
from lightnets.layers import InvertedResidual
from lightnets.models.mobilenet_v2 import TABLE_2


def test_mobilenet_v2_macs_match_torchvision_published_gflops(profile_of):
    assert round(profile_of("mobilenet_v2").macs / 1e9, 3) == 0.301  # torchvision _ops "GFLOPS" (GMACs)


def test_mobilenet_v2_table2_has_17_bottlenecks_with_the_table_widths():
    model = lightnets.create_model("mobilenet_v2")
    blocks = [m for m in model.features if isinstance(m, InvertedResidual)]
    assert len(blocks) == sum(row.repeats for row in TABLE_2 if row.operator == "bottleneck") == 17
    widths = [b.out_channels for b in blocks]
    assert widths == [16, 24, 24, 32, 32, 32, 64, 64, 64, 64, 96, 96, 96, 160, 160, 160, 320]


def test_mobilenet_v2_paper_300_million_mult_adds(profile_of):
    assert profile_of("mobilenet_v2").macs / 1e6 == pytest.approx(300, rel=0.01)  # Table 4: 300 M, 3.4 M params


def test_mobilenet_v2_width_multiplier_keeps_last_conv_at_1280_unless_widened():
    assert lightnets.create_model("mobilenet_v2", width_mult=0.5).num_features == 1280
    assert lightnets.create_model("mobilenet_v2", width_mult=1.4).num_features == 1792


def test_mobilenet_v2_uses_relu6_and_linear_projections():
    model = lightnets.create_model("mobilenet_v2")
    assert not any(isinstance(m, nn.ReLU) for m in model.modules())
    for block in (m for m in model.modules() if isinstance(m, InvertedResidual)):
        assert not isinstance(block.block[-1][-1], nn.ReLU6)
