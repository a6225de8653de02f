"""Lesson 02 (MobileNetV2): the paper tables the notebook reads, its ReLU6 measurement, and the
notebook's shape."""
import os

import numpy as np
import torch

import lightnets
from lightnets.memory import inference_steps, largest_tensor_by_resolution
from lightnets.models import mobilenet_v2 as mnv2
from lightnets.quantize import UINT8, dequantize, quantize
from test_lesson01 import _bare_asserts

NOTEBOOK = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "notebooks",
                        "02_linear_bottlenecks.ipynb")


def test_mobilenet_v2_table3_max_row_is_1600k_400k_600k():
    assert mnv2.TABLE_3 == {"MobileNetV1": 1600, "MobileNetV2": 400, "ShuffleNet (2x, g=3)": 600}


def test_mobilenet_v2_table3_v1_max_is_our_largest_tensor_to_the_hundred():
    v1 = lightnets.create_model("mobilenet_v1")
    largest = largest_tensor_by_resolution(inference_steps(v1))[112]
    assert round(largest / 1e3, -2) == mnv2.TABLE_3["MobileNetV1"]


def test_mobilenet_v2_table3_v2_max_is_the_first_bottleneck_with_the_stem_folded_in():
    v2 = lightnets.create_model("mobilenet_v2")
    folded = v2.features[1].out_channels * 112 * 112 * 2  # 16 channels at 16 bits
    assert round(folded / 1e3, -2) == mnv2.TABLE_3["MobileNetV2"]


def _uint8_error(y, high):
    step = high / 255
    return ((dequantize(quantize(y, step, 0, UINT8), step) - y).norm() / y.norm()).item()


def test_relu6_uint8_error_is_fixed_while_a_calibrated_relu_follows_its_largest_value():
    # Lesson 02 §6: ReLU6 over the fixed [0, 6] against ReLU over [0, its own max].
    rng = np.random.default_rng(0)
    relu_errors, relu6_errors, tops = [], [], []
    for _ in range(4):
        x = torch.from_numpy(rng.standard_t(3, size=10_000))
        relu, relu6 = x.clamp(min=0), x.clamp(0, 6)
        tops.append(relu.max().item())
        relu_errors.append(_uint8_error(relu, tops[-1]))
        relu6_errors.append(_uint8_error(relu6, 6.0))
    assert all(r6 < r for r, r6 in zip(relu_errors, relu6_errors))
    assert max(relu6_errors) / min(relu6_errors) < 1.1 < 2 < max(relu_errors) / min(relu_errors)
    assert np.argmax(relu_errors) == np.argmax(tops)


def test_lesson02_checks_are_claims_not_bare_asserts():
    assert _bare_asserts(NOTEBOOK) == []
