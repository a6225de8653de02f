"""Exercises for lesson 01, depthwise separable convolutions (MobileNetV1)."""
from __future__ import annotations

from lightnets.exercises._question import Question, numeric


def _separable_over_standard(channels: int, kernel_size: int, side: int) -> float:
    from lightnets.cost import depthwise_conv_macs, pointwise_conv_macs, standard_conv_macs
    separable = (depthwise_conv_macs(channels, kernel_size, side)
                 + pointwise_conv_macs(channels, channels, side))
    return separable / standard_conv_macs(channels, channels, kernel_size, side)


def _fc_share_percent(resolution: int) -> float:
    from lightnets import create_model, profile
    cost = profile(create_model("mobilenet_v1"), (1, 3, resolution, resolution))
    return 100 * sum(row.macs for row in cost.by_layer if row.type == "linear") / cost.macs


def _eq6(alpha: float, pointwise_alpha: bool = True) -> float:
    # MobileNetV1 eq. 6: D_K·D_K·αM·D_F·D_F + αM·αN·D_F·D_F, for D_K = 3, M = N = 256, D_F = 14.
    from lightnets.cost import depthwise_conv_macs, pointwise_conv_macs
    m = n = 256
    out = int(alpha * n) if pointwise_alpha else n
    return depthwise_conv_macs(int(alpha * m), 3, 14) + pointwise_conv_macs(int(alpha * m), out, 14)


def _excess_over_alpha_squared(kind: str, alpha: float = 0.25) -> float:
    # Mult-Adds (millions) of one layer type at width α, minus α² times that type at α = 1.
    from lightnets import create_model, profile
    thin = profile(create_model("mobilenet_v1", width_mult=alpha)).by_type[kind]
    full = profile(create_model("mobilenet_v1")).by_type[kind]
    return (thin - alpha ** 2 * full) / 1e6


def _smallest_n() -> int:
    # The smallest N for which a 5×5 separable layer costs less than a standard 3×3 one (M = N).
    from lightnets.cost import depthwise_conv_macs, pointwise_conv_macs, standard_conv_macs
    for n in range(1, 1000):
        separable = depthwise_conv_macs(n, 5, 7) + pointwise_conv_macs(n, n, 7)
        if separable < standard_conv_macs(n, n, 3, 7):
            return n
    raise AssertionError("no N below 1000")


q1 = Question(
    name="lesson01.q1",
    prompt="A 3×3 depthwise separable layer with M = N = 512 on a 14×14 map costs what fraction of "
    "the standard 3×3 convolution's Mult-Adds?",
    checker=numeric(
        lambda: _separable_over_standard(512, 3, 14),
        mistakes=[
            (lambda: 1 / 9, "1/D_K² is the depthwise part alone: add the pointwise part, 1/N"),
            (lambda: 1 / 512, "1/N is the pointwise part alone: add the depthwise part, 1/D_K²"),
        ],
    ),
    hints=["Divide eq. 5 by eq. 2.", "The ratio is 1/N + 1/D_K²."],
    solution_code="from lightnets.cost import (depthwise_conv_macs, pointwise_conv_macs,\n"
    "                            standard_conv_macs)\n"
    "answer = ((depthwise_conv_macs(512, 3, 14) + pointwise_conv_macs(512, 512, 14))\n"
    "          / standard_conv_macs(512, 512, 3, 14))",
)

q2 = Question(
    name="lesson01.q2",
    prompt="The fully connected layer holds 0.18% of MobileNetV1's Mult-Adds at 224 px. What share "
           "(in percent) does it hold at 160 px?",
    checker=numeric(lambda: _fc_share_percent(160), rel_tol=1e-3, percent=True, mistakes=[
        (lambda: _fc_share_percent(224),
         "the FC layer's own Mult-Adds do not depend on the resolution, but every convolution's "
         "shrink by ρ², so the FC layer's share grows"),
        (lambda: _fc_share_percent(224) * (160 / 224) ** 2,
         "that shrinks the FC layer by ρ² as well; after the global average pool it always sees "
         "1×1×1024, whatever the input size"),
        (lambda: _fc_share_percent(224) / (160 / 224) ** 2,
         "close, but dividing the 224 px share by ρ² ignores that the FC layer is part of the "
         "total too: divide its Mult-Adds by the 160 px total")]),
    hints=["Sum the `macs` of the rows of type 'linear' in `profile(..., (1, 3, 160, 160))`.",
           "Divide by the total `.macs` and multiply by 100."],
    solution_code="cost = profile(create_model('mobilenet_v1'), (1, 3, 160, 160))\n"
                  "fc = sum(row.macs for row in cost.by_layer if row.type == 'linear')\n"
                  "answer = 100 * fc / cost.macs",
)

