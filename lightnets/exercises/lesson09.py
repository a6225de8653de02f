"""Exercises for lesson 09, how MnasNet and MobileNetV3 were searched."""
from __future__ import annotations

import math

from lightnets.exercises._question import Question, choice, numeric

# What the notebook's solution cells find already imported (the solutions are its cells' code).
NOTEBOOK_CONTEXT = "from lightnets import search"

EXAMPLE_PROPOSALS = (
    {"block": "a", "delta_accuracy": -0.02, "delta_latency": -4.0},
    {"block": "b", "delta_accuracy": -0.01, "delta_latency": -1.0},
    {"block": "c", "delta_accuracy": -0.03, "delta_latency": -9.0},
)


def _reward(alpha: float, beta: float) -> float:
    from lightnets.search import reward
    return reward(0.75, 90.0, 75.0, alpha, beta)


def _choices_per_block() -> int:
    from lightnets.search import SEARCH_SPACE
    return math.prod(len(values) for values in SEARCH_SPACE.values())


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
    prompt="How many different blocks (layer choice × repeat count) does one of the seven blocks "
           "of `lightnets.search.SEARCH_SPACE` offer?",
    checker=numeric(_choices_per_block, mistakes=[
        (lambda: sum(len(v) for v in
                     __import__("lightnets.search", fromlist=["x"]).SEARCH_SPACE.values()),
         "you added the numbers of options; each choice combines with every other, so multiply")]),
    hints=["`math.prod(len(v) for v in SEARCH_SPACE.values())`"],
    solution_code='answer = math.prod(len(values) for values in search.SEARCH_SPACE.values())',
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
