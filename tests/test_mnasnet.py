import pytest
import torch
from torch import nn

import lightnets
from lightnets.layers import InvertedResidual, SqueezeExcite
from lightnets.models.mnasnet import TABLE_B1, scaled_depth

# torchvision MNASNet*_Weights.IMAGENET1K_V1.meta: "num_params" and "_ops" (GMACs at 224 px)
TORCHVISION = {
    "mnasnet0_5": (2_218_512, 0.104),
    "mnasnet0_75": (3_170_208, 0.215),
    "mnasnet1_0": (4_383_312, 0.314),
    "mnasnet1_3": (6_282_256, 0.526),
}


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_mnasnet_has_torchvision_parameter_count(name):
    assert lightnets.profile(lightnets.create_model(name)).params == TORCHVISION[name][0]


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_mnasnet_macs_match_torchvision_published_gflops(profile_of, name):
    assert round(profile_of(name).macs / 1e9, 3) == TORCHVISION[name][1]


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
    assert [scaled_depth(channels, width_mult) for channels in widths] == torchvision_depths


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


def test_mnasnet_min_resolution_is_the_total_stride_and_any_num_classes_works():
    model = lightnets.create_model("mnasnet0_5", num_classes=3)
    assert model.min_resolution == 32
    for mode in (model.train, model.eval):
        mode()
        assert model(torch.randn(2, 3, 40, 32)).shape == (2, 3)
    with pytest.raises(ValueError, match=">= 32 px"):
        model(torch.randn(1, 3, 16, 16))


def test_mnasnet_summarises_with_torchinfo():
    torchinfo = pytest.importorskip("torchinfo")
    stats = torchinfo.summary(lightnets.create_model("mnasnet0_5"), input_size=(1, 3, 64, 64), verbose=0)
    assert stats.total_params == 2_218_512
