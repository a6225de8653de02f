import pytest
from torch import nn

import lightnets
from lightnets.layers import InvertedResidual, SqueezeExcite
from lightnets.layers import make_divisible
from lightnets.models.mnasnet import TABLE_B1, mnasnet_plan


@pytest.mark.parametrize(
    "width_mult, torchvision_depths",
    [  # torchvision.models.mnasnet._get_depths(alpha), torchvision 0.29.1
        (0.5, [16, 8, 16, 24, 40, 48, 96, 160]),
        (0.75, [24, 16, 24, 32, 64, 72, 144, 240]),
        (1.3, [40, 24, 32, 56, 104, 128, 248, 416]),
        (0.25, [8, 8, 8, 16, 24, 24, 48, 80]),
    ],
)
def test_mnasnet_b1_depths_round_to_8_with_a_90_percent_floor(width_mult, torchvision_depths):
    """torchvision's _round_to_multiple_of(·, 8, round_up_bias=0.9), e.g. 0.75·40 = 30 → 32 and 1.3·24 = 31.2 → 32."""
    widths = [row.out_channels for row in TABLE_B1 if isinstance(row.out_channels, int)][:-1]
    assert [make_divisible(channels * width_mult) for channels in widths] == torchvision_depths
    plan = mnasnet_plan(width_mult)  # the plan's default rule is that rounding
    firsts, index = [plan.blocks[0]], 1  # the separable conv, then each stage's first block
    for row in TABLE_B1[2:-2]:
        firsts.append(plan.blocks[index])
        index += row.repeats
    assert [plan.stem_channels, *(b.out_channels for b in firsts)] == torchvision_depths


def test_mnasnet_b1_table_has_16_mbconv_blocks_without_se_and_keeps_1280_at_any_width():
    for width_mult, name in [(1.0, "mnasnet1_0"), (0.5, "mnasnet0_5")]:
        model = lightnets.create_model(name)
        blocks = [m for m in model.modules() if isinstance(m, InvertedResidual)]
        assert len(blocks) == sum(row.repeats for row in TABLE_B1 if row.operator == "MBConv") == 16
        assert not any(isinstance(m, SqueezeExcite) for m in model.modules())  # B1, not Fig. 7's A1
        assert model.classifier[-1].in_features == 1280


def test_mnasnet_b1_kernels_and_expansions_follow_the_table():
    blocks = [m for m in lightnets.create_model("mnasnet1_0").modules() if isinstance(m, InvertedResidual)]
    kernels = [b.block[1][0].kernel_size[0] for b in blocks]
    expansions = [b.block[0][0].out_channels // b.in_channels for b in blocks]
    assert kernels == [3] * 3 + [5] * 3 + [5] * 3 + [3] * 2 + [5] * 4 + [3]
    assert expansions == [3] * 6 + [6] * 10


def test_mnasnet_separable_stem_projects_linearly_and_has_no_shortcut():
    features = lightnets.create_model("mnasnet1_0").features
    depthwise, pointwise = features[1], features[2]
    assert depthwise.groups == 32 and isinstance(depthwise[-1], nn.ReLU)
    assert pointwise.out_channels == 16 and not isinstance(pointwise[-1], nn.ReLU)


def test_mnasnet_batchnorm_momentum_is_tensorflow_decay_0_9997():
    norms = [m for m in lightnets.create_model("mnasnet0_5").modules() if isinstance(m, nn.BatchNorm2d)]
    assert {(m.eps, round(m.momentum, 6)) for m in norms} == {(1e-5, 0.0003)}


def test_mnasnet_rejects_a_dropout_outside_its_range():
    with pytest.raises(ValueError, match="dropout"):
        lightnets.create_model("mnasnet1_0", dropout=-0.1)


def test_mnasnet_rejects_a_width_mult_outside_its_range():
    from lightnets.models.mnasnet import MnasNet

    with pytest.raises(ValueError, match="width_mult"):
        MnasNet(width_mult=0.0)
