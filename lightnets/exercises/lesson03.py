"""Exercises for lesson 03, h-swish and squeeze-and-excite (MobileNetV3)."""
from __future__ import annotations

import math

from lightnets.exercises._question import Question, numeric

# What the notebook has imported when a solution cell runs (tests run the solutions with it).
NOTEBOOK_CONTEXT = "from lightnets.models import mobilenet_v3 as v3"


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
    prompt="Predict, then check: how many channels does the squeeze layer of MobileNetV3-Large's "
           "SE block have on the 672-channel expansion? Write your guess, then compute it.",
    checker=numeric(lambda: _squeeze_channels(672), mistakes=[
        (lambda: 672 // 16, "r = 16 is SENet's reduction ratio; MobileNetV3 §5.3 fixes the squeeze "
                            "at 1/4 of the expansion layer's channels"),
        (lambda: 672, "the squeeze layer narrows the channels: 1/4 of the expansion")]),
    hints=["§5.3: 'we replace them all to fixed to be 1/4 of the number of channels in expansion "
           "layer'.", "Rounded to a multiple of 8 by make_divisible."],
    solution_code="from lightnets.layers import make_divisible\n"
                  "answer = make_divisible(672 / 4, 8)",
)

def _se_params(expanded: int, squeeze: int, bias: bool = True) -> int:
    # Two 1×1 layers, C -> squeeze -> C, each with a bias unless bias=False.
    return 2 * expanded * squeeze + (squeeze + expanded if bias else 0)


def _v3_squeeze(expanded: int) -> int:
    from lightnets.models.mobilenet_v3 import squeeze_channels
    return squeeze_channels(expanded)


q3 = Question(
    name="lesson03.q3",
    prompt="How many parameters does squeeze-and-excite add to a MobileNetV3-Large block whose "
           "expansion has 672 channels (squeeze width as §5.3 sets it; both 1×1 layers have "
           "biases)?",
    checker=numeric(lambda: _se_params(672, _v3_squeeze(672)), mistakes=[
        (lambda: _se_params(672, _v3_squeeze(672), bias=False),
         "you left out the biases: add one per output channel of each 1×1 layer"),
        (lambda: 672 * _v3_squeeze(672) + _v3_squeeze(672),
         "that is the squeeze layer alone; the excite layer maps the squeeze back to 672"),
        (lambda: _se_params(672, 672 // 16),
         "that uses SENet's ratio 16; MobileNetV3 squeezes to a quarter of the expansion"),
        (lambda: 2 * 672 * _v3_squeeze(672) * 49,
         "that counts Mult-Adds at 7×7; parameters do not depend on the map size (and the SE "
         "layers act on one pooled pixel)")]),
    hints=["squeeze = v3.squeeze_channels(672); parameters of a 1×1 layer: in·out + out.",
           "2 · 672 · squeeze + squeeze + 672"],
    solution_code="squeeze = v3.squeeze_channels(672)\n"
                  "answer = 2 * 672 * squeeze + squeeze + 672  # two 1×1 layers with biases",
)
