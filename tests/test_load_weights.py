"""load_torchvision_weights pairs tensors by layer kind, role and shape, not by position alone."""
import pytest
import torch
from torch import nn

import lightnets


def _distinct_state_dict(name, **config):
    """A model whose every tensor differs from every other (BatchNorm statistics included)."""
    model = lightnets.create_model(name, **config)
    with torch.no_grad():
        for i, tensor in enumerate(model.state_dict().values()):
            if tensor.is_floating_point():
                tensor.copy_(torch.rand_like(tensor) * 0.5 + 0.5 + i)  # positive: a valid running_var
    return model


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_weights_round_trip_between_two_models_of_the_same_architecture():
    source = _distinct_state_dict("mobilenet_v1", width_mult=0.25).eval()
    target = lightnets.load_torchvision_weights(lightnets.create_model("mobilenet_v1", width_mult=0.25),
                                                source.state_dict()).eval()
    assert _same(source.state_dict(), target.state_dict())
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(source(x), target(x))


def _reordered(state_dict):
    """The same tensors under names that share nothing with ours, stored in another order: the
    classifier first, then every convolution, then every BatchNorm with its ``bias`` before its
    ``weight`` and ``running_var`` before ``running_mean``. Layers of one kind keep their order."""
    layers = {}
    for key, tensor in state_dict.items():
        prefix, _, role = key.rpartition(".")
        layers.setdefault(prefix, {})[role] = tensor
    order = {"linear": 0, "conv": 1, "norm": 2}

    def kind(tensors):
        if "running_mean" in tensors:
            return "norm"
        return "linear" if tensors["weight"].dim() == 2 else "conv"

    roles = ["bias", "weight", "running_var", "running_mean", "num_batches_tracked"]
    result = {}
    for n, (prefix, tensors) in enumerate(sorted(layers.items(), key=lambda item: order[kind(item[1])])):
        for role in sorted(tensors, key=roles.index):
            result[f"layer{n}_{kind(tensors)}.{role}"] = tensors[role]
    return result


def test_a_reordered_renamed_state_dict_loads_into_the_right_tensors():
    source = _distinct_state_dict("mobilenet_v2", width_mult=0.5).eval()
    shuffled = _reordered(source.state_dict())
    assert list(shuffled)[:2] == ["layer0_linear.bias", "layer0_linear.weight"]
    assert [k.rpartition(".")[2] for k in shuffled][-5:-1] == ["bias", "weight", "running_var", "running_mean"]
    target = lightnets.load_torchvision_weights(lightnets.create_model("mobilenet_v2", width_mult=0.5), shuffled)
    assert _same(source.state_dict(), target.state_dict())
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(source(x), target.eval()(x))


def test_a_permuted_state_dict_with_our_names_loads_by_name():
    source = _distinct_state_dict("mobilenet_v1", width_mult=0.25)
    items = list(source.state_dict().items())
    permuted = dict(items[i] for i in torch.randperm(len(items), generator=torch.Generator().manual_seed(0)))
    target = lightnets.load_torchvision_weights(lightnets.create_model("mobilenet_v1", width_mult=0.25), permuted)
    assert _same(source.state_dict(), target.state_dict())


def test_a_batchnorm_bias_stored_before_its_weight_is_not_swapped():
    source = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    with torch.no_grad():
        source[1].weight.fill_(2.0)
        source[1].bias.fill_(-1.0)
    state = source.state_dict()
    swapped = {k: state[k] for k in ["0.weight", "0.bias", "1.bias", "1.weight", "1.running_mean",
                                     "1.running_var", "1.num_batches_tracked"]}
    renamed = {k.replace("1.", "bn."): v for k, v in swapped.items()}  # no name to help
    target = lightnets.load_torchvision_weights(nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)), renamed)
    assert (target[1].weight == 2.0).all() and (target[1].bias == -1.0).all()


def test_a_tensor_in_a_role_the_model_lacks_is_named_with_ours():
    state = lightnets.create_model("mobilenet_v1").state_dict()
    # Positionally and by shape everything still fits; only the role says it is not a running mean.
    renamed = {k.replace("features.0.1.running_mean", "features.0.1.running_avg"): v for k, v in state.items()}
    with pytest.raises(ValueError, match=r"'features\.0\.1\.running_mean'.*'features\.0\.1\.running_avg'"):
        lightnets.load_torchvision_weights(lightnets.create_model("mobilenet_v1"), renamed)


def test_a_linear_layer_does_not_load_into_a_convolution_of_the_same_shape():
    ours = nn.Sequential(nn.Conv2d(4, 8, 1), nn.Flatten())
    theirs = {"fc.weight": torch.zeros(8, 4, 1, 1)[:, :, 0, 0], "fc.bias": torch.zeros(8)}
    with pytest.raises(ValueError, match=r"tensor '0\.weight' has shape \(8, 4, 1, 1\).*'fc\.weight' has shape \(8, 4\)"):
        lightnets.load_torchvision_weights(ours, theirs)


def test_mismatched_state_dict_names_the_first_tensor_that_does_not_fit():
    wide = lightnets.create_model("mobilenet_v1").state_dict()
    with pytest.raises(ValueError, match=r"tensor 'features\.0\.0\.weight' has shape \(8, 3, 3, 3\).*"
                                         r"'features\.0\.0\.weight' has shape \(32, 3, 3, 3\)"):
        lightnets.load_torchvision_weights(lightnets.create_model("mobilenet_v1", width_mult=0.25), wide)


def test_state_dict_of_another_network_reports_the_count_and_first_misfit():
    other = lightnets.create_model("mobilenet_v2").state_dict()
    with pytest.raises(ValueError, match="state dict has .* tensors, the model .*; first that does not fit"):
        lightnets.load_torchvision_weights(lightnets.create_model("mobilenet_v1"), other)


def test_a_leftover_tensor_is_named():
    model = nn.Sequential(nn.Linear(4, 2))
    state = {**model.state_dict(), "extra.weight": torch.zeros(3, 3)}
    with pytest.raises(ValueError, match=r"state dict has 3 tensors, the model 2; .*'extra\.weight'"):
        lightnets.load_torchvision_weights(model, state)


@pytest.mark.parametrize("bad, argument", [(nn.Linear(2, 2).state_dict(), "model"), (None, "state_dict")])
def test_bad_arguments_are_named(bad, argument):
    model, state = (bad, {}) if argument == "model" else (nn.Linear(2, 2), bad)
    with pytest.raises(ValueError, match=argument):
        lightnets.load_torchvision_weights(model, state)
