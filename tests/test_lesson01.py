"""Lesson 01 (MobileNetV1): the paper tables the notebook reads, and the notebook's shape."""
import ast
import json
import os

import pytest
from torch import nn

import lightnets
from lightnets.layers import DepthwiseSeparable
from lightnets.models import mobilenet_v1 as mnv1

NOTEBOOK = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "notebooks",
                        "01_depthwise_separable_flops.ipynb")


def _table_3_layer(name):
    # Table 3's layer: D_K = 3, M = N = 512 on 14×14; α = 0.75 gives 384 channels; ρ = 160/224
    # gives a 10×10 map.
    return {"Convolution": (nn.Conv2d(512, 512, 3, padding=1, bias=False), 512, 14),
            "Depthwise Separable Conv": (DepthwiseSeparable(512, 512), 512, 14),
            "α = 0.75": (DepthwiseSeparable(384, 384), 384, 14),
            "ρ = 0.714": (DepthwiseSeparable(384, 384), 384, 10)}[name]


@pytest.mark.parametrize("name", list(mnv1.TABLE_3))
def test_mobilenet_v1_table3_each_row_is_our_layer_to_the_printed_digits(name):
    layer, channels, side = _table_3_layer(name)
    macs = lightnets.profile(layer, (1, channels, side, side)).macs / 1e6
    weights = sum(m.weight.numel() for m in layer.modules() if isinstance(m, nn.Conv2d)) / 1e6
    row = mnv1.TABLE_3[name]
    assert float(f"{macs:.3g}") == row.mult_adds_millions
    assert round(weights, 2) == row.params_millions


def test_mobilenet_v1_table3_rows_in_the_papers_order():
    assert list(mnv1.TABLE_3) == ["Convolution", "Depthwise Separable Conv", "α = 0.75",
                                  "ρ = 0.714"]
    assert mnv1.TABLE_3["Convolution"] == (462, 2.36)


def test_lesson01_stages_are_table1_pointwise_widths_per_side():
    # The notebook's §9 derives its five stage shapes from Table 1 rather than typing them.
    stages = list({row.input_size: (row.filter_shape[-1], row.input_size)
                   for row in mnv1.TABLE_1 if row.type == "pw"}.values())
    assert stages == [(64, 112), (128, 56), (256, 28), (512, 14), (1024, 7)]


def _bare_asserts(path):
    with open(path, encoding="utf-8") as file:
        cells = json.load(file)["cells"]
    found = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        tree = ast.parse("\n".join(line for line in source.splitlines()
                                   if not line.lstrip().startswith(("%", "!"))))
        for node in ast.walk(tree):
            if isinstance(node, ast.Assert):
                text = ast.unparse(node.test)
                if not (text.startswith("q") and text.endswith(".check(answer)")):
                    found.append((index, text))
    return found


def test_lesson01_checks_are_claims_not_bare_asserts():
    assert _bare_asserts(NOTEBOOK) == []
