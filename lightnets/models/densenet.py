"""DenseNet (Huang et al. 2017, "Densely Connected Convolutional Networks", CVPR, arXiv:1608.06993).

Every layer of a dense block receives the feature maps of all the layers before it (eq. 2) and adds
``growth_rate`` (k) maps of its own. The ImageNet models are DenseNet-BC: bottleneck layers
(1×1 conv to 4k channels before each 3×3, "B") and transitions that halve the channel count
(compression θ = 0.5, "C"). They are laid out as torchvision's ``densenet121``…``densenet201`` so
their weights load; ``densenet_bc`` is the three-block CIFAR network of Table 2.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from typing import NamedTuple, Union

import torch
import torch.nn.functional as F
from torch import nn

from lightnets.layers import DenseBlock, Transition
from lightnets.models._plan import RoundingRule, check_rounding
from lightnets.models.base import Network
from lightnets._checks import check_float, check_int
from lightnets.models._spec import Reported, register


class Row(NamedTuple):
    layers: str
    output_size: int  # side of the row's output at 224 px
    # densenet121 ... 264: the dense block's number of [1×1 conv, 3×3 conv] layers, or the
    # layer's own description
    densenet121: Union[int, str]
    densenet169: Union[int, str]
    densenet201: Union[int, str]
    densenet264: Union[int, str]


# Table 1, "DenseNet architectures for ImageNet" (growth rate k = 32), in the paper's columns.
TABLE_1 = (
    Row("Convolution", 112, *["7×7 conv, stride 2"] * 4),
    Row("Pooling", 56, *["3×3 max pool, stride 2"] * 4),
    Row("Dense Block (1)", 56, 6, 6, 6, 6),
    Row("Transition Layer (1)", 28, *["1×1 conv, 2×2 average pool, stride 2"] * 4),
    Row("Dense Block (2)", 28, 12, 12, 12, 12),
    Row("Transition Layer (2)", 14, *["1×1 conv, 2×2 average pool, stride 2"] * 4),
    Row("Dense Block (3)", 14, 24, 32, 48, 64),
    Row("Transition Layer (3)", 7, *["1×1 conv, 2×2 average pool, stride 2"] * 4),
    Row("Dense Block (4)", 7, 16, 32, 32, 48),
    Row("Classification Layer", 1,
        *["7×7 global average pool, 1000D fully-connected, softmax"] * 4),
)

# DenseNet-161 is not in Table 1: it is the k = 48 model released with the authors' code
# (github.com/liuzhuang13/DenseNet, "DenseNet-161 (k=48)"), which torchvision ships.
DENSENET_161_BLOCKS = (6, 12, 36, 24)

BN_SIZE = 4  # §3 "Bottleneck layers": each 1×1 conv produces 4k feature maps
COMPRESSION = 0.5  # §3 "Compression": θ = 0.5 in DenseNet-C and DenseNet-BC


class DenseNetPlan(NamedTuple):
    """A DenseNet-BC in whole channels: the stem's 2k, then per dense block (layers, in_channels,
    out_channels, the following transition's out_channels or None after the last block)."""

    growth_rate: int
    stem_channels: int
    blocks: tuple


