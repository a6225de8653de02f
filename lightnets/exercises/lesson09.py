"""Exercises for lesson 09, how MnasNet and MobileNetV3 were searched."""
from __future__ import annotations

import math

from lightnets.exercises._question import Question, choice, numeric

# What the notebook's solution cells find already imported (the solutions are its cells' code).
NOTEBOOK_CONTEXT = "from lightnets import search, tiny_search"

EXAMPLE_PROPOSALS = (
    {"block": "a", "delta_accuracy": -0.02, "delta_latency": -4.0},
    {"block": "b", "delta_accuracy": -0.01, "delta_latency": -1.0},
    {"block": "c", "delta_accuracy": -0.03, "delta_latency": -9.0},
)


def _reward(alpha: float, beta: float) -> float:
    from lightnets.search import reward
    return reward(0.75, 90.0, 75.0, alpha, beta)


def _distinct_networks() -> int:
    # Build every block's row for every choice and count the different ones, block by block.
    import itertools

    from lightnets.tiny_search import TINY_REFERENCE, TINY_SPACE, block_of
    genes = list(itertools.product(*TINY_SPACE.values()))
    return math.prod(len({block_of(g, reference) for g in genes}) for reference in TINY_REFERENCE)


def _genotypes() -> int:
    from lightnets.tiny_search import TINY_REFERENCE, TINY_SPACE
    return math.prod(len(values) for values in TINY_SPACE.values()) ** len(TINY_REFERENCE)


def _a1_macs_millions(resolution: int) -> float:
    from lightnets import profile
    from lightnets.search import MNASNET_A1, build_network
    return profile(build_network(MNASNET_A1), (1, 3, resolution, resolution)).macs / 1e6


def _best_block() -> str:
    from lightnets.search import best_ratio
    return best_ratio(list(EXAMPLE_PROPOSALS))["block"]


q1 = Question(
    name="lesson09.q1",
    prompt="MnasNet's soft reward (w = −0.07) of a model with 75% accuracy at 90 ms when the "
           "target is 75 ms.",
    checker=numeric(lambda: _reward(-0.07, -0.07), rel_tol=1e-6, mistakes=[
        (lambda: _reward(0.0, -1.0), "that is the hard constraint (β = −1); the soft one uses "
                                     "w = −0.07 on both sides of the target"),
        (lambda: 0.75 * (90 / 75) ** 0.07, "the exponent is negative: a slower model is penalised"),
        (lambda: 0.75, "90 ms misses the 75 ms target, so the reward is below the accuracy")]),
    hints=["ACC · (LAT / T)^w", "0.75 · (90 / 75) ** -0.07"],
    solution_code="from lightnets.search import reward\n"
                  "answer = reward(0.75, 90.0, 75.0)",
)

q2 = Question(
    name="lesson09.q2",
    prompt="Under w = −0.07, by what factor must a model's accuracy grow when its latency doubles, "
           "for the reward to stay the same?",
    checker=numeric(lambda: 2 ** 0.07, rel_tol=1e-6, mistakes=[
        (lambda: 2 ** 0.15, "that is MobileNetV3-Small's w = −0.15"),
        (lambda: 2 ** -0.07, "the other way round: the slower model must be *more* accurate")]),
    hints=["Solve ACC₁ · (2L/T)^w = ACC₀ · (L/T)^w for ACC₁ / ACC₀."],
    solution_code='answer = search.equal_reward_accuracy(1.0, 2.0, -0.07)',
)

q3 = Question(
    name="lesson09.q3",
    prompt="How many *different* networks can `lightnets.tiny_search` build: three blocks "
           "(`TINY_REFERENCE`), each choosing one value per key of `TINY_SPACE`? Two genotypes "
           "that build exactly the same layers count once.",
    checker=numeric(_distinct_networks, mistakes=[
        (_genotypes, "that counts genotypes: look at `block_of` for the first reference block, "
                     "which has one layer: what do layers_delta −1 and 0 build there?"),
        (lambda: 54 * 3, "you added the blocks' counts; every block combines with every other, "
                         "so multiply"),
        (lambda: (18 * 2) ** 3, "only the first reference block has a single layer; the others "
                                "have two, and keep all three layer counts")]),
    hints=["Per block: (conv ops) × (kernels) × (filter sizes) × (different layer counts).",
           "The first reference block has 1 layer: max(1, 1 − 1) = max(1, 1 + 0) = 1."],
    solution_code=(
        "space = tiny_search.TINY_SPACE\n"
        "layer_choices = math.prod(len(space[k]) for k in ('conv_op', 'kernel_size', "
        "'filter_mult'))\n"
        "answer = math.prod(layer_choices * len({max(1, ref.layers + d) "
        "for d in space['layers_delta']})\n"
        "                   for ref in tiny_search.TINY_REFERENCE)"
    ),
)

q4 = Question(
    name="lesson09.q4",
    prompt="Of `exercises.lesson09.EXAMPLE_PROPOSALS`, which block does MobileNetV3's NetAdapt "
           "keep?",
    checker=choice(_best_block, {
        "b": "b loses the least accuracy, but saves little latency: MobileNetV3 §4.2 maximises "
             "ΔAccuracy / |ΔLatency|",
        "a": "compute ΔAccuracy / |ΔLatency| for each: −0.005, −0.01, −0.0033"}),
    hints=["Compute delta_accuracy / abs(delta_latency) for each proposal; keep the largest."],
    solution_code=(
        'proposals = exercises.lesson09.EXAMPLE_PROPOSALS\n'
        "answer = max(proposals, key=lambda p: p['delta_accuracy']"
        " / abs(p['delta_latency']))['block']"
    ),
)

q5 = Question(
    name="lesson09.q5",
    prompt="Predict, then check: section 2 counted the multiply-adds of MnasNet-A1 at 224 px. "
           "Predict its count at 192 px from how a convolution's cost grows with the image, "
           "write your guess down, then count it with `profile` (in millions).",
    checker=numeric(lambda: _a1_macs_millions(192), rel_tol=0.01, mistakes=[
        (lambda: _a1_macs_millions(224) * 192 / 224,
         "a convolution's cost grows with the *area* of its output, (192/224)², not the side"),
        (lambda: _a1_macs_millions(224), "that is the count at 224 px")]),
    hints=["Every convolution's multiply-adds are proportional to its output's height × width.",
           "`profile(search.build_network(search.MNASNET_A1), (1, 3, 192, 192)).macs / 1e6`"],
    solution_code=("a1_192 = profile(search.build_network(search.MNASNET_A1), (1, 3, 192, 192))\n"
                   "answer = a1_192.macs / 1e6"),
)
