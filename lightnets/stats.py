"""Intervals for results over seeds and for accuracies on a finite test set.

A trained model's accuracy moves with the seed and with the test images drawn; a notebook that
compares trained models prints each number with its interval:

- :func:`t_interval`: the mean over seeds and the half-width of its Student-t interval (sample
  standard deviation, ddof = 1), for a handful of runs;
- :func:`binomial_interval`: Wilson's score interval for one accuracy measured on ``n`` images,
  which keeps inside [0, 1] even near 0 or 1.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from lightnets._checks import check_float, check_int


def t_interval(values: Sequence[float], confidence: float = 0.95) -> dict:
    """Mean of ``values`` and the half-width of its Student-t interval (sample std, ddof = 1)."""
    from scipy import stats

    check_float("confidence", confidence, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) < 2:
        raise ValueError(f"an interval needs a list of at least 2 values, got {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError("values must be finite numbers")
    t = stats.t.ppf(0.5 + confidence / 2, len(values) - 1)
    half = t * values.std(ddof=1) / math.sqrt(len(values))
    return {"mean": float(values.mean()), "half_width": float(half), "values": values.tolist()}


def binomial_interval(correct: int, n: int, confidence: float = 0.95) -> tuple:
    """Wilson's score interval ``(low, high)`` for an accuracy of ``correct`` out of ``n``."""
    from scipy import stats

    check_int("n", n, low=1)
    check_int("correct", correct, low=0, high=n)
    check_float("confidence", confidence, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    z = stats.norm.ppf(0.5 + confidence / 2)
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, float(centre - half)), min(1.0, float(centre + half))