def densenet_plan(block_layers: tuple, growth_rate: int = 32, compression: float = COMPRESSION,
                  round_channels: RoundingRule = math.floor) -> DenseNetPlan:
    """The widths a list of dense-block lengths gives (e.g. :data:`TABLE_1`'s column, see
    :func:`_table_1_blocks`): the stem has 2k maps, a block of n layers adds n·k, and a transition
    keeps θm of its m input maps, rounded by ``round_channels`` (by default down, ⌊θm⌋ in §3
    "Compression", as torchvision's ``int``)."""
    if (not isinstance(block_layers, (tuple, list)) or not block_layers
            or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in block_layers)):
        raise ValueError(f"block_layers must be a non-empty list of positive layer counts, e.g. "
                         f"(6, 12, 24, 16) for DenseNet-121, got {block_layers!r}")
    check_int("growth_rate", growth_rate, low=1)
    check_float("compression", compression, 0.0, 1.0, low_inclusive=False)
    check_rounding(round_channels)
    channels = stem_channels = 2 * growth_rate
    blocks = []
    for i, num_layers in enumerate(block_layers):
        out_channels = channels + num_layers * growth_rate
        transition = None
        if i < len(block_layers) - 1:
            transition = round_channels(compression * out_channels)
            if isinstance(transition, bool) or not isinstance(transition, int):
                raise ValueError(f"round_channels must give whole positive channels; transition "
                                 f"{i + 1} has {transition!r}")
            if transition < 1:
                raise ValueError(f"compression={compression!r} would build a layer with no "
                                 f"channels: transition {i + 1} keeps round_channels("
                                 f"{compression!r} × {out_channels}) = {transition}; choose a "
                                 "larger compression")
        blocks.append((num_layers, channels, out_channels, transition))
        channels = transition or out_channels
    return DenseNetPlan(growth_rate, stem_channels, tuple(blocks))


class DenseNet(Network):
    """DenseNet-BC from a list of dense-block lengths.

    ``imagenet_stem=True``: Table 1's 7×7/2 convolution with 2k filters and a 3×3/2 max pool;
    otherwise the CIFAR stem of §3 "Implementation Details", one 3×3 convolution with 2k filters
    (DenseNet-BC) at full resolution. ``memory_efficient=True`` recomputes each dense layer's
    concatenation, BN, ReLU and 1×1 conv in the backward pass instead of storing them
    (Pleiss et al. 2017, "Memory-Efficient Implementation of DenseNets", arXiv:1707.06990): same
    outputs and gradients, activation memory linear instead of quadratic in the block's depth.
    A transition with compression θ follows every block but the last (its width from
    :func:`densenet_plan`, rounded by ``round_channels``); a final BatchNorm closes the trunk and
    the head applies its ReLU before pooling.
    """

    def __init__(self, block_layers: tuple, growth_rate: int, num_classes: int = 1000,
                 compression: float = COMPRESSION, dropout: float = 0.0, imagenet_stem: bool = True,
                 memory_efficient: bool = False, round_channels: RoundingRule = math.floor) -> None:
        super().__init__()
        check_float("dropout", dropout, 0.0, 1.0, high_inclusive=False)
        if not isinstance(memory_efficient, bool):
            raise ValueError(f"memory_efficient must be True or False, got {memory_efficient!r}")
        plan = densenet_plan(block_layers, growth_rate, compression, round_channels)
        self.growth_rate, self.block_layers = growth_rate, tuple(block_layers)
        channels = plan.stem_channels
        if imagenet_stem:
            stem = [("conv0", nn.Conv2d(3, channels, 7, 2, 3, bias=False)),
                    ("norm0", nn.BatchNorm2d(channels)),
                    ("relu0", nn.ReLU(inplace=True)), ("pool0", nn.MaxPool2d(3, 2, 1))]
        else:
            stem = [("conv0", nn.Conv2d(3, channels, 3, 1, 1, bias=False))]
        self.features = nn.Sequential(OrderedDict(stem))
        for i, (num_layers, in_channels, out_channels, transition) in enumerate(plan.blocks, 1):
            self.features.add_module(f"denseblock{i}", DenseBlock(
                num_layers, in_channels, growth_rate, BN_SIZE, dropout, memory_efficient))
            channels = out_channels
            if transition is not None:
                self.features.add_module(f"transition{i}", Transition(channels, transition))
                channels = transition
        self.features.add_module("norm5", nn.BatchNorm2d(channels))
        self.num_features = channels
        self.classifier = nn.Linear(channels, num_classes)
        # torchvision's initialisation ("official init from torch repo"): He-normal (fan-in) convs,
        # BatchNorm 1/0, zero linear bias (the linear weight keeps PyTorch's default).
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        # norm5 is the last layer of the trunk; its ReLU belongs to the head (as in torchvision).
        return self.classifier(torch.flatten(self.avgpool(F.relu(x)), 1))


