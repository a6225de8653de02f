import math
from fractions import Fraction

import pytest
import torch

from lightnets import quantize as q


def test_quantize_round_trips_codes_within_half_a_step():
    x = torch.linspace(-6, 6, 101, dtype=torch.float64)
    codes = q.quantize(x, 0.05)
    assert codes.min() >= -128 and codes.max() <= 127
    assert (q.dequantize(codes, 0.05) - x).abs().max() <= 0.025 + 1e-12


def test_hard_sigmoid_int_is_correctly_rounded_for_every_int8_code():
    # MobileNetV3 §5.2: the hard sigmoid needs no approximation in integer arithmetic.
    scale, codes = Fraction(1, 20), range(-128, 128)
    ours = q.hard_sigmoid_int(torch.arange(-128, 128), 0.05).tolist()
    for code, got in zip(codes, ours):
        exact = min(max(code * scale + 3, 0), 6) / 6 * 256  # in output steps of 1/256
        assert got == min(255, int(exact + Fraction(1, 2))), code


def test_hard_sigmoid_int_needs_a_scale_that_divides_three():
    with pytest.raises(ValueError, match="scale"):
        q.hard_sigmoid_int(torch.arange(-3, 3), 0.07)


def test_plan_sigmoid_is_within_two_percent_of_the_sigmoid_and_symmetric():
    x = torch.linspace(-8, 8, 1601, dtype=torch.float64)
    assert (q.plan_sigmoid(x) - torch.sigmoid(x)).abs().max() < 0.02
    assert torch.allclose(q.plan_sigmoid(-x), 1 - q.plan_sigmoid(x))


def test_sigmoid_table_is_the_correctly_rounded_sigmoid_of_every_int8_code():
    codes = torch.arange(-128, 128)
    table = q.sigmoid_table(0.05)
    exact = q.quantize(torch.sigmoid(q.dequantize(codes, 0.05)), 1 / 256, bounds=q.UINT8)
    assert table.shape == (256,) and torch.equal(q.lookup(codes, table), exact)
    assert int(table[0]) == round(256 / (1 + math.exp(6.4))) and int(table[-1]) == 255


def test_lookup_rejects_codes_outside_int8_and_tables_of_the_wrong_size():
    table = q.sigmoid_table(0.05)
    with pytest.raises(ValueError, match="int8"):
        q.lookup(torch.tensor([128]), table)
    with pytest.raises(ValueError, match="256"):
        q.lookup(torch.tensor([0]), table[:10])