q3 = Question(
    name="lesson01.q3",
    prompt="With eq. 6 (width multiplier α), the Mult-Adds of a 3×3 separable layer with "
           "M = N = 256 on a 14×14 map at α = 0.5.",
    checker=numeric(lambda: _eq6(0.5), mistakes=[
        (lambda: _eq6(0.5, pointwise_alpha=False),
         "you counted the pointwise layer without α on its output channels: it is αM·αN"),
        (lambda: _eq6(1.0), "that is α = 1")]),
    hints=["Eq. 6: D_K·D_K·αM·D_F·D_F + αM·αN·D_F·D_F.",
           "depthwise_conv_macs(128, 3, 14) + pointwise_conv_macs(128, 128, 14)"],
    solution_code="from lightnets.cost import depthwise_conv_macs, pointwise_conv_macs\n"
                  "answer = depthwise_conv_macs(128, 3, 14) + pointwise_conv_macs(128, 128, 14)",
)

q4 = Question(
    name="lesson01.q4",
    prompt="Predict, then check: a 5×5 kernel costs 25/9 of a 3×3 one. For which smallest N "
           "(with M = N) does a 5×5 depthwise separable layer still cost fewer Mult-Adds than a "
           "standard 3×3 layer? Write your guess first, then compute it with lightnets.cost.",
    checker=numeric(_smallest_n, mistakes=[
        (lambda: _smallest_n() - 1, "one too few: there the separable layer still costs more; "
                                    "per output pixel 25·M + M·N < 9·M·N needs N > 25/8")]),
    hints=["Per output pixel: separable 25·M + M·N, standard 9·M·N.",
           "25 + N < 9N."],
    solution_code="from lightnets.cost import (depthwise_conv_macs, pointwise_conv_macs,\n"
                  "                            standard_conv_macs)\n"
                  "answer = next(n for n in range(1, 100)\n"
                  "              if depthwise_conv_macs(n, 5, 7) + pointwise_conv_macs(n, n, 7)\n"
                  "              < standard_conv_macs(n, n, 3, 7))",
)

def _excess_share_percent(alpha: float = 0.25, of: str = "thin") -> float:
    # The Mult-Adds MobileNetV1 at width α has above α² × the full model's, as a percentage of
    # the thin model's own Mult-Adds (of="thin"), of the full model's (of="full"), or of α² × the
    # full model's (of="alpha2").
    from lightnets import create_model, profile
    thin = profile(create_model("mobilenet_v1", width_mult=alpha)).macs
    full = profile(create_model("mobilenet_v1")).macs
    excess = thin - alpha ** 2 * full
    return 100 * excess / {"thin": thin, "full": full, "alpha2": alpha ** 2 * full}[of]


def _depthwise_share_percent(alpha: float = 0.25) -> float:
    return 100 * _excess_over_alpha_squared("depthwise", alpha) * 1e6 / _thin_macs(alpha)


def _thin_macs(alpha: float) -> int:
    from lightnets import create_model, profile
    return profile(create_model("mobilenet_v1", width_mult=alpha)).macs


q5 = Question(
    name="lesson01.q5",
    prompt="MobileNetV1 at α = 0.25 costs more than α² × the full model's Mult-Adds. What "
    "percentage of the α = 0.25 model's own Mult-Adds is that excess (all layer types together)?",
    checker=numeric(
        _excess_share_percent,
        rel_tol=1e-3,
        percent=True,
        mistakes=[
            (lambda: _excess_share_percent(of="full"),
             "that divides by the full model's Mult-Adds; the question asks what share of the "
             "thin (α = 0.25) model is excess"),
            (lambda: _excess_share_percent(of="alpha2"),
             "that divides by α² × the full model (what the model would cost if everything "
             "scaled as α²); divide by what the thin model actually costs"),
            (_depthwise_share_percent,
             "that is the depthwise layers' excess alone; the stem and the FC layer are also "
             "linear in α and add to it"),
            (lambda: 0.0,
             "only the pointwise layers scale exactly by α²; the depthwise, stem and FC terms are "
             "linear in α, so there is an excess"),
        ],
    ),
    hints=[
        "profile(create_model('mobilenet_v1', width_mult=0.25)).macs is the thin model's cost.",
        "Excess = thin − 0.25 ** 2 × full; divide by thin and multiply by 100.",
    ],
    solution_code="thin = profile(create_model('mobilenet_v1', width_mult=0.25)).macs\n"
    "full = profile(create_model('mobilenet_v1')).macs\n"
    "answer = 100 * (thin - 0.25 ** 2 * full) / thin",
)
