import pytest
import torch
from torch import nn

import lightnets
from lightnets.layers import ChannelShuffle, ShuffleUnitV1, ShuffleUnitV2
from lightnets.models.shufflenet import TABLE_1, TABLE_1_COMPLEXITY, TABLE_5, TABLE_5_FLOPS, TABLE_5_WEIGHTS


# --- ShuffleNet V1: the paper is the only reference -------------------------------------------


@pytest.mark.parametrize("groups, paper_mflops", sorted(TABLE_1_COMPLEXITY.items()))
def test_shufflenet_v1_table1_complexity_per_group_count(profile_of, groups, paper_mflops):
    assert paper_mflops == {1: 143, 2: 140, 3: 137, 4: 133, 8: 137}[groups]  # Table 1, last row
    macs = profile_of("shufflenet_v1", groups=groups).macs
    assert macs / 1e6 == pytest.approx(paper_mflops, rel=0.03)


@pytest.mark.parametrize("groups, stage_channels", [(1, (144, 288, 576)), (2, (200, 400, 800)), (3, (240, 480, 960)),
                                                    (4, (272, 544, 1088)), (8, (384, 768, 1536))])
def test_shufflenet_v1_table1_output_channels_per_group_count(groups, stage_channels):
    model = lightnets.create_model("shufflenet_v1", groups=groups)
    stages = list(model.features[2:])  # after Conv1 and MaxPool
    assert tuple(stage[0].out_channels for stage in stages) == stage_channels
    assert tuple(getattr(row, f"g{groups}") for row in TABLE_1 if row.layer.startswith("Stage")) == stage_channels
    assert [len(stage) for stage in stages] == [4, 8, 4]  # Table 1: 1 + 3, 1 + 7, 1 + 3 units
    assert model.features[0].out_channels == 24 and model.classifier.in_features == stage_channels[-1]


def test_shufflenet_v1_bottleneck_is_a_quarter_of_the_output():
    for unit in lightnets.create_model("shufflenet_v1", groups=8).modules():
        if isinstance(unit, ShuffleUnitV1):
            assert unit.bottleneck_channels == unit.out_channels // 4  # §3.3


def test_shufflenet_v1_stage2_first_pointwise_is_not_grouped():
    """§3.3: no group convolution on Stage 2's first pointwise layer; every other 1×1 is grouped."""
    model = lightnets.create_model("shufflenet_v1", groups=3)
    units = [m for m in model.modules() if isinstance(m, ShuffleUnitV1)]
    first_pointwise = [unit.residual[0][0].groups for unit in units]
    assert first_pointwise == [1] + [3] * (len(units) - 1)
    assert all(unit.residual[3][0].groups == 3 for unit in units)


def test_shufflenet_v1_unit_follows_figure_2():
    """Fig. 2: GConv-BN-ReLU, shuffle, DWConv-BN (no ReLU), GConv-BN; stride 2 concatenates an avg pool."""
    unit = ShuffleUnitV1(240, 480, groups=3, stride=2)
    assert isinstance(unit.residual[1], ChannelShuffle) and unit.residual[1].groups == 3
    assert [type(m) for m in unit.residual[2]] == [nn.Conv2d, nn.BatchNorm2d]  # depthwise: no ReLU
    assert unit.residual[2][0].groups == unit.bottleneck_channels == 120
    assert [type(m) for m in unit.residual[3]] == [nn.Conv2d, nn.BatchNorm2d]
    assert isinstance(unit.shortcut, nn.AvgPool2d) and unit.shortcut.kernel_size == 3
    assert unit.residual[3][0].out_channels == 480 - 240  # concat makes up the rest
    assert unit(torch.randn(1, 240, 14, 14)).shape == (1, 480, 7, 7)


@pytest.mark.parametrize("width_mult, paper_mflops", [(0.5, 38)])
@pytest.mark.parametrize("groups", [1, 2, 3, 4])
def test_shufflenet_v1_table2_half_width_complexity(profile_of, width_mult, paper_mflops, groups):
    """Table 2: ShuffleNet 0.5× costs 38 MFLOPs (for every g; our g = 8 needs a 16-wide stem and costs 40.5)."""
    assert profile_of("shufflenet_v1", groups=groups, width_mult=width_mult).macs / 1e6 == pytest.approx(
        paper_mflops, rel=0.03)


