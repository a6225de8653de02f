"""The layer table read from the modules (lessons 03 and 10) and lesson 10's deviations."""
import pytest
import torch
from torch import nn

import lightnets
from lightnets import deviations as dev
from lightnets import layer_table
from lightnets.models import mobilenet_v3 as v3


@pytest.fixture(scope="module")
def large():
    lightnets.seed_everything(0)
    return v3.mobilenet_v3_large()


@pytest.mark.parametrize("name, table", [("mobilenet_v3_large", v3.TABLE_1),
                                         ("mobilenet_v3_small", v3.TABLE_2)])
def test_mobilenet_v3_tables_1_and_2_read_back_from_the_modules(name, table):
    model = lightnets.create_model(name)
    assert layer_table.block_rows(model) == layer_table.paper_rows(table)
    assert layer_table.differences(table, model) == []
    assert layer_table.hidden_choices(model) == {"stem": "Hardswish", "SE gate": "Hardsigmoid"}


def test_table_1_row_12_in_the_papers_columns():
    # Table 1: 14²×112, bneck 3×3, exp size 672, #out 112, SE, HS.
    assert layer_table.paper_rows(v3.TABLE_1)[11] == (3, 672, 112, True, "HS")


def test_differences_name_the_row_and_the_column(large):
    suspect = v3.MobileNetV3(dev.widened(v3.TABLE_1, {184: 192}))
    assert layer_table.differences(v3.TABLE_1, suspect) == ["row 9 exp: 184 -> 192",
                                                             "row 10 exp: 184 -> 192"]
    assert layer_table.rows_differing(large, suspect) == 2
    gated = dev.with_se_gate(large, nn.Hardswish)
    assert layer_table.differences(v3.TABLE_1, gated) == ["SE gate: Hardsigmoid -> Hardswish"]
    assert layer_table.differences(v3.TABLE_2, large)[-1].startswith("bottlenecks: 11 -> 15")


def test_output_shapes_chain_from_row_to_row_with_the_tables_inputs(large):
    shapes = layer_table.output_shapes(large)
    assert len(shapes) == len(v3.TABLE_1) and shapes[-1] == (1000,)
    assert layer_table.chain_breaks(v3.TABLE_1, shapes) == []
    broken = list(shapes)
    broken[2] = (25, 56, 56)
    assert layer_table.chain_breaks(v3.TABLE_1, broken) == [
        "row 3: output (25, 56, 56), next row's input (56, 24)"]
    assert large.training  # measured in eval mode, given back as it was


def test_table_text_prints_the_papers_columns_beside_our_shapes(large):
    text = layer_table.table_text(v3.TABLE_1, layer_table.output_shapes(large)).splitlines()
    assert text[0].split() == ["Input", "Operator", "exp", "#out", "SE", "NL", "s", "our",
                               "output"]
    assert text[12].split() == ["14²×80", "bneck,", "3x3", "480", "112", "✓", "HS", "1",
                                "(112,", "14,", "14)"]
    assert len(text) == 1 + len(v3.TABLE_1)


# --- deviations ------------------------------------------------------------------------------


def test_blog_mobilenet_v3_has_the_four_deviations():
    lightnets.seed_everything(0)
    found = layer_table.differences(v3.TABLE_1, dev.blog_mobilenet_v3(v3.TABLE_1, {184: 192}))
    assert sum("NL" in item for item in found) == 15
    assert "row 9 exp: 184 -> 192" in found and "stem: Hardswish -> ReLU6" in found
    assert "SE gate: Hardsigmoid -> Hardswish" in found and len(found) == 19


def test_swaps_change_a_copy_and_leave_the_original(large):
    before = {k: v.clone() for k, v in large.state_dict().items()}
    relu6 = dev.with_stem_activation(large, nn.ReLU6)
    assert isinstance(relu6.features[0][2], nn.ReLU6)
    assert isinstance(large.features[0][2], nn.Hardswish)
    assert all(torch.equal(v, before[k]) for k, v in large.state_dict().items())


def test_output_gap_is_zero_for_the_same_network_and_none_for_other_shapes(large):
    assert dev.output_gap(large, large, px=32) == 0.0
    assert dev.output_gap(large, dev.with_stem_activation(large, nn.ReLU6), px=32) > 0.01
    assert dev.output_gap(large, v3.MobileNetV3(dev.widened(v3.TABLE_1, {184: 192})), 32) is None
    assert large.training and next(large.parameters()).dtype == torch.float32  # untouched
    with pytest.raises(ValueError, match="px"):
        dev.output_gap(large, large, px=0)


def test_counts_profile_each_network_once(monkeypatch):
    calls = []
    real = dev.profile
    monkeypatch.setattr(dev, "profile", lambda *a: calls.append(a) or real(*a))
    counts, model = dev.Counts(), nn.Sequential(nn.Conv2d(3, 4, 1), nn.Flatten())
    assert counts(model, 8) == counts(model, 8) == (16, 3 * 4 * 64)
    assert len(calls) == 1


def test_efficientnet_deviations():
    lightnets.seed_everything(0)
    b0 = lightnets.create_model("efficientnet_b0")
    wide = dev.with_expansion_kernel(b0, 3)
    assert set(layer_table.expansion_kernels(wide)) == {3}
    assert set(layer_table.expansion_kernels(b0)) == {1}
    constant = dev.with_constant_drop_rate(b0, 0.2)
    assert max(dev.drop_rates(b0)) < 0.2 and set(dev.drop_rates(constant)) == {0.0, 0.2}
    row = dev.efficientnet_row("constant", constant, b0, 64, 64, dev.Counts(), gap_px=32)
    assert row == ("constant", "none", "none", "0 rows", "identical")
    with pytest.raises(ValueError, match="kernel_size"):
        dev.with_expansion_kernel(b0, 2)
    with pytest.raises(ValueError, match="rate"):
        dev.with_constant_drop_rate(b0, 1.0)


def test_efficientnet_from_phi_uses_the_compound_rule():
    from lightnets import scaling

    model, side = dev.efficientnet_from_phi(1)
    depth, width, resolution = scaling.multipliers(1)
    assert side == scaling.scaled_resolution(resolution)
    same = lightnets.create_model("efficientnet", width_mult=width, depth_mult=depth)
    assert [p.shape for p in model.parameters()] == [p.shape for p in same.parameters()]


def test_mobilenet_v1_eq6_needs_alpha_on_both_sides_of_the_pointwise_layer():
    layers = lightnets.profile(lightnets.create_model("mobilenet_v1")).by_layer
    thin = lightnets.profile(lightnets.create_model("mobilenet_v1", width_mult=0.5)).by_layer
    measured = sum(r.macs for r in thin if r.kind in ("depthwise", "pointwise"))
    assert dev.separable_macs_eq6(layers, 0.5) == measured
    assert dev.separable_macs_eq6(layers, 0.5, alpha_on_input=False) > 1.5 * measured


def test_split_inference_keeps_the_output_and_cuts_the_inner_tensor():
    lightnets.seed_everything(0)
    block = lightnets.create_model("mobilenet_v2").features[3].double().eval()
    x = torch.randn(1, 24, 20, 20, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    out, largest = dev.split_inference(block, x, pieces=3)
    with torch.no_grad():
        assert torch.allclose(out, block(x)) and largest == 48
    with pytest.raises(ValueError, match="eval mode"):
        dev.split_inference(block.train(), x, pieces=3)
