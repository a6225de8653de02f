"""MobileNetV2 (Sandler et al. 2018, "MobileNetV2: Inverted Residuals and Linear Bottlenecks",
arXiv:1801.04381), laid out as torchvision's ``mobilenet_v2`` so that its weights load unchanged.
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Union

from torch import nn

from lightnets.layers import ConvBNAct, InvertedResidual, MBConvConfig, NetworkPlan
from lightnets.models._plan import ROUND_TO_8, RoundingRule, check_rounding, checked_plan
from lightnets.models.base import Network, init_weights
from lightnets._checks import check_float
from lightnets.models._spec import Reported, register


class Row(NamedTuple):
    input_size: int  # side of the row's input at 224 px
    operator: str
    expansion: Optional[int]  # t: the block widens its input t times
    out_channels: Union[int, str]  # c ("k" stands for the number of classes)
    repeats: Optional[int]  # n
    stride: Optional[int]  # s, of the first repeat; the others use stride 1


class Result(NamedTuple):
    network: str  # the row's name as Table 4 prints it
    top1_percent: float  # ImageNet top-1
    params_millions: float
    mult_adds_millions: float
    pixel1_ms: Optional[float]  # one large core of a Pixel 1, TF-Lite; None: not reported


# Table 4, "Performance on ImageNet, comparison for different networks" (arXiv:1801.04381v4), in
# the paper's columns. The paper leaves ShuffleNet's time out: TF-Lite had no efficient group
# convolution or shuffle then.
TABLE_4 = (
    Result("MobileNetV1", 70.6, 4.2, 575, 113),
    Result("ShuffleNet (1.5)", 71.5, 3.4, 292, None),
    Result("ShuffleNet (x2)", 73.7, 5.4, 524, None),
    Result("NasNet-A", 74.0, 5.3, 564, 183),
    Result("MobileNetV2", 72.0, 3.4, 300, 75),
    Result("MobileNetV2 (1.4)", 74.7, 6.9, 585, 143),
)

# Table 3, the last row ("max") of "The max number of channels/memory (in Kb) that needs to be
# materialized at each spatial resolution for different architectures" (arXiv:1801.04381v4; 16-bit
# activations, ShuffleNet 2x with g = 3): the peak activation memory in Kb (1 Kb = 1000 bytes, as
# lightnets.memory counts) during inference. MobileNetV2's 400K assumes §5.1's trick also for the
# first layer (the stem streamed into the first block).
TABLE_3 = {
    "MobileNetV1": 1600,
    "MobileNetV2": 400,
    "ShuffleNet (2x, g=3)": 600,
}

# Table 2 (arXiv:1801.04381v4) in the paper's columns (Input, Operator, t, c, n, s).
TABLE_2 = (
    Row(224, "conv2d", None, 32, 1, 2),
    Row(112, "bottleneck", 1, 16, 1, 1),
    Row(112, "bottleneck", 6, 24, 2, 2),
    Row(56, "bottleneck", 6, 32, 3, 2),
    Row(28, "bottleneck", 6, 64, 4, 2),
    Row(14, "bottleneck", 6, 96, 3, 1),
    Row(14, "bottleneck", 6, 160, 3, 2),
    Row(7, "bottleneck", 6, 320, 1, 1),
    Row(7, "conv2d 1x1", None, 1280, 1, 1),
    Row(7, "avgpool 7x7", None, None, 1, None),
    Row(1, "conv2d 1x1", None, "k", None, None),
)


def mobilenet_v2_plan(width_mult: float = 1.0,
                      round_channels: RoundingRule = ROUND_TO_8) -> NetworkPlan:
    """Table 2 in whole channels at width ``width_mult``: every width rounded by
    ``round_channels`` (by default to a multiple of 8); each row's first repeat has the row's
    stride, the others stride 1; the last conv is never thinned below 1280, only widened for
    α > 1 (§4, as torchvision)."""
    check_float("width_mult", width_mult, 0.0, 4.0, low_inclusive=False)
    check_rounding(round_channels)
    stem, *bottlenecks, last_conv, _pool, _classifier = TABLE_2
    channels = stem_channels = round_channels(stem.out_channels * width_mult)
    blocks = []
    for row in bottlenecks:
        out_channels = round_channels(row.out_channels * width_mult)
        for i in range(row.repeats):
            blocks.append(MBConvConfig(channels, out_channels, round(channels * row.expansion), 3,
                                       row.stride if i == 0 else 1))
            channels = out_channels
    head = round_channels(last_conv.out_channels * max(1.0, width_mult))
    return checked_plan(NetworkPlan(stem_channels, blocks, head))


class MobileNetV2(Network):
    """MobileNetV2 built from :data:`TABLE_2`: ReLU6 after the expansion and depthwise layers,
    linear projections, and a 1×1 conv to 1280 channels before pooling."""

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0,
                 dropout: float = 0.2, round_channels: RoundingRule = ROUND_TO_8) -> None:
        super().__init__()
        check_float("dropout", dropout, 0.0, 1.0, high_inclusive=False)  # width: in the plan
        self.width_mult = width_mult
        plan = mobilenet_v2_plan(width_mult, round_channels)
        layers: list[nn.Module] = [
            ConvBNAct(3, plan.stem_channels, 3, TABLE_2[0].stride, activation=nn.ReLU6)]
        layers += [InvertedResidual.from_config(block, activation=nn.ReLU6)
                   for block in plan.blocks]
        self.num_features = plan.head_channels
        layers.append(ConvBNAct(plan.blocks[-1].out_channels, self.num_features, 1,
                                activation=nn.ReLU6))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(dropout),
                                        nn.Linear(self.num_features, num_classes))
        init_weights(self)


@register(
    "mobilenet_v2",
    family="mobilenet_v2",
    paper="Sandler et al. 2018, arXiv:1801.04381",
    reported=Reported(3.4, 300, "Sandler et al. 2018, Table 4 (MobileNetV2 1.0)"),
)
def mobilenet_v2(num_classes: int = 1000, width_mult: float = 1.0,
                 dropout: float = 0.2) -> MobileNetV2:
    """MobileNetV2 with width multiplier ``width_mult`` (in (0, 4]; the paper uses 0.35 to 1.4)."""
    return MobileNetV2(num_classes, width_mult, dropout)
