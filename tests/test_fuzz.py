"""Property-based tests (hypothesis) over the public API: whatever a learner passes, each call
either succeeds with a sane result or raises a ValueError/TypeError whose message names one of the
call's arguments. A raw error from deep inside torch/numpy/Python fails the test, and so does a
call that runs past ``CALL_SECONDS`` (a hang).

Repeatable: ``derandomize=True`` (the same examples on every run) and ``database=None`` (nothing
written to disk). The last test checks that the module made at least ``MINIMUM_CALLS`` calls.

Warnings are not errors here: a documented conversion (cam casting a float64 batch to the model's
float32, say) warns and goes on, and test_bad_input.py checks each warning's text.

A new public function joins the fuzz as one :class:`EntryPoint` in ``ENTRY_POINTS`` (see the end
of the "entry points" section): its arguments' good and bad values, and what a result must be.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import math
import os
import signal
import sys
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lightnets
from lightnets import cam, data, imagenet, manifold, memory, quantize, scaling, train, train_cli
from lightnets.checkpoint import CheckpointError

CALL_SECONDS = 20  # generous on a busy 2-core machine; a hang runs for minutes
MINIMUM_CALLS = 2000
# Strategies for functions that another branch validates: a raw error there is expected until it
# merges. The lead re-enables them by emptying this set.

COUNTS = {"calls": 0, "results": 0, "clean_errors": 0}
WARNED: list[str] = []  # the warnings of the last call, for checks of a silent result
FUZZ_TESTS_RUN = set()


def fuzz_settings(examples: int):
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=False)


@contextlib.contextmanager
def time_limit(seconds: float):
    def expire(signum, frame):
        raise TimeoutError(f"call ran past {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def call(function, *args, names=(), errors=(ValueError, TypeError), **kwargs):
    """Run ``function``; return ``(True, result)`` or ``(False, error)`` for a clean error, one of
    ``errors`` whose message names one of ``names`` (default: the keywords given). Anything else,
    or a hang, fails the test."""
    names = tuple(names) or tuple(kwargs)
    COUNTS["calls"] += 1
    try:
        with time_limit(CALL_SECONDS), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)  # documented conversions; see above
            WARNED.clear()
            result = function(*args, **kwargs)
        WARNED.extend(str(warning.message) for warning in caught)
    except errors as error:
        message = str(error)
        assert any(name in message for name in names), \
            f"{type(error).__name__} names none of {names}: {message}"
        COUNTS["clean_errors"] += 1
        return False, error
    COUNTS["results"] += 1
    return True, result


@pytest.fixture(autouse=True)
def _record(request):
    yield
    FUZZ_TESTS_RUN.add(request.node.name)


# --- values a careless or curious learner might pass ---------------------------------------------

# Python's integers have no bound; torch's sizes, indices and seeds stop at int64.
past_int64 = st.sampled_from([2**63, 2**64, 10**80, -(2**63) - 1])
# Below int64 but far past any memory, or past int64 once multiplied by a layer's other side.
int64_edges = st.sampled_from([2**31, 2**40, 2**62, 2**63 - 1])
weird = st.one_of(
    st.none(), st.booleans(), st.text(max_size=4), st.lists(st.integers(0, 3), max_size=2),
    st.just(float("nan")), st.just(float("inf")), st.just(-float("inf")), st.just(10**30),
    st.just(torch.ones(2)), past_int64,
)
small_ints = st.integers(-3, 40)


@st.composite
def arguments(draw, **fields):
    """Keyword arguments with at most one of them bad: ``fields`` maps each name to
    ``(good values, bad values)``. About one call in (len(fields) + 1) is entirely good, and a bad
    call has one clear culprit."""
    culprit = draw(st.sampled_from([None, None, *fields]))
    return {name: draw(bad if name == culprit else good) for name, (good, bad) in fields.items()}
probabilities = st.one_of(st.floats(-0.5, 1.5, allow_nan=False), weird)


# --- model builders ------------------------------------------------------------------------------

SMALL_MODELS = ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_small", "densenet_bc",
                "shufflenet_v1", "squeezenet1_1", "efficientnet", "mnasnet0_5"]
BUILDER_VALUES = {
    "width_mult": st.one_of(st.sampled_from([0.0, 1e-4, 0.1, 0.25, 5.0, 100.0]), weird),
    "depth_mult": st.one_of(st.sampled_from([0.0, 1e-3, 0.1, 0.25, 9.0]), weird),
    "dropout": probabilities,
    "stochastic_depth_prob": probabilities,
    "growth_rate": st.one_of(st.sampled_from([0, 1, 2, 10**4, 10**6]), weird),
    "compression": st.one_of(st.sampled_from([0.0, 1e-3, 0.01, 0.5, 1.0, 2.0]), weird),
    "depth": st.one_of(st.sampled_from([0, 10, 16, 22, 25, 10**5, 10**7]), weird),
    "groups": st.one_of(st.sampled_from([0, 1, 3, 5, 8, 3.0]), weird),
    "resolution": st.one_of(st.sampled_from([0, 8, 31, 32, 10**4]), weird),
}


GOOD_BUILDER_VALUES = {
    "width_mult": st.sampled_from([0.25, 0.5]), "depth_mult": st.sampled_from([0.25, 0.5]),
    "dropout": st.floats(0, 0.9), "stochastic_depth_prob": st.floats(0, 0.9),
    "growth_rate": st.integers(1, 12), "compression": st.floats(0.3, 1.0),
    "depth": st.sampled_from([10, 16, 22]), "groups": st.sampled_from([1, 2, 3, 4, 8]),
    "resolution": st.sampled_from([32, 64, 224]),
}


@st.composite
def model_calls(draw):
    name = draw(st.one_of(st.sampled_from(SMALL_MODELS), st.sampled_from(SMALL_MODELS),
                          st.sampled_from(lightnets.list_models()), weird, st.text(max_size=6)))
    config = {}
    if draw(st.booleans()):
        config["num_classes"] = draw(st.one_of(st.integers(1, 20), st.integers(1, 20),
                                               st.sampled_from([0, 10**7, 10**9]), weird))
    good = draw(st.integers(0, 2)) > 0
    for key in draw(st.lists(st.sampled_from(sorted(BUILDER_VALUES)), max_size=2, unique=True)):
        config[key] = draw(GOOD_BUILDER_VALUES[key] if good else BUILDER_VALUES[key])
    return name, config


@fuzz_settings(260)
@given(model_calls())
@pytest.mark.slow
def test_fuzz_create_model(arguments):
    name, config = arguments
    ok, model = call(lightnets.create_model, name, names=("name", "num_classes", *config,
                                                          *lightnets.list_models()), **config)
    if ok:
        assert isinstance(model, torch.nn.Module)
        assert all(p.numel() > 0 for p in model.parameters())


# --- data sets -----------------------------------------------------------------------------------

pairs = st.one_of(st.tuples(st.floats(-0.2, 1.2), st.floats(-0.2, 1.2)), weird,
                  st.lists(st.floats(0, 0.4), max_size=3))


ratio_pairs = st.tuples(st.floats(0.1, 0.2), st.floats(0.2, 0.3))


@fuzz_settings(160)
@given(arguments(
    num_images=(st.integers(1, 4), st.one_of(st.integers(-2, 0), weird)),
    resolution=(st.sampled_from([8, 16, 32]), st.one_of(st.sampled_from([0, 7, 10**4]), weird)),
    seed=(st.integers(0, 10**6), st.one_of(st.integers(-5, -1), weird)),
    clutter=(st.floats(0, 1), probabilities),
    scale=(ratio_pairs, pairs),
    classes=(st.lists(st.sampled_from(data.SHAPE_CLASSES), min_size=1, max_size=3, unique=True),
             st.one_of(st.lists(st.sampled_from(data.SHAPE_CLASSES + ("hexagon",)), max_size=3),
                       weird))))
@pytest.mark.slow
def test_fuzz_shapes(kwargs):
    ok, shapes = call(data.Shapes, **kwargs)
    if ok:
        assert len(shapes) == kwargs["num_images"]
        assert shapes.masks.shape[1:] == (kwargs["resolution"],) * 2
        assert int(shapes.labels.max()) < len(shapes.class_names)


@fuzz_settings(120)
@given(arguments(
    num_images=(st.integers(1, 3), st.one_of(st.integers(-1, 0), weird)),
    resolution=(st.sampled_from([8, 16, 24]), st.one_of(st.sampled_from([0, 2048]), weird)),
    supersample=(st.integers(1, 4), st.one_of(st.sampled_from([0, 16, 1000]), weird)),
    scale=(ratio_pairs, pairs),
    period=(st.tuples(st.floats(0.04, 0.06), st.floats(0.06, 0.1)), pairs)))
def test_fuzz_stripes(kwargs):
    ok, stripes = call(data.Stripes, **kwargs)
    if ok:
        assert len(stripes) == kwargs["num_images"] and stripes.images.dtype == torch.uint8


@fuzz_settings(40)
@given(split=st.one_of(st.sampled_from(["train", "test", "val"]), weird),
       resolution=st.one_of(st.sampled_from([0, 15, 1024, 10**6]), weird), scale=pairs)
def test_fuzz_digits_arguments(split, resolution, scale):
    # Every valid Digits set draws 1797 images; the valid path is tested in test_data.py.
    ok, _ = call(data.Digits, split, resolution, 0, 0.5, scale,
                 names=("split", "resolution", "scale"))
    assert not ok


tensors = st.builds(
    lambda shape, dtype, fill: torch.full(shape, fill).to(dtype),
    st.lists(st.integers(0, 4), min_size=0, max_size=5).map(tuple),
    st.sampled_from([torch.uint8, torch.int64, torch.float32, torch.bool]),
    st.sampled_from([0, 1, 7, -1]),
)


@fuzz_settings(150)
@given(arguments(
    images=(st.just(torch.zeros(2, 3, 4, 4, dtype=torch.uint8)), st.one_of(tensors, weird)),
    labels=(st.sampled_from([torch.tensor([0, 1]), torch.tensor([1, 1])]),
            st.one_of(tensors, weird)),
    masks=(st.just(torch.zeros(2, 4, 4, dtype=torch.bool)), st.one_of(tensors, weird)),
    class_names=(st.just(["a", "b"]),
                 st.one_of(st.lists(st.sampled_from("abc"), max_size=3), weird))))
def test_fuzz_masked_images(kwargs):
    images = kwargs["images"]
    ok, dataset = call(data.MaskedImages, **kwargs)
    if ok:
        assert len(dataset) == len(images) and dataset.masks.shape[1:] == images.shape[2:]


# --- class activation maps -----------------------------------------------------------------------

TINY = lightnets.create_model("mobilenet_v1", num_classes=3, width_mult=0.25)

images = st.builds(
    lambda n, c, h, w, fill, dtype: torch.rand(n, c, h, w).to(dtype).index_fill_(
        0, torch.tensor([0] if n else [], dtype=torch.long), fill) if n else torch.rand(n, c, h, w),
    st.integers(0, 2), st.sampled_from([3, 3, 3, 1]), st.sampled_from([32, 32, 40, 8]),
    st.sampled_from([32, 36, 8]), st.sampled_from([0.5, float("nan"), float("inf"), 1e30]),
    st.sampled_from([torch.float32, torch.float32, torch.float64, torch.int64]))
targets = st.one_of(st.none(), st.integers(-1, 4), st.lists(st.integers(-1, 3), max_size=3),
                    weird, st.just(torch.tensor([0.5])), st.just(torch.tensor([1, 2])))


good_images = st.builds(lambda n, h, w, seed: torch.rand(
    n, 3, h, w, generator=torch.Generator().manual_seed(seed)), st.integers(1, 2),
    st.sampled_from([32, 40]), st.sampled_from([32, 36]), st.integers(0, 100))
good_targets = st.one_of(st.none(), st.integers(0, 2))


@fuzz_settings(100)
@given(arguments(x=(good_images, st.one_of(images, weird)), target=(good_targets, targets)))
def test_fuzz_cam(kwargs):
    x = kwargs["x"]
    ok, maps = call(cam.cam, TINY, **kwargs, names=("x", "target", "model"))
    if ok:
        assert maps.shape == (x.shape[0], *x.shape[2:]) and torch.isfinite(maps).all()
        assert 0 <= maps.min() and maps.max() <= 1


@fuzz_settings(100)
@given(arguments(x=(good_images, st.one_of(images, weird)), target=(good_targets, targets),
                 layer=(st.sampled_from([None, "features.3", "features.5"]),
                        st.one_of(st.sampled_from(["features.99", "classifier"]), weird))))
def test_fuzz_grad_cam(kwargs):
    x = kwargs["x"]
    ok, maps = call(cam.grad_cam, TINY, **kwargs, names=("x", "target", "layer", "model"))
    if ok:  # never all-NaN maps: finite, in [0, 1]
        assert maps.shape == (x.shape[0], *x.shape[2:]) and torch.isfinite(maps).all()
        assert 0 <= maps.min() and maps.max() <= 1


map_tensors = st.builds(
    lambda shape, fill: torch.rand(shape).index_fill_(0, torch.tensor([0]), fill)
    if shape and shape[0] else torch.rand(shape),
    st.lists(st.integers(0, 6), min_size=1, max_size=4).map(tuple),
    st.sampled_from([0.3, float("nan"), -float("inf")]))


@fuzz_settings(120)
@given(maps=st.one_of(map_tensors, weird), masks=st.one_of(map_tensors, weird),
       tolerance=st.one_of(st.integers(-1, 3), weird),
       size=st.one_of(st.tuples(st.integers(-1, 20), st.integers(-1, 20)), weird))
def test_fuzz_cam_helpers(maps, masks, tolerance, size):
    ok, result = call(cam.postprocess, maps, size, names=("maps", "size"))
    if ok:
        assert torch.isfinite(result).all() and result.shape[1:] == tuple(size)
    ok, result = call(cam.peaks, maps, names=("maps",))
    if ok:
        assert result.shape == (len(maps), 2)
    if isinstance(masks, torch.Tensor):
        masks = masks > 0.5
    call(cam.pointing_game, maps, masks, tolerance, names=("maps", "masks", "tolerance"))


@fuzz_settings(100)
@given(shape=st.one_of(st.lists(st.integers(-1, 8), max_size=4), weird),
       seed=st.one_of(st.integers(-1, 3), weird), alpha=probabilities,
       colormap=st.one_of(st.sampled_from(["jet", "viridis", "nope"]), weird))
def test_fuzz_random_maps_and_overlay(shape, seed, alpha, colormap):
    ok, maps = call(cam.random_maps, shape, seed, names=("shape", "seed"))
    if ok:
        assert maps.shape == tuple(shape)
    image = torch.rand(3, 8, 8) if not isinstance(shape, list) or len(shape) != 3 else \
        torch.rand([max(side, 0) for side in shape])  # the image itself never has a bad shape
    ok, picture = call(cam.overlay, image, torch.rand(8, 8), alpha, colormap,
                       names=("alpha", "colormap", "image", "heatmap"))
    if ok:
        assert np.isfinite(picture).all() and picture.shape == (8, 8, 3)


# --- training ------------------------------------------------------------------------------------

TRAIN_SET = data.Shapes(8, 32, seed=0)


@fuzz_settings(50)
@given(arguments(
    epochs=(st.integers(1, 2), st.one_of(st.sampled_from([0, 10**6]), weird)),
    batch_size=(st.sampled_from([4, 8]), st.one_of(st.sampled_from([0, 10**6]), weird)),
    lr=(st.floats(1e-4, 1e-2), st.one_of(st.sampled_from([0.0, -1.0, 1e3]), weird)),
    optimizer=(st.sampled_from(["adamw", "sgd"]), st.one_of(st.just("adam"), weird)),
    label_smoothing=(st.floats(0, 0.5), probabilities),
    device=(st.sampled_from(["cpu", None]),
            st.one_of(st.sampled_from(["cuda", "cuda:7", "tpu", "mps"]), weird))))
@pytest.mark.slow
def test_fuzz_fit(kwargs):
    model = lightnets.create_model("mobilenet_v1", num_classes=5, width_mult=0.25)

    def fit(device, **settings):  # a bad setting fails where the TrainConfig is made
        return train.fit(model, TRAIN_SET, None, train.TrainConfig(**settings), device=device,
                         progress=False)

    ok, history = call(fit, **kwargs)
    if ok:
        assert len(history) == kwargs["epochs"]
        assert all(math.isfinite(row["train_loss"]) for row in history)


@fuzz_settings(60)
@given(arguments(
    dataset=(st.just(TRAIN_SET), st.one_of(st.just([]), weird)),
    batch_size=(st.integers(1, 9), st.one_of(st.integers(-1, 0), weird)),
    device=(st.sampled_from(["cpu", None]), st.one_of(st.sampled_from(["cuda", "gpu"]), weird))))
def test_fuzz_evaluate(kwargs):
    ok, scores = call(train.evaluate, TINY5, **kwargs)
    if ok:
        assert 0 <= scores["accuracy"] <= 1 and math.isfinite(scores["loss"])


TINY5 = lightnets.create_model("mobilenet_v1", num_classes=5, width_mult=0.25)

CLI_VALUES = {
    "--model": ["mobilenet_v1", "nope", ""], "--resolution": ["32", "0", "-5", "100000", "x"],
    "--train-size": ["4", "0", "-1", "10000000"], "--val-size": ["2", "0"],
    "--epochs": ["1", "0", "1e3"], "--batch-size": ["4", "0", "-2"],
    "--lr": ["1e-3", "nan", "inf", "0", "-1"], "--seed": ["0", "-1"],
    "--device": ["cpu", "cuda", "cuda:3", "tpu"], "--workers": ["0", "-1"],
    "--model-arg": ["width_mult=0.25", "num_classes=3", "width_mult=0", "bogus=1", "novalue",
                    "growth_rate=1e9"],
    "--export": ["/proc/nope/slim.pt"],
}


@fuzz_settings(120)
@given(st.dictionaries(st.sampled_from(sorted(CLI_VALUES)), st.integers(0, 10), max_size=4))
@pytest.mark.slow
def test_fuzz_train_command_line(choices):
    argv = ["--no-progress", "--resolution", "32", "--train-size", "4", "--val-size", "2",
            "--epochs", "1", "--batch-size", "4", "--model", "mobilenet_v1",
            "--model-arg", "width_mult=0.25", "--device", "cpu"]
    for flag, index in choices.items():
        values = CLI_VALUES[flag]
        argv += [flag, values[index % len(values)]]
    COUNTS["calls"] += 1
    with contextlib.redirect_stderr(open(os.devnull, "w")) as _, time_limit(CALL_SECONDS):
        try:
            history = train_cli.main(argv)
        except SystemExit as exit_:
            assert exit_.code == 2, f"exit status {exit_.code} for {argv}"
            COUNTS["clean_errors"] += 1
            return
    COUNTS["results"] += 1
    assert len(history) == 1


def test_fuzz_command_line_errors_name_the_flag(capsys):
    with pytest.raises(SystemExit) as exit_:
        train_cli.main(["--resolution", "0"])
    assert exit_.value.code == 2 and "--resolution" in capsys.readouterr().err


# --- scaling, quantize, manifold, memory ---------------------------------------------------------

reals = st.one_of(st.floats(-1, 60, allow_nan=False), weird)


coefficient = st.floats(1.0, 1.4)


@fuzz_settings(200)
@given(arguments(phi=(st.floats(0, 3), reals), alpha=(coefficient, reals),
                 beta=(coefficient, reals), gamma=(coefficient, reals),
                 variant=(st.sampled_from(["b1", "b3"]),
                          st.one_of(st.sampled_from(["b0", "b9"]), weird))))
def test_fuzz_scaling(kwargs):
    phi, alpha, beta, gamma, variant = kwargs.values()
    names = ("phi", "alpha", "beta", "gamma", "variant", "width_mult", "depth_mult", "resolution")
    ok, result = call(scaling.multipliers, phi, alpha, beta, gamma, names=names)
    if ok:
        assert all(math.isfinite(m) and m >= 1 for m in result)
    ok, result = call(scaling.predicted_flops_ratio, phi, alpha, beta, gamma, names=names)
    if ok:
        assert math.isfinite(result) and result >= 1
    call(scaling.official_phi, variant, alpha, beta, gamma, names=names)
    ok, cost = call(scaling.compound_cost, phi, alpha, beta, gamma, names=names)
    if ok:
        assert cost.macs > 0 and cost.params > 0


@fuzz_settings(200)
@given(arguments(width=(st.floats(0.1, 2), reals), depth=(st.floats(0.1, 2), reals),
                 resolution=(st.integers(32, 300), st.one_of(st.integers(-1, 31), weird)),
                 num_classes=(st.integers(1, 1000), st.one_of(st.integers(-1, 0), weird)),
                 channels=(st.integers(1, 2000), st.one_of(st.integers(-1, 0), weird)),
                 divisor=(st.sampled_from([1, 4, 8]), st.one_of(st.integers(-3, 0), weird))))
def test_fuzz_scaling_rounding_and_network_cost(kwargs):
    width, depth, resolution, num_classes, channels, divisor = kwargs.values()
    names = ("width_mult", "depth_mult", "resolution", "num_classes", "channels", "divisor",
             "repeats", "resolution_mult", "base_resolution")
    ok, cost = call(scaling.network_cost, width, depth, resolution, num_classes, names=names)
    if ok:
        assert resolution >= 32 and cost.macs > 0
    ok, rounded = call(scaling.round_filters, channels, width, divisor, names=names)
    if ok:
        assert rounded % divisor == 0 and rounded > 0
    call(scaling.round_repeats, channels, depth, names=names)
    call(scaling.scaled_resolution, width, resolution, names=names)


@fuzz_settings(200)
@given(arguments(
    x=(st.builds(torch.tensor, st.lists(st.floats(-10, 10), min_size=1, max_size=4)),
       st.one_of(st.builds(torch.tensor, st.lists(st.floats(allow_nan=True), max_size=4)),
                 st.builds(torch.tensor, st.lists(st.integers(-300, 300), max_size=4)), weird)),
    scale=(st.sampled_from([0.5, 0.1, 3 / 128]), reals),
    zero_point=(st.integers(-5, 5), weird),
    bounds=(st.sampled_from([quantize.INT8, quantize.UINT8]),
            st.one_of(st.tuples(st.integers(-200, 10), st.integers(-10, 300)), weird)),
    out_scale=(st.sampled_from([1 / 256, 1 / 128]), st.one_of(st.sampled_from([0.3, 0.0]), weird))))
def test_fuzz_quantize(kwargs):
    x, scale, zero_point, bounds, out_scale = kwargs.values()
    names = ("x", "scale", "zero_point", "bounds", "codes", "out_scale")
    ok, codes = call(quantize.quantize, x, scale, zero_point, bounds, names=names)
    if ok:
        assert codes.dtype == torch.int64 and ((codes >= bounds[0]) & (codes <= bounds[1])).all()
        ok, back = call(quantize.dequantize, codes, scale, zero_point, names=names)
        assert ok and torch.isfinite(back).all()
    codes = x.round().long() if isinstance(x, torch.Tensor) and x.is_floating_point() \
        and torch.isfinite(x).all() else x
    ok, gated = call(quantize.hard_sigmoid_int, codes, scale, out_scale, names=names)
    if ok:
        assert ((gated >= 0) & (gated <= 255)).all()
    call(quantize.plan_sigmoid, x, names=names)


arrays = st.one_of(
    st.builds(lambda r, c, v: np.full((r, c), v), st.integers(0, 4), st.integers(0, 3),
              st.sampled_from([0.5, 0.0, float("nan"), float("inf")])),
    st.builds(lambda r, c: np.random.default_rng(r).normal(size=(r, c)), st.integers(1, 30),
              st.integers(1, 3)),
    weird)


good_points = st.builds(lambda r, seed: np.random.default_rng(seed).normal(size=(r, 2)),
                        st.integers(2, 30), st.integers(0, 100))


@fuzz_settings(200)
@given(arguments(points=(good_points, arrays), embedding=(good_points, arrays),
                 n=(st.integers(1, 20), st.one_of(st.integers(-1, 0), weird)),
                 turns=(st.floats(0.5, 3), reals),
                 n_points=(st.integers(2, 50), st.one_of(st.integers(-1, 1), weird)),
                 tol=(st.floats(0, 1e-3), reals)))
@pytest.mark.slow
def test_fuzz_manifold(kwargs):
    points, embedding, n, turns, n_points, tol = kwargs.values()
    names = ("points", "embedding", "recovered", "n", "turns", "n_points", "tol", "seed",
             "in_dim", "dims", "seeds")
    ok, spiral = call(manifold.spiral, n_points, turns, names=names)
    if ok:
        assert spiral.shape == (n_points, 2)
    ok, roundtrip = call(manifold.relu_roundtrip, points, embedding, names=names)
    if ok:
        assert np.isfinite(roundtrip).all()
        ok, error = call(manifold.shape_error, points, roundtrip, names=names)
        assert not ok or 0 <= error <= 1 + 1e-9
    ok, lost = call(manifold.lost_fraction, points, embedding, tol, names=names)
    assert not ok or 0 <= lost <= 1
    call(manifold.random_embedding, n, 0, 2, names=names)
    ok, curve = call(manifold.collapse_curve, [n] if isinstance(n, int) else n, [0], names=names)
    if ok:
        assert all(0 <= v <= 1 + 1e-9 for v in curve["lost_fraction_relu"])


@fuzz_settings(30)
@given(arguments(
    input_size=(st.tuples(st.integers(1, 2), st.just(3), st.sampled_from([32, 64]),
                          st.sampled_from([32, 48])),
                st.one_of(st.tuples(st.integers(0, 2), st.sampled_from([1, 3]),
                                    st.sampled_from([0, 16, 32]), st.sampled_from([8, 48])),
                          st.lists(st.integers(1, 40), max_size=5), weird)),
    bytes_per_value=(st.integers(1, 4), st.one_of(st.integers(-1, 0), weird))))
@pytest.mark.slow
def test_fuzz_memory(kwargs):
    input_size, bytes_per_value = kwargs.values()
    names = ("input_size", "bytes_per_value", "steps")
    model = TINY_V2
    ok, steps = call(memory.inference_steps, model, input_size, names=names)
    if ok:
        ok, peak = call(memory.peak_memory, steps, bytes_per_value, names=names)
        assert not ok or peak > 0
    call(memory.nonlinearity_sizes, model, input_size, names=names)


TINY_V2 = lightnets.create_model("mobilenet_v2", num_classes=3, width_mult=0.25)


# --- checkpoint files ----------------------------------------------------------------------------


@fuzz_settings(60)
@given(content=st.one_of(st.binary(max_size=64), st.sampled_from([b"", b"PK\x03\x04junk"])))
def test_fuzz_loading_any_file_names_the_path(content, tmp_path_factory):
    path = tmp_path_factory.mktemp("files") / "any.pt"
    path.write_bytes(content)
    ok, _ = call(train.load_checkpoint, path, names=(str(path),),
                 errors=(CheckpointError,))
    assert not ok
    ok, _ = call(train.load_model, path, names=(str(path),), errors=(CheckpointError,))
    assert not ok


# --- profile and latency --------------------------------------------------------------------------


good_sizes = st.tuples(st.integers(1, 2), st.just(3), st.sampled_from([32, 40]),
                       st.sampled_from([32, 64]))
sizes = st.one_of(good_sizes, st.tuples(st.integers(-1, 2), st.sampled_from([0, 1, 3]),
                            st.sampled_from([0, 8, 32]), st.sampled_from([32, 40])),
                  st.lists(st.integers(-1, 40), max_size=5), weird)


@fuzz_settings(60)
@given(input_size=sizes, model=st.one_of(st.just(TINY), weird))
def test_fuzz_profile(input_size, model):
    ok, cost = call(lightnets.profile, model, input_size, names=("input_size", "model"))
    if ok:
        assert cost.params > 0 and cost.macs > 0


@fuzz_settings(40)
@given(input_size=sizes, runs=st.one_of(st.integers(-1, 2), weird),
       warmup=st.one_of(st.integers(-1, 1), weird),
       device=st.one_of(st.sampled_from([None, "cpu", "cuda", "tpu"]), weird))
def test_fuzz_latency(input_size, runs, warmup, device):
    ok, timing = call(lightnets.latency, TINY, input_size, runs, warmup, device,
                      names=("input_size", "runs", "warmup", "device", "model"))
    if ok:
        assert timing is not None


# --- experiments' command lines ------------------------------------------------------------------


SCALING_FLAGS = [["--epochs", "0"], ["--epochs", "2"], ["--seed", "-1"], ["--train-size", "0"],
                 ["--val-size", "5"], ["--phis", "nan"], ["--phis", "1", "2"], ["--threads", "0"],
                 ["--threads", "x"], ["--phis", "9"]]
ABLATION_FLAGS = [["--steps", "10"], ["--steps", "100"], ["--seeds", "0"], ["--seeds", "2"],
                  ["--steps", "-5"], ["--seeds", "10000"]]


def run_command_line(main, argv) -> None:
    COUNTS["calls"] += 1
    with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink), \
            contextlib.redirect_stdout(sink), time_limit(CALL_SECONDS):
        try:
            main(argv)
        except SystemExit as exit_:
            assert exit_.code == 2, f"exit status {exit_.code} for {argv}"
            COUNTS["clean_errors"] += 1
            return
    COUNTS["results"] += 1


@fuzz_settings(50)
@given(flags=st.lists(st.sampled_from(SCALING_FLAGS), max_size=3))
def test_fuzz_scaling_experiment_command_line(flags, stubbed_experiments):
    from lightnets.experiments import scaling as experiment

    run_command_line(experiment.main, [w for flag in flags for w in flag])


@fuzz_settings(40)
@given(flags=st.lists(st.sampled_from(ABLATION_FLAGS), max_size=2))
def test_fuzz_ablation_command_line(flags, stubbed_experiments):
    from lightnets.experiments import bottleneck_ablation

    run_command_line(bottleneck_ablation.main, [w for flag in flags for w in flag])


@pytest.fixture(scope="module")
def stubbed_experiments():
    """The experiments' long runs replaced by stubs: the fuzz checks their flags only."""
    from lightnets.experiments import bottleneck_ablation
    from lightnets.experiments import scaling as experiment

    patch = pytest.MonkeyPatch()
    patch.setattr(experiment, "run_experiment", lambda *a, **k: {"runs": []})
    patch.setattr(bottleneck_ablation, "run", lambda *a, **k: {})
    patch.setattr(bottleneck_ablation, "atomic_write", lambda *a, **k: None)
    yield patch
    patch.undo()


