"""Exercises of lesson 07 (DenseNet and early exits). Every answer is computed from lightnets."""

from __future__ import annotations

from lightnets.exercises._question import Question, numeric


def _channels_in(k0: int = 24, k: int = 12, layer: int = 7) -> int:
    from lightnets.cost.densenet import channels_into_layer

    return channels_into_layer(k0, k, layer)


q1 = Question(
    name="lesson07.q1",
    prompt=(
        "A dense block starts with k₀ = 24 channels and has growth rate k = 12. How many "
        "channels enter its 7th layer? Answer with a number (eq. 2)."
    ),
    checker=numeric(
        _channels_in,
        mistakes=[
            (
                lambda: 24 + 12 * 7,
                (
                    "that counts the 7th layer's own output too: layer ℓ sees only the "
                    "ℓ − 1 layers before it, k₀ + k·(ℓ − 1)"
                ),
            ),
            (lambda: 12 * 6, "the block's input x₀ is concatenated as well: add k₀"),
            (
                lambda: 4 * 12,
                "that is the bottleneck width 4k, what the 1×1 conv outputs, not its input",
            ),
        ],
    ),
    hints=[
        "Eq. 2: layer ℓ receives [x₀, x₁, …, x_{ℓ−1}].",
        "x₀ has k₀ channels, each of x₁ … x_{ℓ−1} has k.",
    ],
    solution_code="answer = 24 + 12 * (7 - 1)",
)


def _compression_ratio() -> float:
    from lightnets.cost.densenet import densenet_bc_cost

    return densenet_bc_cost(100, 12, 0.5).macs / densenet_bc_cost(100, 12, 1.0).macs


q2 = Question(
    name="lesson07.q2",
    prompt=(
        "DenseNet-BC (L = 100, k = 12) on 32×32: what fraction of the MACs of the same network "
        "without compression (θ = 1) does it cost? Compute both with the closed form "
        "densenet_bc_cost(100, 12, compression) (§3 showed it equals lightnets.profile) and "
        "answer the ratio bc / plain."
    ),
    checker=numeric(
        _compression_ratio,
        rel_tol=1e-3,
        mistakes=[
            (
                lambda: 0.5,
                (
                    "θ halves only the channels a transition passes on; the dense layers' own "
                    "k new maps and the first block do not change, so the saving is far smaller"
                ),
            ),
            (lambda: 1 / _compression_ratio(), "that is plain / bc; the question asks bc / plain"),
        ],
    ),
    hints=[
        "densenet_bc_cost(100, 12, theta).macs for theta = 1.0 and 0.5.",
        "Block 1 runs before any transition, so compression cannot change its cost.",
    ],
    solution_code=(
        "plain, bc = densenet_bc_cost(100, 12, 1.0), densenet_bc_cost(100, 12, 0.5)\n"
        "answer = bc.macs / plain.macs"
    ),
)


def _bottleneck_break_even(k: int = 12) -> int:
    from lightnets.cost.densenet import dense_layer_cost

    c = 1
    while dense_layer_cost(c, k, 1)[1] >= dense_layer_cost(c, k, 1, bottleneck=False)[1]:
        c += 1
    return c


q3 = Question(
    name="lesson07.q3",
    prompt=(
        "ImageNet's DenseNet-121 grows by k = 32. A basic dense layer is one 3×3 conv (c → k); "
        "DenseNet-B's is a 1×1 conv (c → 4k) then a 3×3 conv (4k → k). What is the smallest "
        "input width c (an integer) for which the bottleneck layer needs fewer MACs?"
    ),
    checker=numeric(
        lambda: _bottleneck_break_even(32),
        mistakes=[
            (
                lambda: _bottleneck_break_even(32) - 1,
                "at that c the bottleneck still costs more: 9·c·k > 4k·c + 36k² needs "
                "c > 7.2k = 230.4",
            ),
            (
                lambda: _bottleneck_break_even(12),
                "that is the break-even for CIFAR's k = 12 (c > 7.2 · 12); here k = 32",
            ),
            (lambda: 4 * 32, "4k = 128 is the bottleneck's width, not where it starts to pay"),
            (
                lambda: 9 * 32,
                "9k is the 3×3 conv's MACs per input channel; solve 9ck > 4kc + 36k² for c",
            ),
        ],
    ),
    hints=[
        "Per output pixel: 3×3 alone costs 9·c·k; bottleneck costs c·4k + 9·4k·k.",
        "9ck > 4ck + 36k² ⇔ c > 36k/5; or try c = 1, 2, … with dense_layer_cost(c, 32, 1).",
    ],
    solution_code=(
        "answer = next(c for c in range(1, 1000)\n"
        "              if dense_layer_cost(c, 32, 1)[1]\n"
        "              < dense_layer_cost(c, 32, 1, bottleneck=False)[1])"
    ),
)


# What the notebook has defined when its solution cells run (tests run the solutions in it too).
NOTEBOOK_CONTEXT = (
    "from lightnets.cost.densenet import dense_layer_cost, densenet_bc_cost\n"
    "from lightnets.experiments import early_exit as experiment\n"
    "results = experiment.load_results()\n"
    "runs = {(r['seed'], r['name']): r for r in results['runs']}"
)


def _exit1_share(tau: float = 0.5, seed: int = 0) -> float:
    from lightnets import early_exit
    from lightnets.experiments import early_exit as experiment

    results = experiment.load_results()
    row = next(r for r in results["runs"] if r["seed"] == seed and r["name"] == "multi")
    return float((early_exit.exit_points(row["confidence"], tau) == 0).mean())


def _early_share(tau: float = 0.5, seed: int = 0) -> float:
    from lightnets import early_exit
    from lightnets.experiments import early_exit as experiment

    results = experiment.load_results()
    row = next(r for r in results["runs"] if r["seed"] == seed and r["name"] == "multi")
    return float((early_exit.exit_points(row["confidence"], tau) < 2).mean())


q4 = Question(
    name="lesson07.q4",
    prompt=(
        "Predict, then check: in the saved early-exit experiment (seed 0, the multi-exit "
        "network), 2 % of the test images leave at the first exit when τ = 0.9. Write down "
        "what share you expect to leave there when τ = 0.5, then compute it from "
        "runs[(0, 'multi')]['confidence'] (an image leaves at the first exit whose max softmax "
        "probability is ≥ τ) and answer with the fraction."
    ),
    checker=numeric(
        _exit1_share,
        rel_tol=1e-9,
        mistakes=[
            (lambda: _exit1_share(0.9), "that is the share at τ = 0.9; lower τ to 0.5"),
            (lambda: 1 - _exit1_share(), "that is the share that goes on past exit 1"),
            (_early_share, "that counts exit 2 as well; the question asks for exit 1 only"),
        ],
    ),
    hints=[
        "row['confidence'][0] holds exit 1's confidence for every test image.",
        "early_exit.exit_points(row['confidence'], 0.5) == 0 marks the images that leave there.",
    ],
    solution_code=(
        "row = runs[(0, 'multi')]\n"
        "answer = float(np.mean(np.asarray(row['confidence'][0]) >= 0.5))"
    ),
)
