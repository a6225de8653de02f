"""Compound scaling (Tan & Le 2019, "EfficientNet: Rethinking Model Scaling for Convolutional Neural
Networks", arXiv:1905.11946, §3.3): how a width or depth multiplier turns into whole layers.

A multiplier is a real number, a network has whole channels and whole layers. The official
EfficientNet code rounds the two differently: channels to the nearest multiple of 8 (never losing
more than 10%), repeats always up, so that a deeper network never has fewer layers than asked for.
"""
from __future__ import annotations

import math

from lightnets.layers import make_divisible
from lightnets.registry import check_float, check_int


def round_filters(channels: int, width_mult: float, divisor: int = 8) -> int:
    """``channels × width_mult`` rounded to a multiple of ``divisor`` (official ``round_filters``).

    e.g. B7 (width 2.0) turns B0's 1280 head channels into 2560 and B2 (width 1.1) its 40 into 48.
    """
    check_int("channels", channels, low=1)
    check_float("width_mult", width_mult, 0.0, None, low_inclusive=False)
    check_int("divisor", divisor, low=1)
    return make_divisible(channels * width_mult, divisor)


def round_repeats(repeats: int, depth_mult: float) -> int:
    """``repeats × depth_mult`` rounded up (official ``round_repeats``: ``ceil``), e.g. 3 × 3.1 → 10."""
    check_int("repeats", repeats, low=1)
    check_float("depth_mult", depth_mult, 0.0, None, low_inclusive=False)
    return int(math.ceil(depth_mult * repeats))
