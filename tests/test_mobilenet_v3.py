import pytest
from torch import nn

import lightnets
from lightnets.layers import InvertedResidual, SqueezeExcite
from lightnets.models.mobilenet_v3 import TABLE_1, TABLE_2


def bottlenecks(model):
    return [m for m in model.features if isinstance(m, InvertedResidual)]


def nonlinearity(block):
    """'HS' or 'RE': the activation after the block's depthwise convolution."""
    depthwise = next(layer for layer in block.block if layer.groups > 1)
    return "HS" if isinstance(depthwise[-1], nn.Hardswish) else "RE" if isinstance(depthwise[-1], nn.ReLU) else "?"


@pytest.mark.parametrize("name, torchvision_gflops", [("mobilenet_v3_large", 0.217), ("mobilenet_v3_small", 0.057)])
def test_mobilenet_v3_macs_match_torchvision_published_gflops(profile_of, name, torchvision_gflops):
    assert round(profile_of(name).macs / 1e9, 3) == torchvision_gflops  # torchvision _ops at 224 px (GMACs)


@pytest.mark.parametrize("name, paper_mult_adds_millions", [("mobilenet_v3_large", 219), ("mobilenet_v3_small", 56)])
def test_mobilenet_v3_table3_mult_adds_within_3_million(profile_of, name, paper_mult_adds_millions):
    """Table 3 reports 219 M and 56 M; torchvision's layout (which we match) counts 216.6 M and 56.5 M."""
    assert abs(profile_of(name).macs / 1e6 - paper_mult_adds_millions) < 3


def test_mobilenet_v3_large_table1_has_15_bottlenecks_with_hswish_only_from_the_seventh():
    model = lightnets.create_model("mobilenet_v3_large")
    blocks = bottlenecks(model)
    assert len(blocks) == sum(row.operator == "bneck" for row in TABLE_1) == 15
    # §5.2: h-swish pays off only in the deeper layers, where maps are small.
    assert [nonlinearity(b) for b in blocks] == ["RE"] * 6 + ["HS"] * 9
    assert isinstance(model.features[0][-1], nn.Hardswish)  # the stem is HS too (Table 1, first row)


def test_mobilenet_v3_small_table2_has_11_bottlenecks_with_hswish_from_the_fourth():
    blocks = bottlenecks(lightnets.create_model("mobilenet_v3_small"))
    assert len(blocks) == sum(row.operator == "bneck" for row in TABLE_2) == 11
    assert [nonlinearity(b) for b in blocks] == ["RE"] * 3 + ["HS"] * 8


@pytest.mark.parametrize(
    "name, expanded_and_squeeze",
    [
        ("mobilenet_v3_large",
         [(72, 24), (120, 32), (120, 32), (480, 120), (672, 168), (672, 168), (960, 240), (960, 240)]),
        ("mobilenet_v3_small",
         [(16, 8), (96, 24), (240, 64), (240, 64), (120, 32), (144, 40), (288, 72), (576, 144), (576, 144)]),
    ],
)
def test_mobilenet_v3_tables_se_squeeze_is_a_quarter_of_the_expansion_rounded_to_8(name, expanded_and_squeeze):
    """§5.3: SE squeezes to 1/4 of the expansion layer; make_divisible(·, 8) turns 72/4 = 18 into 24."""
    se_layers = [m for m in lightnets.create_model(name).modules() if isinstance(m, SqueezeExcite)]
    assert [(se.fc1.in_channels, se.fc1.out_channels) for se in se_layers] == expanded_and_squeeze
    assert all(isinstance(se.gate, nn.Hardsigmoid) and isinstance(se.activation, nn.ReLU) for se in se_layers)


@pytest.mark.parametrize("name, table", [("mobilenet_v3_large", TABLE_1), ("mobilenet_v3_small", TABLE_2)])
def test_mobilenet_v3_tables_se_only_where_the_table_ticks_it(name, table):
    blocks = bottlenecks(lightnets.create_model(name))
    ticked = [row.use_se for row in table if row.operator == "bneck"]
    assert [any(isinstance(m, SqueezeExcite) for m in b.modules()) for b in blocks] == ticked


