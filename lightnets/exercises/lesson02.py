"""Exercises for lesson 02, inverted residuals and linear bottlenecks (MobileNetV2)."""
from __future__ import annotations

from lightnets.exercises._question import Question, choice, numeric

# What the notebook's solution cells find already imported (the solutions are its cells' code).
NOTEBOOK_CONTEXT = (
    "from lightnets import manifold\n"
    "from lightnets.memory import inference_steps, peak_memory"
)


def _block_macs(expansion: int = 6, with_expansion_factor: bool = True) -> int:
    # MobileNetV2 §3.3: a block of input d′ = 24, output d″ = 24, expansion t, 3×3 depthwise on a
    # 56×56 map costs h·w·d′·t·(d′ + k² + d″); counted here from our InvertedResidual itself.
    from lightnets import profile
    from lightnets.layers import InvertedResidual
    t = expansion if with_expansion_factor else 1
    block = InvertedResidual(24, 24, 24 * t, kernel_size=3)
    return profile(block, (1, 24, 56, 56)).macs


def _streamed_peak_kb(width_mult: float) -> float:
    from lightnets import create_model
    from lightnets.memory import inference_steps, peak_memory
    steps = inference_steps(create_model("mobilenet_v2", width_mult=width_mult))
    return peak_memory(steps) / 1000


q1 = Question(
    name="lesson02.q1",
    prompt="Mult-Adds of one MobileNetV2 block with d′ = d″ = 24, expansion t = 6, a 3×3 depthwise "
           "and stride 1 on a 56×56 map (§3.3's h·w·d′·t·(d′ + k² + d″)).",
    checker=numeric(_block_macs, mistakes=[
        (lambda: _block_macs(with_expansion_factor=False),
         "you left out the expansion factor t: the depthwise and both 1×1 layers work on t·d′ "
         "channels")]),
    hints=["Expansion 1×1: h·w·d′·t·d′; depthwise: h·w·t·d′·k²; projection: h·w·t·d′·d″.",
           "56·56·24·6·(24 + 9 + 24)"],
    solution_code="answer = 56 * 56 * 24 * 6 * (24 + 3 * 3 + 24)",
)

q2 = Question(
    name="lesson02.q2",
    prompt="An inverted residual's channel widths, input → inside → output: 'narrow-wide-narrow' "
    "or 'wide-narrow-wide'?",
    checker=choice(
        lambda: "narrow-wide-narrow",
        {
            "wide-narrow-wide": "that is ResNet's classic bottleneck (compress, then expand); "
            "MobileNetV2 inverts it: the shortcut joins the thin bottlenecks"
        },
    ),
    hints=[
        "Where does MobileNetV2 put the shortcut: between the expanded layers or the bottlenecks?"
    ],
    solution_code='answer = "narrow-wide-narrow"',
)

q3 = Question(
    name="lesson02.q3",
    prompt="Streamed peak activation memory (§5.1, 16-bit values) of MobileNetV2 at "
    "width_mult=0.5, in KB (1 KB = 1000 bytes).",
    checker=numeric(
        lambda: _streamed_peak_kb(0.5),
        rel_tol=1e-6,
        mistakes=[
            (
                lambda: _streamed_peak_kb(1.0) / 2,
                "you halved the α = 1 peak; check with `inference_steps` — channel counts are "
                "rounded to multiples of 8, so the peak tensor need not halve exactly",
            ),
            (
                lambda: _streamed_peak_kb(1.0) / 4,
                "activation memory is linear in channels (α), not in α²",
            ),
        ],
    ),
    hints=[
        "`peak_memory(inference_steps(create_model('mobilenet_v2', width_mult=0.5)))`",
        "It returns bytes; divide by 1000.",
    ],
    solution_code=(
        'steps = inference_steps(lightnets.create_model("mobilenet_v2", width_mult=0.5))\n'
        'answer = peak_memory(steps) / 1000'
    ),
)


def _lost(n: int = 30, seed: int = 3) -> float:
    from lightnets import manifold
    return manifold.lost_fraction(manifold.spiral(), manifold.random_embedding(n, seed))


def _warped(n: int = 30, seed: int = 3) -> float:
    from lightnets import manifold
    points = manifold.spiral()
    T = manifold.random_embedding(n, seed)
    return manifold.shape_error(points, manifold.relu_roundtrip(points, T))


q4 = Question(
    name="lesson02.q4",
    prompt="Predict, then check: lift the spiral into n = 30 dimensions with "
           "manifold.random_embedding(30, seed=3) and apply a ReLU. What share of the spiral's "
           "points is lost (no decoder could recover them)? A number between 0 and 1.",
    checker=numeric(_lost, mistakes=[
        (_warped, "that is the shape error, how much T⁺ warps the spiral; a warped point is "
                  "still recoverable. Count the points whose positive rows of T do not span "
                  "the plane (manifold.lost_fraction)")]),
    hints=["Lost means: the rows of T that stay positive at x do not span the plane.",
           "manifold.lost_fraction(manifold.spiral(), manifold.random_embedding(30, seed=3))"],
    solution_code=(
        'T = manifold.random_embedding(30, seed=3)\n'
        'answer = manifold.lost_fraction(manifold.spiral(), T)'
    ),
)


q5 = Question(
    name="lesson02.q5",
    prompt="In §6 the ReLU's uint8 error is largest on the batch whose largest ReLU output is the "
           "largest, although its 99.9th percentile is about the same as the other batches'. Which "
           "explanation fits? Answer with one of: 'one rare large value', 'larger values overall', "
           "'clipping at 6', 'chance'.",
    checker=choice(
        lambda: "one rare large value",
        {
            "larger values overall": "the 99.9th percentiles of the four batches hardly differ: "
            "almost every value is alike; only the single largest one differs, and min-max "
            "calibration sets the uint8 step from it (step = largest / 255)",
            "clipping at 6": "clipping at 6 is ReLU6's, and its error barely moves between "
            "batches; the ReLU has no clip, its range runs up to its largest output",
            "chance": "rounding errors of ten thousand values average out; the error follows the "
            "step, step = largest / 255, which one rare value sets",
        },
    ),
    hints=["Compare the uint8 step of each batch with its largest ReLU output.",
           "Min-max calibration: step = largest / 255. How many values set the largest?"],
    solution_code='answer = "one rare large value"',
)
