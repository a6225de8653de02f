import pytest
import torch
from torch import nn

import lightnets
from lightnets.layers import ConvBNAct, DepthwiseSeparable


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
    with pytest.raises(ValueError, match=">= 32 px"):
        lightnets.profile(lightnets.create_model("mobilenet_v2"), (1, 3, 16, 16))
