"""MobileNetV2 Fig. 6, in miniature: does the bottleneck need to be linear, and where should the
shortcut go?

The paper trains MobileNetV2 on ImageNet and finds (Fig. 6a) that a ReLU6 after the projection
costs accuracy, and (Fig. 6b) that a shortcut between the narrow bottlenecks beats no shortcut.
We cannot train on ImageNet here, so we train a small stack of the same blocks
(:class:`lightnets.layers.InvertedResidual`) on a synthetic texture task generated here, a few
seeds per variant, and report what that shows.

Run:  python -m lightnets.experiments.bottleneck_ablation [--out PATH] [--steps N] [--seeds K]
It writes JSON with the accuracy curves, the command, the seeds and the library versions.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from typing import Optional

import torch
from torch import nn

from lightnets._io import atomic_write
from lightnets.layers import ConvBNAct, InvertedResidual
from lightnets._checks import check_choice, check_int
from lightnets.utils import seed_everything

VARIANTS = {  # name: (bottleneck activation, shortcut), the two axes of Fig. 6
    "linear bottleneck, shortcut": ("linear", True),
    "ReLU6 bottleneck, shortcut": ("relu6", True),
    "linear bottleneck, no shortcut": ("linear", False),
}
NUM_CLASSES = 8
DEFAULT_PATH = os.path.join(os.path.dirname(__file__), "results", "bottleneck_ablation.json")


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
    images = colour[:, :, None, None] * wave[:, None] + noise * torch.randn(n, 3, size, size, generator=generator)
    return images, labels


def tiny_mobilenet_v2(bottleneck: str = "linear", shortcut: bool = True, width: int = 8, expansion: int = 6) -> nn.Sequential:
    """A stem and seven inverted residual blocks with ``width``-channel bottlenecks (then ``2 * width``).

    ``bottleneck="relu6"`` adds a ReLU6 after each projection (Fig. 6a's non-linear bottleneck);
    ``shortcut=False`` removes every residual connection (Fig. 6b's "no residual").
    """
    check_choice("bottleneck", bottleneck, ("linear", "relu6"))
    check_int("width", width, low=1)
    plan = [(width, width, 1)] + [(width, width, 1)] * 3 + [(width, 2 * width, 2)] + [(2 * width, 2 * width, 1)] * 2
    layers: list[nn.Module] = [ConvBNAct(3, width, 3, activation=nn.ReLU6)]
    for in_channels, out_channels, stride in plan:
        block = InvertedResidual(in_channels, out_channels, in_channels * expansion, stride=stride)
        if bottleneck == "relu6":
            block.block[-1].append(nn.ReLU6())  # the projection's ConvBNAct gains the activation
        block.use_shortcut = block.use_shortcut and shortcut
        layers.append(block)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * width, NUM_CLASSES)]
    return nn.Sequential(*layers)


def train_variant(bottleneck: str, shortcut: bool, seed: int, steps: int = 300, batch: int = 64,
                  eval_every: int = 50, test: Optional[tuple] = None) -> list:
    """Train one variant with Adam on fresh batches; test accuracy every ``eval_every`` steps."""
    seed_everything(seed)
    model = tiny_mobilenet_v2(bottleneck, shortcut)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    data = torch.Generator().manual_seed(10_000 + seed)
    test_x, test_y = test if test is not None else gratings(1024, torch.Generator().manual_seed(1))
    curve = []
    for step in range(1, steps + 1):
        x, y = gratings(batch, data)
        model.train()
        loss = nn.functional.cross_entropy(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % eval_every == 0:
            model.eval()
            with torch.no_grad():
                predicted = torch.cat([model(chunk).argmax(1) for chunk in test_x.split(256)])
            curve.append(float((predicted == test_y).float().mean()))
    return curve


def run(seeds=(0, 1, 2), steps: int = 300, eval_every: int = 50, test_size: int = 1024) -> dict:
    """Every variant of :data:`VARIANTS` for every seed, on one shared test set of ``test_size`` images."""
    test = gratings(test_size, torch.Generator().manual_seed(1))
    curves = {name: [train_variant(act, sc, s, steps, eval_every=eval_every, test=test) for s in seeds]
              for name, (act, sc) in VARIANTS.items()}
    return {"steps": list(range(eval_every, steps + 1, eval_every)), "seeds": list(seeds), "test_accuracy": curves}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=DEFAULT_PATH)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    try:  # checked before minutes of training, not after
        check_int("--steps", args.steps, low=50, high=10**5)
        check_int("--seeds", args.seeds, low=1, high=100)
    except ValueError as error:
        parser.error(str(error))
    torch.set_num_threads(1)  # one thread: the same numbers on any machine with this torch version
    start = time.perf_counter()
    result = run(tuple(range(args.seeds)), args.steps)
    result.update(command="python -m lightnets.experiments.bottleneck_ablation " + " ".join(argv or sys.argv[1:]),
                  versions={"torch": torch.__version__, "python": platform.python_version()},
                  seconds=round(time.perf_counter() - start, 1))
    atomic_write(args.out, lambda file: json.dump(result, file, indent=1), binary=False)
    print(f"wrote {args.out} in {result['seconds']} s")


if __name__ == "__main__":
    main()
