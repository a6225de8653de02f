"""MobileNetV1 (Howard et al. 2017, "MobileNets: Efficient Convolutional Neural Networks for Mobile
Vision Applications", arXiv:1704.04861).

A 3×3 stem, then 13 depthwise-separable layers, average pooling and one fully connected layer.
The width multiplier α thins every layer (§3.3, eq. 6); the resolution multiplier ρ (§3.4, eq. 7)
is just a smaller input, which the network accepts at any size (every layer pads: min_resolution 1).
"""
from __future__ import annotations

from typing import NamedTuple

from torch import nn

from lightnets.layers import ConvBNAct, DepthwiseSeparable, MBConvConfig, NetworkPlan
from lightnets.models._plan import ROUND_TO_8, RoundingRule, check_rounding, checked_plan
from lightnets.models.base import Network, init_weights
from lightnets._checks import check_float
from lightnets.models._spec import Reported, register


class Layer(NamedTuple):
    type: str  # "conv" (standard), "dw" (depthwise) or "pw" (pointwise 1×1)
    stride: int
    filter_shape: tuple  # k×k×in×out for conv and pw, k×k×channels for dw
    input_size: int  # side of the layer's input at 224 px


# Table 1, "MobileNet Body Architecture" (arXiv:1704.04861v1, the paper's only arXiv version), in
# the paper's columns (Type / Stride, Filter Shape, Input Size), with the "5×" row written out.
# Misprint: the paper gives the last depthwise layer (input 7×7×1024) stride 2, yet its output,
# the next row's input, is still 7×7, and the 7×7 average pool after it needs a 7×7 map. Stride 1
# is the only reading consistent with the sizes, and it is what the reference implementations
# (TF-slim, timm) use.
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


# Table 2, "Resource per layer type" (arXiv:1704.04861v1), keyed by lightnets.cost's layer kinds
# (Conv 1×1, Conv DW 3×3, Conv 3×3, Fully Connected). Misprint: the Conv 3×3 row's 1.19%
# Mult-Adds is 1.91% (the stem's 112·112·3·3·3·32 = 10.8 M of 568.7 M); with 1.19 the column sums
# to 99.29%.
TABLE_2 = {
    "pointwise": LayerTypeShare(94.86, 74.59),
    "depthwise": LayerTypeShare(3.06, 1.06),
    "standard": LayerTypeShare(1.19, 0.02),
    "linear": LayerTypeShare(0.18, 24.33),
}


class LayerCost(NamedTuple):
    mult_adds_millions: float
    params_millions: float


# Table 3, "Resource usage for modifications to standard convolution" (arXiv:1704.04861v1): one
# internal layer with D_K = 3, M = N = 512, D_F = 14, each row adding its change to the row above
# (the resolution multiplier ρ = 0.714 is a 160-px input: D_F = 10). Parameters count the
# convolutions' weights, as in Table 2.
TABLE_3 = {
    "Convolution": LayerCost(462, 2.36),
    "Depthwise Separable Conv": LayerCost(52.3, 0.27),
    "α = 0.75": LayerCost(29.6, 0.15),
    "ρ = 0.714": LayerCost(15.1, 0.15),
}


class Result(NamedTuple):
    top1_percent: float  # ImageNet accuracy
    mult_adds_millions: int
    params_millions: float


# §4 reports every network as (ImageNet accuracy, million Mult-Adds, million parameters). The rows
# below are copied from the paper's Tables 4-9 (arXiv:1704.04861v1), in its row order.

# Table 4, "Depthwise Separable vs Full Convolution MobileNet": the same body with every separable
# layer replaced by a full 3×3 convolution ("Conv MobileNet") is 1.1 points better at 8.6× the
# Mult-Adds and 7× the parameters.
TABLE_4 = {
    "Conv MobileNet": Result(71.7, 4866, 29.3),
    "MobileNet": Result(70.6, 569, 4.2),
}

# Table 5, "Narrow vs Shallow MobileNet": the shallow network drops the five 14×14×512 separable
# layers of Table 1 (§4.1); at similar cost the thinner one is 3 points better.
TABLE_5 = {
    "0.75 MobileNet": Result(68.4, 325, 2.6),
    "Shallow MobileNet": Result(65.3, 307, 2.9),
}


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

