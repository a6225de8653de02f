import pytest

import lightnets


def test_weights_round_trip_between_two_models_of_the_same_architecture():
    source = lightnets.create_model("mobilenet_v1", width_mult=0.25)
    target = lightnets.create_model("mobilenet_v1", width_mult=0.25)
    lightnets.load_torchvision_weights(target, source.state_dict())
    assert all((a == b).all() for a, b in zip(source.state_dict().values(), target.state_dict().values()))


def test_mismatched_state_dict_names_the_first_tensor_that_does_not_fit():
    wide = lightnets.create_model("mobilenet_v1").state_dict()
    with pytest.raises(ValueError, match=r"tensor 'features\.0\.0\.weight' has shape \(8, 3, 3, 3\)"):
        lightnets.load_torchvision_weights(lightnets.create_model("mobilenet_v1", width_mult=0.25), wide)


def test_state_dict_of_another_network_reports_the_count_and_first_misfit():
    other = lightnets.create_model("mobilenet_v2").state_dict()
    with pytest.raises(ValueError, match="state dict has .* tensors, the model .*; first that does not fit"):
        lightnets.load_torchvision_weights(lightnets.create_model("mobilenet_v1"), other)
