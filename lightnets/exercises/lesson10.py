"""Exercises for lesson 10, spot the deviation: blog implementations against the papers."""
from __future__ import annotations

import functools

from lightnets.exercises._question import Question, choice, numeric


def _bottlenecks_marked(flag: str) -> int:
    # Table 1's bottlenecks with NL = flag. With RE and HS exchanged, the RE rows get h-swish.
    from lightnets.models.mobilenet_v3 import TABLE_1

    return sum(1 for row in TABLE_1 if row.operator == "bneck" and row.nonlinearity == flag)


def _separable_macs(alpha_on_pointwise_input: bool) -> int:
    # MobileNetV1 eq. 6 for one layer: M = N = 512 at 14×14, 3×3 kernel, α = 0.5.
    from lightnets.cost import depthwise_conv_macs, pointwise_conv_macs

    m, n = int(0.5 * 512), int(0.5 * 512)
    pointwise_in = m if alpha_on_pointwise_input else 512
    return depthwise_conv_macs(m, 3, 14) + pointwise_conv_macs(pointwise_in, n, 14)


@functools.lru_cache(maxsize=1)
def _b0_drop_rates() -> tuple:
    # B0's own stochastic-depth schedule, read from the model: (use_shortcut, p) per MBConv block.
    import lightnets
    from lightnets.layers import InvertedResidual

    return tuple((m.use_shortcut, getattr(m.stochastic_depth, "p", 0.0))
                 for m in lightnets.create_model("efficientnet_b0").modules()
                 if isinstance(m, InvertedResidual))


def _active_blocks(rate_of=None) -> float:
    # Blocks that run, in expectation, in one training step of B0: a block with a shortcut is
    # skipped with probability p (B0's own, or rate_of(i, n)); one without always runs.
    rates = _b0_drop_rates()
    return sum(1.0 - (p if rate_of is None else rate_of(i, len(rates))) if shortcut else 1.0
               for i, (shortcut, p) in enumerate(rates))


q1 = Question(
    name="lesson10.q1",
    prompt="A blog's MobileNetV3-Large exchanges Table 1's RE and HS flags. In how many of the 15 "
           "bottlenecks does it then use h-swish?",
    checker=numeric(lambda: _bottlenecks_marked("RE"), mistakes=[
        (lambda: _bottlenecks_marked("HS"), "that is how many use h-swish in Table 1; with the "
                                            "flags exchanged, the RE rows get h-swish"),
        (lambda: 15, "only the flags are exchanged, not every layer set to h-swish")]),
    hints=["Count the bottleneck rows of `lightnets.models.mobilenet_v3.TABLE_1` whose "
           "nonlinearity is \"RE\".",
           "sum(row.operator == 'bneck' and row.nonlinearity == 'RE' for row in TABLE_1)"],
    solution_code="from lightnets.models.mobilenet_v3 import TABLE_1\n"
                  "answer = sum(1 for row in TABLE_1\n"
                  "             if row.operator == 'bneck' and row.nonlinearity == 'RE')",
)

q2 = Question(
    name="lesson10.q2",
    prompt="MobileNetV1 eq. 6 for one depthwise separable layer: M = N = 512 channels at 14×14, "
           "3×3 depthwise, width multiplier α = 0.5. How many Mult-Adds?",
    checker=numeric(lambda: _separable_macs(True), mistakes=[
        (lambda: _separable_macs(False), "you counted the pointwise layer without α on its "
                                         "input channels: it reads αM = 256, not M = 512"),
        (lambda: 9 * 512 * 196 + 512 * 512 * 196, "that is α = 1: thin both M and N by α"),
        (lambda: _separable_macs(True) // 196, "multiply by the 14×14 = 196 output positions")]),
    hints=["D_K·D_K·αM·D_F·D_F + αM·αN·D_F·D_F",
           "9·256·196 + 256·256·196, or lightnets.cost.depthwise_conv_macs + pointwise_conv_macs"],
    solution_code="answer = (cost.depthwise_conv_macs(256, 3, 14)\n"
                  "          + cost.pointwise_conv_macs(256, 256, 14))",
)

q3 = Question(
    name="lesson10.q3",
    prompt="Stochastic depth in EfficientNet-B0 (drop rate 0.2, linear schedule p_i = 0.2·i/16 "
           "over its 16 blocks; blocks without a shortcut are never dropped): how many blocks run "
           "in one training step, in expectation?",
    checker=numeric(_active_blocks, rel_tol=1e-9, mistakes=[
        (lambda: _active_blocks(lambda i, n: 0.2), "that is the blog's constant rate 0.2 on "
                                                   "every block; the official code's schedule "
                                                   "grows linearly from 0"),
        (lambda: 16 * 0.8, "the constant rate on all 16 blocks; neither the schedule nor the "
                           "always-kept first blocks of each stage"),
        (lambda: 16 - sum(0.2 * i / 16 for i in range(16)), "a stage's first block has no "
                                                            "shortcut and always runs")]),
    hints=["Sum 1 − p_i over the blocks with `use_shortcut`, and 1 for the others.",
           "blocks = [m for m in lightnets.create_model('efficientnet_b0').modules() "
           "if isinstance(m, InvertedResidual)]"],
    solution_code="from lightnets.layers import InvertedResidual\n"
                  "blocks = [m for m in lightnets.create_model('efficientnet_b0').modules()\n"
                  "          if isinstance(m, InvertedResidual)]\n"
                  "answer = sum(1 - 0.2 * i / len(blocks) if b.use_shortcut else 1\n"
                  "             for i, b in enumerate(blocks))",
)

q4 = Question(
    name="lesson10.q4",
    prompt="Predict, then check: a blog's SE gate is an h-swish instead of a hard sigmoid. Which "
           "check reveals it: 'params', 'macs' or 'outputs' (with shared weights)? Write your "
           "guess, then run counts(...) and dev.output_gap(...) on dev.with_se_gate(ours, "
           "nn.Hardswish) to see which one moves.",
    checker=choice(lambda: "outputs", {
        "params": "an activation has no parameters: the count is unchanged",
        "macs": "both gates cost the same (and most counters skip activations): no change",
    }),
    hints=["What would differ if you copied the reference's weights into the variant?"],
    solution_code="answer = 'outputs'",
)
