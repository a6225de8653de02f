"""Initialisation as the references': with the same seed, our freshly built models hold exactly the
tensors torchvision's (or timm's) do. Run in the reference venv (see the README)."""
import pytest
import timm
import torch
import torchvision

import lightnets


def _same_initial_weights(reference_builder, name):
    torch.manual_seed(0)
    reference = reference_builder()
    torch.manual_seed(0)
    ours = lightnets.create_model(name)
    pairs = list(zip(reference.state_dict().values(), ours.state_dict().values()))
    return len(pairs) == len(ours.state_dict()) and all(torch.equal(a, b) for a, b in pairs)


@pytest.mark.parametrize("name", ["densenet121", "squeezenet1_0", "squeezenet1_1", "shufflenet_v2_x0_5"])
def test_initial_weights_equal_torchvisions_for_the_same_seed(name):
    assert _same_initial_weights(getattr(torchvision.models, name), name)


def test_initial_weights_equal_timm_legacy_xception_for_the_same_seed():
    assert _same_initial_weights(lambda: timm.create_model("legacy_xception"), "xception")
