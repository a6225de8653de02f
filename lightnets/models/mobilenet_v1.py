"""MobileNetV1 (Howard et al. 2017, "MobileNets: Efficient Convolutional Neural Networks for Mobile
Vision Applications", arXiv:1704.04861).

A 3×3 stem, then 13 depthwise-separable layers, average pooling and one fully connected layer.
The width multiplier α thins every layer (§4.2); the resolution multiplier ρ is just a smaller
input, which the network accepts at any size >= 32 px.
"""
from __future__ import annotations

from typing import NamedTuple

from torch import nn

from lightnets.layers import ConvBNAct, DepthwiseSeparable, make_divisible
from lightnets.models.base import Network, init_weights
from lightnets._checks import check_float
from lightnets.registry import Reported, register


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
    *[row for _ in range(5) for row in (Layer("dw", 1, (3, 3, 512), 14), Layer("pw", 1, (1, 1, 512, 512), 14))],
    Layer("dw", 2, (3, 3, 512), 14),
    Layer("pw", 1, (1, 1, 512, 1024), 7),
    Layer("dw", 1, (3, 3, 1024), 7),  # printed "Conv dw / s2" in the paper: see the note above
    Layer("pw", 1, (1, 1, 1024, 1024), 7),
)
# The table then ends with "Avg Pool 7×7", "FC 1024×1000" and "Softmax".


class MobileNetV1(Network):
    """MobileNetV1 built from :data:`TABLE_1`, every layer followed by BatchNorm and ReLU (§3.1)."""

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0, dropout: float = 0.0) -> None:
        super().__init__()
        check_float("width_mult", width_mult, 0.0, 4.0, low_inclusive=False)
        check_float("dropout", dropout, 0.0, 1.0, high_inclusive=False)
        self.width_mult = width_mult

        def width(channels: int) -> int:  # §4.2: α·M channels, kept a multiple of 8 as timm does
            return make_divisible(channels * width_mult, 8)

        stem, *body = TABLE_1
        layers: list[nn.Module] = [ConvBNAct(3, width(stem.filter_shape[-1]), stem.filter_shape[0], stem.stride)]
        channels = width(stem.filter_shape[-1])
        for depthwise, pointwise in zip(body[0::2], body[1::2]):
            out_channels = width(pointwise.filter_shape[-1])
            layers.append(DepthwiseSeparable(channels, out_channels, depthwise.stride, depthwise.filter_shape[0]))
            channels = out_channels
        self.features = nn.Sequential(*layers)
        self.num_features = channels
        # The paper has no dropout before the FC layer; TF-slim keeps 99.9% of units, i.e. none.
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(channels, num_classes))
        init_weights(self)


@register(
    "mobilenet_v1",
    family="mobilenet_v1",
    paper="Howard et al. 2017, arXiv:1704.04861",
    reported=Reported(4.2, 569, "Howard et al. 2017, Table 8 (1.0 MobileNet-224)"),
)
def mobilenet_v1(num_classes: int = 1000, width_mult: float = 1.0, dropout: float = 0.0) -> MobileNetV1:
    """MobileNetV1 with width multiplier ``width_mult`` (α in (0, 4]; the paper uses 1, 0.75, 0.5, 0.25)."""
    return MobileNetV1(num_classes, width_mult, dropout)
