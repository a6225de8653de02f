import pytest
import torch
from torch import nn

import lightnets
from lightnets.layers import SeparableConv2d, XceptionBlock
from lightnets.models.xception import FIGURE_5


def test_xception_table3_parameter_count():
    """Table 3's count, as the registry records it (timm's legacy_xception has the same: the
    golden file checks that)."""
    paper = lightnets.registry.model_spec("xception").reported
    assert lightnets.profile(lightnets.create_model("xception")).params == round(
        paper.params_millions * 1e6)


def test_xception_macs_at_299px_equal_timm_legacy_xception(profile_of):
    # The paper gives no mult-adds. torch.utils.flop_counter on timm's legacy_xception at 299 px
    # counts 16,714,806,992 FLOPs, i.e. 8,357,403,496 multiply-accumulates (timm 1.x, torch 2.14).
    assert profile_of("xception", resolution=299).macs == 8_357_403_496


def test_xception_figure5_has_36_convolutional_layers_in_14_modules():
    """§3: "36 convolutional layers ... structured into 14 modules" (counting a separable conv as
    one layer and leaving out the 1×1 shortcut convolutions)."""
    model = lightnets.create_model("xception")
    separable = sum(isinstance(m, SeparableConv2d) for m in model.modules())
    stem = 2
    assert stem + separable == 36
    blocks = [m for m in model.features if isinstance(m, XceptionBlock)]
    assert len(blocks) == 12 and 1 + len(blocks) + 1 == 14  # stem module, 12 residual, exit module


def test_xception_figure5_middle_flow_repeats_8_times_at_728():
    model = lightnets.create_model("xception")
    middle = [m for m in model.features if isinstance(m, XceptionBlock) and m.stride == 1]
    assert len(middle) == 8 == [r.repeats for r in FIGURE_5 if r.flow == "middle"][0]
    assert all(isinstance(b.shortcut, nn.Identity) and b.out_channels == 728 for b in middle)


def test_xception_figure5_feature_map_sizes_at_299px():
    model = lightnets.create_model("xception").to("meta")
    x = torch.empty(1, 3, 299, 299, device="meta")
    sides = []
    for layer in model.features:
        x = layer(x)
        sides.append(x.shape[-1])
    # Fig. 5: 299 → 149 → 147 → 74 → 37 → 19 (entry flow; the middle flow keeps 19) → 10 (exit flow).
    assert sides[:5] == [149, 147, 74, 37, 19] and sides[5:13] == [19] * 8 and sides[13:] == [10, 10, 10]
    assert x.shape[1] == 2048


def test_separable_conv_has_no_norm_or_activation_between_depthwise_and_pointwise():
    """§4.7 / Fig. 10: no intermediate non-linearity in Xception's separable convolutions."""
    layer = SeparableConv2d(32, 64)
    assert [type(m) for m in layer] == [nn.Conv2d, nn.Conv2d]
    assert layer[0].groups == 32 and layer[1].kernel_size == (1, 1)


def test_xception_first_entry_module_starts_without_relu():
    blocks = [m for m in lightnets.create_model("xception").features if isinstance(m, XceptionBlock)]
    assert not isinstance(blocks[0].residual[0], nn.ReLU)
    assert all(isinstance(b.residual[0], nn.ReLU) and not b.residual[0].inplace for b in blocks[1:])


@pytest.mark.parametrize("dropout", [-0.5, 1.0])
def test_xception_rejects_bad_dropout(dropout):
    with pytest.raises(ValueError, match=r"dropout .*\[0.0, 1.0\)"):
        lightnets.create_model("xception", dropout=dropout)