def _table_1_blocks(column: str) -> tuple:
    return tuple(getattr(row, column) for row in TABLE_1 if row.layers.startswith("Dense Block"))


def _imagenet(column_or_blocks, growth_rate: int, num_classes: int, dropout: float,
              memory_efficient: bool = False) -> DenseNet:
    blocks = (_table_1_blocks(column_or_blocks) if isinstance(column_or_blocks, str)
              else column_or_blocks)
    return DenseNet(blocks, growth_rate, num_classes, dropout=dropout,
                    memory_efficient=memory_efficient)


_PAPER = "Huang et al. 2017, arXiv:1608.06993"


@register("densenet121", family="densenet", paper=_PAPER)
def densenet121(num_classes: int = 1000, growth_rate: int = 32, dropout: float = 0.0,
                memory_efficient: bool = False) -> DenseNet:
    """DenseNet-121 of Table 1 (k = 32; blocks of 6, 12, 24, 16 layers)."""
    return _imagenet("densenet121", growth_rate, num_classes, dropout, memory_efficient)


@register("densenet161", family="densenet",
          paper=_PAPER + "; k=48 model of the authors' repository")
def densenet161(num_classes: int = 1000, growth_rate: int = 48, dropout: float = 0.0,
                memory_efficient: bool = False) -> DenseNet:
    """DenseNet-161 (k = 48; blocks of 6, 12, 36, 24 layers), released with the paper's code."""
    return _imagenet(DENSENET_161_BLOCKS, growth_rate, num_classes, dropout, memory_efficient)


@register("densenet169", family="densenet", paper=_PAPER)
def densenet169(num_classes: int = 1000, growth_rate: int = 32, dropout: float = 0.0,
                memory_efficient: bool = False) -> DenseNet:
    """DenseNet-169 of Table 1 (k = 32; blocks of 6, 12, 32, 32 layers)."""
    return _imagenet("densenet169", growth_rate, num_classes, dropout, memory_efficient)


@register("densenet201", family="densenet", paper=_PAPER)
def densenet201(num_classes: int = 1000, growth_rate: int = 32, dropout: float = 0.0,
                memory_efficient: bool = False) -> DenseNet:
    """DenseNet-201 of Table 1 (k = 32; blocks of 6, 12, 48, 32 layers)."""
    return _imagenet("densenet201", growth_rate, num_classes, dropout, memory_efficient)


@register(
    "densenet_bc",
    family="densenet",
    resolution=32,
    paper=_PAPER,
    reported=Reported(0.8, None,
                      "Huang et al. 2017, Table 2 (DenseNet-BC, L=100, k=12; no mult-adds given)"),
)
def densenet_bc(num_classes: int = 10, depth: int = 100, growth_rate: int = 12,
                compression: float = COMPRESSION,
                dropout: float = 0.0, memory_efficient: bool = False) -> DenseNet:
    """DenseNet-BC for 32×32 CIFAR images (§3 "Implementation Details", Table 2).

    ``depth`` is L, the number of weighted layers: the stem, 2 per bottleneck layer in 3 equal
    blocks,
    2 transitions and the classifier, so L = 6n + 4 and each block has n = (L - 4) / 6 layers.
    Table 2 trains (L, k) = (100, 12), (250, 24) and (190, 40); ``num_classes`` defaults to
    CIFAR-10's.
    """
    check_int("depth", depth, low=10, high=1000)  # Table 2's deepest is L = 250
    if (depth - 4) % 6:
        raise ValueError(f"depth must satisfy (depth - 4) % 6 == 0 for DenseNet-BC "
                         f"(L = 6n + 4, e.g. 40, 100, "
                         f"190, 250), got {depth}")
    return DenseNet(((depth - 4) // 6,) * 3, growth_rate, num_classes, compression, dropout,
                    imagenet_stem=False, memory_efficient=memory_efficient)
