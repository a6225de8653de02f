"""A search you can run in a notebook cell: aging evolution over a small MnasNet-like space.

MnasNet (Tan et al., CVPR 2019, §5) sampled about 8K models, trained each for 5 epochs on a
proxy task and timed it on a phone, and taught an RNN controller with the reward
``ACC · (LAT / T)^w`` (eq. 2). Here, in seconds on one CPU core, the same loop in miniature:

* the space: three blocks instead of seven, each choosing a conv op, a kernel size, a filter
  multiplier and a layer count relative to a small reference (:data:`TINY_SPACE`,
  :data:`TINY_REFERENCE`), built with :class:`lightnets.search.SearchedNetwork`;
* the accuracy proxy: each candidate is trained from scratch for ``steps`` steps of AdamW on
  scikit-learn's 8×8 handwritten digits (enlarged to 16×16, see :func:`digits`) and its accuracy
  measured on held-out digits it never saw;
* the cost: multiply-adds counted by :func:`lightnets.profile` (as EfficientNet-B0's search put
  FLOPs in place of latency), scored with :func:`lightnets.search.reward`;
* the search algorithm: aging ("regularized") evolution (Real et al., AAAI 2019, Algorithm 1),
  not MnasNet's reinforcement-learning controller: ``population`` random networks, then each new
  candidate is a one-choice mutation of the best of ``sample_size`` members drawn from the
  population, and the oldest member leaves. Evolution needs no controller to train, which suits
  a budget of a dozen models.

A few dozen training steps rank networks only roughly (a short proxy favours what learns fast,
not what ends best), and the accuracies depend on the CPU's float rounding: the lesson prints
them as this machine measured them and claims only what holds on any machine.
"""
from __future__ import annotations

import functools
import random
from typing import NamedTuple, Sequence

import torch
from torch import nn

from lightnets._checks import check_float, check_int
from lightnets.layers import make_divisible
from lightnets.search import BlockChoice, Reference, SearchedNetwork, reward

# Per block, as MnasNet §4.1 but smaller: no SE, identity skip, MBConv with expansion 3 or 6.
TINY_SPACE = {
    "conv_op": ("dconv", "mbconv3", "mbconv6"),
    "kernel_size": (3, 5),
    "filter_mult": (0.5, 1.0, 1.5),
    "layers_delta": (-1, 0, 1),
}
# The reference the choices are relative to (MobileNetV2's role in MnasNet): three blocks.
TINY_REFERENCE = (Reference(8, 1, 1), Reference(16, 2, 2), Reference(24, 2, 1))
STEM_CHANNELS, HEAD_CHANNELS, RESOLUTION = 8, 64, 16
BATCH_SIZE, LEARNING_RATE, RECALIBRATION_IMAGES = 32, 0.01, 512


class Candidate(NamedTuple):
    """One network the search trained: its choices, what it costs, how it scored."""

    index: int  # the order it was trained in
    parent: int | None  # the candidate it mutated, None for the random start
    genotype: tuple  # per block, one value per TINY_SPACE key, in the key order
    blocks: tuple  # the BlockChoice rows it builds from
    macs: int
    params: int
    accuracy: float  # on the held-out digits, after its short training
    reward: float


def block_of(genes: Sequence, reference: Reference) -> BlockChoice:
    """The :class:`~lightnets.search.BlockChoice` one block's genes (one value per
    :data:`TINY_SPACE` key, in its order) build, relative to its ``reference`` block."""
    pick = dict(zip(TINY_SPACE, genes))
    if len(pick) != len(TINY_SPACE) or len(genes) != len(TINY_SPACE):
        raise ValueError(f"a block's genes must hold {len(TINY_SPACE)} values, one per "
                         f"TINY_SPACE key {tuple(TINY_SPACE)}, got {genes!r}")
    for key, value in pick.items():
        if value not in TINY_SPACE[key]:
            raise ValueError(f"{key} must be one of {TINY_SPACE[key]}, got {value!r}")
    # A reference block of one layer cannot lose one: −1 and 0 build the same single layer.
    return BlockChoice(pick["conv_op"], pick["kernel_size"], 0.0, "identity",
                       make_divisible(reference.out_channels * pick["filter_mult"], 4),
                       max(1, reference.layers + pick["layers_delta"]), reference.stride)


def blocks_of(genotype: Sequence[Sequence]) -> tuple:
    """The :class:`~lightnets.search.BlockChoice` rows of a genotype (one gene tuple per block)."""
    if len(genotype) != len(TINY_REFERENCE):
        raise ValueError(f"genotype must have {len(TINY_REFERENCE)} blocks, got {len(genotype)}")
    return tuple(block_of(genes, reference) for genes, reference in zip(genotype, TINY_REFERENCE))


def build(genotype: Sequence[tuple], num_classes: int = 10) -> SearchedNetwork:
    return SearchedNetwork(blocks_of(genotype), num_classes, STEM_CHANNELS, HEAD_CHANNELS)


def random_genotype(rng: random.Random) -> tuple:
    return tuple(tuple(rng.choice(values) for values in TINY_SPACE.values())
                 for _ in TINY_REFERENCE)