# --- entry points: every float dtype, every device, sizes past int64 and past the reduction ------


@dataclass(frozen=True)
class EntryPoint:
    """One public function under fuzz. ``arguments`` draws its keyword arguments (usually with
    :func:`arguments`: good values, and at most one bad one); a clean error must name one of
    ``names`` (default: the keywords drawn); ``check(kwargs, result)`` asserts that a result is
    sane. Bind positional arguments with ``functools.partial``."""

    name: str
    function: Callable
    arguments: st.SearchStrategy
    examples: int = 40
    names: tuple = ()
    check: Callable = lambda kwargs, result: None


FLOAT_DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
DEVICES = ["cpu", "cpu", "meta"] + (["cuda"] if torch.cuda.is_available() else [])
# Sides around a stride-32 network's reduction: 1 px, below it (a 1×1 last feature map), at it,
# just past it (2×2) and comfortably past it.
SIDES = [1, 2, 7, 31, 32, 33, 64]


@st.composite
def any_tensors(draw, shape, integer=False):
    """A tensor of ``shape`` (a strategy) in any float dtype (or int64) on any device type."""
    dtype = draw(st.sampled_from([torch.int64] if integer else FLOAT_DTYPES))
    seed = draw(st.integers(0, 100))
    values = torch.rand(draw(shape), generator=torch.Generator().manual_seed(seed))
    values = (10 * values).long() if integer else values
    return values.to(dtype).to(draw(st.sampled_from(DEVICES)))


