import matplotlib
import pytest
import torch
import torchinfo
from torch import nn

import lightnets
from lightnets.layers import ConvBNAct, DepthwiseSeparable
from lightnets.models.efficientnet import efficientnet_plan
from lightnets.registry import model_spec


def test_profile_counts_a_standard_conv_as_k2_cin_cout_per_output_pixel():
    layer = nn.Sequential(ConvBNAct(3, 8, 3))
    cost = lightnets.profile(layer, (1, 3, 10, 10))
    assert cost.macs == 3 * 3 * 3 * 8 * 10 * 10
    assert cost.by_layer[0].type == "standard"


def test_profile_separates_depthwise_and_pointwise_costs():
    cost = lightnets.profile(DepthwiseSeparable(16, 32), (1, 16, 14, 14))
    assert cost.by_type == {"depthwise": 3 * 3 * 16 * 14 * 14, "pointwise": 16 * 32 * 14 * 14}


def test_profile_counts_linear_layers_and_all_parameters():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 5), nn.BatchNorm1d(5))
    cost = lightnets.profile(model, (2, 3, 2, 2))
    assert cost.macs == 2 * 12 * 5
    assert cost.params == 12 * 5 + 5 + 2 * 5


def test_profile_leaves_the_model_untouched():
    model = lightnets.create_model("mobilenet_v1", width_mult=0.25).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    lightnets.profile(model, (1, 3, 64, 64))
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not model._forward_hooks and all(not m._forward_hooks for m in model.modules())


@pytest.mark.parametrize("bad", [(3, 224, 224), (1, 3, 0, 224), (1, 3, 224.0, 224)])
def test_profile_rejects_bad_input_size(bad):
    with pytest.raises(ValueError, match="input_size"):
        lightnets.profile(lightnets.create_model("mobilenet_v1"), bad)


def test_profile_rejects_a_non_module():
    with pytest.raises(ValueError, match="model must be a torch.nn.Module"):
        lightnets.profile("mobilenet_v1")


def test_profile_rejects_input_too_small_for_the_network():
    with pytest.raises(ValueError, match=">= 29 px"):  # DenseNet's unpadded pools lose a pixel
        lightnets.profile(lightnets.create_model("densenet121"), (1, 3, 28, 28))


# --- conventions -----------------------------------------------------------------------------------

from torch.nn import functional as F  # noqa: E402

from lightnets import cost as costmod  # noqa: E402
from lightnets.layers import InvertedResidual  # noqa: E402


def test_profile_rejects_an_unknown_convention():
    with pytest.raises(ValueError, match="convention"):
        lightnets.profile(nn.Conv2d(3, 3, 1), (1, 3, 8, 8), convention="flops")


def test_profile_rejects_input_too_small_naming_input_size():
    with pytest.raises(ValueError, match="input_size"):
        lightnets.profile(nn.Sequential(nn.Conv2d(3, 4, 5)), (1, 3, 3, 3))


def test_profile_paper_convention_counts_only_conv_and_linear():
    model = nn.Sequential(ConvBNAct(3, 8, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2))
    cost = lightnets.profile(model, (1, 3, 6, 6))
    assert cost.macs == 27 * 8 * 36 + 8 * 2
    assert [r.op for r in cost.by_layer] == ["conv", "linear"]


def test_profile_all_convention_counts_each_operation_once_per_element():
    model = nn.Sequential(ConvBNAct(3, 8, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2))
    cost = lightnets.profile(model, (1, 3, 6, 6), convention="all")
    assert cost.by_op == {
        "conv": 27 * 8 * 36,
        "batchnorm": 8 * 36,  # the folded scale-and-shift: one multiply-add per element
        "activation": 8 * 36,
        "pooling": 8 * 36,  # one add per input element
        "linear": 8 * 2,
        "bias": 2,
    }


