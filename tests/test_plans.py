"""One plan per family: a paper table plus a rounding rule (an argument, as timm's round_chs_fn),
checked once where the plan is made."""
import pytest

import lightnets
from lightnets.layers import make_divisible
from lightnets.models import mnasnet, mobilenet_v1, mobilenet_v2, mobilenet_v3

PLANS = {
    "mobilenet_v1": (mobilenet_v1.mobilenet_v1_plan, mobilenet_v1.MobileNetV1, ()),
    "mobilenet_v2": (mobilenet_v2.mobilenet_v2_plan, mobilenet_v2.MobileNetV2, ()),
    "mobilenet_v3_large": (mobilenet_v3.mobilenet_v3_plan, mobilenet_v3.MobileNetV3,
                           (mobilenet_v3.TABLE_1,)),
    "mnasnet": (mnasnet.mnasnet_plan, mnasnet.MnasNet, ()),
}


def by_4(channels):
    """A blog's rounding: multiples of 4 instead of 8."""
    return make_divisible(channels, 4)


def widths(plan):
    return [plan.stem_channels, plan.head_channels,
            *(c for b in plan.blocks for c in (b.out_channels, b.expanded_channels))]


@pytest.mark.parametrize("name", PLANS)
def test_the_default_rule_is_the_official_rounding_to_8(name):
    make_plan, _, table = PLANS[name]
    assert make_plan(*table, 0.75) == make_plan(*table, 0.75, make_divisible)
    assert all(w % 8 == 0 for w in widths(make_plan(*table, 0.75)) if w is not None)


@pytest.mark.parametrize("name", PLANS)
def test_a_rounding_rule_is_an_argument_of_the_plan_and_the_network(name):
    make_plan, network, table = PLANS[name]
    plan = make_plan(*table, 0.35, by_4)
    assert plan != make_plan(*table, 0.35)  # at α = 0.35 some width is a multiple of 4, not 8
    assert all(w % 4 == 0 for w in widths(plan) if w is not None)
    model = network(*table, 10, 0.35, round_channels=by_4)
    assert model.features[0][0].out_channels == plan.stem_channels
    assert model.num_features == (plan.head_channels or plan.blocks[-1].out_channels)


@pytest.mark.parametrize("name", PLANS)
def test_a_bad_rounding_rule_fails_where_the_plan_is_made(name):
    make_plan, _, table = PLANS[name]
    with pytest.raises(TypeError, match="round_channels"):
        make_plan(*table, 1.0, 8)
    with pytest.raises(ValueError, match="round_channels must give whole positive channels"):
        make_plan(*table, 1.0, lambda channels: channels / 3)
    with pytest.raises(ValueError, match="round_channels.*stem has 0"):
        make_plan(*table, 1.0, lambda channels: 0)