any_images = any_tensors(st.tuples(st.integers(1, 2), st.just(3), st.sampled_from(SIDES),
                                   st.sampled_from(SIDES)))
any_maps = any_tensors(st.tuples(st.integers(1, 2), st.sampled_from(SIDES[:4]),
                                 st.sampled_from(SIDES[:4])))
any_vectors = any_tensors(st.tuples(st.integers(1, 4)))


def check_maps(kwargs, maps):
    x = kwargs["x"]
    assert maps.shape == (x.shape[0], *x.shape[2:]) and maps.dtype == torch.float32
    assert torch.isfinite(maps).all() and 0 <= maps.min() and maps.max() <= 1
    # TINY's total stride is 32: up to 32 px on both sides its last map is 1×1, and the
    # constant map that comes back must say so.
    flat = max(x.shape[2:]) <= 32
    assert flat == any("no spatial information" in text for text in WARNED), (x.shape, WARNED)


def size_arguments(name: str) -> list[str]:
    """The integer-valued keywords of a registered model: its sizes (num_classes, growth_rate,
    embedding_dim ...), and categories, a list of them."""
    builder = lightnets.registry.model_spec(name).builder
    sizes = [key for key, parameter in inspect.signature(builder).parameters.items()
             if type(parameter.default) is int]
    return sizes + (["categories"] if "categories" in inspect.signature(builder).parameters else [])


