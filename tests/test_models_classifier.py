import pytest
import torch
from torch import nn

import lightnets
from lightnets._torch import meta_forward
from lightnets.registry import model_spec

IMAGE = [n for n in lightnets.list_models() if model_spec(n).resolution]


@pytest.mark.parametrize("name", IMAGE)
def test_reset_classifier_gives_a_fresh_head_for_num_classes(name):
    model = lightnets.create_model(name)
    head = model.get_classifier()
    assert isinstance(head, (nn.Linear, nn.Conv2d))
    trunk = {k: v.clone() for k, v in model.features.state_dict().items()}
    model.reset_classifier(7)
    new = model.get_classifier()
    assert new is not head and (new.out_features if isinstance(new, nn.Linear)
                                else new.out_channels) == 7
    side = max(model.min_resolution, 32)
    assert tuple(meta_forward(model, (2, model.in_channels, side, side)).shape) == (2, 7)
    assert all(torch.equal(trunk[k], v) for k, v in model.features.state_dict().items())


def test_reset_classifier_runs_and_trains_on_a_real_batch():
    model = lightnets.create_model("mobilenet_v3_small")
    model.reset_classifier(3)
    out = model(torch.randn(2, 3, 64, 64))
    out.sum().backward()
    assert out.shape == (2, 3) and model.get_classifier().weight.grad is not None


def test_reset_classifier_rejects_a_bad_num_classes():
    with pytest.raises(ValueError, match="num_classes"):
        lightnets.create_model("mobilenet_v1").reset_classifier(0)