def test_mobilenet_v3_se_width_follows_the_plans_rule():
    plan = mobilenet_v3.mobilenet_v3_plan(mobilenet_v3.TABLE_1, 1.0, by_4)
    squeezes = [b.squeeze_channels for b in plan.blocks if b.squeeze_channels]
    assert squeezes[0] == make_divisible(72 // 4, 4) == 20  # Table 1 row 4: exp 72, SE
    assert mobilenet_v3.squeeze_channels(72) == 24  # the official rule: a multiple of 8


def test_registered_names_are_presets_of_the_default_plan():
    model = lightnets.create_model("mobilenet_v3_small", width_mult=0.75)
    plan = mobilenet_v3.mobilenet_v3_plan(mobilenet_v3.TABLE_2, 0.75)
    assert model.features[0][0].out_channels == plan.stem_channels
    assert model.num_features == plan.head_channels


def test_shufflenet_v1_plan_is_table_1s_column_with_its_rounding_rule():
    from lightnets.models import shufflenet

    plan = shufflenet.shufflenet_v1_plan(3, 1.0)
    assert [width for width, _, _ in plan.stages] == [row.g3 for row in shufflenet.TABLE_1[2:5]]
    assert [repeat for _, repeat, _ in plan.stages] == [4, 8, 4]
    by_24 = shufflenet.shufflenet_v1_plan(3, 1.5, lambda channels: make_divisible(channels, 24))
    model = shufflenet.ShuffleNetV1(10, 3, 1.5, round_channels=lambda c: make_divisible(c, 24))
    assert model.num_features == by_24.stages[-1][0] == 1440
    with pytest.raises(ValueError, match="split into 3 groups.*Stage2 has 244"):
        shufflenet.shufflenet_v1_plan(3, 1.0, lambda channels: int(channels) + 4)
    with pytest.raises(TypeError, match="round_channels"):
        shufflenet.shufflenet_v1_plan(3, 1.0, "by 4")


def test_shufflenet_v2_plan_is_table_5s_column():
    from lightnets.models import shufflenet

    plan = shufflenet.shufflenet_v2_plan("x1_5")
    conv1, _, *stages, conv5, _, _ = shufflenet.TABLE_5
    assert plan.stem_channels == conv1.x1_5 == 24 and plan.head_channels == conv5.x1_5 == 1024
    assert plan.stages == tuple((row.x1_5, row.repeat, row.stride) for row in stages)
    assert [width for width, _, _ in plan.stages] == [176, 352, 704]
    assert shufflenet.ShuffleNetV2("x1_5", 10).num_features == plan.head_channels
    with pytest.raises(ValueError, match="column must be one of.*'x3_0'"):
        shufflenet.shufflenet_v2_plan("x3_0")


def test_resnet_plan_is_table_1s_column():
    from lightnets.models import resnet

    plan = resnet.resnet_plan(50)
    assert (plan.stem_channels, plan.stem_kernel, plan.stem_stride) == (64, 7, 2)
    rows = resnet.TABLE_1[1:]
    assert [(name, repeats) for name, _, repeats, _ in plan.stages] == [
        (row.layer_name, row.layer_50.repeats) for row in rows]
    assert [widths for _, widths, _, _ in plan.stages] == [
        tuple(width for _, width in row.layer_50.shape) for row in rows]
    assert [stride for *_, stride in plan.stages] == [1, 2, 2, 2]
    assert resnet.resnet_plan(18).stages[-1][1] == (512, 512)  # basic blocks: two 3×3 convs
    assert resnet.ResNet(50, 10).num_features == plan.stages[-1][1][-1] == 2048
    with pytest.raises(ValueError, match="depth must be one of.*got 20"):
        resnet.resnet_plan(20)


def test_densenet_plan_is_table_1s_column_with_its_rounding_rule():
    from lightnets.models import densenet

    blocks = densenet._table_1_blocks("densenet121")
    plan = densenet.densenet_plan(blocks, 32)
    assert [n for n, *_ in plan.blocks] == [6, 12, 24, 16] == [
        row.densenet121 for row in densenet.TABLE_1 if row.layers.startswith("Dense Block")]
    # 64 + 6·32 = 256 → ⌊0.5·256⌋ = 128, + 12·32 = 512 → 256, + 24·32 = 1024 → 512, + 16·32 = 1024
    assert [(i, o, t) for _, i, o, t in plan.blocks] == [
        (64, 256, 128), (128, 512, 256), (256, 1024, 512), (512, 1024, None)]
    assert densenet.DenseNet(blocks, 32, 10).num_features == 1024
    # A compression that leaves a fraction: θ = 0.3 of 256 maps is 76.8, floored by default
    assert densenet.densenet_plan(blocks, 32, 0.3).blocks[0][3] == 76
    assert densenet.densenet_plan(blocks, 32, 0.3, round).blocks[0][3] == 77
    with pytest.raises(ValueError, match="block_layers"):
        densenet.densenet_plan((6, 0, 24), 32)
    with pytest.raises(TypeError, match="round_channels"):
        densenet.densenet_plan(blocks, 32, round_channels=2)
    with pytest.raises(ValueError, match="round_channels.*transition 1 has 76.8"):
        densenet.densenet_plan(blocks, 32, 0.3, lambda channels: channels)


def test_xception_plan_is_figure_5_unrolled():
    from lightnets.models import xception

    plan = xception.xception_plan()
    assert len(plan) == sum(module.repeats for module in xception.FIGURE_5) == 16
    assert [unit.widths for unit in plan[5:13]] == [(728, 728, 728)] * 8  # "Repeated 8 times"
    assert [unit.in_channels for unit in plan[:4]] == [3, 32, 64, 128]
    residual = [unit.start_with_relu for unit in plan if unit.layer == "residual"]
    assert residual == [False] + [True] * 11  # only the first follows the stem's ReLU
    smaller = xception.FIGURE_5[:5] + xception.FIGURE_5[6:]  # no middle flow
    assert xception.Xception(10, figure=smaller).num_features == 2048
    assert len(xception.Xception(10, figure=smaller).features) == 8
    with pytest.raises(ValueError, match="figure's layers must be one of.*'inception'"):
        xception.xception_plan((xception.Module("entry", "inception", (32,), 2, 1),))
    with pytest.raises(ValueError, match="figure's modules need whole positive widths"):
        xception.xception_plan((xception.Module("entry", "conv", (32.5,), 2, 1),))


def test_squeezenet_plan_is_the_table_with_input_widths():
    from lightnets.models import squeezenet

    plan = squeezenet.squeezenet_plan(squeezenet.TABLE_1_V1_1)
    assert [row for row, _ in plan.body] == list(squeezenet.TABLE_1_V1_1[:-2])
    assert [channels for _, channels in plan.body][:4] == [3, 64, 64, 128]
    assert plan.num_features == 512 and plan.conv10.name == "conv10"
    fire2 = squeezenet.TABLE_1[2]
    bad = squeezenet.TABLE_1[:2] + (fire2._replace(expand_3x3=32),) + squeezenet.TABLE_1[3:]
    with pytest.raises(ValueError, match="table's fire2: e1x1 \\+ e3x3 = 96 must equal its "
                                         "printed 128"):
        squeezenet.squeezenet_plan(bad)
    with pytest.raises(ValueError, match="table must end with its conv10"):
        squeezenet.squeezenet_plan(squeezenet.TABLE_1[:-1])