@st.composite
def huge_sizes(draw):
    """A model name and one of its size arguments at int64's edge or past it."""
    name = draw(st.sampled_from(SMALL_MODELS + ["tab_transformer"]))
    key = draw(st.sampled_from(size_arguments(name)))
    value = draw(st.one_of(past_int64, int64_edges))
    return {"name": name, key: [value] if key == "categories" else value}


TINY_IMAGENET = lightnets.create_model("mobilenet_v1", width_mult=0.25).eval()  # 1000 classes


@st.composite
def any_photos(draw):
    """A photo as a learner might hand one over: a real one, or an array or tensor of any layout,
    channel count, dtype and range, at sizes around and below the crop."""
    kind = draw(st.sampled_from(["real", "numpy", "tensor"]))
    if kind == "real":
        return data.photo(draw(st.sampled_from(data.PHOTO_NAMES))).image
    side = (draw(st.sampled_from([1, 2, 7, 33])), draw(st.sampled_from([1, 5, 64])))
    channels = draw(st.sampled_from([(), (1,), (2,), (3,), (4,), (5,)]))
    dtype = draw(st.sampled_from(["uint8", "float32", "float64", "int64", "bool", "float16"]))
    scale = draw(st.sampled_from([1.0, 255.0, -1.0, float("nan")]))
    values = np.random.default_rng(draw(st.integers(0, 50))).random(side + channels) * scale
    array = values.astype(dtype) if dtype != "bool" else values > 0.5
    if kind == "tensor":
        tensor = torch.from_numpy(np.ascontiguousarray(array))
        return tensor.permute(2, 0, 1) if tensor.dim() == 3 else tensor
    return array


