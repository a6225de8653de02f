"""Exercises for lesson 04, compound scaling (EfficientNet)."""
from __future__ import annotations

import math

from lightnets.exercises._question import Question, numeric


def _constraint() -> float:
    from lightnets.scaling import constraint
    return constraint()


q1 = Question(
    name="lesson04.q1",
    prompt="Predict, then check: write down your guess first — more or less than 8×? With the "
           "paper's α = 1.2, β = 1.1, γ = 1.15, by what factor does eq. 3 predict B0's FLOPs to "
           "grow at φ = 3?",
    checker=numeric(lambda: _constraint() ** 3, rel_tol=1e-3, mistakes=[
        (lambda: 8.0, "that assumes α·β²·γ² = 2 exactly; the paper's coefficients give 1.92, and "
                      "1.92³ is less than 8"),
        (lambda: 3 * _constraint(), "the growth compounds: (α·β²·γ²)^φ, not φ·α·β²·γ²"),
        (lambda: (1.2 * 1.1 * 1.15) ** 3, "FLOPs grow with the square of width and of "
                                          "resolution: use β² and γ²")]),
    hints=["Each step of φ multiplies the FLOPs by α·β²·γ² (`scaling.constraint()`).",
           "`lightnets.scaling.predicted_flops_ratio(3)`, i.e. (1.2 · 1.1² · 1.15²)³."],
    solution_code="from lightnets.scaling import predicted_flops_ratio\n"
                  "answer = predicted_flops_ratio(3)",
)

q2 = Question(
    name="lesson04.q2",
    prompt="EfficientNet rounds channels as the official code does. How many stem channels does "
           "B0's 32-channel stem get at width_mult = 1.1 (B2's width)?",
    checker=numeric(lambda: __import__("lightnets.scaling", fromlist=["round_filters"])
                    .round_filters(32, 1.1), mistakes=[
        (lambda: 40, "the rounding goes to the nearest multiple of 8 (35.2 → 32), and goes up only "
                     "when rounding down loses more than 10%"),
        (lambda: 35, "channels are rounded to a multiple of 8"),
        (lambda: 35.2, "that is the exact product; a layer has whole channels, rounded to the "
                       "nearest multiple of 8")]),
    hints=["32 · 1.1 = 35.2; round to the nearest multiple of 8.",
           "`make_divisible(35.2, 8)` rounds down to 32 (it lost less than 10%)."],
    solution_code="from lightnets.layers import make_divisible\n"
                  "answer = make_divisible(32 * 1.1, 8)",
)


def _exact_gamma() -> float:
    from lightnets.scaling import ALPHA, BETA
    # α·β²·γ² = 2 solved for γ with the paper's α and β.
    return math.sqrt(2 / (ALPHA * BETA ** 2))


def _exact_side() -> int:
    from lightnets.scaling import scaled_resolution
    return scaled_resolution(_exact_gamma())


_side_numeric = numeric(_exact_side, mistakes=[
    (lambda: __import__("lightnets.scaling", fromlist=["scaled_resolution"])
     .scaled_resolution(1.15), "that is the side with the paper's own γ = 1.15; solve "
                               "1.2 · 1.1² · γ² = 2 for γ first"),
    (lambda: math.floor(224 * _exact_gamma()), "the side is rounded to the nearest pixel "
                                               "(`scaling.scaled_resolution`), not down"),
    (lambda: round(224 * 2 / (1.2 * 1.1 ** 2)), "γ enters squared: take the square root of "
                                                "2 / (α·β²)")])


def _check_side(answer):
    # The answer is a whole number of pixels; the near misses (γ itself, the unrounded side) are
    # typed to a few decimals, so they are recognised at 0.1 % before the exact check.
    if isinstance(answer, float) and not answer.is_integer():
        for wrong, why in ((_exact_gamma, "that is γ itself; the question asks for the side, "
                                          "224 · γ, in whole pixels"),
                           (lambda: 224 * _exact_gamma(), "that is the exact side; an image has "
                                                          "whole pixels: round to the nearest")):
            if abs(answer - wrong()) <= 1e-3 * wrong():
                return why
    return _side_numeric(answer)


q3 = Question(
    name="lesson04.q3",
    prompt="The paper's coefficients give α·β²·γ² = 1.92, not 2. Keep α = 1.2 and β = 1.1 and "
           "choose γ so that the product is exactly 2. What input side (in whole pixels) would "
           "B0's 224 px become at φ = 1?",
    checker=_check_side,
    hints=["γ = √(2 / (α·β²)).",
           "`scaling.scaled_resolution(gamma)` rounds 224 · γ to the nearest pixel."],
    solution_code="from lightnets import scaling\n"
                  "gamma = math.sqrt(2 / (scaling.ALPHA * scaling.BETA ** 2))\n"
                  "answer = scaling.scaled_resolution(gamma)",
)


def _lite4_head() -> int:
    # From Lite4's plan, the layout its builder instantiates: no model is built to check.
    from lightnets.models.efficientnet import LITE_VARIANTS, efficientnet_lite_plan

    lite4 = LITE_VARIANTS["lite4"]
    return efficientnet_lite_plan(lite4.width_mult, lite4.depth_mult).head_channels


q4 = Question(
    name="lesson04.q4",
    prompt="Predict, then check: EfficientNet-Lite4 is scaled with width 1.4. How many channels "
           "does its head (the 1×1 convolution before the pooling) have?",
    checker=numeric(_lite4_head, mistakes=[
        (lambda: __import__("lightnets.scaling", fromlist=["round_filters"])
         .round_filters(1280, 1.4),
         "that is the B-series rule, round_filters(1280, 1.4); Lite keeps the stem and the head "
         "fixed while it scales (the official fix_head_stem, 'for keeping models small and "
         "fast')"),
        (lambda: 1280 * 1.4, "that is 1280 · 1.4 unrounded, and Lite does not scale its head "
                             "at all")]),
    hints=["Read `efficientnet_lite_plan` in lightnets/models/efficientnet.py: which option is "
           "switched on?", "`create_model('efficientnet_lite4').num_features`"],
    solution_code="answer = lightnets.create_model('efficientnet_lite4').num_features",
)
