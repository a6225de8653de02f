"""MobileNetV2 Fig. 6, in miniature: does the bottleneck need to be linear, and where should the
shortcut go?

The paper trains MobileNetV2 on ImageNet and finds that a ReLU6 after the projection costs accuracy
(Fig. 6a), and that a shortcut between the narrow bottlenecks beats both a shortcut between the
wide expansions and no shortcut at all (Fig. 6b). The "between expansions" variant is the one that
tests the *inverted* idea: it keeps every layer and every Mult-Add and only moves the shortcut from
the narrow tensors to the wide ones, as a classic residual network would place it.

We cannot train on ImageNet here, so we train a small stack of the same blocks
(:class:`lightnets.layers.InvertedResidual`) on a synthetic grating task generated here, until
the curves flatten, over several seeds, and report what that shows.

Run:  python -m lightnets.experiments.bottleneck_ablation [--out PATH] [--steps N] [--seeds K]
      [--jobs J]
It writes JSON with the accuracy curves, the command, the seeds, the wall-clock time and the
library versions. Each run uses one thread, so the numbers do not depend on --jobs.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Optional

import torch
from torch import nn
from torch.utils.data import TensorDataset

from lightnets._checks import check_choice, check_int
from lightnets._io import atomic_write
from lightnets.experiments import RESULTS_DIRECTORY, versions
from lightnets.layers import ConvBNAct, InvertedResidual
from lightnets.train import evaluate, train_one_epoch
from lightnets.utils import seed_everything

BOTTLENECKS = ("linear", "relu6")
SHORTCUTS = ("bottleneck", "expansion", "none")
VARIANTS = {  # name: (activation after the projection, where the shortcut goes): Fig. 6a and 6b
    "linear bottleneck, shortcut between bottlenecks": ("linear", "bottleneck"),
    "ReLU6 bottleneck, shortcut between bottlenecks": ("relu6", "bottleneck"),
    "linear bottleneck, shortcut between expansions": ("linear", "expansion"),
    "linear bottleneck, no shortcut": ("linear", "none"),
}
BASELINE = "linear bottleneck, shortcut between bottlenecks"
NUM_CLASSES = 8
FINAL_EVALUATIONS = 5  # a run's result: the mean of its last five evaluations, once flat
DEFAULT_PATH = os.path.join(RESULTS_DIRECTORY, "bottleneck_ablation.json")


def gratings(n: int, generator: torch.Generator, size: int = 12, noise: float = 1.0) -> tuple:
    """``n`` noisy 3-channel gratings and their labels: 4 orientations × 2 spatial frequencies.

    The phase and the colour mix are random, and the noise is stronger than the signal, so a
    network must pool evidence over the image to read the class off.
    """
    labels = torch.randint(0, NUM_CLASSES, (n,), generator=generator)
    angle = (labels % 4).float() * math.pi / 4
    frequency = torch.where(labels < 4, 0.6, 1.2)
    phase = torch.rand(n, generator=generator) * 2 * math.pi
    coords = torch.arange(size).float()
    y, x = torch.meshgrid(coords, coords, indexing="ij")
    along = torch.cos(angle)[:, None, None] * x + torch.sin(angle)[:, None, None] * y
    wave = torch.sin(frequency[:, None, None] * along + phase[:, None, None])
    colour = torch.rand(n, 3, generator=generator) * 2 - 1
    noise_field = noise * torch.randn(n, 3, size, size, generator=generator)
    return colour[:, :, None, None] * wave[:, None] + noise_field, labels


class TinyMobileNetV2(nn.Module):
    """A stem, seven inverted residual blocks with ``width``-channel bottlenecks (then
    ``2 * width``) and a last 1×1 expansion before the pool, like MobileNetV2's 1280-channel conv.

    ``bottleneck="relu6"`` adds a ReLU6 after each projection (Fig. 6a's non-linear bottleneck).
    ``shortcut`` places the residual connections of the blocks that keep width and resolution:
    ``"bottleneck"`` adds the narrow input of a block to its narrow output (MobileNetV2);
    ``"expansion"`` adds one block's wide expanded tensor to the next one's, so the sum runs
    between the wide layers (Fig. 6b's "shortcut connecting expansions"); ``"none"`` has no
    shortcut. The layers, weights and Mult-Adds are the same in all three: only the adds move.
    """

    def __init__(self, bottleneck: str = "linear", shortcut: str = "bottleneck", width: int = 8,
                 expansion: int = 6) -> None:
        super().__init__()
        check_choice("bottleneck", bottleneck, BOTTLENECKS)
        check_choice("shortcut", shortcut, SHORTCUTS)
        check_int("width", width, low=1, high=256)
        check_int("expansion", expansion, low=2, high=16)
        self.bottleneck, self.shortcut = bottleneck, shortcut
        plan = [(width, width, 1)] * 4 + [(width, 2 * width, 2)] + [(2 * width, 2 * width, 1)] * 2
        self.stem = ConvBNAct(3, width, 3, activation=nn.ReLU6)
        self.blocks = nn.ModuleList()
        for in_channels, out_channels, stride in plan:
            block = InvertedResidual(
                in_channels, out_channels, in_channels * expansion, stride=stride
            )
            if bottleneck == "relu6":
                block.block[-1].append(
                    nn.ReLU6()
                )  # the projection's ConvBNAct gains the activation
            self.blocks.append(block)
        # The residual blocks: those that keep width and resolution (MobileNetV2's rule).
        self.residual = [block.use_shortcut for block in self.blocks]
        for block in self.blocks:
            block.use_shortcut = False  # the adds happen in forward, where `shortcut` puts them
        self.head = ConvBNAct(2 * width, 2 * width * expansion, 1, activation=nn.ReLU6)
        self.classifier = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                        nn.Linear(2 * width * expansion, NUM_CLASSES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        if self.shortcut == "expansion":
            expansions = [block.block[0] for block in self.blocks[1:]] + [self.head]
            wide = self.blocks[0].block[0](x)  # the first block's expansion
            for block, expand, residual in zip(self.blocks, expansions, self.residual):
                following = expand(block.block[1:](wide))  # depthwise, projection, next expansion
                wide = wide + following if residual else following
            return self.classifier(wide)
        for block, residual in zip(self.blocks, self.residual):
            out = block.block(x)
            x = x + out if residual and self.shortcut == "bottleneck" else out
        return self.classifier(self.head(x))


def train_variant(bottleneck: str, shortcut: str, seed: int, steps: int = 1500, batch: int = 64,
                  eval_every: int = 100, test: Optional[tuple] = None) -> list:
    """Train one variant with Adam on fresh batches; test accuracy every ``eval_every`` steps.

    The steps run through :func:`lightnets.train.train_one_epoch`, ``eval_every`` at a time (the
    steps after the last evaluation would change nothing that is returned, so they are not run).
    """
    torch.set_num_threads(1)  # the same numbers in a worker process as in the parent
    seed_everything(seed)
    model = TinyMobileNetV2(bottleneck, shortcut)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    data = torch.Generator().manual_seed(10_000 + seed)
    test_set = TensorDataset(*(test if test is not None
                               else gratings(1024, torch.Generator().manual_seed(1))))
    curve = []
    for _ in range(steps // eval_every):
        train_one_epoch(model, optimiser, (gratings(batch, data) for _ in range(eval_every)))
        curve.append(evaluate(model, test_set, batch_size=256)["accuracy"])
    return curve


def run(seeds=(0, 1, 2, 3, 4), steps: int = 1500, eval_every: int = 100, test_size: int = 1024,
        jobs: int = 1) -> dict:
    """Every variant of :data:`VARIANTS` for every seed, on one shared test set of ``test_size``
    images; ``jobs`` processes train runs side by side (the results do not depend on it)."""
    check_int("steps", steps, low=1, high=10**6)
    check_int("eval_every", eval_every, low=1, high=steps)
    check_int("test_size", test_size, low=1, high=10**6)
    check_int("jobs", jobs, low=1, high=64)
    test = gratings(test_size, torch.Generator().manual_seed(1))
    tasks = [(name, bottleneck, shortcut, seed) for name, (bottleneck, shortcut) in VARIANTS.items()
             for seed in seeds]
    arguments = [(b, s, seed, steps, 64, eval_every, test) for _, b, s, seed in tasks]
    if jobs == 1:
        finished = [train_variant(*args) for args in arguments]
    else:
        with ProcessPoolExecutor(jobs) as pool:
            finished = list(pool.map(train_variant, *zip(*arguments)))
    curves = {name: [] for name in VARIANTS}
    for (name, *_), curve in zip(tasks, finished):
        curves[name].append(curve)
    return {
        "steps": list(range(eval_every, steps + 1, eval_every)),
        "seeds": list(seeds),
        "final_evaluations": min(FINAL_EVALUATIONS, len(range(eval_every, steps + 1, eval_every))),
        "test_size": test_size,
        "test_accuracy": curves,
    }


def final_accuracies(result: dict) -> dict:
    """variant → one accuracy per seed: the mean of that run's last ``final_evaluations``
    evaluations (the flat end of its curve)."""
    last = result.get("final_evaluations", 1)
    return {name: [sum(curve[-last:]) / last for curve in curves]
            for name, curves in result["test_accuracy"].items()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=DEFAULT_PATH)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args(argv)
    try:  # checked before minutes of training, not after
        check_int("--steps", args.steps, low=100, high=10**5)
        check_int("--seeds", args.seeds, low=1, high=100)
        check_int("--jobs", args.jobs, low=1, high=max(1, os.cpu_count() or 1))
    except ValueError as error:
        parser.error(str(error))
    torch.set_num_threads(1)  # one thread: the same numbers on any machine with this torch version
    start = time.perf_counter()
    result = run(tuple(range(args.seeds)), args.steps, jobs=args.jobs)
    command = " ".join(["python -m lightnets.experiments.bottleneck_ablation",
                        *(argv if argv is not None else sys.argv[1:])])
    result.update(command=command.strip(),
                  versions=versions(),
                  seconds=round(time.perf_counter() - start, 1), jobs=args.jobs)
    atomic_write(args.out, lambda file: json.dump(result, file, indent=1), binary=False)
    print(f"wrote {args.out} in {result['seconds']} s")


if __name__ == "__main__":
    main()
