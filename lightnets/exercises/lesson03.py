"""Exercises for lesson 03, h-swish and squeeze-and-excite (MobileNetV3)."""
from __future__ import annotations

import math

from lightnets.exercises._question import Question, numeric


def _hswish(x: float) -> float:
    # MobileNetV3 eq. 2: h-swish(x) = x · ReLU6(x + 3) / 6, computed by torch's own Hardswish.
    import torch
    return float(torch.nn.functional.hardswish(torch.tensor(x, dtype=torch.float64)))


def _swish(x: float) -> float:
    return x / (1 + math.exp(-x))  # eq. 1 with β = 1: x·σ(x)


def _hard_sigmoid(x: float) -> float:
    return min(max(x + 3, 0.0), 6.0) / 6


def _squeeze_channels(expanded: int) -> int:
    from lightnets import create_model
    from torch import nn
    model = create_model("mobilenet_v3_large")
    for module in model.modules():
        if type(module).__name__ == "SqueezeExcite":
            convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
            if convs[0].in_channels == expanded:
                return convs[0].out_channels
    raise ValueError(f"no SE block on {expanded} channels in mobilenet_v3_large")


def _largest_gap() -> float:
    # |swish − h-swish| peaks where ReLU6 starts to clip, at x = ±3: 3 − 3σ(3) = 3σ(−3).
    return max(abs(_swish(x / 1000) - _hswish(x / 1000)) for x in range(-8000, 8001))


q1 = Question(
    name="lesson03.q1",
    prompt="h-swish(2), to at least four decimals.",
    checker=numeric(
        lambda: _hswish(2.0),
        rel_tol=1e-4,
        mistakes=[
            (
                lambda: _swish(2.0),
                "that is swish, x·σ(x) (eq. 1); h-swish replaces σ by ReLU6(x + 3)/6",
            ),
            (
                lambda: _hard_sigmoid(2.0),
                "that is the hard sigmoid alone; h-swish multiplies it by x",
            ),
        ],
    ),
    hints=["h-swish(x) = x · ReLU6(x + 3) / 6 (eq. 2).", "2 · min(max(5, 0), 6) / 6"],
    solution_code="answer = 2 * min(max(2 + 3, 0), 6) / 6",
)

q2 = Question(
    name="lesson03.q2",
    prompt="How many channels does the squeeze layer of MobileNetV3-Large's SE block have on the "
           "672-channel expansion?",
    checker=numeric(lambda: _squeeze_channels(672), mistakes=[
        (lambda: 672 // 16, "r = 16 is SENet's reduction ratio; MobileNetV3 §5.3 fixes the squeeze "
                            "at 1/4 of the expansion layer's channels"),
        (lambda: 672, "the squeeze layer narrows the channels: 1/4 of the expansion")]),
    hints=["§5.3: 'we replace them all to fixed to be 1/4 of the number of channels in expansion "
           "layer'.", "Rounded to a multiple of 8 by make_divisible."],
    solution_code="from lightnets.layers import make_divisible\n"
                  "answer = make_divisible(672 / 4, 8)",
)

q3 = Question(
    name="lesson03.q3",
    prompt="The largest absolute gap between swish and h-swish over all real x, to four decimals.",
    checker=numeric(_largest_gap, rel_tol=1e-4, mistakes=[
        (lambda: max(abs(1 / (1 + math.exp(-x / 1000)) - _hard_sigmoid(x / 1000))
                     for x in range(-8000, 8001)),
         "that is the gap between the sigmoid and the hard sigmoid; multiply each by x")]),
    hints=["Evaluate both on a fine grid, or find where ReLU6 starts to clip.",
           "At x = 3: swish(3) = 3σ(3) and h-swish(3) = 3."],
    solution_code='answer = 3 - 3 / (1 + math.exp(-3))  # = 3σ(−3), at x = ±3',
)
