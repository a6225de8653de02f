"""ResNet-18 and ResNet-50 (He et al. 2016, "Deep Residual Learning for Image Recognition",
arXiv:1512.03385), laid out as torchvision's ``resnet18`` / ``resnet50`` so that their weights load
unchanged. EfficientNet's Table 3 scales ResNet-50 as its non-mobile baseline.

torchvision builds "ResNet v1.5": in a downsampling bottleneck the stride sits on the 3×3
convolution, not on the first 1×1 as in the paper (§3.3, "conv3_1, conv4_1 and conv5_1 with a
stride of 2"). The 1×1 then runs at the higher resolution, which costs 4.1 instead of the paper's
3.8 GFLOPs and is worth about half a point of top-1 accuracy.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple, Optional

import torch
from torch import nn

from lightnets.layers import ConvBNAct
from lightnets.models.base import Network, init_weights
from lightnets.models._spec import Reported, register


class Block(NamedTuple):
    shape: tuple  # the bracket, ((kernel, channels), ...): e.g. ((1, 64), (3, 64), (1, 256))
    repeats: int  # the "×n" after it


class Row(NamedTuple):
    layer_name: str
    output_size: int  # side of the stage's output at 224 px
    layer_18: Block
    layer_34: Block
    layer_50: Block
    layer_101: Block
    layer_152: Block


def _basic(channels: int, repeats: int) -> Block:
    return Block(((3, channels), (3, channels)), repeats)


def _bottleneck(channels: int, repeats: int) -> Block:
    return Block(((1, channels), (3, channels), (1, 4 * channels)), repeats)


# Table 1, "Architectures for ImageNet", in the paper's columns (layer name, output size, 18-layer,
# 34-layer, 50-layer, 101-layer, 152-layer). conv1 is "7×7, 64, stride 2" in every column, and
# conv2_x opens with "3×3 max pool, stride 2"; the table ends with "average pool, 1000-d fc,
# softmax".
TABLE_1 = (
    Row("conv1", 112, *[Block(((7, 64),), 1)] * 5),
    Row("conv2_x", 56, _basic(64, 2), _basic(64, 3), _bottleneck(64, 3), _bottleneck(64, 3),
        _bottleneck(64, 3)),
    Row("conv3_x", 28, _basic(128, 2), _basic(128, 4), _bottleneck(128, 4), _bottleneck(128, 4),
        _bottleneck(128, 8)),
    Row("conv4_x", 14, _basic(256, 2), _basic(256, 6), _bottleneck(256, 6), _bottleneck(256, 23),
        _bottleneck(256, 36)),
    Row("conv5_x", 7, _basic(512, 2), _basic(512, 3), _bottleneck(512, 3), _bottleneck(512, 3),
        _bottleneck(512, 3)),
)
# Table 1's last row: FLOPs (multiply-adds, ×10⁹) of each column.
TABLE_1_FLOPS = {18: 1.8, 34: 3.6, 50: 3.8, 101: 7.6, 152: 11.3}


class BasicBlock(nn.Module):
    """Two 3×3 convolutions and an identity shortcut (Fig. 5 left): y = ReLU(F(x) + x)."""

    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = ConvBNAct(in_channels, channels, 3, stride)
        self.conv2 = ConvBNAct(channels, channels, 3, activation=None)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _projection(in_channels, channels, stride)
        self.in_channels, self.out_channels, self.stride = in_channels, channels, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(self.conv2(self.conv1(x)) + shortcut)


class Bottleneck(nn.Module):
    """1×1 reduce → 3×3 → 1×1 restore (Fig. 5 right), "a bottleneck with the 3×3 layer ... having
    smaller input/output dimensions". The stride is on the 3×3 (v1.5, see the module docstring)."""

    def __init__(self, in_channels: int, channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = ConvBNAct(in_channels, channels, 1)
        self.conv2 = ConvBNAct(channels, channels, 3, stride)
        self.conv3 = ConvBNAct(channels, out_channels, 1, activation=None)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _projection(in_channels, out_channels, stride)
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(self.conv3(self.conv2(self.conv1(x))) + shortcut)


def _projection(in_channels: int, out_channels: int, stride: int) -> Optional[nn.Module]:
    # §3.3 option (B): a 1×1 projection only where the shape changes, identity elsewhere.
    if stride == 1 and in_channels == out_channels:
        return None
    return ConvBNAct(in_channels, out_channels, 1, stride, activation=None)


class ResNetPlan(NamedTuple):
    """One column of :data:`TABLE_1`: the stem (channels, kernel, stride), then per stage (name,
    the bracket's widths, repeats, the first block's stride)."""

    stem_channels: int
    stem_kernel: int
    stem_stride: int
    stages: tuple


def resnet_plan(depth: int = 50) -> ResNetPlan:
    """:data:`TABLE_1`'s ``depth``-layer column (18, 34, 50, 101 or 152). Each stage's stride is
    read off the output sizes: the max pool opens conv2_x (112 → 56), so conv2_x itself keeps the
    resolution and conv3_x…conv5_x halve it. The paper prints every width, so nothing is rounded."""
    if type(depth) is not int or depth not in TABLE_1_FLOPS:  # 50.0 is no column
        raise ValueError(f"depth must be one of {sorted(TABLE_1_FLOPS)}, got {depth!r}")
    (_, stem_size, stem), *rows = [(row.layer_name, row.output_size, getattr(row, f"layer_{depth}"))
                                   for row in TABLE_1]
    (kernel, channels), = stem.shape
    stages, previous_size = [], stem_size // 2  # after conv2_x's max pool
    for name, output_size, block in rows:
        widths = tuple(width for _kernel, width in block.shape)
        stages.append((name, widths, block.repeats, previous_size // output_size))
        previous_size = output_size
    return ResNetPlan(channels, kernel, 224 // stem_size, tuple(stages))


class ResNet(Network):
    """A ResNet built from one column of :data:`TABLE_1` (``depth`` in 18, 34, 50, 101, 152)."""

    def __init__(self, depth: int = 50, num_classes: int = 1000) -> None:
        super().__init__()
        plan = resnet_plan(depth)
        self.depth = depth
        layers: OrderedDict = OrderedDict()
        layers[TABLE_1[0].layer_name] = ConvBNAct(3, plan.stem_channels, plan.stem_kernel,
                                                  plan.stem_stride)
        layers["pool"] = nn.MaxPool2d(3, stride=2, padding=1)  # opens conv2_x: 112 → 56
        in_channels = plan.stem_channels
        for name, widths, repeats, stride in plan.stages:
            blocks = []
            for i in range(repeats):
                if len(widths) == 2:
                    blocks.append(BasicBlock(in_channels, widths[0], stride if i == 0 else 1))
                else:
                    blocks.append(Bottleneck(in_channels, widths[0], widths[-1],
                                             stride if i == 0 else 1))
                in_channels = widths[-1]
            layers[name] = nn.Sequential(*blocks)
        self.features = nn.Sequential(layers)
        self.num_features = in_channels
        self.classifier = nn.Linear(in_channels, num_classes)
        init_weights(self)
        # torchvision keeps PyTorch's default init for the fc layer
        self.classifier.reset_parameters()


@register(
    "resnet18",
    family="resnet",
    paper="He et al. 2016, arXiv:1512.03385",
    reported=Reported(11.7, 1800, "He et al. 2016, Table 1 (FLOPs); params from torchvision"),
)
def resnet18(num_classes: int = 1000) -> ResNet:
    """ResNet-18: Table 1's 18-layer column, basic blocks [2, 2, 2, 2]."""
    return ResNet(18, num_classes)


@register(
    "resnet50",
    family="resnet",
    paper="He et al. 2016, arXiv:1512.03385",
    reported=Reported(26, 4100,
                      "Tan & Le 2019, Table 2 (ResNet-50, v1.5; "
                      "He et al. Table 1: 3.8 GFLOPs for v1)"),
)
def resnet50(num_classes: int = 1000) -> ResNet:
    """ResNet-50: Table 1's 50-layer column, bottlenecks [3, 4, 6, 3], stride on the 3×3 (v1.5)."""
    return ResNet(50, num_classes)
