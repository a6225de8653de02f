"""Output parity with torchvision itself, with random weights (run in the reference venv; the README
says how). CI checks the same against tests/references/ golden files: tests/test_references.py."""
import pytest
import torch
import torchvision

import lightnets


# lightnets name -> the torchvision builder with the same architecture
PAIRS = {name: name for name in lightnets.list_models() if callable(getattr(torchvision.models, name, None))}


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_same_outputs_as_torchvision_after_loading_its_weights(name):
    reference = getattr(torchvision.models, PAIRS[name])(weights=None).eval()
    # Non-trivial BatchNorm statistics so a mismatched eps or running stat would show.
    for module in reference.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    ours = lightnets.load_torchvision_weights(lightnets.create_model(name), reference.state_dict()).eval()
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        expected, actual = reference(x), ours(x)
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in reference.parameters())
    assert ((actual - expected).abs().max() / expected.abs().max()).item() < 1e-4


def test_loading_a_mismatched_state_dict_names_the_first_differing_tensor():
    reference = torchvision.models.mobilenet_v2(weights=None, width_mult=0.5)
    with pytest.raises(ValueError, match=r"features\.0\.0\.weight.* has shape \(32, 3, 3, 3\)"):
        lightnets.load_torchvision_weights(lightnets.create_model("mobilenet_v2"), reference.state_dict())