# The authors' released models (github.com/megvii-model/ShuffleNet-Series, ShuffleNetV1/README.md,
# "Results"): width, groups, FLOPs (M), #Params (M). Their FC has no bias (1000 parameters fewer than
# ours). Their FLOPs agree with ours to within 1 M (1.0× g = 3: 138 there, 137.46 here, and 137 in the
# paper's Table 1).
RELEASED_V1 = [(2.0, 3, 524, 5.4), (2.0, 8, 522, 6.5), (1.5, 3, 292, 3.4), (1.5, 8, 290, 4.3),
               (1.0, 3, 138, 1.9), (1.0, 8, 138, 2.4), (0.5, 3, 38, 0.7), (0.5, 8, 40, 1.0)]


@pytest.mark.parametrize("width_mult, groups, mflops, params_millions", RELEASED_V1)
def test_shufflenet_v1_matches_the_authors_released_models(profile_of, width_mult, groups, mflops, params_millions):
    cost = profile_of("shufflenet_v1", groups=groups, width_mult=width_mult)
    assert cost.macs / 1e6 == pytest.approx(mflops, abs=1.0)
    assert round((cost.params - 1000) / 1e6, 1) == params_millions  # less our FC bias


@pytest.mark.slow
def test_shufflenet_v1_widths_keep_every_group_whole():
    for width_mult in (0.25, 0.33, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0):
        for groups in (1, 2, 3, 4, 8):
            model = lightnets.create_model("shufflenet_v1", groups=groups, width_mult=width_mult)
            for unit in (m for m in model.modules() if isinstance(m, ShuffleUnitV1)):
                assert unit.bottleneck_channels % groups == 0
                assert (unit.out_channels - (unit.in_channels if unit.stride == 2 else 0)) % groups == 0


@pytest.mark.parametrize("groups", [0, 5, 6, 3.0, "3"])
def test_shufflenet_v1_rejects_group_counts_outside_table1(groups):
    with pytest.raises(ValueError, match=r"groups must be one of \[1, 2, 3, 4, 8\]"):
        lightnets.create_model("shufflenet_v1", groups=groups)


@pytest.mark.parametrize("width_mult", [0.2, 2.5, 0, float("nan")])
def test_shufflenet_v1_rejects_widths_outside_the_papers_range(width_mult):
    with pytest.raises(ValueError, match=r"width_mult .*\[0.25, 2.0\]"):
        lightnets.create_model("shufflenet_v1", width_mult=width_mult)


# --- ShuffleNet V2: torchvision is the reference ----------------------------------------------

@pytest.mark.parametrize("column", sorted(TABLE_5_FLOPS))
def test_shufflenet_v2_table5_flops_and_weights(profile_of, column):
    """Table 5: 41/146/299/591 MFLOPs and 1.4/2.3/3.5/7.4 M weights. Ours are 1-1.5% below the FLOPs
    (the paper's count evidently includes something more than conv and FC mult-adds)."""
    cost = profile_of(f"shufflenet_v2_{column}")
    assert cost.macs / 1e6 == pytest.approx(TABLE_5_FLOPS[column], rel=0.015)
    assert round(cost.params / 1e6, 1) == TABLE_5_WEIGHTS[column]


def test_shufflenet_v2_table5_output_channels():
    model = lightnets.create_model("shufflenet_v2_x1_0")
    stages = [m for m in model.features if isinstance(m, nn.Sequential) and isinstance(m[0], ShuffleUnitV2)]
    assert [stage[0].out_channels for stage in stages] == [116, 232, 464]  # Table 5, 1×
    assert [len(stage) for stage in stages] == [4, 8, 4]
    assert [r.x1_0 for r in TABLE_5 if r.layer.startswith("Stage")] == [116, 232, 464]
    assert model.num_features == 1024


def test_shufflenet_v2_unit_splits_channels_at_stride_1_and_doubles_at_stride_2():
    unit = ShuffleUnitV2(116, 116, stride=1)
    assert len(unit.branch1) == 0 and unit.branch2[0][0].in_channels == 58  # channel split, Fig. 3c
    assert unit(torch.randn(1, 116, 8, 8)).shape == (1, 116, 8, 8)
    down = ShuffleUnitV2(24, 116, stride=2)  # Fig. 3d
    assert down(torch.randn(1, 24, 8, 8)).shape == (1, 116, 4, 4)


def test_channel_shuffle_interleaves_the_groups():
    x = torch.arange(6.0).view(1, 6, 1, 1)
    assert ChannelShuffle(2)(x).flatten().tolist() == [0, 3, 1, 4, 2, 5]
    assert ChannelShuffle(3)(x).flatten().tolist() == [0, 2, 4, 1, 3, 5]
    with pytest.raises(ValueError, match="groups"):
        ChannelShuffle(0)


# --- both ------------------------------------------------------------------------------------
