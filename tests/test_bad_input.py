"""Issue 35, "Bad input, third pass": each case a fuzz or a learner found ends in a message that
names the argument and its range, or in a documented conversion (a warning that says what was
done). One test per case; the fuzz in test_fuzz.py covers the classes these belong to."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import lightnets
from lightnets import cam, memory, quantize, registry, train, train_cli
from lightnets._checks import INT64_MAX, check_int, describe
from lightnets.exercises import Question, choice, lesson01, lesson08, lesson10, numeric

PAST_INT64 = [2**63, 2**64, 10**80]
RANGE = r"must be an integer in \[1, 2\*\*63 - 1\]"


@pytest.fixture(scope="module")
def tiny():
    return lightnets.create_model("mobilenet_v1", num_classes=3, width_mult=0.25).eval()


# --- integers past int64 -------------------------------------------------------------------------


@pytest.mark.parametrize("value", PAST_INT64)
def test_num_classes_past_int64_names_num_classes_and_its_range(value):
    with pytest.raises(ValueError, match=f"num_classes {RANGE}"):
        lightnets.create_model("mobilenet_v1", num_classes=value)


@pytest.mark.parametrize("name, config, argument", [
    ("densenet_bc", {"growth_rate": 2**63}, "growth_rate"),
    ("tab_transformer", {"categories": [10, 2**64]}, r"categories\[1\]"),
    ("tab_transformer", {"embedding_dim": 10**80}, "embedding_dim"),
])
def test_builder_sizes_past_int64_name_the_argument_and_its_range(name, config, argument):
    with pytest.raises(ValueError, match=f"{argument} {RANGE}"):
        lightnets.create_model(name, **config)


def test_check_int_takes_int64_max_and_refuses_one_more():
    assert check_int("n", INT64_MAX, low=1) == INT64_MAX
    with pytest.raises(ValueError, match=r"n must be an integer in \[-2\*\*63 \+ 1, 2\*\*63 - 1\]"):
        check_int("n", -(2**64))
    with pytest.raises(ValueError, match=r"got 1\.000e\+80"):  # not 81 digits
        check_int("n", 10**80, low=0)


@pytest.mark.parametrize("name, config, argument", [
    ("mobilenet_v1", {"num_classes": 2**62}, "num_classes"),  # 1024 · 2**62 weights overflow
    ("densenet_bc", {"growth_rate": 2**40}, "growth_rate"),
])
def test_a_layer_past_int64_weights_names_the_argument(name, config, argument):
    with pytest.raises(ValueError, match=f"more than 2\\*\\*63 - 1 weights.*reduce {argument}$"):
        lightnets.create_model(name, **config)


# --- the memory estimate names the argument that drives the size ----------------------------------


@pytest.fixture
def sixteen_gib(monkeypatch):
    # The refusal depends on the machine's memory; pin it so the test holds everywhere.
    monkeypatch.setattr(registry, "memory_bytes", lambda: 16 * 2**30)


def test_huge_categories_blame_categories_not_num_classes(sixteen_gib):
    with pytest.raises(ValueError) as error:
        lightnets.create_model("tab_transformer", categories=[10**9])
    message = str(error.value)
    assert "reduce categories" in message and "embedding.classes.0.weight" in message
    assert "num_classes or" not in message and "width/depth/growth" not in message


def test_of_several_arguments_the_one_driving_the_size_is_named(sixteen_gib):
    with pytest.raises(ValueError, match="reduce num_classes .*classifier.1.weight") as error:
        lightnets.create_model("mobilenet_v1", num_classes=10**9, width_mult=0.5)
    assert "width_mult (" not in str(error.value)
    with pytest.raises(ValueError, match="reduce growth_rate"):
        lightnets.create_model("densenet_bc", growth_rate=10**5, depth=40)


# --- unknown names -------------------------------------------------------------------------------


@pytest.mark.parametrize("given, meant", [
    ("mobilenetv2", "'mobilenet_v2'"), ("MobileNet_V2", "'mobilenet_v2'"),
    ("efficientnetb0", "'efficientnet_b0'"), ("xcept", "'xception'"),
    ("squeezenet", "'squeezenet1_0' or 'squeezenet1_1'"),
])
def test_unknown_model_name_suggests_the_near_name(given, meant):
    suggestion = f"unknown model name '{given}' \\(did you mean {meant}\\?\\)"
    with pytest.raises(ValueError, match=suggestion):
        lightnets.create_model(given)


def test_unknown_model_name_without_a_near_name_suggests_nothing():
    with pytest.raises(ValueError) as error:
        lightnets.create_model("qqqq")
    message = str(error.value)
    assert "did you mean" not in message and "known names: densenet121" in message


# --- cam and grad_cam --------------------------------------------------------------------------


@pytest.mark.parametrize("maps", [cam.cam, cam.grad_cam])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
def test_cam_casts_another_float_dtype_to_the_models_and_says_so(tiny, maps, dtype):
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with pytest.warns(UserWarning, match=f"x is {dtype} but model computes in torch.float32: cast"):
        converted = maps(tiny, x.to(dtype))
    expected = maps(tiny, x.to(dtype).float())  # the same cast, made by hand: no warning
    assert converted.dtype == torch.float32 and torch.equal(converted, expected)


@pytest.mark.parametrize("maps", [cam.cam, cam.grad_cam])
def test_cam_of_a_meta_tensor_is_a_clear_error(tiny, maps):
    with pytest.raises(ValueError, match="x is a meta tensor .* needs real pixel values"):
        maps(tiny, torch.empty(1, 3, 64, 64, device="meta"))


def test_cam_of_a_model_with_meta_weights_is_a_clear_error():
    with torch.device("meta"):
        model = lightnets.create_model("mobilenet_v1", num_classes=3, width_mult=0.25)
    with pytest.raises(ValueError, match="model \\(MobileNetV1\\) has meta weights"):
        cam.cam(model, torch.rand(1, 3, 64, 64))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cam_of_x_on_another_device_names_both_devices(tiny):
    with pytest.raises(ValueError, match="x is on cuda:0 but model's weights are on cpu"):
        cam.cam(tiny, torch.rand(1, 3, 64, 64, device="cuda"))


@pytest.mark.parametrize("maps", [cam.cam, cam.grad_cam])
@pytest.mark.parametrize("side", [1, 8, 32])
def test_cam_warns_that_a_1x1_feature_map_carries_no_spatial_information(tiny, maps, side):
    # MobileNetV1 has a total stride of 32: any input up to 32 px ends in a 1×1 map.
    with pytest.warns(UserWarning, match=f"x's {side}×{side} px images give MobileNetV1 a 1×1 "
                                         "feature map.*carries no spatial information"):
        result = maps(tiny, torch.rand(1, 3, side, side))
    assert result.shape == (1, side, side)
    # What the warning says: one constant value (to the upsampling's rounding).
    assert float(result.max() - result.min()) <= 1e-6


def test_cam_at_2x2_or_larger_gives_no_warning(tiny):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cam.cam(tiny, torch.rand(1, 3, 64, 64))
        cam.grad_cam(tiny, torch.rand(1, 3, 33, 64))  # a 2×2 map: 33 px rounds up in stride 2


@pytest.mark.parametrize("call, name", [
    (lambda meta: cam.postprocess(meta, (8, 8)), "maps"),
    (lambda meta: cam.peaks(meta), "maps"),
    (lambda meta: cam.pointing_game(torch.rand(1, 4, 4), meta > 0), "masks"),
    (lambda meta: cam.overlay(meta[0], torch.rand(4, 4)), "image"),
    (lambda meta: quantize.quantize(meta, 0.1, 0, quantize.INT8), "x"),
])
def test_meta_tensors_given_where_values_are_needed_are_named(call, name):
    with pytest.raises(ValueError, match=f"^{name} is a meta tensor \\(a shape without values\\)"):
        call(torch.empty(1, 4, 4, device="meta"))


def test_pointing_game_tolerance_past_int64_names_tolerance_and_a_huge_one_covers_the_image():
    maps, masks = torch.rand(1, 5, 7), torch.zeros(1, 5, 7, dtype=torch.bool)
    masks[0, 0, 0] = True
    with pytest.raises(ValueError, match=r"tolerance must be an integer in \[0, 2\*\*63 - 1\]"):
        cam.pointing_game(maps, masks, 2**63)
    assert cam.pointing_game(maps, masks, 2**62).tolist() == [True]


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
def test_latency_runs_a_model_in_its_own_dtype(tiny, dtype):
    model = lightnets.create_model("mobilenet_v1", num_classes=3, width_mult=0.25).to(dtype)
    timing = lightnets.latency(model, (1, 3, 32, 32), runs=1, warmup=0, device="cpu")
    assert timing.median_ms > 0


def test_evaluate_on_a_string_names_the_dataset(tiny):
    # A str has a length and items, but no (image, label) pairs: refused before the DataLoader.
    with pytest.raises(TypeError, match="dataset must be a Dataset of \\(image, label\\) pairs"):
        train.evaluate(tiny, "00")
    with pytest.raises(TypeError, match="dataset must hold \\(image, label\\) pairs, but its "
                                        "first item is a torch.Tensor of shape \\(3, 8, 8\\)"):
        train.evaluate(tiny, [torch.rand(3, 8, 8)])


# --- the command line ----------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["tab_transformer", "tab_mlp"])
def test_train_command_points_tabular_models_to_their_script(model, capsys):
    with pytest.raises(SystemExit) as exit_:
        train_cli.main(["--model", model, "--no-progress"])
    error = capsys.readouterr().err
    assert exit_.value.code == 2
    assert f"--model {model} takes table columns" in error
    assert f"python -m lightnets.experiments.tab_transformer train --model {model}" in error


# --- profile and error messages show a tensor by its shape ----------------------------------------


@pytest.mark.parametrize("batch", [torch.rand(1, 3, 32, 32), np.zeros((1, 3, 32, 32))])
def test_profile_of_a_tensor_summarises_it_instead_of_pasting_it(tiny, batch):
    with pytest.raises(ValueError) as error:
        lightnets.profile(tiny, batch)
    message = str(error.value)
    assert message.startswith("input_size must be a shape such as (1, 3, 224, 224), not a batch")
    assert "of shape (1, 3, 32, 32)" in message and "pass x.shape" in message
    assert len(message) < 250 and "0.0" not in message


@pytest.mark.parametrize("call, start", [
    (lambda batch: memory.inference_steps(TINY_V2, batch),
     "input_size must be (batch, channels, height, width)"),
    (lambda batch: cam.postprocess(torch.rand(1, 4, 4), batch), "size must be (height, width)"),
    (lambda batch: cam.random_maps(batch), "shape must be (N, H, W)"),
])
def test_other_shape_arguments_summarise_a_tensor_too(call, start):
    with pytest.raises(ValueError) as error:
        call(torch.rand(8, 8))
    summary = "a torch.Tensor of shape (8, 8) and dtype torch.float32"
    assert str(error.value) == f"{start}, got {summary}"


TINY_V2 = lightnets.create_model("mobilenet_v2", num_classes=3, width_mult=0.25)


def test_describe_summarises_tensors_arrays_and_long_reprs():
    assert describe(torch.ones(2, 3)) == "a torch.Tensor of shape (2, 3) and dtype torch.float32"
    assert describe(np.zeros(4, dtype=np.int8)) == "a numpy.ndarray of shape (4,) and dtype int8"
    assert describe(3.5) == "3.5" and describe(torch.tensor(2.0)) == "tensor(2.)"
    long = describe(list(range(1000)))
    assert len(long) < 120 and "a list whose repr has 4,890 characters" in long


# --- exercise checks -----------------------------------------------------------------------------


def test_a_list_answer_to_a_tuple_question_is_checked_not_refused():
    shuffled = tuple(int(v) for v in lightnets.layers.ChannelShuffle(3)(
        torch.arange(6.0).view(1, 6, 1, 1)).flatten())
    assert lesson08.q3.check(list(shuffled))
    assert lesson08.q3.check(np.array(shuffled))
    assert "this is the identity" in repr(lesson08.q3.check([0, 1, 2, 3, 4, 5]))
    assert "expected a sequence (a tuple or list), got str" in repr(lesson08.q3.check("024135"))


def test_a_list_answer_to_a_word_question_is_explained_not_a_type_error():
    feedback = repr(lesson10.q4.check(["outputs", "macs"]))
    assert "unhashable" not in feedback
    assert "expected a word or name (a str), got list" in feedback


@pytest.mark.parametrize("answer", ["Outputs", "OUTPUTS", " outputs ", ["Outputs"]])
def test_a_word_answer_is_checked_in_any_case(answer):
    assert lesson10.q4.check(answer)


def test_a_wrong_word_in_another_case_still_gets_its_explanation():
    assert "an activation has no parameters" in repr(lesson10.q4.check("Params"))


def test_true_or_false_accepts_the_words_but_not_numbers():
    check = choice(lambda: False, {True: "why True is wrong"})
    assert check("false") is None and check(False) is None
    assert check("True") == "why True is wrong"
    assert check(0) == "expected True or False, got int 0"


def fraction_question(value=0.964):
    return Question("demo.q1", "a fraction", numeric(lambda: value), ["hint"], "answer = 0.964")


def test_a_percentage_for_a_fraction_is_accepted_and_the_reading_said():
    feedback = fraction_question().check(96.4)
    assert feedback
    assert repr(feedback) == ("demo.q1: correct (read as a percentage: 96.4 % = 0.964; the "
                              "question asks for the fraction)")


def test_a_rounded_percentage_is_explained_precisely():
    feedback = repr(fraction_question().check(96.0))
    assert "96 looks like a percentage: 96 % = 0.96, but 0.96 is 0.41% off the right value" \
        in feedback


def test_a_rounded_value_gets_how_far_off_not_one_times():
    feedback = repr(fraction_question().check(0.96))
    assert "1× the right value" not in feedback and "0.41% off the right value" in feedback


def test_a_fraction_for_a_percentage_question_is_accepted():
    right = lesson01._fc_share_percent(160)
    feedback = lesson01.q2.check(right / 100)
    assert feedback and "read as a fraction" in repr(feedback)
    assert lesson01.q2.check(right)


def test_a_one_element_tensor_counts_as_its_number():
    assert fraction_question().check(torch.tensor(0.964))
    assert "expected a number" in repr(fraction_question().check(torch.tensor([0.964, 1.0])))
