"""Exercises for lesson 04, compound scaling (EfficientNet)."""
from __future__ import annotations

from lightnets.exercises._question import Question, numeric


def _constraint() -> float:
    from lightnets.scaling import constraint
    return constraint(1.2, 1.1, 1.15)


q1 = Question(
    name="lesson04.q1",
    prompt="EfficientNet's STEP 1 found α = 1.2, β = 1.1, γ = 1.15. By what factor does each step "
           "of φ multiply the FLOPs (eq. 3's α·β²·γ²)?",
    checker=numeric(_constraint, rel_tol=1e-4, mistakes=[
        (lambda: 1.2 * 1.1 * 1.15, "FLOPs grow with the square of width and of resolution: β², γ²"),
        (lambda: 2.0, "2 is the constraint's target, α·β²·γ² ≈ 2; compute the product itself")]),
    hints=["`lightnets.scaling.constraint(alpha, beta, gamma)`", "1.2 · 1.1² · 1.15²"],
    solution_code="answer = 1.2 * 1.1 ** 2 * 1.15 ** 2",
)

q2 = Question(
    name="lesson04.q2",
    prompt="By how much does eq. 3 predict the FLOPs of B0 grow at φ = 3?",
    checker=numeric(lambda: _constraint() ** 3, rel_tol=1e-4, mistakes=[
        (lambda: 8.0, "that assumes α·β²·γ² = 2 exactly; it is about 1.92"),
        (lambda: 3 * _constraint(), "the growth compounds: (α·β²·γ²)^φ, not φ·α·β²·γ²")]),
    hints=["`lightnets.scaling.predicted_flops_ratio(3)`"],
    solution_code="from lightnets.scaling import predicted_flops_ratio\n"
                  "answer = predicted_flops_ratio(3)",
)

q3 = Question(
    name="lesson04.q3",
    prompt="EfficientNet rounds channels as the official code does. How many stem channels does "
           "B0's 32-channel stem get at width_mult = 1.1 (B2's width)?",
    checker=numeric(lambda: __import__("lightnets.scaling", fromlist=["round_filters"])
                    .round_filters(32, 1.1), mistakes=[
        (lambda: 40, "the rounding goes to the nearest multiple of 8 (35.2 → 32), and goes up only "
                     "when rounding down loses more than 10%"),
        (lambda: 35, "channels are rounded to a multiple of 8")]),
    hints=["32 · 1.1 = 35.2; round to the nearest multiple of 8.",
           "`make_divisible(35.2, 8)` rounds down to 32 (it lost less than 10%)."],
    solution_code="from lightnets.layers import make_divisible\n"
                  "answer = make_divisible(32 * 1.1, 8)",
)


def _lite4_head() -> int:
    from lightnets import create_model

    return create_model("efficientnet_lite4").num_features


q4 = Question(
    name="lesson04.q4",
    prompt="Predict, then check: EfficientNet-Lite4 is scaled with width 1.4. How many channels "
           "does its head (the 1×1 convolution before the pooling) have?",
    checker=numeric(_lite4_head, mistakes=[
        (lambda: __import__("lightnets.scaling", fromlist=["round_filters"])
         .round_filters(1280, 1.4),
         "that is the B-series rule, round_filters(1280, 1.4); Lite keeps the stem and the head "
         "fixed while it scales (the official fix_head_stem, 'for keeping models small and "
         "fast')")]),
    hints=["Read `efficientnet_lite_plan` in lightnets/models/efficientnet.py: which option is "
           "switched on?", "`create_model('efficientnet_lite4').num_features`"],
    solution_code="answer = lightnets.create_model('efficientnet_lite4').num_features",
)
