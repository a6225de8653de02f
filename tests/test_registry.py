import pytest
import torch

import lightnets


def test_list_models_has_the_walking_skeleton_models():
    assert {"mobilenet_v1", "mobilenet_v2"} <= set(lightnets.list_models())


def test_unknown_model_name_lists_the_known_names():
    with pytest.raises(ValueError, match=r"unknown model name 'mobilenet_v9'.*mobilenet_v1.*mobilenet_v2"):
        lightnets.create_model("mobilenet_v9")


@pytest.mark.parametrize("name", ["mobilenet_v1", "mobilenet_v2"])
@pytest.mark.parametrize("width_mult", [0, -0.5, float("nan"), "1.0"])
def test_width_mult_must_be_positive(name, width_mult):
    with pytest.raises(ValueError, match=r"width_mult .*\(0.0, 4.0\]"):
        lightnets.create_model(name, width_mult=width_mult)


@pytest.mark.parametrize("num_classes", [0, -3, 2.5, True])
def test_num_classes_must_be_a_positive_integer(num_classes):
    with pytest.raises(ValueError, match="num_classes must be an integer >= 1"):
        lightnets.create_model("mobilenet_v2", num_classes=num_classes)


def test_unknown_keyword_names_the_accepted_ones():
    with pytest.raises(ValueError, match=r"unknown argument\(s\) depth_mult; it accepts: width_mult, dropout"):
        lightnets.create_model("mobilenet_v1", depth_mult=2.0)


def test_input_with_wrong_rank_or_channels_is_rejected():
    model = lightnets.create_model("mobilenet_v1")
    with pytest.raises(ValueError, match="4-D tensor"):
        model(torch.zeros(3, 224, 224))
    with pytest.raises(ValueError, match="must have 3 channels, got 1"):
        model(torch.zeros(1, 1, 224, 224))


def test_seed_everything_repeats_random_numbers_and_validates_seed():
    lightnets.seed_everything(3)
    a = torch.rand(3)
    lightnets.seed_everything(3)
    assert torch.equal(a, torch.rand(3))
    with pytest.raises(ValueError, match="seed"):
        lightnets.seed_everything(-1)


def test_create_model_name_must_be_a_string():
    with pytest.raises(TypeError, match="name must be a str"):
        lightnets.create_model(["mobilenet_v1"])


def test_a_model_too_large_for_memory_is_refused_with_the_estimate():
    with pytest.raises(ValueError, match=r"num_classes=100000000\) has 128,102,223,872 parameters"
                                         r": 477.2 GiB of float32 weights"):
        lightnets.create_model("mobilenet_v2", num_classes=10**8)


def test_a_configuration_with_zero_channel_layers_is_refused():
    with pytest.raises(ValueError, match=r"compression=0.001 would build a layer with no channels"):
        lightnets.create_model("densenet_bc", compression=0.001)


def test_seed_everything_repeats_python_numpy_and_torch_draws_and_leaves_the_environment():
    import os
    import random

    import numpy as np
    import torch

    before = os.environ.get("PYTHONHASHSEED")
    lightnets.seed_everything(3)
    first = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    lightnets.seed_everything(3)
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == first
    assert os.environ.get("PYTHONHASHSEED") == before  # read at start-up only: not set
