"""One contract for every registered model (timm's tests/test_models.py is the anchor).

Each name in ``list_models()`` must: build with its defaults; run forward and backward in train
and eval mode at its ``min_resolution`` and at its native resolution; honour ``num_classes``;
refuse an input one pixel below ``min_resolution``, where some layer really would get no pixel;
survive a state dict round trip through ``torch.load(weights_only=True)``; and have the parameter
count and Mult-Adds of the one reference table below. Per-family test files keep only what is
specific to their paper.
"""
import io
import json
import os

import pytest
import torch

import lightnets
from lightnets import cost
from lightnets.registry import model_spec

NAMES = lightnets.list_models()
IMAGE = [n for n in NAMES if model_spec(n).resolution]
TABULAR = [n for n in NAMES if not model_spec(n).resolution]
GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "references", "models")


def _golden(name):
    path = os.path.join(GOLDEN, f"{name}.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def reference_counts(name):
    """(parameters, Mult-Adds in millions or None, input side, exact?, source) of the one
    reference table: the golden file made from torchvision or timm where a library has the model
    (exact parameters; Mult-Adds as torchvision publishes them, GFLOPs to three decimals, at the
    weights' crop size), else the paper's figure (`Reported`), as exact as the paper prints it."""
    golden = _golden(name)
    if golden is not None:
        ref = golden["reference"]
        source = f"{ref['library']} {ref['name']}"
        ops = golden["published_ops"]
        if not ops:  # timm publishes no operation count
            return golden["params"], None, None, True, source
        return (golden["params"], ops[0]["gflops"] * 1e3, ops[0]["crop_size"][0], True,
                f"{source} {ops[0]['weights']}")
    reported = model_spec(name).reported
    if reported is None:
        return None, None, None, False, "no reference"
    params = None if reported.params_millions is None else reported.params_millions * 1e6
    return params, reported.mult_adds_millions, model_spec(name).resolution, False, reported.source


def _inputs(model, side, batch=2):
    return torch.randn(batch, model.in_channels, side, side, generator=torch.Generator().manual_seed(0))


def _forward_backward(model, x, num_classes):
    for train in (True, False):
        model.train(train)
        model.zero_grad(set_to_none=True)
        out = model(x)
        assert out.shape == (x.shape[0], num_classes)
        assert torch.isfinite(out).all()
        out.sum().backward()
        grads = [p.grad for p in model.parameters() if p.requires_grad]
        assert all(g is not None for g in grads), "a parameter got no gradient"


@pytest.mark.parametrize("name", IMAGE)
def test_forward_and_backward_at_min_resolution_with_any_num_classes(name):
    model = lightnets.create_model(name, num_classes=7)
    _forward_backward(model, _inputs(model, model.min_resolution), 7)


# The largest networks at their native side take most of a minute on two cores; they run there in
# eval mode, forward only, which is what a learner does with them on a CPU.
HEAVY_MILLION_MACS = 3000


@pytest.mark.parametrize("name", IMAGE)
def test_forward_and_backward_at_the_native_resolution(name):
    side = model_spec(name).resolution
    model = lightnets.create_model(name, num_classes=5)
    if cost.profile(model, (1, model.in_channels, side, side)).macs / 1e6 > HEAVY_MILLION_MACS:
        model.eval()
        with torch.no_grad():
            assert model(_inputs(model, side, batch=1)).shape == (1, 5)
        return
    _forward_backward(model, _inputs(model, side), 5)


def _smallest_real_layer_side(model, side):
    # Real tensors, not the meta pass that sets min_resolution: an independent measurement.
    sides = []
    hooks = [m.register_forward_hook(
        lambda _m, _i, out: sides.append(min(out.shape[-2:])) if out.dim() == 4 else None)
        for m in model.features.modules()]
    try:
        with torch.no_grad():
            model.eval().features(_inputs(model, side, batch=1))
    except RuntimeError:
        return 0
    finally:
        for hook in hooks:
            hook.remove()
    return min(sides)


# Where a network has unpadded convolutions or pools, a pixel can be lost on the way down; the
# sides torchvision publishes as its weights' ``min_size`` are 29 (DenseNet), 21 and 17 (SqueezeNet)
# and (1, 1) for every padded family. Xception: two unpadded 3×3 stem convs, 7 → 3 → 1 px.
MIN_RESOLUTION = {"densenet121": 29, "densenet161": 29, "densenet169": 29, "densenet201": 29,
                  "densenet_bc": 4, "squeezenet1_0": 21, "squeezenet1_1": 17, "xception": 7}


@pytest.mark.slow
def test_min_resolution_equals_the_published_minimum_sizes():
    measured = {n: lightnets.create_model(n).min_resolution for n in IMAGE}
    assert {n: s for n, s in measured.items() if s != 1} == MIN_RESOLUTION


def test_a_padded_network_runs_at_sizes_below_its_total_stride():
    # mobilenet_v2 used to refuse 16 px, which its layers run fine (torchvision: min_size (1, 1)).
    model = lightnets.create_model("mobilenet_v2", num_classes=3).eval()
    assert model(torch.zeros(1, 3, 16, 20)).shape == (1, 3)
    with pytest.raises(ValueError, match=r"input height and width must be >= 1 px .*got 0x20"):
        model(torch.zeros(1, 3, 0, 20))


@pytest.mark.parametrize("name", IMAGE)
def test_min_resolution_is_the_smallest_side_at_which_every_layer_gets_a_pixel(name):
    model = lightnets.create_model(name)
    smallest = model.min_resolution
    assert _smallest_real_layer_side(model, smallest) >= 1
    if smallest > 1:
        assert _smallest_real_layer_side(model, smallest - 1) < 1
        with pytest.raises(ValueError, match=f">= {smallest} px"):
            model(_inputs(model, smallest - 1, batch=1))


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip_through_a_weights_only_load(name):
    model = lightnets.create_model(name).eval()
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    fresh = lightnets.create_model(name).eval()
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    for (key, ours), theirs in zip(model.state_dict().items(), fresh.state_dict().values()):
        assert torch.equal(ours, theirs), key


@pytest.mark.parametrize("name", NAMES)
def test_parameters_and_mult_adds_equal_the_reference_table(name):
    params, mult_adds, side, exact, source = reference_counts(name)
    model = lightnets.create_model(name)
    ours = sum(p.numel() for p in model.parameters())
    if params is not None:
        if exact:  # a golden file
            assert ours == params, source
        else:  # the paper's figure, printed to 0.1 M (DenseNet-BC Table 2: 0.8 M)
            assert abs(ours - params) <= 0.05e6, source
    if mult_adds is not None and side:
        macs = cost.profile(model, (1, model.in_channels, side, side)).macs / 1e6
        if exact:  # torchvision prints GFLOPs to three decimals
            assert round(macs / 1e3, 3) == round(mult_adds / 1e3, 3), source
        else:  # papers round and count slightly differently (EfficientNet Table 2: 4.2 B vs 4.39)
            assert abs(macs - mult_adds) <= 0.05 * mult_adds, source


def test_every_image_model_has_a_reference_count():
    missing = [n for n in IMAGE if reference_counts(n)[0] is None and reference_counts(n)[1] is None]
    assert missing == ["efficientnet"]  # the generic builder: any (w, d), no one figure


@pytest.mark.parametrize("name", TABULAR)
def test_tabular_models_honour_num_classes_in_train_and_eval(name):
    model = lightnets.create_model(name, num_classes=3)
    categories = torch.zeros(4, len(model.embedding.categories), dtype=torch.long)
    continuous = torch.randn(4, model.num_continuous)
    for train in (True, False):
        model.train(train)
        out = model(categories, continuous)
        assert out.shape == (4, 3)
        out.sum().backward()


def test_a_callers_dispatch_mode_does_not_see_the_min_resolution_search():
    """The first forward measures min_resolution with meta passes of its own; a FlopCounterMode
    (or profile's counter, or a memory tracker) around that forward counts the forward only."""
    from torch.utils.flop_counter import FlopCounterMode

    from lightnets.models import base

    base._MIN_RESOLUTIONS.clear()
    first, second = lightnets.create_model("squeezenet1_1"), lightnets.create_model("squeezenet1_1")
    x = torch.randn(1, 3, 64, 64)
    counts = []
    for model in (first, second):  # the second finds min_resolution in the cache
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model.eval()(x)
        counts.append(counter.get_total_flops())
    assert counts[0] == counts[1]


def test_a_network_that_fails_at_every_size_says_why():
    """A BatchNorm sized for other channels (a blog's int(16·α) at α = 0.75, lesson 10) fails at
    every input side; the error gives PyTorch's reason, not a claim about input size."""
    import torch
    from torch import nn

    model = lightnets.create_model("mobilenet_v3_large", width_mult=0.75)
    model.features[0][1] = nn.BatchNorm2d(12)
    with pytest.raises(ValueError, match="fail on every input side up to 4096 px.*running_mean"):
        model(torch.zeros(1, 3, 224, 224))
