"""Integer-only evaluation of gates, for MobileNetV3 §5.2's argument for the hard sigmoid.

In an int8 network every tensor is ``scale · (code - zero_point)`` with integer codes. The hard
sigmoid ReLU6(x + 3) / 6 is piecewise linear, so on codes it is an integer add, a clamp and one
fixed-point multiply, and it gives the correctly rounded answer for every input code.

An int8 input has only 256 codes, so the sigmoid can be exact too: a 256-entry lookup table
(:func:`sigmoid_table`), filled once in float for the input and output scales, is the correctly
rounded sigmoid of every code. What the hard sigmoid saves is the table (one per pair of scales,
filled offline) and the exponential it is filled with; it is one formula that gives the same codes
on every backend and at every precision, and it fuses into the preceding layer as a clamp. Kernels
that approximate the sigmoid instead of tabulating it (a polynomial, a piecewise-linear fit such as
:func:`plan_sigmoid`) round differently from one another: the "potential numerical precision loss
caused by different implementations of approximate sigmoid" that §5.2 avoids.
"""
from __future__ import annotations

import torch

from lightnets._checks import check_float, check_has_values, check_int

INT8 = (-128, 127)
UINT8 = (0, 255)


def _check_tensor(name: str, value, integer: bool) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if value.is_complex() or value.dtype == torch.bool or (integer and value.is_floating_point()):
        kind = "integer" if integer else "real"
        raise ValueError(f"{name} must be a {kind} tensor, got {value.dtype}")
    check_has_values(name, value)
    if value.is_floating_point() and not torch.isfinite(value).all():
        raise ValueError(f"{name} must be finite; NaN and infinity have no integer code")
    return value


def _check_bounds(bounds) -> tuple:
    if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
        raise ValueError(f"bounds must be (low, high) integers, got {bounds!r}")
    low = check_int("bounds", bounds[0], low=-2**31, high=2**31 - 1)
    high = check_int("bounds", bounds[1], low=low, high=2**31 - 1)
    return low, high


def quantize(
    x: torch.Tensor, scale: float, zero_point: int = 0, bounds: tuple = INT8
) -> torch.Tensor:
    """Integer codes of ``x``: round(x / scale) + zero_point, clamped to ``bounds`` (int64
    tensor)."""
    _check_tensor("x", x, integer=False)
    scale = check_float("scale", scale, 0.0, 1e6, low_inclusive=False)
    check_int("zero_point", zero_point, low=-2**31, high=2**31 - 1)
    bounds = _check_bounds(bounds)
    # In float64: a float32 division would round a tiny scale to 0 and turn 0 / 0 into NaN.
    codes = torch.round(x.to(torch.float64) / scale) + zero_point
    return torch.clamp(codes, *bounds).to(torch.int64)


def dequantize(codes: torch.Tensor, scale: float, zero_point: int = 0) -> torch.Tensor:
    """The real numbers the ``codes`` stand for."""
    _check_tensor("codes", codes, integer=True)
    scale = check_float("scale", scale, 0.0, 1e6, low_inclusive=False)
    check_int("zero_point", zero_point, low=-2**31, high=2**31 - 1)
    return (codes - zero_point).to(torch.float64) * scale


def hard_sigmoid_int(codes: torch.Tensor, scale: float, out_scale: float = 1 / 256) -> torch.Tensor:
    """Hard sigmoid on int8 input codes with integer arithmetic only; uint8 output codes.

    Needs 3 / scale and 1 / out_scale to be integers (choose the scales so), and computes
    round(clamp(q + 3/scale, 0, 6/scale) · scale / (6 · out_scale)) with one rounding division,
    clamped to uint8. The default output scale 1/256 is the usual one for uint8 sigmoid outputs.
    """
    _check_tensor("codes", codes, integer=True)
    check_float("scale", scale, 3 / 2**20, 3.0)
    check_float("out_scale", out_scale, 2.0**-20, 1.0)
    shift = 3 / scale
    if abs(shift - round(shift)) > 1e-9:
        raise ValueError(
            f"scale must divide 3 exactly for an integer-only hard sigmoid, got {scale}"
        )
    if abs(1 / out_scale - round(1 / out_scale)) > 1e-9:
        raise ValueError(f"out_scale must be 1/n for a whole number n, got {out_scale}")
    shift = round(shift)
    clamped = torch.clamp(codes + shift, 0, 2 * shift)  # ReLU6(x + 3) in units of `scale`
    # clamped · scale / 6 / out_scale = clamped · numerator / denominator, both integers
    numerator, denominator = round(1 / out_scale), 2 * shift
    rounded = torch.div(
        2 * clamped * numerator + denominator, 2 * denominator, rounding_mode="floor"
    )
    return torch.clamp(rounded, *UINT8)


def sigmoid_table(scale: float, out_scale: float = 1 / 256) -> torch.Tensor:
    """The 256-entry table of uint8 sigmoid codes for int8 input codes at ``scale``: entry
    ``q + 128`` is round(σ(q · scale) / out_scale), clamped to uint8, computed in float64."""
    scale = check_float("scale", scale, 0.0, 1e6, low_inclusive=False)
    out_scale = check_float("out_scale", out_scale, 2.0**-20, 1.0)
    codes = torch.arange(INT8[0], INT8[1] + 1, dtype=torch.int64)
    return quantize(torch.sigmoid(dequantize(codes, scale)), out_scale, bounds=UINT8)


def lookup(codes: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """Apply a 256-entry ``table`` (:func:`sigmoid_table`) to int8 ``codes``: one gather."""
    _check_tensor("codes", codes, integer=True)
    _check_tensor("table", table, integer=True)
    if table.shape != (256,):
        raise ValueError(f"table must have 256 entries (one per int8 code), "
                         f"got shape {tuple(table.shape)}")
    if codes.numel() and (codes.min() < INT8[0] or codes.max() > INT8[1]):
        raise ValueError(f"codes must be int8 codes in [{INT8[0]}, {INT8[1]}], "
                         f"got values from {int(codes.min())} to {int(codes.max())}")
    return table[codes - INT8[0]]


def plan_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """PLAN (Amin et al. 1997), a piecewise-linear sigmoid with power-of-two slopes used in
    hardware."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"x must be a floating-point torch.Tensor, got "
                        f"{x.dtype if isinstance(x, torch.Tensor) else type(x).__name__}")
    a = x.abs()
    y = torch.where(a >= 5, torch.ones_like(a),
                    torch.where(a >= 2.375, 0.03125 * a + 0.84375,
                                torch.where(a >= 1, 0.125 * a + 0.625, 0.25 * a + 0.5)))
    return torch.where(x >= 0, y, 1 - y)
