"""lightnets.deploy: BatchNorm folded, channels_last, optional compile/TorchScript; same outputs."""
import pytest
import torch
from torch import nn

import lightnets
from lightnets.deploy import ChannelAffine, deploy

BATCHNORM = nn.modules.batchnorm._BatchNorm


def randomise_batchnorm(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every BatchNorm non-trivial statistics: a fresh model's (mean 0, var 1, γ 1, β 0) would
    make a wrong fold look right."""
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, BATCHNORM):
            c = module.num_features
            module.running_mean.copy_(0.1 * torch.randn(c, generator=generator))
            module.running_var.copy_(0.5 + torch.rand(c, generator=generator))
            module.weight.data.copy_(0.5 + torch.rand(c, generator=generator))
            module.bias.data.copy_(0.1 * torch.randn(c, generator=generator))
    return model


def max_relative_difference(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).abs().max() / b.abs().max()).item()


def small_input(model: nn.Module, seed: int = 0) -> torch.Tensor:
    side = max(getattr(model, "min_resolution", 32), 32)
    return torch.randn(1, 3, side, side, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize(
    "name", [n for n in lightnets.list_models() if lightnets.registry.model_spec(n).resolution])
def test_deploy_keeps_outputs_within_1e5_and_removes_every_batchnorm(name):
    model = randomise_batchnorm(lightnets.create_model(name, num_classes=10)).eval()
    x = small_input(model)
    deployed = deploy(model)
    with torch.no_grad():
        expected, got = model(x), deployed(x)
    assert max_relative_difference(got, expected) < 1e-5
    assert not any(isinstance(m, BATCHNORM) for m in deployed.modules())
    assert any(isinstance(m, BATCHNORM) for m in model.modules()) or name.startswith("squeezenet")


@pytest.mark.parametrize("name", ["mobilenet_v2", "xception", "densenet_bc", "shufflenet_v1",
                                  "squeezenet1_1"])
def test_deploy_removes_exactly_the_folded_batchnorm_parameters(name):
    model = lightnets.create_model(name, num_classes=10)
    deployed = deploy(model)
    before = dict(model.named_modules())
    expected = sum(p.numel() for p in model.parameters())
    for module_name, module in deployed.named_modules():
        original = before[module_name]  # folding keeps every module's name
        if isinstance(original, BATCHNORM) and isinstance(module, nn.Identity):
            expected -= 2 * original.num_features  # γ and β are gone ...
        layer = isinstance(module, (nn.Conv2d, nn.Linear))
        if layer and original.bias is None and module.bias is not None:
            expected += module.bias.numel()  # ... and a bias per output channel comes
    assert sum(p.numel() for p in deployed.parameters()) == expected


def test_mobilenet_v2_deploy_saves_one_parameter_per_batchnorm_channel():
    # Every BatchNorm of MobileNetV2 follows a bias-free conv: γ, β become its bias, -C each.
    model = lightnets.create_model("mobilenet_v2")
    channels = sum(m.num_features for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    assert channels == 17_056
    params = sum(p.numel() for p in model.parameters())
    assert sum(p.numel() for p in deploy(model).parameters()) == params - channels


def test_densenet_pre_activation_batchnorm_becomes_a_channel_affine():
    # norm1 normalises a concatenation that no single conv produced, so it cannot be folded.
    deployed = deploy(lightnets.create_model("densenet121", num_classes=10))
    def last_names(kind):
        return {n.rsplit(".", 1)[-1] for n, m in deployed.named_modules() if isinstance(m, kind)}

    affines, identities = last_names(ChannelAffine), last_names(nn.Identity)
    assert "norm1" in affines and "norm2" in affines  # norm2 follows conv1, but not in a Sequential
    assert "norm0" in identities  # the stem's conv0 → norm0 is a Sequential pair: folded


def test_deploy_leaves_the_original_untouched_and_in_training_mode():
    model = lightnets.create_model("shufflenet_v2_x0_5", num_classes=10).train()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    deployed = deploy(model)
    assert model.training and not deployed.training
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())


def test_channels_last_weights_and_the_option_to_keep_nchw():
    model = lightnets.create_model("mobilenet_v3_small", num_classes=10)
    conv = deploy(model).features[0][0]
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    conv = deploy(model, channels_last=False).features[0][0]
    assert conv.weight.is_contiguous()


def test_linear_followed_by_batchnorm1d_is_folded():
    model = randomise_batchnorm(nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4), nn.ReLU()), 1)
    x = torch.randn(5, 6, generator=torch.Generator().manual_seed(2))
    deployed = deploy(model)
    assert isinstance(deployed[1], nn.Identity)
    with torch.no_grad():
        assert max_relative_difference(deployed(x), model.eval()(x)) < 1e-6


def test_a_sequential_subclass_with_its_own_forward_is_not_folded():
    # Its forward may reuse the conv's output elsewhere (here: a residual), so folding is unsafe.
    class Residual(nn.Sequential):
        def forward(self, x):
            y = self[0](x)
            return self[1](y) + y

    model = randomise_batchnorm(Residual(nn.Conv2d(3, 3, 1), nn.BatchNorm2d(3)), 3).eval()
    x = torch.randn(1, 3, 4, 4, generator=torch.Generator().manual_seed(4))
    deployed = deploy(model)
    assert isinstance(deployed[1], ChannelAffine)
    with torch.no_grad():
        assert max_relative_difference(deployed(x), model(x)) < 1e-6


@pytest.mark.slow
def test_torchscript_freezes_a_traced_model_with_the_same_outputs():
    model = randomise_batchnorm(lightnets.create_model("shufflenet_v2_x0_5", num_classes=10)).eval()
    x = small_input(model)
    frozen = deploy(model, torchscript=True, input_size=(1, 3, 32, 32))
    assert isinstance(frozen, torch.jit.ScriptModule)
    with torch.no_grad():
        assert max_relative_difference(frozen(x), model(x)) < 1e-5


@pytest.mark.parametrize("options, message", [
    (dict(channels_last=1), "channels_last must be True or False"),
    (dict(compile="yes"), "compile must be True or False"),
    (dict(torchscript=None), "torchscript must be True or False"),
    (dict(compile=True, torchscript=True), "at most one"),
    (dict(input_size=(1, 3, 32, 32)), "only used with torchscript"),
    (dict(torchscript=True, input_size=(1, 3, 0, 32)), r"input_size\[2\]"),
    (dict(torchscript=True, input_size=32), "input_size must be a tuple"),
])
def test_bad_options_raise_a_value_error_naming_them(options, message):
    with pytest.raises(ValueError, match=message):
        deploy(lightnets.create_model("squeezenet1_1", num_classes=10), **options)


def test_deploy_rejects_what_is_not_a_module():
    with pytest.raises(ValueError, match="model must be a torch.nn.Module"):
        deploy(lambda x: x)


@pytest.mark.slow
def test_compile_wraps_the_folded_copy_without_compiling_yet():
    # torch.compile is lazy: wrapping is instant, the first call compiles (too slow for a test).
    compiled = deploy(lightnets.create_model("squeezenet1_1", num_classes=10), compile=True)
    assert hasattr(compiled, "_orig_mod") and not compiled._orig_mod.training
