"""Exercises for lesson 06, what a network costs."""
from __future__ import annotations

from lightnets.exercises._question import Question, choice, numeric


def _smallest_groups() -> int:
    # The smallest g dividing 256 for which a 3×3 grouped conv (256 → 256, 28×28) costs no more
    # than the 1×1 conv with the same channels.
    from lightnets.cost import grouped_conv_macs, pointwise_conv_macs
    pointwise = pointwise_conv_macs(256, 256, 28)
    return next(g for g in range(1, 257)
                if 256 % g == 0 and grouped_conv_macs(256, 256, 3, g, 28) <= pointwise)


def _largest_tool() -> str:
    from lightnets import create_model
    from lightnets.cost import tool_counts
    counts = tool_counts(create_model("mobilenet_v2"))
    return max((tool for tool in counts if tool not in ("paper", "all")),
               key=lambda tool: counts[tool].count)


def _fc_share_percent(width_mult: float) -> float:
    from lightnets import create_model, profile
    cost = profile(create_model("mobilenet_v1", width_mult=width_mult))
    return 100 * sum(row.macs for row in cost.by_layer if row.type == "linear") / cost.macs


q1 = Question(
    name="lesson06.q1",
    prompt="The smallest number of groups g (a divisor of 256) for which a 3×3 grouped "
           "convolution 256 → 256 on a 28×28 map costs no more Mult-Adds than a 1×1 convolution.",
    checker=numeric(_smallest_groups, mistakes=[
        (lambda: 9, "9 makes the costs equal on paper, but a grouped conv needs g to divide the "
                    "channels: 256 % 9 ≠ 0")]),
    hints=["The grouped 3×3 costs 9/g of the standard 3×3; the 1×1 costs 1/9 of it.",
           "Try the divisors of 256 with `cost.grouped_conv_macs`."],
    solution_code=(
        'answer = next(g for g in (1, 2, 4, 8, 16, 32, 64, 128, 256)\n'
        '              if cost.grouped_conv_macs(256, 256, 3, g, 28)\n'
        '              <= cost.pointwise_conv_macs(256, 256, 28))'
    ),
)

q2 = Question(
    name="lesson06.q2",
    prompt="Of the tools `cost.tool_counts` rebuilds, which reports the largest figure for "
           "mobilenet_v2? Give the key.",
    checker=choice(_largest_tool, {
        "thop": "thop counts BatchNorm twice, but another tool counts every MAC as two FLOPs",
        "ptflops": "ptflops adds biases and activations, but another tool doubles everything"}),
    hints=["`tool_counts(create_model('mobilenet_v2'))` maps each tool to a ToolCount.",
           "One of them counts a multiply and an add separately."],
    solution_code=(
        'counts_v2 = cost.tool_counts(create_model("mobilenet_v2"))\n'
        'answer = max((t for t in counts_v2 if t not in ("paper", "all")),\n'
        '             key=lambda t: counts_v2[t].count)'
    ),
)

q3 = Question(
    name="lesson06.q3",
    prompt="The fully connected layer's share (percent) of MobileNetV1's Mult-Adds at width_mult "
           "= 0.5, 224 px.",
    checker=numeric(lambda: _fc_share_percent(0.5), rel_tol=1e-3, percent=True, mistakes=[
        (lambda: _fc_share_percent(1.0),
         "the FC layer's Mult-Adds fall by α (its input is α·1024 features) while the "
         "convolutions' fall by about α², so its share grows")]),
    hints=["Sum the rows of type 'linear' in `profile(create_model('mobilenet_v1', "
           "width_mult=0.5)).by_layer`."],
    solution_code=(
        'thin = profile(create_model("mobilenet_v1", width_mult=0.5))\n'
        'answer = 100 * sum(r.macs for r in thin.by_layer if r.type == "linear") / thin.macs'
    ),
)


def _ptflops_relu_millions() -> float:
    from lightnets import create_model
    from lightnets.cost import tool_counts
    counts = tool_counts(create_model("mobilenet_v1"), tools=("ptflops",))
    return counts["ptflops"].parts["activation"] / 1e6


def _relu_elements_millions() -> float:
    from lightnets import create_model
    from lightnets.cost import tool_counts
    counts = tool_counts(create_model("mobilenet_v1"), tools=("all",))
    return counts["all"].parts["activation"] / 1e6


def _fc_share_ratio() -> float:
    from lightnets import create_model, profile

    def fc_share(side: int) -> float:
        cost = profile(create_model("mobilenet_v1"), (1, 3, side, side))
        return sum(row.macs for row in cost.by_layer if row.type == "linear") / cost.macs
    return fc_share(160) / fc_share(224)


q4 = Question(
    name="lesson06.q4",
    prompt="Predict, then check: how many million operations does ptflops (pytorch backend, "
           "`tool_counts` key 'ptflops') count for the ReLUs of mobilenet_v1 at 224 px?",
    checker=numeric(_ptflops_relu_millions, rel_tol=1e-3, mistakes=[
        (_relu_elements_millions,
         "that is one operation per ReLU output element; ptflops counts each ReLU twice: its "
         "hook on nn.ReLU, and its patch of F.relu, which nn.ReLU.forward calls")]),
    hints=["`tool_counts(model, tools=('ptflops',))['ptflops'].parts` splits the count by kind "
           "of operation.",
           "Look at parts['activation'] and divide by 1e6."],
    solution_code=(
        'relu = cost.tool_counts(create_model("mobilenet_v1"), tools=("ptflops",))\n'
        'answer = relu["ptflops"].parts["activation"] / 1e6'
    ),
)

q5 = Question(
    name="lesson06.q5",
    prompt="MobileNetV1's fully connected layer holds 0.18 % of its Mult-Adds at 224 px. By what "
           "factor does that share grow at 160 px (share at 160 / share at 224)?",
    checker=numeric(_fc_share_ratio, rel_tol=1e-3, mistakes=[
        (lambda: 1.0, "the FC layer's own Mult-Adds do not change with resolution (global "
                      "pooling leaves it 1024 features), but the convolutions' fall by about "
                      "(160/224)², so its share grows"),
        (lambda: 224 / 160, "the convolutions' Mult-Adds fall with the map's area, (160/224)², "
                            "not with its side"),
        (lambda: (224 / 160) ** 2, "close, but (224/160)² is the factor by which the "
                                   "convolutions' Mult-Adds fall; the total falls a little less, "
                                   "because its FC part does not fall")]),
    hints=["Profile mobilenet_v1 at (1, 3, 160, 160) and at (1, 3, 224, 224).",
           "The share is the 'linear' rows' MACs over the total; divide the two shares."],
    solution_code=(
        'def fc_share(side):\n'
        '    c = profile(create_model("mobilenet_v1"), (1, 3, side, side))\n'
        '    return sum(r.macs for r in c.by_layer if r.type == "linear") / c.macs\n'
        '\n'
        '\n'
        'answer = fc_share(160) / fc_share(224)'
    ),
)