class _Functional(nn.Module):
    """Functional code the counter must see: F.conv2d, F.relu, x + y, torch.cat, a grouped conv."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(4, 3, 3, 3))
        self.grouped = nn.Conv2d(8, 8, 1, groups=2, bias=False)

    def forward(self, x):
        y = F.relu(F.conv2d(x, self.weight, padding=1))
        y = torch.cat([y, y + y], dim=1)
        return F.hardswish(self.grouped(y))


def test_profile_counts_functional_ops_grouped_convs_and_concatenation():
    paper = lightnets.profile(_Functional(), (2, 3, 5, 5))
    assert paper.by_type == {"standard": 2 * 27 * 4 * 25, "grouped": 2 * 4 * 8 * 25}
    everything = lightnets.profile(_Functional(), (2, 3, 5, 5), convention="all")
    assert everything.by_op["add"] == 2 * 4 * 25  # y + y; the concatenation moves memory only
    assert everything.by_op["activation"] == 2 * 4 * 25 + 2 * 8 * 25  # relu, then hardswish
    assert everything.by_layer[0].name == ""  # ran in the root module's own forward


def test_profile_types_squeeze_excite_convs_as_se_and_counts_its_multiply_only_in_all():
    block = InvertedResidual(16, 16, 64, kernel_size=5, squeeze_channels=16)
    paper = lightnets.profile(block, (1, 16, 7, 7))
    assert paper.by_type["se"] == costmod.se_macs(64, 16) == 2 * 64 * 16
    everything = lightnets.profile(block, (1, 16, 7, 7), convention="all")
    se_ops = {r.op: r.macs for r in everything.by_layer if r.type == "se" and r.op in ("multiply", "pooling")}
    assert se_ops == {"pooling": 64 * 49, "multiply": 64 * 49}  # squeeze, then the channel-wise rescale
    assert sum(r.macs for r in everything.by_layer if r.type == "se") == costmod.se_macs(64, 16, 7, 7, "all")
    assert everything.by_op["add"] == 16 * 49  # the residual


def test_profile_rows_carry_shapes_kernel_and_groups():
    cost = lightnets.profile(DepthwiseSeparable(16, 32, stride=2), (1, 16, 14, 14))
    depthwise, pointwise = cost.by_layer
    assert (depthwise.input_shape, depthwise.output_shape, depthwise.kernel, depthwise.groups) == (
        (1, 16, 14, 14), (1, 16, 7, 7), (3, 3), 16)
    assert (pointwise.kernel, pointwise.groups, pointwise.params) == ((1, 1), 1, 16 * 32)
    assert "total pointwise" in cost.table()


# --- the closed-form formulas ----------------------------------------------------------------------


def test_depthwise_separable_costs_one_over_n_plus_one_over_k2_of_a_standard_conv():  # V1 §3.1
    separable = costmod.depthwise_conv_macs(512, 3, 14) + costmod.pointwise_conv_macs(512, 512, 14)
    assert separable / costmod.standard_conv_macs(512, 512, 3, 14) == pytest.approx(1 / 512 + 1 / 9)


def test_grouped_conv_formula_spans_standard_and_depthwise():
    assert costmod.grouped_conv_macs(32, 64, 3, 1, 10) == costmod.standard_conv_macs(32, 64, 3, 10)
    assert costmod.grouped_conv_macs(32, 32, 3, 32, 10) == costmod.depthwise_conv_macs(32, 3, 10)
    with pytest.raises(ValueError, match="groups"):
        costmod.grouped_conv_macs(30, 64, 3, 4, 10)


@pytest.mark.parametrize("name", [n for n in lightnets.list_models() if model_spec(n).resolution])
def test_measured_macs_equal_the_sum_of_the_formulas_on_every_image_model(name):
    model = lightnets.create_model(name)
    side = model_spec(name).resolution
    cost = lightnets.profile(model, (1, model.in_channels, side, side))
    assert all(costmod.formula_macs(row) == row.macs for row in cost.by_layer)
    assert sum(costmod.formula_macs(row) for row in cost.by_layer) == cost.macs


# --- plans -----------------------------------------------------------------------------------------


def _mobilenet_v1_plan(width_mult):
    """MobileNetV1 Table 1 as a plan: the same plan its builder reads."""
    from lightnets.models.mobilenet_v1 import mobilenet_v1_plan

    return costmod.mbconv_network_plan(*mobilenet_v1_plan(width_mult))


def _mobilenet_v2_plan(width_mult):
    """MobileNetV2 Table 2 as a plan of inverted residual blocks: the same plan its builder reads."""
    from lightnets.models.mobilenet_v2 import mobilenet_v2_plan

    return costmod.mbconv_network_plan(*mobilenet_v2_plan(width_mult))


@pytest.mark.parametrize("width_mult, resolution", [(1.0, 224), (0.75, 192), (0.5, 160), (0.25, 128), (1.0, 97)])
def test_cost_plan_of_mobilenet_v1_table1_equals_profile(width_mult, resolution):
    planned = costmod.cost_plan(_mobilenet_v1_plan(width_mult), resolution)
    measured = lightnets.profile(lightnets.create_model("mobilenet_v1", width_mult=width_mult),
                                 (1, 3, resolution, resolution))
    assert (planned.macs, planned.params, planned.by_type) == (measured.macs, measured.params, measured.by_type)


@pytest.mark.parametrize("width_mult, resolution", [(1.0, 224), (1.4, 224), (0.35, 96), (0.75, 160)])
def test_cost_plan_of_mobilenet_v2_table2_equals_profile(width_mult, resolution):
    planned = costmod.cost_plan(_mobilenet_v2_plan(width_mult), resolution)
    measured = lightnets.profile(lightnets.create_model("mobilenet_v2", width_mult=width_mult),
                                 (1, 3, resolution, resolution))
    assert (planned.macs, planned.params, planned.by_type) == (measured.macs, measured.params, measured.by_type)


def test_cost_plan_counts_se_like_profile():
    plan = costmod.inverted_residual_plan(24, 40, 72, 5, 2, squeeze_channels=24)
    block = InvertedResidual(24, 40, 72, 5, 2, squeeze_channels=24)
    planned, measured = costmod.cost_plan(plan, 28), lightnets.profile(block, (1, 24, 28, 28))
    assert (planned.macs, planned.params, planned.by_type) == (measured.macs, measured.params, measured.by_type)


def test_cost_plan_rejects_bad_input():
    with pytest.raises(ValueError, match="resolution"):
        costmod.cost_plan(_mobilenet_v1_plan(1.0), 0)
    with pytest.raises(ValueError, match="plan entries"):
        costmod.cost_plan(["conv"], 224)


# --- other tools -----------------------------------------------------------------------------------


def test_flop_counter_convention_is_torch_flop_counter_on_meta_tensors():
    from torch.utils.flop_counter import FlopCounterMode

    model = lightnets.create_model("mobilenet_v2").eval()
    ours = costmod.tool_counts(model, (1, 3, 160, 160), tools=("paper", "flop_counter"))
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.randn(1, 3, 160, 160))
    assert ours["flop_counter"].count == counter.get_total_flops() == 2 * ours["paper"].count


def test_torchinfo_mult_adds_equal_ours_where_the_convention_is_the_same():
    # No biases and no BatchNorm: torchinfo's convention is then the papers'.
    bare = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.ReLU(),
                         nn.Conv2d(16, 16, 3, 1, 1, groups=16, bias=False), nn.Conv2d(16, 32, 1, bias=False),
                         nn.Conv2d(32, 32, 1, groups=4, bias=False), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(32, 10, bias=False))
    assert torchinfo.summary(bare, (2, 3, 32, 32), verbose=0).total_mult_adds == lightnets.profile(bare, (2, 3, 32, 32)).macs


@pytest.mark.parametrize("name", ["mobilenet_v1", "mobilenet_v2"])
def test_torchinfo_mult_adds_equal_ours_plus_biases_and_batchnorm_parameters(name):
    model = lightnets.create_model(name)
    ours = costmod.tool_counts(model, (1, 3, 224, 224), tools=("paper", "torchinfo"))
    theirs = torchinfo.summary(model, (1, 3, 224, 224), verbose=0).total_mult_adds
    assert theirs == ours["torchinfo"].count
    assert theirs - ours["paper"].count == ours["torchinfo"].parts["bias"] + ours["torchinfo"].parts["batchnorm"]


def _se_toy():
    return nn.Sequential(
        ConvBNAct(3, 16, 3, 2, activation=nn.Hardswish),
        InvertedResidual(16, 16, 64, 5, 1, activation=nn.Hardswish, squeeze_channels=16, se_gate=nn.Hardsigmoid),
        InvertedResidual(16, 24, 72, 3, 2, activation=nn.SiLU, squeeze_channels=8, se_activation=nn.SiLU),
        nn.MaxPool2d(3, 2, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(24, 10))


def test_tool_counts_explain_the_gap_from_the_paper_convention():
    counts = costmod.tool_counts(_se_toy(), (1, 3, 64, 64))
    everything = counts["all"].parts
    assert counts["thop"].parts["batchnorm"] == 4 * everything["batchnorm"]  # 2·numel, doubled when affine
    assert counts["ptflops"].parts["multiply"] == counts["fvcore"].parts["multiply"] == 0  # SE multiplies skipped
    assert everything["multiply"] > 0
    relu6 = costmod.tool_counts(lightnets.create_model("mobilenet_v2"), (1, 3, 64, 64), tools=("all", "ptflops"))
    relu = costmod.tool_counts(lightnets.create_model("mobilenet_v1"), (1, 3, 64, 64), tools=("all", "ptflops"))
    assert relu6["ptflops"].parts["activation"] == relu6["all"].parts["activation"]  # nn.ReLU6: once
    assert relu["ptflops"].parts["activation"] == 2 * relu["all"].parts["activation"]  # nn.ReLU: hook + F.relu


# --- latency ---------------------------------------------------------------------------------------


def test_latency_reports_median_spread_device_and_threads():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    result = lightnets.latency(model, (1, 3, 16, 16), runs=5, warmup=1)
    assert len(result.times_ms) == 5 and result.min_ms <= result.median_ms <= result.max_ms
    assert result.spread_ms >= 0 and result.threads == torch.get_num_threads()
    assert result.device == ("cpu" if not torch.cuda.is_available() else torch.cuda.get_device_name())
    assert next(model.parameters()).device.type == "cpu"


@pytest.mark.parametrize("kwargs, argument", [({"runs": 0}, "runs"), ({"warmup": -1}, "warmup"),
                                              ({"input_size": (3, 16, 16)}, "input_size")])
def test_latency_rejects_bad_arguments(kwargs, argument):
    kwargs = {"input_size": (1, 3, 16, 16), **kwargs}
    with pytest.raises(ValueError, match=argument):
        lightnets.latency(nn.Conv2d(3, 4, 3), **kwargs)


# --- plots -----------------------------------------------------------------------------------------


def test_cost_shares_plot_returns_the_shares_it_draws():
    matplotlib.use("Agg")
    from lightnets import plots

    cost = lightnets.profile(lightnets.create_model("mobilenet_v1"))
    fig, data = plots.cost_shares({"MobileNetV1": cost}, {"pointwise": 94.86})
    assert dict(zip(data["type"], data["percent"]["MobileNetV1"]))["pointwise"] == 94.86  # Table 2
    assert dict(zip(data["type"], data["paper_percent"]))["depthwise"] is None
    assert fig.axes[0].get_xscale() == "linear"  # a 0.18 % share must read beside 95 %


def test_tool_counts_chart_totals_match_tool_counts():
    matplotlib.use("Agg")
    from lightnets import plots

    counts = costmod.tool_counts(_se_toy(), (1, 3, 32, 32), tools=("paper", "thop", "flop_counter"))
    fig, data = plots.tool_counts_chart(counts)
    for i, tool in enumerate(data["tool"]):
        assert sum(v[i] for v in data["parts_millions"].values()) == pytest.approx(counts[tool].count / 1e6, abs=1e-2)


def test_macs_vs_time_plot_returns_percentages():
    matplotlib.use("Agg")
    from lightnets import plots

    fig, data = plots.macs_vs_time(["a", "b"], [1, 3], [2.0, 2.0])
    assert data["macs_percent"] == [25.0, 75.0] and data["time_percent"] == [50.0, 50.0]


# (variant, width_mult, depth_mult, resolution): the official EfficientNet coefficients.
EFFICIENTNET_COEFFICIENTS = [("efficientnet_b0", 1.0, 1.0, 224), ("efficientnet_b3", 1.2, 1.4, 300),
                             ("efficientnet_b7", 2.0, 3.1, 600)]


@pytest.mark.parametrize("name, width_mult, depth_mult, resolution", EFFICIENTNET_COEFFICIENTS)
def test_cost_plan_of_efficientnet_plan_equals_profile(name, width_mult, depth_mult, resolution):
    plan = efficientnet_plan(width_mult, depth_mult)
    layers = costmod.mbconv_network_plan(plan.stem_channels, plan.blocks, plan.head_channels)
    planned = costmod.cost_plan(layers, resolution)
    measured = lightnets.profile(lightnets.create_model(name), (1, 3, resolution, resolution))
    assert (planned.macs, planned.params, planned.by_type) == (measured.macs, measured.params, measured.by_type)


def test_profile_needs_no_real_forward_pass():
    # The speed claim itself (>= 5x faster than a counted real forward on EfficientNet-B7 at 600 px)
    # is measured by benchmarks/cost_speed.py: timings are not tests on a shared machine. What makes
    # it hold is checked here: a 100,000 px input, whose real activations would need ~240 GB, is costed.
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, stride=2, padding=1), torch.nn.ReLU())
    cost = lightnets.profile(model, (1, 3, 100_000, 100_000))
    assert cost.macs == 3 * 3 * 3 * 8 * 50_000 * 50_000

# --- validation: bad input fails up front, naming the argument ---------------------------------


class _Asserts(nn.Module):
    def forward(self, x):
        assert x.shape[-1] == 7, "wants 7 px"
        return x


@pytest.mark.parametrize("input_size", [(1, 3, 0, 224), (1, 3, 224), "1,3,224,224", 5,
                                        (1, 3, 224.0, 224), (1, 3, True, 224),
                                        (1, 3, 2 ** 21, 2 ** 21)])
def test_profile_rejects_bad_input_sizes_naming_input_size(input_size):
    with pytest.raises(ValueError, match="input_size"):
        lightnets.profile(nn.Conv2d(3, 8, 3), input_size)


def test_profile_turns_errors_raised_inside_the_model_into_value_errors_naming_input_size():
    with pytest.raises(ValueError, match="input_size.*AssertionError.*wants 7 px"):
        lightnets.profile(_Asserts(), (1, 3, 8, 8))
    with pytest.raises(ValueError, match="input_size"):
        lightnets.profile(nn.Linear(5, 2), (1, 3, 8, 8))  # a raw torch shape error


@pytest.mark.parametrize("kwargs, name", [({"runs": 0}, "runs"), ({"runs": 10 ** 6}, "runs"),
                                          ({"warmup": -1}, "warmup"), ({"device": "tpu"}, "device"),
                                          ({"input_size": (1, 3, -1, 8)}, "input_size"),
                                          ({"input_size": (64, 3, 2 ** 16, 2 ** 16)}, "input_size")])
def test_latency_rejects_bad_arguments_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        lightnets.latency(nn.Conv2d(3, 8, 3), **{"input_size": (1, 3, 8, 8), **kwargs})


def test_latency_refuses_a_device_that_is_not_a_device_name_with_a_type_error():
    with pytest.raises(TypeError, match="device must be None, a str"):
        lightnets.latency(nn.Conv2d(3, 8, 3), (1, 3, 8, 8), device=3)


def test_latency_refuses_mps_since_it_synchronises_cuda_only():
    with pytest.raises(ValueError, match="device must be cpu, cuda, cuda:N, got 'mps'"):
        lightnets.latency(nn.Conv2d(3, 8, 3), (1, 3, 8, 8), device="mps")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a torch without CUDA")
def test_latency_on_cuda_without_cuda_says_device():
    with pytest.raises(ValueError, match="device"):
        lightnets.latency(nn.Conv2d(3, 8, 3), (1, 3, 8, 8), device="cuda")


def test_tool_counts_ptflops_aten_backend_counts_conv_and_matmul_with_their_biases():
    # ptflops 0.7.5, aten backend: addmm_flop adds batch·out_features for the bias (the golden
    # file's mobilenet_v1 figure is the paper's count + 1000, the classifier's bias).
    model = nn.Sequential(ConvBNAct(3, 8, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2))
    counts = costmod.tool_counts(model, (1, 3, 6, 6), tools=("paper", "ptflops_aten", "ptflops"))
    assert counts["paper"].count == 27 * 8 * 36 + 8 * 2
    assert counts["ptflops_aten"].count == counts["paper"].count + 2
    assert counts["ptflops"].count > counts["ptflops_aten"].count  # BatchNorm, ReLU, bias, pool
    assert "aten" in counts["ptflops_aten"].rules


def test_profile_ops_names_every_operation_and_conv_linear_macs_the_papers_count():
    model = nn.Sequential(ConvBNAct(3, 8, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2))
    paper = lightnets.profile(model, (1, 3, 6, 6))
    everything = lightnets.profile(model, (1, 3, 6, 6), convention="all")
    assert everything.conv_linear_macs == paper.macs == paper.ops == 27 * 8 * 36 + 8 * 2
    assert everything.ops == everything.macs == paper.macs + 3 * 8 * 36 + 2
    row = paper.by_layer[0]
    assert (row.kind, row.type, row.module_class, row.module, row.aten_op, row.detail) == (
        "standard", "standard", "Conv2d", "Conv2d", "convolution", "convolution")


@pytest.mark.parametrize("name, width_mult, resolution", [
    ("mnasnet", 1.0, 224), ("mnasnet", 0.5, 160), ("mobilenet_v3_large", 1.0, 224),
    ("mobilenet_v3_small", 0.75, 192)])
def test_cost_plan_of_mnasnet_and_mobilenet_v3_plans_equals_profile(name, width_mult, resolution):
    """The plan each builder reads, costed without building, equals the built model's profile."""
    from lightnets.models import mnasnet, mobilenet_v3

    if name == "mnasnet":
        plan = costmod.mbconv_network_plan(*mnasnet.mnasnet_plan(width_mult))
        model = mnasnet.MnasNet(width_mult=width_mult)
    else:
        table = mobilenet_v3.TABLE_1 if name.endswith("large") else mobilenet_v3.TABLE_2
        stem, blocks, head = mobilenet_v3.mobilenet_v3_plan(table, width_mult)
        hidden = lightnets.layers.make_divisible(table[-2].out_channels * width_mult, 8)
        # V3's classifier has a hidden layer after pooling (§5.1), which the plan leaves out.
        plan = costmod.mbconv_network_plan(stem, blocks, head)[:-1] + [
            costmod.LinearSpec(head, hidden), costmod.LinearSpec(hidden, 1000)]
        model = mobilenet_v3.MobileNetV3(table, width_mult=width_mult)
    planned = costmod.cost_plan(plan, resolution)
    measured = lightnets.profile(model, (1, 3, resolution, resolution))
    assert (planned.macs, planned.params, planned.by_type) == (
        measured.macs, measured.params, measured.by_type)