def check_predictions(kwargs, result):
    single = not isinstance(kwargs["images"], (list, tuple)) and not (
        isinstance(kwargs["images"], torch.Tensor) and kwargs["images"].dim() == 4)
    for prediction in [result] if single else result:
        assert len(prediction.labels) == kwargs.get("k", 5)
        assert all(0 <= p <= 1 for p in prediction.probabilities)


huge_input_sizes = st.tuples(st.integers(1, 2), st.just(3), st.one_of(past_int64, int64_edges),
                             st.sampled_from([32, 64]))

ENTRY_POINTS = [
    EntryPoint("cam_any_dtype_device_size", functools.partial(cam.cam, TINY), arguments(
        x=(any_images, st.one_of(any_images, weird)), target=(good_targets, targets)),
        examples=60, names=("x", "target", "model"), check=check_maps),
    EntryPoint("grad_cam_any_dtype_device_size", functools.partial(cam.grad_cam, TINY), arguments(
        x=(any_images, st.one_of(any_images, weird)), target=(good_targets, targets)),
        examples=40, names=("x", "target", "layer", "model"), check=check_maps),
    EntryPoint("cam_peaks_any_dtype_device", cam.peaks, st.fixed_dictionaries(
        {"maps": st.one_of(any_maps, weird)}), examples=40,
        check=lambda kwargs, result: result.shape == (len(kwargs["maps"]), 2)),
    EntryPoint("cam_postprocess_any_dtype_device", cam.postprocess, arguments(
        maps=(any_maps, st.one_of(any_maps, weird)),
        size=(st.tuples(st.integers(1, 8), st.integers(1, 8)),
              st.one_of(st.tuples(past_int64, st.just(8)), weird))), examples=40),
    EntryPoint("quantize_any_dtype_device", quantize.quantize, arguments(
        x=(any_vectors, st.one_of(any_vectors, weird)),
        scale=(st.sampled_from([0.5, 0.1]), reals), zero_point=(st.integers(-5, 5), weird),
        bounds=(st.just(quantize.INT8), st.tuples(past_int64, st.just(127)))), examples=40,
        names=("x", "scale", "zero_point", "bounds")),
    EntryPoint("dequantize_any_device", quantize.dequantize, arguments(
        codes=(any_tensors(st.tuples(st.integers(1, 4)), integer=True),
               st.one_of(any_vectors, weird)),
        scale=(st.sampled_from([0.5, 0.1]), reals), zero_point=(st.integers(-5, 5), weird)),
        examples=30),
    EntryPoint("create_model_sizes_past_int64", lightnets.create_model, huge_sizes(),
               examples=60, names=("name", "num_classes", "categories", "growth_rate", "depth",
                                   "groups", "resolution", "embedding_dim", "num_continuous",
                                   "num_layers", "num_heads")),
    EntryPoint("profile_sizes_past_int64", functools.partial(lightnets.profile, TINY),
               st.fixed_dictionaries({"input_size": huge_input_sizes}), examples=20),
    EntryPoint("latency_sizes_past_int64", functools.partial(lightnets.latency, TINY, runs=1),
               st.fixed_dictionaries({"input_size": huge_input_sizes}), examples=20),
    EntryPoint("memory_sizes_past_int64", functools.partial(memory.inference_steps, TINY_V2),
               st.fixed_dictionaries({"input_size": huge_input_sizes}), examples=20),
    EntryPoint("random_maps_past_int64", cam.random_maps, arguments(
        shape=(st.just((1, 4, 4)), st.tuples(st.just(1), past_int64, st.just(4))),
        seed=(st.integers(0, 10), st.one_of(past_int64, int64_edges))), examples=30),
    EntryPoint("pointing_game_past_int64", cam.pointing_game, arguments(
        maps=(st.just(torch.rand(2, 5, 7)), st.one_of(any_maps, weird)),
        masks=(st.just(torch.rand(2, 5, 7) > 0.5), st.one_of(any_maps.map(lambda m: m > 0.5),
                                                             weird)),
        tolerance=(st.integers(0, 3), st.one_of(past_int64, int64_edges, weird))), examples=40),
    EntryPoint("create_model_pretrained", lightnets.create_model, arguments(
        name=(st.sampled_from(["efficientnet_lite0", "mobilenet_v2"]),
              st.one_of(st.text(max_size=6), weird)),
        pretrained=(st.just(True), st.one_of(st.just(False), weird)),
        num_classes=(st.just(1000), st.one_of(st.integers(-1, 10), past_int64, weird))),
        examples=12, names=("name", "pretrained", "num_classes", "efficientnet_lite0",
                            "mobilenet_v2")),
    # ``names`` is call()'s own keyword, so the photo names travel under another one.
    EntryPoint("photos", lambda photo_names: data.photos(photo_names), st.fixed_dictionaries({
        "photo_names": st.one_of(
        st.lists(st.sampled_from(data.PHOTO_NAMES), max_size=2), st.none(), weird,
        st.lists(st.one_of(st.text(max_size=5), weird), min_size=1, max_size=2))}),
        examples=30, names=("names",)),
    EntryPoint("predict_any_photo", functools.partial(imagenet.predict, TINY_IMAGENET), arguments(
        images=(any_photos(), st.one_of(any_photos(), any_images, weird,
                                        st.lists(any_photos(), max_size=2))),
        k=(st.integers(1, 5), st.one_of(st.integers(-1, 0), st.just(1001), past_int64, weird))),
        examples=60, names=("images", "photo", "k", "model"), check=check_predictions),
]


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=lambda entry: entry.name)
def test_fuzz_entry_point(entry):
    @fuzz_settings(entry.examples)
    @given(entry.arguments)
    def fuzz(kwargs):
        ok, result = call(entry.function, **kwargs, names=entry.names or tuple(kwargs))
        if ok:
            assert entry.check(kwargs, result) is not False, f"{entry.name}: {kwargs}"

    fuzz()


def test_fuzz_zz_made_enough_calls_without_raw_errors():
    fuzz = {name for name, value in globals().items()
            if name.startswith("test_fuzz_") and callable(value)} - {
        "test_fuzz_zz_made_enough_calls_without_raw_errors"}
    if not {name.split("[")[0] for name in FUZZ_TESTS_RUN} >= fuzz:
        pytest.skip("only part of the fuzz suite ran")
    print(f"\nfuzz: {COUNTS}", file=sys.stderr)
    assert COUNTS["calls"] >= MINIMUM_CALLS, COUNTS
