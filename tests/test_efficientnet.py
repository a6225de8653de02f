import functools
import inspect

import pytest
import torch
from torch import nn

import lightnets
from lightnets.layers import InvertedResidual, SqueezeExcite, StochasticDepth
from lightnets.models.efficientnet import TABLE_1, TABLE_2, VARIANTS, BlockConfig, efficientnet_plan
from lightnets.scaling import round_filters, round_repeats


@functools.lru_cache(maxsize=None)
def built(variant):
    """Each variant built once per session, on the meta device: shapes and counts without the memory
    (B0–B7 together hold 194 M parameters). Tests that run real numbers build their own model."""
    with torch.device("meta"):
        return lightnets.create_model(f"efficientnet_{variant}")


def blocks(model):
    return [m for m in model.modules() if isinstance(m, InvertedResidual)]


@pytest.mark.parametrize("variant", sorted(TABLE_2))
def test_efficientnet_table2_params_and_flops_within_5_percent(variant):
    """Table 2 (params M, FLOPS B at the variant's resolution). Our counts equal torchvision's
    (tests/references/models); the
    paper's figures are rounded and drift from them by up to 4.6% (B4: 4.39 B vs 4.2 B printed,
    B5: 10.27 B vs 9.9 B, B2: 9.11 M params vs 9.2 M)."""
    params_millions, paper_gflops = TABLE_2[variant]
    resolution = VARIANTS[variant].resolution
    cost = lightnets.profile(built(variant), (1, 3, resolution, resolution))
    assert cost.params / 1e6 == pytest.approx(params_millions, rel=0.05)
    assert cost.macs / 1e9 == pytest.approx(paper_gflops, rel=0.05)


def test_efficientnet_b0_table1_has_16_mbconv_blocks_in_7_stages():
    model = built("b0")
    assert len(blocks(model)) == sum(stage.layers for stage in TABLE_1 if stage.operator == "MBConv") == 16
    stage_widths = [stage[-1].out_channels for stage in model.features[1:-1]]
    assert stage_widths == [16, 24, 40, 80, 112, 192, 320]  # Table 1, #Channels
    assert model.features[0].out_channels == 32 and model.num_features == 1280


def test_efficientnet_b0_table1_strides_follow_the_resolution_column():
    plan = efficientnet_plan()
    starts = [i for i, block in enumerate(plan.blocks) if i == 0 or plan.blocks[i - 1].stage != block.stage]
    assert [plan.blocks[i].stride for i in starts] == [1, 2, 2, 2, 1, 2, 1]  # 112→112→56→28→14→14→7→7
    assert all(block.stride == 1 for i, block in enumerate(plan.blocks) if i not in starts)


