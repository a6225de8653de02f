"""The counting tools and timm themselves (run in the reference venv; the README says how), and
the golden files checked against what the libraries produce now."""
import contextlib
import io
import json
import os
import sys
import warnings

import ptflops
import pytest
import thop
import timm
import torch
import torchvision
from fvcore.nn import FlopCountAnalysis
from torch import nn

import lightnets
from lightnets import cost as costmod
from lightnets.layers import ConvBNAct, InvertedResidual

REFERENCES = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REFERENCES)
import golden  # noqa: E402
import make  # noqa: E402


def _se_toy():
    return nn.Sequential(
        ConvBNAct(3, 16, 3, 2, activation=nn.Hardswish),
        InvertedResidual(16, 16, 64, 5, 1, activation=nn.Hardswish, squeeze_channels=16, se_gate=nn.Hardsigmoid),
        InvertedResidual(16, 24, 72, 3, 2, activation=nn.SiLU, squeeze_channels=8, se_activation=nn.SiLU),
        nn.MaxPool2d(3, 2, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(24, 10))


def _run_tool(tool, model, size):
    x = torch.randn(size)
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if tool == "thop":
            return int(thop.profile(model, (x,), verbose=False)[0])
        if tool in ("ptflops", "ptflops_aten"):
            backend = "aten" if tool == "ptflops_aten" else "pytorch"  # 0.7.5's default: pytorch
            return int(ptflops.get_model_complexity_info(model, size[1:], as_strings=False,
                                                         print_per_layer_stat=False, backend=backend)[0])
        analysis = FlopCountAnalysis(model, x)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        return int(analysis.total())


@pytest.mark.parametrize("tool", ["thop", "ptflops", "ptflops_aten", "fvcore"])
@pytest.mark.parametrize("name", ["mobilenet_v2", "se_toy"])
def test_tool_counts_rebuild_what_the_tool_reports(tool, name):
    model = (_se_toy() if name == "se_toy" else lightnets.create_model(name)).eval()
    size = (1, 3, 96, 96)
    assert costmod.tool_counts(model, size, tools=(tool,))[tool].count == _run_tool(tool, model, size)


@pytest.mark.parametrize("tool", ["thop", "ptflops", "fvcore"])
@pytest.mark.parametrize("name", ["mobilenet_v3_large", "efficientnet_b0", "densenet121", "shufflenet_v2_x1_0"])
def test_tool_counts_rebuild_the_tools_on_torchvision_models(tool, name):
    # Functional code the lightnets models do not have: DenseNet's F.relu and
    # F.adaptive_avg_pool2d, ShuffleNet's x.mean, torchvision's SqueezeExcitation.
    model = getattr(torchvision.models, name)().eval()
    size = (1, 3, 64, 64)
    assert costmod.tool_counts(model, size, tools=(tool,))[tool].count == _run_tool(tool, model, size)


def test_xception_same_outputs_as_timm_legacy_xception_after_loading_its_weights():
    reference = timm.create_model("legacy_xception", pretrained=False).eval()
    for module in reference.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    ours = lightnets.load_torchvision_weights(lightnets.create_model("xception"), reference.state_dict()).eval()
    x = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        expected, actual = reference(x), ours(x)
    assert ((actual - expected).abs().max() / expected.abs().max()).item() < 1e-4


MODEL_FILES = sorted(f[:-5] for f in os.listdir(os.path.join(REFERENCES, "models")) if f.endswith(".json"))


@pytest.mark.parametrize("name", MODEL_FILES)
def test_golden_model_file_is_what_the_reference_library_gives_now(name):
    with open(os.path.join(REFERENCES, "models", f"{name}.json")) as f:
        stored = json.load(f)
    fresh = make.model_record(name, stored["reference"]["library"], stored["reference"]["name"])
    for key in ("params", "published_ops", "state_dict", "input_size"):
        assert fresh[key] == stored[key], key
    assert not golden.compare(fresh["outputs"], stored["outputs"])


@pytest.mark.parametrize("name", ["mobilenet_v2", "efficientnet_b0", "densenet121", "shufflenet_v2_x1_0"])
def test_golden_tool_figures_are_what_the_tools_report_now(name):
    with open(os.path.join(REFERENCES, "tools.json")) as f:
        stored = json.load(f)["models"][name]
    figures = make.tool_figures(lightnets.create_model(name).eval(), tuple(stored["input_size"]))
    assert figures == {k: v for k, v in stored.items() if k != "input_size"}
