"""deploy(model, runtime="onnxruntime"): an ONNX file run by ONNX Runtime, called like the model,
with the model's outputs; and its int8 version, calibrated on images and measured on others."""
import copy
import gc
import os

import pytest
import torch

import lightnets
from lightnets.deploy import OnnxRuntimeModel, deploy, quantize_int8
from lightnets.registry import model_spec
from test_deploy import max_relative_difference, randomise_batchnorm

onnx = pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")

IMAGE_MODELS = [n for n in lightnets.list_models() if model_spec(n).resolution]
TABULAR_MODELS = [n for n in lightnets.list_models() if not model_spec(n).resolution]
# Exporting costs 2-30 s of CPU per model (torch.export traces the graph twice with a symbolic
# batch size; the time grows with the number of nodes). These presets run the same code as a
# sibling that is always tested (B0, DenseNet-121, ShuffleNetV2 1.0x, MnasNet 1.0) at another
# width or depth; at 32 px they took 160 of the 246 s of CPU that the whole zoo took here.
SLOW = {"densenet161", "densenet169", "densenet201", "efficientnet", "efficientnet_b1",
        "efficientnet_b2", "efficientnet_b3", "efficientnet_b4", "efficientnet_b5",
        "efficientnet_b6", "efficientnet_b7", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0",
        "mnasnet0_75", "mnasnet1_3"}


def side(model) -> int:
    return max(model.min_resolution, 32)


@pytest.fixture(scope="module")
def squeezenet():
    """SqueezeNet 1.1 at 32 px, exported once: the cheapest zoo model to export (about 1 s)."""
    model = lightnets.create_model("squeezenet1_1", num_classes=10).eval()
    return model, deploy(model, "onnxruntime", input_size=(1, 3, 32, 32))


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n
                                  for n in IMAGE_MODELS])
