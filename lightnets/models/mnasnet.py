"""MnasNet (Tan et al. 2019, "MnasNet: Platform-Aware Neural Architecture Search for Mobile",
arXiv:1807.11626), the B1 variant that torchvision's ``mnasnet0_5`` … ``mnasnet1_3`` implement.

The search space (§4.1, Fig. 4) picks per stage the block type, kernel, expansion and repeats of
MobileNetV2-style inverted residuals. The paper's Fig. 7 draws the searched MnasNet-A1, which has
squeeze-and-excite in three stages; B1 is the SE-free network of the official TF code
(``mnasnet_models.mnasnet_b1``) and of torchvision, and its weights are what torchvision ships.
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
    input_size: int  # side of the stage's input at 224 px, as the sizes in Fig. 7
    operator: str  # "conv2d", "SepConv" (depthwise-separable, no skip) or "MBConv"
    expansion: Optional[int]  # MBConv6 widens its input 6 times
    kernel_size: int
    out_channels: Union[int, str]  # ("k" stands for the number of classes)
    repeats: int
    stride: int  # of the first repeat; the others use stride 1


# MnasNet-B1 stage by stage (official TF ``mnasnet_b1`` block strings, torchvision ``MNASNet``),
# in the columns of Fig. 7's boxes: input, operator, expansion, kernel, channels, ×repeats, stride.
TABLE_B1 = (
    Row(224, "conv2d", None, 3, 32, 1, 2),
    Row(112, "SepConv", 1, 3, 16, 1, 1),
    Row(112, "MBConv", 3, 3, 24, 3, 2),
    Row(56, "MBConv", 3, 5, 40, 3, 2),
    Row(28, "MBConv", 6, 5, 80, 3, 2),
    Row(14, "MBConv", 6, 3, 96, 2, 1),
    Row(14, "MBConv", 6, 5, 192, 4, 2),
    Row(7, "MBConv", 6, 3, 320, 1, 1),
    Row(7, "conv2d 1x1", None, 1, 1280, 1, 1),
    Row(7, "pooling, FC", None, 1, "k", 1, 1),
)

class Table1Row(NamedTuple):
    params_millions: float
    mult_adds_millions: float
    top1_percent: float  # ImageNet
    pixel1_ms: float  # latency on a Pixel 1 phone, batch 1


# Table 1, "Performance Results on ImageNet Classification", the searched network's row as the
# CVPR 2019 paper (= arXiv:1807.11626v3) prints it; v1 (July 2018) reported an earlier model.
TABLE_1 = {"MnasNet-A1": Table1Row(3.9, 312, 75.2, 78)}

# The paper trains with TF's BatchNorm decay 0.9997, which is PyTorch momentum 1 - 0.9997.
BN = dict(bn_eps=1e-5, bn_momentum=1 - 0.9997)


def mnasnet_plan(width_mult: float = 1.0,
                 round_channels: RoundingRule = ROUND_TO_8) -> NetworkPlan:
    """:data:`TABLE_B1` in whole channels at depth multiplier ``width_mult``: the separable conv
    is the first block (it does not expand), each stage's first repeat has its stride, the last
    conv keeps 1280 channels.

    Each stage's width is rounded by ``round_channels``. The default is torchvision's
    ``_round_to_multiple_of(channels·α, 8, round_up_bias=0.9)``: round to the nearest multiple of
    8, then go up one step if that lost more than 10%, which is :func:`make_divisible`.
    """
    check_float("width_mult", width_mult, 0.0, 4.0, low_inclusive=False)
    check_rounding(round_channels)
    stem, separable, *stages, last_conv, _head = TABLE_B1
    channels = stem_channels = round_channels(stem.out_channels * width_mult)
    out_channels = round_channels(separable.out_channels * width_mult)
    blocks = [MBConvConfig(channels, out_channels, channels, separable.kernel_size,
                           separable.stride)]
    channels = out_channels
    for row in stages:
        out_channels = round_channels(row.out_channels * width_mult)
        for i in range(row.repeats):
            blocks.append(MBConvConfig(channels, out_channels, channels * row.expansion,
                                       row.kernel_size, row.stride if i == 0 else 1))
            channels = out_channels
    return checked_plan(NetworkPlan(stem_channels, blocks, last_conv.out_channels))


class MnasNet(Network):
    """MnasNet-B1 built from :data:`TABLE_B1`, ReLU throughout, linear projections, no SE.

    ``width_mult`` (the paper's "depth multiplier", Fig. 1 / §5.2) scales every stage's channels
    but the 1280 of the last conv, as in torchvision.
    """

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0,
                 dropout: float = 0.2, round_channels: RoundingRule = ROUND_TO_8) -> None:
        super().__init__()
        check_float("dropout", dropout, 0.0, 1.0, high_inclusive=False)  # width: in the plan
        self.width_mult = width_mult
        stem, separable, *stages, last_conv, _head = TABLE_B1
        plan = mnasnet_plan(width_mult, round_channels)
        first, *blocks = plan.blocks
        layers: list[nn.Module] = [
            ConvBNAct(3, plan.stem_channels, stem.kernel_size, stem.stride, **BN)]
        # The separable conv keeps the width (expansion 1) and, like an MBConv, projects linearly;
        # torchvision lays it out as two convs, not as a block, so its weights load unchanged.
        layers += [
            ConvBNAct(first.in_channels, first.in_channels, first.kernel_size, first.stride,
                      groups=first.in_channels, **BN),
            ConvBNAct(first.in_channels, first.out_channels, 1, activation=None, **BN),
        ]
        blocks = iter(blocks)
        for row in stages:  # one nn.Sequential per stage, as torchvision
            layers.append(nn.Sequential(*(
                InvertedResidual.from_config(next(blocks), activation=nn.ReLU, **BN)
                for _ in range(row.repeats))))
        layers.append(ConvBNAct(plan.blocks[-1].out_channels, plan.head_channels, 1, **BN))
        self.features = nn.Sequential(*layers)
        self.num_features = last_conv.out_channels
        self.classifier = nn.Sequential(nn.Dropout(dropout),
                                        nn.Linear(self.num_features, num_classes))
        init_weights(self)
        # torchvision's MNASNet initialises its classifier for a sigmoid output, uniformly.
        nn.init.kaiming_uniform_(self.classifier[-1].weight, mode="fan_out", nonlinearity="sigmoid")


def _reported(params: int, gflops: float, weights: str) -> Reported:
    return Reported(round(params / 1e6, 2), round(gflops * 1000, 1),
                    f"torchvision {weights} (B1; the paper reports A1)")


@register("mnasnet0_5", family="mnasnet", paper="Tan et al. 2019, arXiv:1807.11626",
          reported=_reported(2_218_512, 0.104, "MNASNet0_5_Weights"))
def mnasnet0_5(num_classes: int = 1000, dropout: float = 0.2) -> MnasNet:
    """MnasNet-B1 with depth multiplier 0.5."""
    return MnasNet(num_classes, 0.5, dropout)


@register("mnasnet0_75", family="mnasnet", paper="Tan et al. 2019, arXiv:1807.11626",
          reported=_reported(3_170_208, 0.215, "MNASNet0_75_Weights"))
def mnasnet0_75(num_classes: int = 1000, dropout: float = 0.2) -> MnasNet:
    """MnasNet-B1 with depth multiplier 0.75."""
    return MnasNet(num_classes, 0.75, dropout)


@register("mnasnet1_0", family="mnasnet", paper="Tan et al. 2019, arXiv:1807.11626",
          reported=_reported(4_383_312, 0.314, "MNASNet1_0_Weights"))
def mnasnet1_0(num_classes: int = 1000, dropout: float = 0.2) -> MnasNet:
    """MnasNet-B1 with depth multiplier 1.0."""
    return MnasNet(num_classes, 1.0, dropout)


@register("mnasnet1_3", family="mnasnet", paper="Tan et al. 2019, arXiv:1807.11626",
          reported=_reported(6_282_256, 0.526, "MNASNet1_3_Weights"))
def mnasnet1_3(num_classes: int = 1000, dropout: float = 0.2) -> MnasNet:
    """MnasNet-B1 with depth multiplier 1.3."""
    return MnasNet(num_classes, 1.3, dropout)
