"""MobileNetV1 (Howard et al. 2017, "MobileNets: Efficient Convolutional Neural Networks for Mobile
Vision Applications", arXiv:1704.04861).

A 3×3 stem, then 13 depthwise-separable layers, average pooling and one fully connected layer.
The width multiplier α thins every layer (§4.2); the resolution multiplier ρ is just a smaller
input, which the network accepts at any size >= 32 px.
"""
from __future__ import annotations

from typing import NamedTuple

from torch import nn

from lightnets.layers import (ConvBNAct, DepthwiseSeparable, MBConvConfig, NetworkPlan,
                              make_divisible)
from lightnets.models.base import Network, init_weights
from lightnets._checks import check_float
from lightnets.models._spec import Reported, register


class Layer(NamedTuple):
    type: str  # "conv" (standard), "dw" (depthwise) or "pw" (pointwise 1×1)
    stride: int
    filter_shape: tuple  # k×k×in×out for conv and pw, k×k×channels for dw
    input_size: int  # side of the layer's input at 224 px


# Table 1, "MobileNet Body Architecture", in the paper's columns (Type / Stride, Filter Shape,
# Input Size), with the "5×" row written out. Misprint: the paper gives the last depthwise layer
# (input 7×7×1024) stride 2, yet its output, the next row's input, is still 7×7, and the 7×7
# average pool after it needs a 7×7 map. Stride 1 is the only reading consistent with the sizes,
# and it is what the reference implementations (TF-slim, timm) use.
TABLE_1 = (
    Layer("conv", 2, (3, 3, 3, 32), 224),
    Layer("dw", 1, (3, 3, 32), 112),
    Layer("pw", 1, (1, 1, 32, 64), 112),
    Layer("dw", 2, (3, 3, 64), 112),
    Layer("pw", 1, (1, 1, 64, 128), 56),
    Layer("dw", 1, (3, 3, 128), 56),
    Layer("pw", 1, (1, 1, 128, 128), 56),
    Layer("dw", 2, (3, 3, 128), 56),
    Layer("pw", 1, (1, 1, 128, 256), 28),
    Layer("dw", 1, (3, 3, 256), 28),
    Layer("pw", 1, (1, 1, 256, 256), 28),
    Layer("dw", 2, (3, 3, 256), 28),
    Layer("pw", 1, (1, 1, 256, 512), 14),
    *[row for _ in range(5)
      for row in (Layer("dw", 1, (3, 3, 512), 14), Layer("pw", 1, (1, 1, 512, 512), 14))],
    Layer("dw", 2, (3, 3, 512), 14),
    Layer("pw", 1, (1, 1, 512, 1024), 7),
    Layer("dw", 1, (3, 3, 1024), 7),  # printed "Conv dw / s2" in the paper: see the note above
    Layer("pw", 1, (1, 1, 1024, 1024), 7),
)
# The table then ends with "Avg Pool 7×7", "FC 1024×1000" and "Softmax".


# --- the paper's results, as printed -----------------------------------------------------------


class LayerTypeShare(NamedTuple):
    mult_adds_percent: float
    params_percent: float


# Table 2, "Resource per layer type", keyed by lightnets.cost's layer kinds (Conv 1×1, Conv DW
# 3×3, Conv 3×3, Fully Connected). Misprint: the Conv 3×3 row's 1.19% Mult-Adds is 1.91% (the
# stem's 112·112·3·3·3·32 = 10.8 M of 568.7 M); with 1.19 the column sums to 99.29%.
TABLE_2 = {
    "pointwise": LayerTypeShare(94.86, 74.59),
    "depthwise": LayerTypeShare(3.06, 1.06),
    "standard": LayerTypeShare(1.19, 0.02),
    "linear": LayerTypeShare(0.18, 24.33),
}


class Result(NamedTuple):
    top1_percent: float  # ImageNet accuracy
    mult_adds_millions: int
    params_millions: float


# Table 6, "MobileNet Width Multiplier" (224 px), keyed by α.
TABLE_6 = {
    1.0: Result(70.6, 569, 4.2),
    0.75: Result(68.4, 325, 2.6),
    0.5: Result(63.7, 149, 1.3),
    0.25: Result(50.6, 41, 0.5),
}

# Table 7, "MobileNet Resolution" (α = 1), keyed by the input side in pixels.
TABLE_7 = {
    224: Result(70.6, 569, 4.2),
    192: Result(69.1, 418, 4.2),
    160: Result(67.2, 290, 4.2),
    128: Result(64.4, 186, 4.2),
}


def mobilenet_v1_plan(width_mult: float = 1.0) -> NetworkPlan:
    """Table 1 in whole channels at width α = ``width_mult`` (§4.2: α·M channels, kept a multiple
    of 8 as timm does): each depthwise-separable pair is a block that does not expand (its
    depthwise layer keeps the width); no head conv before pooling."""
    check_float("width_mult", width_mult, 0.0, 4.0, low_inclusive=False)

    def width(channels: int) -> int:
        return make_divisible(channels * width_mult, 8)

    stem, *body = TABLE_1
    channels = stem_channels = width(stem.filter_shape[-1])
    blocks = []
    for depthwise, pointwise in zip(body[0::2], body[1::2]):
        out_channels = width(pointwise.filter_shape[-1])
        blocks.append(MBConvConfig(channels, out_channels, channels, depthwise.filter_shape[0],
                                   depthwise.stride))
        channels = out_channels
    return NetworkPlan(stem_channels, blocks, None)


class MobileNetV1(Network):
    """MobileNetV1 built from :data:`TABLE_1`, every layer followed by BatchNorm and ReLU (§3.1)."""

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0,
                 dropout: float = 0.0) -> None:
        super().__init__()
        check_float("width_mult", width_mult, 0.0, 4.0, low_inclusive=False)
        check_float("dropout", dropout, 0.0, 1.0, high_inclusive=False)
        self.width_mult = width_mult

        plan = mobilenet_v1_plan(width_mult)
        stem = TABLE_1[0]
        layers: list[nn.Module] = [
            ConvBNAct(3, plan.stem_channels, stem.filter_shape[0], stem.stride)]
        layers += [DepthwiseSeparable(b.in_channels, b.out_channels, b.stride, b.kernel_size)
                   for b in plan.blocks]
        channels = plan.blocks[-1].out_channels
        self.features = nn.Sequential(*layers)
        self.num_features = channels
        # The paper has no dropout before the FC layer; TF-slim keeps 99.9% of units, i.e. none.
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(channels, num_classes))
        init_weights(self)


@register(
    "mobilenet_v1",
    family="mobilenet_v1",
    paper="Howard et al. 2017, arXiv:1704.04861",
    reported=Reported(TABLE_6[1.0].params_millions, TABLE_6[1.0].mult_adds_millions,
                      "Howard et al. 2017, Table 8 (1.0 MobileNet-224)"),
)
def mobilenet_v1(num_classes: int = 1000, width_mult: float = 1.0,
                 dropout: float = 0.0) -> MobileNetV1:
    """MobileNetV1 with width multiplier ``width_mult`` (α in (0, 4]; the paper uses 1, 0.75, 0.5,
    0.25)."""
    return MobileNetV1(num_classes, width_mult, dropout)