def test_every_image_model_runs_in_onnxruntime_with_eagers_outputs_within_1e4(name):
    model = randomise_batchnorm(lightnets.create_model(name, num_classes=10)).eval()
    s = side(model)
    deployed = deploy(model, "onnxruntime", input_size=(1, 3, s, s))
    # Batch 3: neither the exporter's example (2) nor deploy's own check (1), so the batch
    # dimension is shown to be free.
    x = torch.randn(3, 3, s, s, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = model(x)
    got = deployed(x)
    assert got.shape == expected.shape and got.dtype == torch.float32
    assert max_relative_difference(got, expected) < 1e-4
    assert deployed.export_error < 1e-4


@pytest.mark.parametrize("name", TABULAR_MODELS)
def test_tabular_models_are_refused_they_take_category_codes_not_one_image(name):
    # tab_mlp takes integer category codes and tab_transformer two tensors (codes and continuous
    # values): exporting them needs their own example inputs, which deploy does not build.
    with pytest.raises(ValueError, match="cannot run on one float32 tensor of input_size"):
        deploy(lightnets.create_model(name), "onnxruntime", input_size=(1, 3, 32, 32))


def test_the_batch_size_is_free_and_outputs_come_back_as_torch_tensors(squeezenet):
    model, deployed = squeezenet
    assert isinstance(deployed, torch.nn.Module) and deployed.input_shape[0] == "batch"
    for batch in (1, 5):
        x = torch.randn(batch, 3, 32, 32)
        with torch.no_grad():
            assert max_relative_difference(deployed(x), model(x)) < 1e-4


def test_the_onnx_file_passes_the_checker_and_is_removed_with_its_model(squeezenet):
    model, _ = squeezenet
    deployed = deploy(model, "onnxruntime", input_size=(1, 3, 32, 32))
    path, directory = deployed.path, os.path.dirname(deployed.path)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    assert deployed.size_bytes == os.path.getsize(path) > 4 * 700_000  # SqueezeNet 1.1's weights
    copied = copy.deepcopy(deployed)  # lightnets.latency times a copy: it shares the session
    assert copied.session is deployed.session
    del deployed
    gc.collect()
    assert os.path.exists(path)  # the copy still holds the temporary directory
    del copied
    gc.collect()
    assert not os.path.exists(directory)


def test_a_given_path_is_written_atomically_and_kept(tmp_path, squeezenet):
    model, _ = squeezenet
    path = tmp_path / "new" / "squeezenet.onnx"
    deployed = deploy(model, "onnxruntime", input_size=(1, 3, 32, 32), path=path)
    assert deployed.path == str(path) and path.exists()
    assert os.listdir(path.parent) == ["squeezenet.onnx"]  # no temporary file left beside it
    del deployed
    gc.collect()
    assert path.exists()


def test_graph_optimisations_can_be_turned_off_with_the_same_outputs(squeezenet):
    model, deployed = squeezenet
    plain = OnnxRuntimeModel(deployed.path, optimize=False)
    x = torch.randn(2, 3, 32, 32)
    assert max_relative_difference(plain(x), deployed(x)) < 1e-4
    assert "optimize=False" in repr(plain)


def test_latency_times_the_onnxruntime_model_like_any_module(squeezenet):
    _, deployed = squeezenet
    result = lightnets.latency(deployed, (1, 3, 32, 32), runs=2, warmup=1, device="cpu")
    assert result.runs == 2 and result.median_ms > 0


# --- bad input: each refused with the argument's name, before a long export -------------------

def test_an_unknown_runtime_is_refused_listing_the_allowed_ones():
    with pytest.raises(ValueError, match=r"runtime must be one of 'torch', 'onnxruntime', got "
                                         r"'tflite'"):
        deploy(lightnets.create_model("squeezenet1_1"), runtime="tflite")


@pytest.mark.parametrize("input_size, message", [
    ((1, 3, 8, 8), r"input_size height and width must be >= 17 px"),
    ((1, 1, 32, 32), r"input_size must have 3 channels"),
    ((1, 3, 32), r"input_size must be 4 positive integers"),
    ((0, 3, 32, 32), r"input_size must be 4 positive integers"),
])
def test_an_input_size_the_model_cannot_take_is_refused(input_size, message):
    model = lightnets.create_model("squeezenet1_1", num_classes=10)
    assert model.min_resolution == 17
    with pytest.raises(ValueError, match=message):
        deploy(model, "onnxruntime", input_size=input_size)


def test_an_unwritable_export_location_is_refused_before_exporting(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    with pytest.raises(ValueError, match=r"path .* cannot be written"):
        deploy(lightnets.create_model("squeezenet1_1"), "onnxruntime", path=blocker / "m.onnx")
    with pytest.raises(ValueError, match="path must name a file"):
        deploy(lightnets.create_model("squeezenet1_1"), "onnxruntime", path=tmp_path)


@pytest.mark.parametrize("options, message", [
    (dict(compile=True), "options of runtime='torch'"),
    (dict(torchscript=True), "options of runtime='torch'"),
    (dict(threads=0), "threads must be an integer >= 1"),
])
def test_torch_only_options_are_refused_with_onnxruntime(options, message):
    with pytest.raises(ValueError, match=message):
        deploy(lightnets.create_model("squeezenet1_1"), "onnxruntime", **options)


def test_onnxruntime_only_options_are_refused_with_torch(tmp_path):
    with pytest.raises(ValueError, match="options of runtime='onnxruntime'"):
        deploy(lightnets.create_model("squeezenet1_1"), path=tmp_path / "m.onnx")


@pytest.mark.parametrize("x, message", [
    (torch.randn(1, 3, 40, 40), r"x must have shape \(batch >= 1, 3, 32, 32\)"),
    (torch.randn(3, 32, 32), r"x must have shape"),
    (torch.randn(1, 3, 32, 32, dtype=torch.float64), "x must be float32"),
])
def test_the_onnxruntime_model_refuses_inputs_its_file_cannot_take(squeezenet, x, message):
    _, deployed = squeezenet
    with pytest.raises(ValueError, match=message):
        deployed(x)


# --- int8 -------------------------------------------------------------------------------------

def images(n: int, seed: int) -> torch.Tensor:
    """Smooth random 'photos' (blurred noise, normalised like ImageNet inputs)."""
    x = torch.rand(n, 3, 8, 8, generator=torch.Generator().manual_seed(seed))
    x = torch.nn.functional.interpolate(x, size=32, mode="bilinear", align_corners=False)
    return (x - 0.45) / 0.225


@pytest.fixture(scope="module")
def trained_like():
    """SqueezeNet with its last conv scaled so its logits spread like a trained model's (a fresh
    one's are nearly equal, and every class would tie), and its export (made once)."""
    model = lightnets.create_model("squeezenet1_1", num_classes=10).eval()
    with torch.no_grad():
        model.get_classifier().weight.mul_(30)
    return model, deploy(model, "onnxruntime", input_size=(1, 3, 32, 32))


@pytest.mark.parametrize("method", ["minmax", "percentile"])  # entropy: below, on a small net
def test_int8_is_a_quarter_the_size_and_close_to_fp32_on_held_out_images(trained_like, method):
    model, fp32 = trained_like
    int8, report = quantize_int8(fp32, images(24, seed=0), method=method)
    assert report.method == method and report.calibration_images == 24
    assert report.activations == "uint8"  # the default: U8S8, ONNX Runtime's fast x86 path
    assert report.int8_bytes == int8.size_bytes and 0.2 < report.size_ratio < 0.35
    agreement = report.evaluate(images(40, seed=1))
    assert agreement.images == 40 and 0 <= agreement.top1 <= agreement.top5 <= 40
    low, high = agreement.top1_interval
    assert low <= agreement.top1_rate <= high
    with torch.no_grad():
        logits = model(images(40, seed=1))
    spread = (logits.amax(1) - logits.amin(1)).median().item()
    # int8 moves the logits by a small part of their spread, never by all of it.
    assert 0 < agreement.max_logit_error < 0.5 * spread
    assert agreement.top5_rate > 0.8


def test_int8_calibrates_an_existing_export_and_writes_to_a_given_path(tmp_path, squeezenet):
    _, fp32 = squeezenet
    path = tmp_path / "q" / "int8.onnx"
    int8, report = quantize_int8(fp32, [image for image in images(6, 0)], path=path)
    assert report.fp32 is fp32 and int8.path == str(path) and path.exists()
    assert int8(images(3, 2)).shape == (3, 10)


def test_agreement_is_never_measured_on_the_calibration_images(squeezenet):
    _, fp32 = squeezenet
    calibration = images(4, seed=0)
    _, report = quantize_int8(fp32, calibration)
    held_out = torch.cat([images(3, seed=5), calibration[2:3]])
    with pytest.raises(ValueError, match=r"images \[3\] were used for calibration"):
        report.evaluate(held_out)


@pytest.mark.parametrize("calibration, message", [
    (torch.empty(0, 3, 32, 32), "calibration holds no images"),
    ([], "calibration holds no images"),
    (torch.randn(32, 32), r"calibration must be an \(N, C, H, W\) tensor"),
    (torch.full((2, 3, 32, 32), float("nan")), "must be finite"),
    ([torch.randn(3, 32, 32), torch.randn(3, 40, 40)], "must share one"),
    (torch.randn(2, 3, 40, 40), r"calibration images have shape \(3, 40, 40\)"),
])
def test_bad_calibration_images_are_refused(squeezenet, calibration, message):
    _, fp32 = squeezenet
    with pytest.raises(ValueError, match=message):
        quantize_int8(fp32, calibration)


def test_an_unknown_calibration_method_is_refused_listing_the_methods(squeezenet):
    _, fp32 = squeezenet
    with pytest.raises(ValueError, match=r"method must be one of \['minmax', 'percentile', "
                                         r"'entropy'\], got 'kl'"):
        quantize_int8(fp32, images(2, 0), method="kl")


def test_an_unknown_activation_type_is_refused_and_int8_activations_can_be_asked_for(squeezenet):
    _, fp32 = squeezenet
    with pytest.raises(ValueError, match=r"activations must be one of \['uint8', 'int8'\]"):
        quantize_int8(fp32, images(2, 0), activations="int4")
    int8, report = quantize_int8(fp32, images(2, 0), activations="int8")
    assert report.activations == "int8" and int8(images(1, 3)).shape == (1, 10)


def activation_scales(path) -> dict:
    """Each activation's int8 scale in a QDQ file (the scalar ``*_scale`` initializers)."""
    from onnx import numpy_helper

    return {t.name: float(numpy_helper.to_array(t)) for t in onnx.load(path).graph.initializer
            if t.name.endswith("_scale") and not t.dims}


def test_entropy_calibration_clips_ranges_that_min_max_keeps_whole():
    # ONNX Runtime's quantize_static runs the entropy search with as many histogram bins as
    # quantized levels (128), where the only candidate range is the whole one: its scales equal
    # min-max's. With 2048 bins the search may clip, and on heavy-tailed activations it does.
    # (The search is pure Python, about 1 s per tensor: a 3-layer net keeps this test short.)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(),
                                torch.nn.Conv2d(8, 8, 3), torch.nn.ReLU(),
                                torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                                torch.nn.Linear(8, 4)).eval()
    fp32 = deploy(model, "onnxruntime", input_size=(1, 3, 16, 16))
    calibration = torch.randn(16, 3, 16, 16, generator=torch.Generator().manual_seed(0)) ** 3
    by_minmax, _ = quantize_int8(fp32, calibration, method="minmax")
    by_entropy, _ = quantize_int8(fp32, calibration, method="entropy")
    minmax, entropy = activation_scales(by_minmax.path), activation_scales(by_entropy.path)
    assert minmax.keys() == entropy.keys() and len(minmax) >= 4
    assert all(entropy[name] <= minmax[name] * (1 + 1e-6) for name in minmax)
    assert sum(entropy[name] < 0.5 * minmax[name] for name in minmax) >= 1