def test_efficientnet_b0_table1_kernels_and_expansions():
    plan = efficientnet_plan()
    assert [b.kernel_size for b in plan.blocks] == [3, 3, 3, 5, 5, 3, 3, 3, 5, 5, 5, 5, 5, 5, 5, 3]
    assert [b.expanded_channels // b.in_channels for b in plan.blocks] == [1] + [6] * 15
    # MBConv1 has nothing to expand: its first layer is the depthwise conv.
    assert built("b0").features[1][0].block[0].groups == 32


def test_efficientnet_se_squeezes_to_a_quarter_of_the_block_input():
    """Official se_ratio 0.25 of the block's input filters (torchvision: max(1, in // 4))."""
    model = built("b0")
    se = [next(m for m in b.modules() if isinstance(m, SqueezeExcite)) for b in blocks(model)]
    assert [s.fc1.out_channels for s in se] == [max(1, b.in_channels // 4) for b in blocks(model)]
    assert [s.fc1.out_channels for s in se][:4] == [8, 4, 6, 6]  # inputs 32, 16, 24, 24
    assert all(isinstance(s.activation, nn.SiLU) and isinstance(s.gate, nn.Sigmoid) for s in se)


def test_efficientnet_uses_swish_everywhere():
    model = built("b0")
    assert not any(isinstance(m, (nn.ReLU, nn.ReLU6, nn.Hardswish)) for m in model.modules())
    # stem; MBConv1: depthwise + SE; 15 × MBConv6: expansion, depthwise, SE; head
    assert sum(isinstance(m, nn.SiLU) for m in model.modules()) == 1 + 2 + 15 * 3 + 1


def test_efficientnet_stochastic_depth_grows_linearly_to_0_2():
    """torchvision/official drop-connect: block i of N drops with 0.2 · i / N (only blocks with a shortcut)."""
    with_shortcut = [(i, b) for i, b in enumerate(blocks(built("b0"))) if b.use_shortcut]
    assert len(with_shortcut) == 9
    for i, block in with_shortcut:
        assert isinstance(block.stochastic_depth, StochasticDepth)
        assert block.stochastic_depth.p == pytest.approx(0.2 * i / 16)


@pytest.mark.parametrize(
    "channels, width_mult, official",
    [(32, 1.1, 32), (40, 1.1, 48), (320, 1.1, 352), (1280, 1.1, 1408), (32, 1.2, 40), (16, 1.4, 24),
     (112, 1.4, 160), (192, 1.8, 344), (32, 2.0, 64), (1280, 2.0, 2560)],
)
def test_round_filters_matches_the_official_efficientnet_widths(channels, width_mult, official):
    """Official round_filters (depth_divisor 8), e.g. B2's 40 → 48 and B7's head 1280 → 2560."""
    assert round_filters(channels, width_mult) == official


@pytest.mark.parametrize("variant, official_repeats", [
    ("b0", [1, 2, 2, 3, 3, 4, 1]), ("b1", [2, 3, 3, 4, 4, 5, 2]), ("b4", [2, 4, 4, 6, 6, 8, 2]),
    ("b7", [4, 7, 7, 10, 10, 13, 4]),
])
def test_round_repeats_rounds_up_as_the_official_code(variant, official_repeats):
    depth_mult = VARIANTS[variant].depth_mult
    assert [round_repeats(stage.layers, depth_mult) for stage in TABLE_1[1:-1]] == official_repeats


def test_round_repeats_and_filters_reject_bad_multipliers():
    with pytest.raises(ValueError, match="depth_mult"):
        round_repeats(3, 0.0)
    with pytest.raises(ValueError, match="width_mult"):
        round_filters(32, -1.0)


def test_efficientnet_b7_plan_has_55_blocks_and_2560_head_channels():
    plan = efficientnet_plan(VARIANTS["b7"].width_mult, VARIANTS["b7"].depth_mult)
    assert (plan.stem_channels, len(plan.blocks), plan.head_channels) == (64, 55, 2560)
    assert all(isinstance(b, BlockConfig) for b in plan.blocks)


def test_efficientnet_builder_instantiates_exactly_its_plan():
    model = built("b3")
    plan = model.plan
    assert plan == efficientnet_plan(1.2, 1.4)
    for config, block in zip(plan.blocks, blocks(model), strict=True):
        se = next(m for m in block.modules() if isinstance(m, SqueezeExcite))
        depthwise = next(layer for layer in block.block if getattr(layer, "groups", 1) > 1)
        assert (block.in_channels, block.out_channels, block.stride) == (config.in_channels, config.out_channels, config.stride)
        assert (depthwise.out_channels, depthwise.kernel_size) == (config.expanded_channels, config.kernel_size)
        assert se.fc1.out_channels == config.squeeze_channels


def test_efficientnet_generic_builder_reproduces_b2_and_records_its_resolution():
    model = lightnets.create_model("efficientnet", width_mult=1.1, depth_mult=1.2, resolution=260, dropout=0.3)
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in built("b2").parameters())
    assert model.resolution == 260 and built("b2").resolution == 260
    assert model(torch.randn(1, 3, 64, 48)).shape == (1, 1000)  # resolution is an attribute, not a crop


@pytest.mark.parametrize("argument, value", [("width_mult", 0.0), ("depth_mult", 9.0), ("resolution", 0),
                                             ("dropout", 1.0), ("stochastic_depth_prob", -0.1)])
def test_efficientnet_generic_builder_rejects_values_outside_their_range(argument, value):
    with pytest.raises(ValueError, match=argument):
        lightnets.create_model("efficientnet", **{argument: value})


def test_efficientnet_batchnorm_follows_torchvision_per_variant():
    """torchvision trained B0–B4 with PyTorch's defaults; B5–B7 are TF ports with eps 1e-3, momentum 0.01."""
    for variant, expected in [("b0", (1e-5, 0.1)), ("b7", (1e-3, 0.01))]:
        norms = [m for m in built(variant).modules() if isinstance(m, nn.BatchNorm2d)]
        assert {(m.eps, m.momentum) for m in norms} == {expected}


def test_efficientnet_variant_dropout_defaults_follow_the_official_table():
    for variant, config in VARIANTS.items():
        builder = lightnets.registry.model_spec(f"efficientnet_{variant}").builder
        assert inspect.signature(builder).parameters["dropout"].default == config.dropout
        assert lightnets.registry.model_spec(f"efficientnet_{variant}").resolution == config.resolution


def test_efficientnet_table2_top1_rises_with_every_variant():
    from lightnets.models.efficientnet import TABLE_2, TABLE_2_TOP1

    assert list(TABLE_2_TOP1) == list(TABLE_2)
    top1 = list(TABLE_2_TOP1.values())
    assert top1[0] == 77.1 and top1[-1] == 84.3 and top1 == sorted(top1)


def test_efficientnet_table3_compound_beats_every_single_dimension_at_similar_flops():
    from lightnets.models.efficientnet import TABLE_3, TABLE_7

    for network, rows in [*TABLE_3.items(), ("EfficientNet-B0", TABLE_7)]:
        by_kind = {row.scaling: row for row in rows}
        single = [row for row in rows if row.scaling not in ("baseline", "compound")]
        assert all(by_kind["compound"].top1_percent > row.top1_percent for row in single), network
        assert all(abs(row.flops_billions / by_kind["compound"].flops_billions - 1) < 0.2
                   for row in single), network