# Table 8, "MobileNet Comparison to Popular Models" (224 px).
TABLE_8 = {
    "1.0 MobileNet-224": Result(70.6, 569, 4.2),
    "GoogleNet": Result(69.8, 1550, 6.8),
    "VGG 16": Result(71.5, 15300, 138),
}

# Table 9, "Smaller MobileNet Comparison to Popular Models": the one (α, resolution) pair off the
# axes of Tables 6 and 7 for which the paper prints an accuracy, α = 0.5 at 160 px.
TABLE_9 = {
    "0.50 MobileNet-160": Result(60.2, 76, 1.32),
    "Squeezenet": Result(57.5, 1700, 1.25),
    "AlexNet": Result(57.2, 720, 60),
}


def paper_top1(width_mult: float, resolution: int):
    """The paper's ImageNet top-1 (%) for MobileNetV1 at (α, input side), and the table it comes
    from, e.g. ``(63.7, "Table 6")``; ``None`` where the paper prints no accuracy for the pair
    (its Fig. 4 plots all 16 pairs of α ∈ {1, 0.75, 0.5, 0.25} × {224, 192, 160, 128} px, but
    only as points on a graph, so they are not copied here)."""
    if resolution == 224 and width_mult in TABLE_6:
        return TABLE_6[width_mult].top1_percent, "Table 6"
    if width_mult == 1.0 and resolution in TABLE_7:
        return TABLE_7[resolution].top1_percent, "Table 7"
    if (width_mult, resolution) == (0.5, 160):
        return TABLE_9["0.50 MobileNet-160"].top1_percent, "Table 9"
    return None


def mobilenet_v1_plan(width_mult: float = 1.0,
                      round_channels: RoundingRule = ROUND_TO_8) -> NetworkPlan:
    """Table 1 in whole channels at width α = ``width_mult`` (§3.3: α·M channels, rounded by
    ``round_channels``, by default to a multiple of 8 as timm does): each depthwise-separable pair
    is a block that does not expand (its depthwise layer keeps the width); no head conv before
    pooling."""
    check_float("width_mult", width_mult, 0.0, 4.0, low_inclusive=False)
    check_rounding(round_channels)
    stem, *body = TABLE_1
    channels = stem_channels = round_channels(stem.filter_shape[-1] * width_mult)
    blocks = []
    for depthwise, pointwise in zip(body[0::2], body[1::2]):
        out_channels = round_channels(pointwise.filter_shape[-1] * width_mult)
        blocks.append(MBConvConfig(channels, out_channels, channels, depthwise.filter_shape[0],
                                   depthwise.stride))
        channels = out_channels
    return checked_plan(NetworkPlan(stem_channels, blocks, None))


class MobileNetV1(Network):
    """MobileNetV1 built from :data:`TABLE_1`, every layer followed by BatchNorm and ReLU (§3.2)."""

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0,
                 dropout: float = 0.0, round_channels: RoundingRule = ROUND_TO_8) -> None:
        super().__init__()
        check_float("dropout", dropout, 0.0, 1.0, high_inclusive=False)  # width: in the plan
        self.width_mult = width_mult

        plan = mobilenet_v1_plan(width_mult, round_channels)
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


# --- the paper's two ablations (§4.1), built from the same model ------------------------------


def full_conv_mobilenet_v1(num_classes: int = 1000) -> MobileNetV1:
    """Table 4's "Conv MobileNet": every depthwise-separable layer of Table 1 replaced by one full
    3×3 convolution (BatchNorm, ReLU) with the same input and output channels and stride."""
    model = MobileNetV1(num_classes)
    for i, block in enumerate(model.features):
        if isinstance(block, DepthwiseSeparable):
            model.features[i] = ConvBNAct(block.in_channels, block.out_channels, 3, block.stride)
    init_weights(model)
    return model


def shallow_mobilenet_v1(num_classes: int = 1000) -> MobileNetV1:
    """Table 5's "Shallow MobileNet": Table 1 without its five separable layers on 14×14×512
    (§4.1: "the 5 layers of separable filters with feature size 14×14×512 ... are removed")."""
    model = MobileNetV1(num_classes)
    model.features = nn.Sequential(*[
        block for block in model.features
        if not (isinstance(block, DepthwiseSeparable)
                and block.in_channels == block.out_channels == 512)])
    return model
