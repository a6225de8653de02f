"""Integer-only evaluation of gates, for MobileNetV3 §5.2's argument for the hard sigmoid.

In an int8 network every tensor is ``scale · (code - zero_point)`` with integer codes. The hard
sigmoid ReLU6(x + 3) / 6 is piecewise linear, so on codes it is an integer add, a clamp and one
fixed-point multiply, and it gives the correctly rounded answer for every input code. The sigmoid
has no such form: an integer kernel must approximate it (a table, a polynomial, a piecewise-linear
fit), and different kernels round differently, which is the "potential numerical precision loss
caused by different implementations of approximate sigmoid" that §5.2 avoids.
"""
from __future__ import annotations

import torch

from lightnets._checks import check_float

INT8 = (-128, 127)
UINT8 = (0, 255)


def quantize(x: torch.Tensor, scale: float, zero_point: int = 0, bounds: tuple = INT8) -> torch.Tensor:
    """Integer codes of ``x``: round(x / scale) + zero_point, clamped to ``bounds`` (int64 tensor)."""
    check_float("scale", scale, 0.0, None, low_inclusive=False)
    return torch.clamp(torch.round(x / scale) + zero_point, *bounds).to(torch.int64)


def dequantize(codes: torch.Tensor, scale: float, zero_point: int = 0) -> torch.Tensor:
    """The real numbers the ``codes`` stand for."""
    return (codes - zero_point).to(torch.float64) * scale


def hard_sigmoid_int(codes: torch.Tensor, scale: float, out_scale: float = 1 / 256) -> torch.Tensor:
    """Hard sigmoid on int8 input codes with integer arithmetic only; uint8 output codes.

    Needs 3 / scale and 1 / out_scale to be integers (choose the scales so), and computes
    round(clamp(q + 3/scale, 0, 6/scale) · scale / (6 · out_scale)) with one rounding division,
    clamped to uint8. The default output scale 1/256 is the usual one for uint8 sigmoid outputs.
    """
    shift = 3 / scale
    if abs(shift - round(shift)) > 1e-9:
        raise ValueError(f"scale must divide 3 exactly for an integer-only hard sigmoid, got {scale}")
    shift = round(shift)
    clamped = torch.clamp(codes + shift, 0, 2 * shift)  # ReLU6(x + 3) in units of `scale`
    # clamped · scale / 6 / out_scale = clamped · numerator / denominator, both integers
    numerator, denominator = round(1 / out_scale), 2 * shift
    rounded = torch.div(2 * clamped * numerator + denominator, 2 * denominator, rounding_mode="floor")
    return torch.clamp(rounded, *UINT8)


def plan_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """PLAN (Amin et al. 1997), a piecewise-linear sigmoid with power-of-two slopes used in hardware."""
    a = x.abs()
    y = torch.where(a >= 5, torch.ones_like(a),
                    torch.where(a >= 2.375, 0.03125 * a + 0.84375,
                                torch.where(a >= 1, 0.125 * a + 0.625, 0.25 * a + 0.5)))
    return torch.where(x >= 0, y, 1 - y)
