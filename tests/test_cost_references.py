"""Our MAC counts against MobileNetV1 Table 2. (torchvision's published ``_ops`` for every set of
weights are checked from the golden files, in tests/test_references.py.)"""
import pytest

import lightnets

# MobileNetV1 Table 2, "Resource per layer type": (our type, the paper's row, % Mult-Adds, % Parameters).
TABLE_2 = [
    ("pointwise", "Conv 1×1", 94.86, 74.59),
    ("depthwise", "Conv DW 3×3", 3.06, 1.06),
    ("standard", "Conv 3×3", 1.19, 0.02),
    ("linear", "Fully Connected", 0.18, 24.33),
]


@pytest.fixture(scope="module")
def mobilenet_v1_cost():
    return lightnets.profile(lightnets.create_model("mobilenet_v1"), (1, 3, 224, 224))


@pytest.mark.parametrize("kind, row, mult_adds_percent, _params", [r for r in TABLE_2 if r[0] != "standard"])
def test_mobilenet_v1_table2_mult_adds_shares_by_layer_type(mobilenet_v1_cost, kind, row, mult_adds_percent, _params):
    assert round(100 * mobilenet_v1_cost.shares()[kind], 2) == mult_adds_percent  # Table 2, row `row`


def test_mobilenet_v1_table2_conv3x3_share_is_a_digit_swap_in_the_paper(mobilenet_v1_cost):
    # Table 2 prints 1.19% for the 3×3 stem, but 112·112·3·3·3·32 = 10.8 M of 568.7 M Mult-Adds is
    # 1.91%. With 1.19 the column sums to 99.29%; with 1.91 it sums to 100.01% (rounding).
    assert round(100 * mobilenet_v1_cost.shares()["standard"], 2) == 1.91
    assert round(sum(r[2] for r in TABLE_2), 2) == 99.29
    assert round(sum(r[2] for r in TABLE_2) - 1.19 + 1.91, 2) == 100.01


@pytest.mark.parametrize("kind, row, _mult_adds, params_percent", TABLE_2)
def test_mobilenet_v1_table2_parameter_shares_by_layer_type(mobilenet_v1_cost, kind, row, _mult_adds, params_percent):
    # Table 2 counts weights only: no biases and no BatchNorm parameters.
    weights = mobilenet_v1_cost.weights_by_type
    assert round(100 * weights[kind] / sum(weights.values()), 2) == params_percent  # Table 2, row `row`
