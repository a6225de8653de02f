"""EfficientNet-Lite: B0's plan bent for phones (tensorflow/tpu, models/official/efficientnet/lite),
and TensorFlow's "SAME" padding that its weights need. Counts and outputs against timm's
tf_efficientnet_lite* are checked in tests/test_references.py (golden files)."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import lightnets
from lightnets.layers import ConvBNAct, InvertedResidual, SqueezeExcite, TFSamePad, tf_same_padding
from lightnets.models import efficientnet as en

LITE = [f"efficientnet_lite{i}" for i in range(5)]


def test_lite_variants_are_the_official_width_depth_resolution_and_dropout():
    # efficientnet_lite_builder.py, efficientnet_lite_params
    official = {"lite0": (1.0, 1.0, 224, 0.2), "lite1": (1.0, 1.1, 240, 0.2),
                "lite2": (1.1, 1.2, 260, 0.3), "lite3": (1.2, 1.4, 280, 0.3),
                "lite4": (1.4, 1.8, 300, 0.3)}
    assert {k: v[:4] for k, v in en.LITE_VARIANTS.items()} == official
    assert all((v.bn_eps, v.bn_momentum) == (1e-3, 0.01) for v in en.LITE_VARIANTS.values())


@pytest.mark.parametrize("variant", sorted(en.LITE_VARIANTS))
def test_lite_plan_fixes_stem_head_and_the_first_and_last_repeats(variant):
    config = en.LITE_VARIANTS[variant]
    plan = en.efficientnet_lite_plan(config.width_mult, config.depth_mult)
    scaled = en.efficientnet_plan(config.width_mult, config.depth_mult)
    assert (plan.stem_channels, plan.head_channels) == (32, 1280)
    stages = [block.stage for block in plan.blocks]
    assert stages.count(2) == 1 and stages.count(8) == 1  # Table 1's first and last MBConv stages
    for stage in range(3, 8):  # the others scale as B-models do
        assert stages.count(stage) == [b.stage for b in scaled.blocks].count(stage)
    assert all(block.squeeze_channels is None for block in plan.blocks)
    assert (plan.activation, plan.padding) == ("relu6", "same_tf")
    model = lightnets.create_model(f"efficientnet_{variant}")
    assert (model.width_mult, model.depth_mult, model.plan) == (config.width_mult,
                                                                config.depth_mult, plan)


def test_lite4_has_fewer_blocks_than_the_same_scaling_of_b0():
    # depth 1.8: ceil(1.8) = 2 blocks for each of the two single-block stages, which Lite keeps at 1
    lite = en.efficientnet_lite_plan(1.4, 1.8)
    full = en.efficientnet_plan(1.4, 1.8)
    assert len(full.blocks) - len(lite.blocks) == 2


def test_lite0_is_b0_without_se_with_relu6_and_the_same_widths():
    lite = lightnets.create_model("efficientnet_lite0")
    b0 = lightnets.create_model("efficientnet_b0")
    assert not any(isinstance(m, SqueezeExcite) for m in lite.modules())
    assert not any(isinstance(m, nn.SiLU) for m in lite.modules())
    assert any(isinstance(m, nn.ReLU6) for m in lite.modules())
    widths = [(b.in_channels, b.out_channels, b.stride) for b in lite.modules()
              if isinstance(b, InvertedResidual)]
    assert widths == [(b.in_channels, b.out_channels, b.stride) for b in b0.modules()
                      if isinstance(b, InvertedResidual)]
    bn = next(m for m in lite.modules() if isinstance(m, nn.BatchNorm2d))
    assert (bn.eps, bn.momentum) == (1e-3, 0.01)


def test_b_models_keep_their_state_dict_names():
    # TF padding is Lite's option only: B0's stem conv stays child 0, so torchvision's weights load.
    b0 = lightnets.create_model("efficientnet_b0")
    keys = b0.state_dict()
    assert "features.0.0.weight" in keys and "features.1.0.block.0.0.weight" in keys
    assert not any(isinstance(m, TFSamePad) for m in b0.modules())


@pytest.mark.parametrize("variant", sorted(en.LITE_TABLE))
def test_lite_readme_params_within_rounding_of_ours(variant):
    # The README prints parameters to 0.1 M; ours equal timm's exactly (golden files).
    model = lightnets.create_model(f"efficientnet_{variant}")
    params = sum(p.numel() for p in model.parameters())
    assert round(params / 1e6, 1) == en.LITE_TABLE[variant].params_millions


def test_lite_readme_table_int8_loses_at_most_1_3_points_of_top1():
    drops = [row.top1_fp32 - row.top1_int8 for row in en.LITE_TABLE.values()]
    assert all(0 < drop <= 1.3 for drop in drops) and en.LITE_TABLE["lite4"].edgetpu_int8_ms is None


# TensorFlow's SAME: out = ceil(in / s), total pad = max((out - 1)·s + k - in, 0), the extra
# pixel after. Worked by hand: 224 px, k3 s2 → out 112, total 1 → (0, 1).
@pytest.mark.parametrize("side, kernel, stride, pads", [
    (224, 3, 2, (0, 1)), (225, 3, 2, (1, 1)), (112, 5, 2, (1, 2)), (113, 5, 2, (2, 2)),
    (56, 3, 1, (1, 1)), (56, 5, 1, (2, 2)), (7, 1, 1, (0, 0)), (1, 3, 2, (1, 1)),
])
def test_tf_same_padding_matches_tensorflows_rule(side, kernel, stride, pads):
    assert tf_same_padding(side, side, kernel, stride) == pads * 2


def test_tf_same_padding_pads_height_and_width_separately():
    assert tf_same_padding(224, 225, 3, 2) == (1, 1, 0, 1)  # (left, right, top, bottom)


def test_convbnact_same_tf_is_a_zero_padded_conv_with_the_extra_pixel_at_the_end():
    layer = ConvBNAct(3, 4, 3, 2, padding="same_tf", norm=False, activation=None).eval()
    assert isinstance(layer[0], TFSamePad) and layer[1].padding == (0, 0)
    x = torch.randn(1, 3, 10, 10)
    expected = F.conv2d(F.pad(x, (0, 1, 0, 1)), layer[1].weight, layer[1].bias, stride=2)
    assert torch.equal(layer(x), expected)
    # PyTorch's symmetric padding would sample a different grid: the outputs differ.
    assert not torch.allclose(F.conv2d(x, layer[1].weight, layer[1].bias, 2, 1), expected)


def test_convbnact_same_tf_one_by_one_has_no_pad_module():
    layer = ConvBNAct(8, 4, 1, padding="same_tf")
    assert isinstance(layer[0], nn.Conv2d) and not any(isinstance(m, TFSamePad) for m in layer)


@pytest.mark.parametrize("padding", ["same", "valid", "SAME"])
def test_convbnact_refuses_other_padding_names(padding):
    with pytest.raises(ValueError, match="padding must be an int, None or 'same_tf'"):
        ConvBNAct(3, 4, 3, padding=padding)


def test_inverted_residual_refuses_an_unknown_padding():
    with pytest.raises(ValueError, match="padding"):
        InvertedResidual(8, 8, 16, padding="reflect")


@pytest.mark.parametrize("side", [224, 225, 97])
def test_lite_runs_at_odd_and_even_sides(side):
    model = lightnets.create_model("efficientnet_lite0").eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, side, side)).shape == (1, 1000)


@pytest.mark.parametrize("kwargs, message", [
    (dict(activation="gelu"), "activation must be one of"),
    (dict(padding="reflect"), "padding must be one of"),
    (dict(squeeze_excite=1), "squeeze_excite must be True or False"),
    (dict(fixed_stem_head="yes"), "fixed_stem_head must be True or False"),
    (dict(bn_eps=0.0), "bn_eps"),
    (dict(round_channels=8), "round_channels must be a function"),
])
def test_efficientnet_plan_refuses_bad_options_where_it_is_made(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        en.efficientnet_plan(**kwargs)


def test_efficientnet_plan_takes_the_rounding_rule_as_an_argument():
    # Lesson 10's deviation, as a plan edit: channels rounded to multiples of 4 instead of 8.
    def by_4(channels, width_mult):
        return en.make_divisible(channels * width_mult, 4)

    by_four = en.efficientnet_plan(1.4, 1.8, round_channels=by_4)
    official = en.efficientnet_plan(1.4, 1.8)

    def stage6(plan):
        return {b.out_channels for b in plan.blocks if b.stage == 6}

    assert stage6(by_four) == {156} and stage6(official) == {160}  # 112 × 1.4 = 156.8


def test_a_rounding_rule_that_gives_no_channels_is_refused_where_the_plan_is_made():
    with pytest.raises(ValueError, match=r"blocks\[0\]\.out_channels must be an integer >= 1"):
        en.efficientnet_plan(round_channels=lambda channels, width_mult: channels - 16)  # 16 → 0


def test_a_plan_whose_blocks_do_not_chain_is_refused():
    plan = en.efficientnet_plan()
    broken = plan.blocks[:1] + plan.blocks[2:]  # drops a block: 16 → 24 then 24 → 24 expected 16
    with pytest.raises(ValueError, match=r"blocks\[1\]\.in_channels"):
        en.EfficientNetPlan(plan.stem_channels, broken, plan.head_channels)


def test_efficientnet_takes_a_plan_or_multipliers_not_both():
    plan = en.efficientnet_lite_plan()
    with pytest.raises(ValueError, match="not both"):
        en.EfficientNet(width_mult=1.1, plan=plan)
    with pytest.raises(TypeError, match="plan must be an EfficientNetPlan"):
        en.EfficientNet(plan=("32", (), 1280))


def test_cost_plan_of_the_lite_plan_equals_profile():
    from lightnets import cost

    plan = en.efficientnet_lite_plan(1.2, 1.4)
    planned = cost.cost_plan(cost.mbconv_network_plan(plan.stem_channels, plan.blocks,
                                                      plan.head_channels), 280)
    measured = lightnets.profile(lightnets.create_model("efficientnet_lite3"), (1, 3, 280, 280))
    assert (planned.macs, planned.params) == (measured.macs, measured.params)


@pytest.mark.parametrize("variant", sorted(en.LITE_TABLE))
def test_lite_readme_madds_are_3_to_6_percent_above_our_count(variant):
    # Ours equal timm's (golden files); the README's counting rule is not stated. Lite0: 385.2 M
    # against the README's 407 M.
    side = en.LITE_VARIANTS[variant].resolution
    model = lightnets.create_model(f"efficientnet_{variant}")
    macs = lightnets.profile(model, (1, 3, side, side)).macs
    assert 0.03 < en.LITE_TABLE[variant].mult_adds_millions / (macs / 1e6) - 1 < 0.06
