"""Lesson 03's data from MobileNetV3 (Howard et al. 2019): Table 5 and §5.1's savings, read by
the notebook, checked here against the paper's numbers and against our own counts."""
import pytest
from torch import nn

import lightnets
from lightnets.layers import ConvBNAct, InvertedResidual
from lightnets.models import mobilenet_v3 as v3


def test_mobilenet_v3_table5_hswish_costs_little_over_relu_once_optimised():
    rows = {row.variant: row for row in v3.TABLE_5}
    designed, relu = rows["V3-Large 1.0"], rows["ReLU"]
    assert (designed.top1_percent, designed.pixel1_ms, designed.pixel1_ms_naive) == (
        75.2, 51.4, 57.5)
    assert round(designed.pixel1_ms / relu.pixel1_ms - 1, 3) == 0.018  # "+1.8%" optimised
    assert round(designed.pixel1_ms_naive / relu.pixel1_ms - 1, 2) == 0.14  # naive
    assert relu.pixel1_ms == relu.pixel1_ms_naive  # no h-swish to optimise


def test_mobilenet_v3_table5_agrees_with_table3_on_the_designed_network():
    designed = next(row for row in v3.TABLE_5 if row.variant == "V3-Large 1.0")
    large = next(row for row in v3.TABLE_3 if row.network == "V3-Large 1.0")
    assert designed.top1_percent == large.top1_percent
    assert round(designed.pixel1_ms) == large.pixel1_ms  # same camera-ready version: 51 ms


def _stem_and_first_block(filters):
    return nn.Sequential(ConvBNAct(3, filters, 3, stride=2, activation=nn.Hardswish),
                         InvertedResidual(filters, 16, filters, 3, 1, activation=nn.ReLU))


def test_mobilenet_v3_section_5_1_stem_saving_is_10_million_madds():
    stem = next(s for s in v3.SECTION_5_1 if "stem" in s.change)
    assert (stem.pixel1_ms, stem.mult_adds_millions) == (2, 10)
    saved = (lightnets.profile(_stem_and_first_block(32), (1, 3, 224, 224)).macs
             - lightnets.profile(_stem_and_first_block(16), (1, 3, 224, 224)).macs)
    assert saved == 52 * 16 * 112 * 112  # (27 stem + 9 depthwise + 16 projection) per channel
    assert saved / 1e6 == pytest.approx(stem.mult_adds_millions, rel=0.1)


def test_mobilenet_v3_section_5_1_last_stage_saves_about_30_million_madds():
    last = next(s for s in v3.SECTION_5_1 if "last stage" in s.change)
    assert (last.pixel1_ms, last.mult_adds_millions) == (7, 30)
    assert v3.SECTION_5_1_LAST_STAGE_SHARE_PERCENT == 11
    # The V2-style ending (expansion, 3×3 depthwise, projection, 1×1 to 1280 at 7×7) against
    # V3's pooled one: the lesson's by-hand count.
    saved = 49 * (960 * 9 + 960 * 320 + 320 * 1280) - 960 * 1280
    assert saved / 1e6 == pytest.approx(last.mult_adds_millions, rel=0.2)
