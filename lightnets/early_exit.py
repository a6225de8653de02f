"""Early exits: a DenseNet-BC with a classifier after every dense block, and the rule that lets an
image leave at the first classifier that is confident enough.

The idea is MSDNet's (Huang, Chen, Li, Wu, van der Maaten, Weinberger 2018, "Multi-Scale Dense
Networks for Resource Efficient Image Classification", ICLR, arXiv:1703.09844): easy images need
less computation than hard ones, so attach classifiers at several depths and, at test time, stop
at the first one whose softmax confidence reaches a threshold τ (its "budgeted batch
classification" setting). MSDNet adds multi-scale features so that the early classifiers see
coarse-scale maps; here we keep a plain DenseNet-BC with intermediate classifiers, the kind of
network whose shortcomings as an early-exit model MSDNet analyses before proposing its own.

Everything below the model is plain arithmetic on stored confidences (float64 NumPy), so a sweep
over τ gives the same numbers on every machine.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import nn

from lightnets._checks import check_int
from lightnets.models.densenet import COMPRESSION, DenseNet


def _head(channels: int, num_classes: int) -> nn.Sequential:
    # The same head as the network's own: BN → ReLU → global average pool → linear (§3).
    return nn.Sequential(
        nn.BatchNorm2d(channels),
        nn.ReLU(inplace=True),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(1),
        nn.Linear(channels, num_classes),
    )


class MultiExitDenseNet(nn.Module):
    """DenseNet-BC for 32×32 images (CIFAR stem) with an exit after each of its dense blocks.

    ``trunk`` is an ordinary :class:`~lightnets.models.densenet.DenseNet`; its own head is the
    last exit. ``forward`` returns one logits tensor per exit, first to last. With
    ``early_exits=False`` it is the plain one-exit network (same layers, same initialisation).
    """

    def __init__(
        self,
        block_layers: Sequence[int],
        growth_rate: int,
        num_classes: int = 5,
        compression: float = COMPRESSION,
        early_exits: bool = True,
    ) -> None:
        super().__init__()
        self.trunk = DenseNet(
            tuple(block_layers), growth_rate, num_classes, compression, imagenet_stem=False
        )
        self.min_resolution = self.trunk.min_resolution
        self.early_exits = bool(early_exits)
        self.exits = nn.ModuleList(
            _head(getattr(self.trunk.features, f"denseblock{i}").out_channels, num_classes)
            for i in range(1, len(self.trunk.block_layers) if early_exits else 1)
        )

    @property
    def num_exits(self) -> int:
        return len(self.exits) + 1

    def stages(self) -> list:
        """The trunk cut after each dense block that has an exit: stage i ends with that block."""
        cuts, current = [], []
        for name, module in self.trunk.features.named_children():
            current.append(module)
            if name.startswith("denseblock") and self.early_exits:
                cuts.append(current)
                current = []
        if not cuts:
            cuts.append([])
        cuts[-1] += current  # norm5 closes the last stage
        return [nn.Sequential(*modules) for modules in cuts]

    def forward(self, x: torch.Tensor, up_to: int = None) -> list:
        """Logits of exits 1 … ``up_to`` (all by default): the work an image does to reach them."""
        up_to = self.num_exits if up_to is None else check_int("up_to", up_to, 1, self.num_exits)
        outputs = []
        for i, stage in enumerate(self.stages()[:up_to]):
            x = stage(x)
            head = self.exits[i] if i < self.num_exits - 1 else self.trunk.forward_head
            outputs.append(head(x))
        return outputs


class _UpTo(nn.Module):
    """The path to one exit, as a module that :func:`lightnets.profile` can count."""

    def __init__(self, model: MultiExitDenseNet, exit_number: int) -> None:
        super().__init__()
        self.model, self.exit_number = model, exit_number
        self.min_resolution = model.min_resolution

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x, up_to=self.exit_number)[-1]


def exit_macs(model: MultiExitDenseNet, resolution: int = 32) -> list:
    """MACs an image costs if it leaves at exit 1, 2, …: the trunk up to that exit plus every
    classifier it has evaluated on the way (an image that goes on has paid for the earlier ones)."""
    from lightnets.cost import profile

    return [
        profile(_UpTo(model, i), (1, 3, resolution, resolution)).macs
        for i in range(1, model.num_exits + 1)
    ]


def confidences(logits: Sequence[torch.Tensor]) -> tuple:
    """(max softmax probability, predicted class) per exit and image: arrays of shape (exits, N).

    The softmax is taken in float64 so that a stored confidence is the same on every machine to
    the precision we keep (six decimals)."""
    probs = [torch.softmax(z.double(), dim=1) for z in logits]
    conf = np.stack([p.max(1).values.numpy() for p in probs])
    pred = np.stack([p.argmax(1).numpy() for p in probs])
    return np.round(conf, 6), pred


def exit_points(conf: np.ndarray, tau: float) -> np.ndarray:
    """The exit each image leaves at: the first whose confidence is ≥ τ, else the last (0-based)."""
    conf = np.asarray(conf, dtype=np.float64)
    confident = conf[:-1] >= tau
    first = np.argmax(confident, axis=0)
    return np.where(confident.any(axis=0), first, conf.shape[0] - 1)


def sweep(conf, pred, labels, macs: Sequence[int], taus: Sequence[float]) -> list:
    """For each τ: accuracy, average MACs per image and the share of images at each exit."""
    conf, pred, labels = np.asarray(conf), np.asarray(pred), np.asarray(labels)
    macs = np.asarray(macs, dtype=np.float64)
    rows = []
    for tau in taus:
        where = exit_points(conf, tau)
        chosen = pred[where, np.arange(len(labels))]
        rows.append(
            {
                "tau": float(tau),
                "accuracy": float(np.mean(chosen == labels)),
                "mean_macs": float(macs[where].mean()),
                "share": [float(np.mean(where == i)) for i in range(len(macs))],
            }
        )
    return rows


# Exit thresholds for a sweep: with C classes the max softmax is ≥ 1/C, so τ ≤ 1/C sends every
# image out at exit 1 and τ > 1 sends every image to the last exit.
DEFAULT_TAUS = tuple(round(0.2 + 0.025 * i, 3) for i in range(33)) + (1.01,)