def mutate(genotype: tuple, rng: random.Random) -> tuple:
    """Change one choice of one block to another value (Real et al.'s mutation, in our space)."""
    block, key = rng.randrange(len(genotype)), rng.randrange(len(TINY_SPACE))
    options = [v for v in list(TINY_SPACE.values())[key] if v != genotype[block][key]]
    genes = list(genotype[block])
    genes[key] = rng.choice(options)
    return genotype[:block] + (tuple(genes),) + genotype[block + 1:]


@functools.lru_cache(maxsize=1)
def digits() -> tuple:
    """scikit-learn's digits as ``(train_x, train_y, test_x, test_y)``: a fixed 3:1 split, each
    8×8 digit enlarged to 16×16 (so the stride-2 stem leaves 8×8) on three equal channels,
    standardised with the training set's mean and spread."""
    from lightnets.data import load_sklearn_digits

    images, labels = load_sklearn_digits()
    x = torch.from_numpy(images)[:, None]
    x = nn.functional.interpolate(x, size=(RESOLUTION, RESOLUTION), mode="bilinear",
                                  align_corners=False).expand(-1, 3, -1, -1)
    y = torch.from_numpy(labels)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    cut = 3 * len(y) // 4
    train, test = order[:cut], order[cut:]
    mean, std = x[train].mean(), x[train].std()
    x = (x - mean) / std
    return x[train].contiguous(), y[train], x[test].contiguous(), y[test]


def proxy_accuracy(model: nn.Module, steps: int, seed: int) -> float:
    """Train ``model`` from scratch for ``steps`` AdamW steps on the training digits (batches
    drawn with ``seed``); its accuracy on the held-out digits."""
    from lightnets.train import train_one_epoch

    train_x, train_y, test_x, test_y = digits()
    generator = torch.Generator().manual_seed(seed)
    picks = [torch.randint(len(train_y), (BATCH_SIZE,), generator=generator)
             for _ in range(steps)]
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    train_one_epoch(model, optimizer, [(train_x[i], train_y[i]) for i in picks])
    with torch.no_grad():
        # After a few dozen steps BatchNorm's running averages still lag the weights; measure
        # them afresh on the training digits (as one-shot searches recalibrate BatchNorm).
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.reset_running_stats()
                module.momentum = None  # a plain mean over the pass
        model(train_x[:RECALIBRATION_IMAGES])
        model.eval()
        return (model(test_x).argmax(1) == test_y).float().mean().item()


def evolve(budget: int = 8, target_macs: float = 0.3e6, w: float = -0.07, seed: int = 0,
           population: int = 4, sample_size: int = 2, steps: int = 30) -> list:
    """Aging evolution over :data:`TINY_SPACE`: ``budget`` candidates trained and scored with
    MnasNet's soft reward (α = β = ``w``) against ``target_macs`` multiply-adds. Returns the
    :class:`Candidate` list in training order; a network met twice is trained once (two genotypes
    that build the same layers are one network)."""
    check_int("budget", budget, low=1, high=200)
    check_float("target_macs", target_macs, 0.0, None, low_inclusive=False)
    check_float("w", w, -2.0, 0.0)
    check_int("seed", seed, low=0)
    check_int("population", population, low=1, high=budget)
    check_int("sample_size", sample_size, low=1, high=population)
    check_int("steps", steps, low=1, high=10_000)
    from lightnets import profile

    rng = random.Random(seed)
    trained: dict = {}  # the network's BlockChoice rows -> its Candidate
    history: list = []
    alive: list = []  # the population, oldest first
    with _one_thread():
        for _ in range(100 * budget):  # a bound, in case mutations keep finding known networks
            if len(history) == budget:
                break
            if len(history) < population:
                genotype, parent = random_genotype(rng), None
            else:
                contenders = rng.sample(alive, sample_size)
                best = max(contenders, key=lambda c: c.reward)
                genotype, parent = mutate(best.genotype, rng), best.index
            blocks = blocks_of(genotype)
            if blocks in trained:  # already measured: reuse it, but it still ages in
                alive = (alive + [trained[blocks]])[-population:]
                continue
            torch.manual_seed(seed * 1000 + len(history))
            model = build(genotype)
            cost = profile(model, (1, 3, RESOLUTION, RESOLUTION))
            accuracy = proxy_accuracy(model, steps, seed * 1000 + len(history))
            candidate = Candidate(len(history), parent, genotype, blocks, cost.macs, cost.params,
                                  accuracy, reward(accuracy, cost.macs, target_macs, w, w))
            trained[blocks] = candidate
            history.append(candidate)
            alive = (alive + [candidate])[-population:]
    return history


def pareto_front(candidates: Sequence[Candidate]) -> list:
    """The candidates no other one beats on both counts (as accurate or more with fewer MACs, or
    more accurate with as few), fewest MACs first."""
    front = [c for c in candidates if not any(
        (o.accuracy >= c.accuracy and o.macs < c.macs)
        or (o.accuracy > c.accuracy and o.macs <= c.macs) for o in candidates)]
    return sorted(front, key=lambda c: (c.macs, -c.accuracy))


class _one_thread:
    """One intra-op thread while the search trains, restored after: the lesson's timings and
    the ≤ 15 s budget are for one core."""

    def __enter__(self):
        self.threads = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc):
        torch.set_num_threads(self.threads)