@pytest.mark.parametrize("name, last_conv, hidden", [("mobilenet_v3_large", 960, 1280), ("mobilenet_v3_small", 576, 1024)])
def test_mobilenet_v3_fig5_efficient_last_stage_pools_before_the_nbn_layers(name, last_conv, hidden):
    """§5.1, Fig. 5: 1×1 conv (with BN) → pool → 1×1 without BN (a Linear on the pooled vector) → h-swish."""
    model = lightnets.create_model(name)
    assert model.features[-1][0].out_channels == last_conv and isinstance(model.features[-1][1], nn.BatchNorm2d)
    first, activation, _dropout, logits = model.classifier
    assert (first.in_features, first.out_features, logits.in_features) == (last_conv, hidden, hidden)
    assert isinstance(activation, nn.Hardswish)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.classifier.modules())


def test_mobilenet_v3_batchnorm_uses_torchvision_eps_and_momentum():
    norms = [m for m in lightnets.create_model("mobilenet_v3_small").modules() if isinstance(m, nn.BatchNorm2d)]
    assert {(m.eps, m.momentum) for m in norms} == {(0.001, 0.01)}


@pytest.mark.parametrize("width_mult, torchvision_params", [(0.5, 1_734_576), (0.75, 3_377_576), (1.25, 8_164_744)])
def test_mobilenet_v3_large_width_mult_matches_torchvision(width_mult, torchvision_params):
    # torchvision.models.mobilenet_v3_large(width_mult=...), counted in torchvision 0.29.1
    assert lightnets.profile(lightnets.create_model("mobilenet_v3_large", width_mult=width_mult)).params == torchvision_params


@pytest.mark.parametrize("bad", [0, -1.0, 4.5, "1"])
def test_mobilenet_v3_rejects_a_width_mult_outside_its_range(bad):
    with pytest.raises(ValueError, match="width_mult"):
        lightnets.create_model("mobilenet_v3_small", width_mult=bad)


def test_mobilenet_v3_rejects_a_dropout_outside_its_range():
    with pytest.raises(ValueError, match="dropout"):
        lightnets.create_model("mobilenet_v3_large", dropout=1.0)


def test_mobilenet_v3_table3_large_row_is_our_model_within_2_percent_of_mult_adds():
    import lightnets
    from lightnets.models import mobilenet_v3 as v3

    rows = {row.network: row for row in v3.TABLE_3}
    large = lightnets.profile(lightnets.create_model("mobilenet_v3_large"))
    assert rows["V3-Large 1.0"].top1_percent == 75.2
    assert abs(large.macs / 1e6 - rows["V3-Large 1.0"].mult_adds_millions) / 219 < 0.02
    # Table 3: V3-Large matches MnasNet-A1's accuracy at 70% of its Mult-Adds
    assert rows["V3-Large 1.0"].top1_percent == rows["MnasNet-A1"].top1_percent
    assert rows["V3-Large 1.0"].mult_adds_millions < 0.7 * rows["MnasNet-A1"].mult_adds_millions


def test_mobilenet_v3_table3_small_row_of_arxiv_v5_is_our_model_and_iccv_counts_1280_features():
    import lightnets
    from lightnets.models import mobilenet_v3 as v3

    iccv = {row.network: row for row in v3.TABLE_3}["V3-Small 1.0"]
    v5_mult_adds, v5_params = v3.TABLE_3_ARXIV_V5_SMALL["V3-Small 1.0"]
    ours = lightnets.profile(lightnets.create_model("mobilenet_v3_small"))
    # arXiv v5's Table 3 (56 M, 2.5 M) is the released model with 1024 features, at its precision
    assert abs(ours.macs / 1e6 - v5_mult_adds) < 1
    assert round(ours.params / 1e6, 1) == v5_params
    # the ICCV camera-ready's 2.9 M is the same network with Table 2's 1280 features there
    extra = 576 * 256 + 256 + 256 * 1000  # 1280 instead of 1024 features: two wider linear layers
    assert abs((ours.params + extra) / 1e6 - iccv.params_millions) < 0.05
