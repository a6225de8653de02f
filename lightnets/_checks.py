"""Argument checks: the bottom floor every other module may import.

Each check returns the value it accepted, or raises a ValueError that names the argument and the
range it allows, so bad input fails where it enters, never deep inside torch.
"""
from __future__ import annotations

import math
from typing import Iterable, Optional

# Python's integers have no bound, but every integer lightnets takes ends in torch or numpy as a
# 64-bit size, index or seed: past this one torch fails deep inside with "Overflow when unpacking
# long long" instead of naming the argument.
INT64_MAX = 2**63 - 1


def check_int(name: str, value, low: Optional[int] = None, high: Optional[int] = None) -> int:
    """``value`` must be an int in [low, high]; ValueError naming ``name`` and the range
    otherwise. Without ``high``, integers past int64 (> 2**63 - 1) are refused too."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(
            f"{name} must be an integer{_range_text(low, high)}, got {describe(value)}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be an integer{_range_text(low, high)}, got {value}")
    if abs(value) > INT64_MAX:
        bounds = f"[{'-2**63 + 1' if low is None else low}, 2**63 - 1]"
        raise ValueError(f"{name} must be an integer in {bounds} (torch's sizes, indices and "
                         f"seeds are 64-bit integers), got {_big_int_text(value)}")
    return value


def check_float(
    name: str,
    value,
    low: Optional[float] = None,
    high: Optional[float] = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """``value`` must be a finite real number in the given interval; ValueError otherwise."""
    interval = _interval_text(low, high, low_inclusive, high_inclusive)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number in {interval}, got {describe(value)}")
    too_low = low is not None and (value < low or (value == low and not low_inclusive))
    too_high = high is not None and (value > high or (value == high and not high_inclusive))
    if too_low or too_high:
        raise ValueError(f"{name} must be in {interval}, got {value}")
    return float(value)


def check_choice(name: str, value, choices: Iterable):
    """``value`` must be one of ``choices``."""
    choices = list(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {describe(value)}")
    return value


def check_has_values(name: str, tensor) -> None:
    """``tensor`` must hold values: a meta tensor (``torch.device("meta")``, a shape without
    values) gets a ValueError naming ``name`` instead of torch's "Tensor.item() cannot be called
    on meta tensors" from deep inside the first check that reads a value."""
    if getattr(tensor, "is_meta", False):
        raise ValueError(f"{name} is a meta tensor (a shape without values), but this needs real "
                         "values: make it on the cpu or a cuda device")


def describe(value) -> str:
    """``value`` as an error message shows it: its repr, but a tensor or array only by its type,
    shape and dtype (a 224×224 image's repr is pages of numbers that hide the message), and any
    other long repr cut short."""
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    if shape is not None and dtype is not None and tuple(shape) != ():
        kind = f"{type(value).__module__.split('.')[0]}.{type(value).__name__}"
        return f"a {kind} of shape {tuple(shape)} and dtype {dtype}"
    text = repr(value)
    if len(text) <= 80:
        return text
    return f"{text[:60]}... (a {type(value).__name__} whose repr has {len(text):,} characters)"


def _big_int_text(value: int) -> str:
    # 10**80 printed in full is 81 digits; its order of magnitude is what the reader needs.
    return f"{value}" if len(str(value)) <= 25 else f"{value:.3e}"


def _range_text(low, high) -> str:
    if low is not None and high is not None:
        return f" in [{low}, {high}]"
    if low is not None:
        return f" >= {low}"
    if high is not None:
        return f" <= {high}"
    return ""


def _interval_text(low, high, low_inclusive, high_inclusive) -> str:
    left = "[" if low_inclusive and low is not None else "("
    right = "]" if high_inclusive and high is not None else ")"
    return f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
