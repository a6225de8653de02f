import pytest
import torch
from torch import nn

from lightnets.layers import ConvBNAct, DepthwiseSeparable, InvertedResidual, StochasticDepth, make_divisible


@pytest.mark.parametrize(
    "value, expected",
    [(32 * 0.75, 24), (16 * 0.35, 8), (1280 * 1.4, 1792), (96 * 0.35, 32), (24 * 1.3, 32), (3.9, 8)],
)
def test_make_divisible_rounds_to_nearest_multiple_of_8(value, expected):
    assert make_divisible(value, 8) == expected


def test_make_divisible_never_drops_more_than_ten_percent():
    for value in range(8, 2000):
        rounded = make_divisible(value, 8)
        assert rounded % 8 == 0 and rounded >= 0.9 * value


def test_conv_bn_act_is_conv_then_batchnorm_then_activation_with_same_padding():
    layer = ConvBNAct(8, 16, kernel_size=5, stride=2, activation=nn.ReLU6)
    assert [type(m) for m in layer] == [nn.Conv2d, nn.BatchNorm2d, nn.ReLU6]
    assert layer[0].bias is None and layer[0].padding == (2, 2)
    assert layer(torch.randn(1, 8, 20, 20)).shape == (1, 16, 10, 10)


def test_conv_bn_act_linear_and_norm_free_variants():
    assert [type(m) for m in ConvBNAct(4, 4, 1, activation=None)] == [nn.Conv2d, nn.BatchNorm2d]
    no_norm = ConvBNAct(4, 4, 1, norm=False)
    assert no_norm[0].bias is not None and not any(isinstance(m, nn.BatchNorm2d) for m in no_norm)


def test_depthwise_separable_is_depthwise_3x3_then_pointwise_1x1():
    block = DepthwiseSeparable(32, 64, stride=2)
    depthwise, pointwise = block[0][0], block[1][0]
    assert depthwise.groups == 32 and depthwise.kernel_size == (3, 3) and depthwise.stride == (2, 2)
    assert pointwise.groups == 1 and pointwise.kernel_size == (1, 1)
    assert block(torch.randn(2, 32, 16, 16)).shape == (2, 64, 8, 8)


def test_inverted_residual_shortcut_only_when_shape_is_kept():
    assert InvertedResidual(24, 24, 144, stride=1).use_shortcut
    assert not InvertedResidual(24, 24, 144, stride=2).use_shortcut
    assert not InvertedResidual(24, 32, 144, stride=1).use_shortcut


def test_inverted_residual_projection_is_linear_and_expansion_skipped_at_t1():
    block = InvertedResidual(16, 16, 16)  # t = 1: no expansion layer
    assert len(block.block) == 2
    assert [type(m) for m in block.block[-1]] == [nn.Conv2d, nn.BatchNorm2d]  # no activation


def test_inverted_residual_rejects_unsupported_stride():
    with pytest.raises(ValueError, match="stride"):
        InvertedResidual(8, 8, 16, stride=3)


def test_stochastic_depth_keeps_expectation_and_is_identity_in_eval():
    layer = StochasticDepth(0.25)
    x = torch.ones(20000, 1)
    assert torch.equal(layer.eval()(x), x)
    out = layer.train()(x)
    assert torch.isin(out, torch.tensor([0.0, 1 / 0.75])).all()
    assert out.mean().item() == pytest.approx(1.0, abs=0.03)
    with pytest.raises(ValueError, match="probability p"):
        StochasticDepth(1.0)
