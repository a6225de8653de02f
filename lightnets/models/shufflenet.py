"""ShuffleNet V1 (Zhang et al. 2018, "ShuffleNet: An Extremely Efficient Convolutional Neural
Network
for Mobile Devices", CVPR, arXiv:1707.01083) and ShuffleNet V2 (Ma et al. 2018, "ShuffleNet V2:
Practical Guidelines for Efficient CNN Architecture Design", ECCV, arXiv:1807.11164).

V1 makes the 1×1 convolutions grouped, which is cheap but walls the groups off from each other;
a channel shuffle after the first grouped 1×1 lets information cross the groups. V2 drops grouped
convolutions altogether (guideline G2) and splits the channels instead. V2 is laid out as
torchvision's ``shufflenet_v2_x*`` so that its weights load. torchvision and timm have no V1:
the paper is the reference, and what we chose where it is silent is said below.
"""
from __future__ import annotations

import functools
import math
from typing import NamedTuple, Optional

from torch import nn

from lightnets.layers import ConvBNAct, ShuffleUnitV1, ShuffleUnitV2, make_divisible
from lightnets.models._plan import RoundingRule, check_rounding
from lightnets.models.base import Network, init_weights
from lightnets._checks import check_float
from lightnets.models._spec import Reported, register


class V1Row(NamedTuple):
    layer: str
    output_size: int  # side at 224 px
    kernel_size: Optional[int]
    stride: Optional[int]  # of the stage's first unit; the repeats use stride 1
    repeat: Optional[int]  # units in the stage: 1 with stride 2, then ``repeat - 1`` with stride 1
    g1: Optional[int]  # output channels for g = 1, 2, 3, 4 and 8 groups
    g2: Optional[int]
    g3: Optional[int]
    g4: Optional[int]
    g8: Optional[int]


# ShuffleNet V1, Table 1 ("ShuffleNet architecture"), in the paper's columns: Layer, Output size,
# KSize, Stride, Repeat, Output channels (g groups). Each stage's two printed rows (a stride-2 unit,
# then 3, 7 and 3 stride-1 units) are one row here with ``repeat`` the stage's total (4, 8, 4).
TABLE_1 = (
    V1Row("Conv1", 112, 3, 2, 1, 24, 24, 24, 24, 24),
    V1Row("MaxPool", 56, 3, 2, None, None, None, None, None, None),
    V1Row("Stage2", 28, None, 2, 4, 144, 200, 240, 272, 384),
    V1Row("Stage3", 14, None, 2, 8, 288, 400, 480, 544, 768),
    V1Row("Stage4", 7, None, 2, 4, 576, 800, 960, 1088, 1536),
    V1Row("GlobalPool", 1, 7, None, None, None, None, None, None, None),
    V1Row("FC", 1, None, None, None, 1000, 1000, 1000, 1000, 1000),
)
# Table 1's last row, "Complexity" in MFLOPs (mult-adds) for g = 1, 2, 3, 4, 8 at 1×.
TABLE_1_COMPLEXITY = {1: 143, 2: 140, 3: 137, 4: 133, 8: 137}
GROUPS = (1, 2, 3, 4, 8)


class ShuffleNetV1Plan(NamedTuple):
    """Table 1's column for g groups in whole channels: the stem, then per stage (out_channels,
    units, the first unit's stride)."""

    groups: int
    stem_channels: int
    stages: tuple


def shufflenet_v1_plan(groups: int = 3, width_mult: float = 1.0,
                       round_channels: Optional[RoundingRule] = None) -> ShuffleNetV1Plan:
    """:data:`TABLE_1`'s g-group column at width s = ``width_mult`` (the rules are
    :class:`ShuffleNetV1`'s): each stage's width s times its entry, rounded by ``round_channels``,
    by default to a multiple of 4g (the bottleneck, a quarter of the unit, splits into g groups).
    Checked here: every stage's width must leave each of the g groups a whole share of the
    bottleneck and of a stride-2 unit's branch."""
    if type(groups) is not int or groups not in GROUPS:  # 3.0 is no group count
        raise ValueError(f"groups must be one of {list(GROUPS)} (Table 1), got {groups!r}")
    check_float("width_mult", width_mult, 0.25, 2.0)
    if round_channels is None:
        round_channels = functools.partial(make_divisible, divisor=4 * groups)
    check_rounding(round_channels)
    column = f"g{groups}"
    conv1, _maxpool, *stages, _pool, _fc = TABLE_1
    channels = stem = _round_up(getattr(conv1, column) * 2 ** math.floor(math.log2(width_mult)),
                                groups)
    planned = []
    for row in stages:
        out_channels = round_channels(getattr(row, column) * width_mult)
        if (isinstance(out_channels, bool) or not isinstance(out_channels, int)
                or out_channels < 4 * groups or (out_channels // 4) % groups
                or (out_channels - channels) % groups):
            raise ValueError(f"round_channels must give whole channels that split into {groups} "
                             f"groups (a multiple of 4·g = {4 * groups} does); {row.layer} has "
                             f"{out_channels!r}")
        planned.append((out_channels, row.repeat, row.stride))
        channels = out_channels
    return ShuffleNetV1Plan(groups, stem, tuple(planned))


class ShuffleNetV1(Network):
    """ShuffleNet V1 built from :data:`TABLE_1` for ``groups`` g and width multiplier ``width_mult``
    (s×).

    Where the paper leaves room we chose:
    * §3.3 scales "the number of filters in ShuffleNet 1× by s times". Each stage width is s times
      its Table 1 entry, rounded to a multiple of 4g (the bottleneck, a quarter of it, must split
      into g groups). The 24-filter stem changes only when the width doubles or halves,
      24·2^⌊log₂ s⌋ (then rounded up to a multiple of g, since a stride-2 unit's branch makes
      ``out - in`` channels in g groups): 12 at 0.5×, 24 at 1× and 1.5×, 48 at 2×. That is what the
      authors' released models use (github.com/megvii-model/ShuffleNet-Series, ShuffleNetV1), and it
      reproduces their published 292 MFLOPs for 1.5× (g = 3); scaling the stem to 36 would give 300.
      At 1× nothing is rounded.
    * Initialisation is the house one (He fan-out convs, N(0, 0.01) FC); the paper names none.
    * The FC layer has a bias, like every classifier here.
    """

    def __init__(self, num_classes: int = 1000, groups: int = 3, width_mult: float = 1.0,
                 round_channels: Optional[RoundingRule] = None) -> None:
        super().__init__()
        plan = shufflenet_v1_plan(groups, width_mult, round_channels)
        self.groups, self.width_mult = groups, width_mult
        conv1, maxpool = TABLE_1[:2]
        channels = plan.stem_channels
        layers: list[nn.Module] = [ConvBNAct(3, channels, conv1.kernel_size, conv1.stride),
                                   nn.MaxPool2d(maxpool.kernel_size, maxpool.stride, padding=1)]
        for stage_index, (out_channels, repeat, stride) in enumerate(plan.stages):
            units = []
            for i in range(repeat):
                # §3.3: "we do not apply group convolution on the first pointwise layer [of Stage 2]
                # because the number of input channels is relatively small".
                first_groups = 1 if stage_index == 0 and i == 0 else None
                units.append(ShuffleUnitV1(channels, out_channels, groups,
                                           stride if i == 0 else 1,
                                           first_pointwise_groups=first_groups))
                channels = out_channels
            layers.append(nn.Sequential(*units))
        self.features = nn.Sequential(*layers)
        self.num_features = channels
        self.classifier = nn.Linear(channels, num_classes)
        init_weights(self)


def _round_up(value: float, divisor: int) -> int:
    return max(divisor, math.ceil(value / divisor) * divisor)


@register(
    "shufflenet_v1",
    family="shufflenet",
    paper="Zhang et al. 2018, arXiv:1707.01083",
    reported=Reported(None, 137, "Zhang et al. 2018, Table 1 (1×, g=3; no parameter count given)"),
)
def shufflenet_v1(num_classes: int = 1000, groups: int = 3,
                  width_mult: float = 1.0) -> ShuffleNetV1:
    """ShuffleNet V1 with ``groups`` in {1, 2, 3, 4, 8} (Table 1) and ``width_mult`` in [0.25, 2]
    (the paper's 0.25×, 0.5×, 1×, 1.5×, 2×). g = 3 is the paper's default trade-off (§4.1.1)."""
    return ShuffleNetV1(num_classes, groups, width_mult)


class V2Row(NamedTuple):
    layer: str
    output_size: int  # side at 224 px
    kernel_size: Optional[int]
    stride: Optional[int]  # of the stage's first unit; the repeats use stride 1
    repeat: Optional[int]  # units in the stage (1 + 3, 1 + 7, 1 + 3)
    x0_5: Optional[int]  # output channels at 0.5×, 1×, 1.5× and 2×
    x1_0: Optional[int]
    x1_5: Optional[int]
    x2_0: Optional[int]


# ShuffleNet V2, Table 5 ("Overall architecture of ShuffleNet v2, for four different levels of
# complexities"), in the paper's columns: Layer, Output size, KSize, Stride, Repeat, Output
# channels.
TABLE_5 = (
    V2Row("Conv1", 112, 3, 2, 1, 24, 24, 24, 24),
    V2Row("MaxPool", 56, 3, 2, 1, None, None, None, None),
    V2Row("Stage2", 28, None, 2, 4, 48, 116, 176, 244),
    V2Row("Stage3", 14, None, 2, 8, 96, 232, 352, 488),
    V2Row("Stage4", 7, None, 2, 4, 192, 464, 704, 976),
    V2Row("Conv5", 7, 1, 1, 1, 1024, 1024, 1024, 2048),
    V2Row("GlobalPool", 1, 7, None, None, None, None, None, None),
    V2Row("FC", 1, None, None, None, 1000, 1000, 1000, 1000),
)
# Table 5's last two rows: FLOPs (mult-adds, millions) and # of weights (millions).
TABLE_5_FLOPS = {"x0_5": 41, "x1_0": 146, "x1_5": 299, "x2_0": 591}
TABLE_5_WEIGHTS = {"x0_5": 1.4, "x1_0": 2.3, "x1_5": 3.5, "x2_0": 7.4}


class ShuffleNetV2Plan(NamedTuple):
    """One output-channel column of :data:`TABLE_5`: the stem, then per stage (out_channels, units,
    the first unit's stride), then Conv5's width."""

    stem_channels: int
    stages: tuple
    head_channels: int


def shufflenet_v2_plan(column: str = "x1_0") -> ShuffleNetV2Plan:
    """:data:`TABLE_5`'s ``column`` ("x0_5", "x1_0", "x1_5" or "x2_0"). The paper prints every
    width, so nothing is rounded."""
    if column not in TABLE_5_FLOPS:
        raise ValueError(f"column must be one of {list(TABLE_5_FLOPS)} (Table 5), got {column!r}")
    conv1, _maxpool, *stages, conv5, _pool, _fc = TABLE_5
    return ShuffleNetV2Plan(getattr(conv1, column),
                            tuple((getattr(row, column), row.repeat, row.stride) for row in stages),
                            getattr(conv5, column))


class ShuffleNetV2(Network):
    """ShuffleNet V2 built from one output-channel column of :data:`TABLE_5`, in torchvision's
    layout (conv1, maxpool, stage2-4, conv5, fc) and with PyTorch's default initialisation, as
    torchvision."""

    def __init__(self, column: str, num_classes: int = 1000) -> None:
        super().__init__()
        plan = shufflenet_v2_plan(column)
        conv1, maxpool, *_stages, conv5, _pool, _fc = TABLE_5
        channels = plan.stem_channels
        layers: list[nn.Module] = [ConvBNAct(3, channels, conv1.kernel_size, conv1.stride),
                                   nn.MaxPool2d(maxpool.kernel_size, maxpool.stride, padding=1)]
        for out_channels, repeat, stride in plan.stages:
            units = []
            for i in range(repeat):
                units.append(ShuffleUnitV2(channels, out_channels, stride if i == 0 else 1))
                channels = out_channels
            layers.append(nn.Sequential(*units))
        self.num_features = plan.head_channels
        layers.append(ConvBNAct(channels, self.num_features, conv5.kernel_size))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(self.num_features, num_classes)


def _v2_reported(column: str) -> Reported:
    return Reported(TABLE_5_WEIGHTS[column], TABLE_5_FLOPS[column], "Ma et al. 2018, Table 5")


_V2_PAPER = "Ma et al. 2018, arXiv:1807.11164"


@register("shufflenet_v2_x0_5", family="shufflenet", paper=_V2_PAPER, reported=_v2_reported("x0_5"))
def shufflenet_v2_x0_5(num_classes: int = 1000) -> ShuffleNetV2:
    """ShuffleNet V2 0.5× (Table 5)."""
    return ShuffleNetV2("x0_5", num_classes)


@register("shufflenet_v2_x1_0", family="shufflenet", paper=_V2_PAPER, reported=_v2_reported("x1_0"))
def shufflenet_v2_x1_0(num_classes: int = 1000) -> ShuffleNetV2:
    """ShuffleNet V2 1× (Table 5)."""
    return ShuffleNetV2("x1_0", num_classes)


@register("shufflenet_v2_x1_5", family="shufflenet", paper=_V2_PAPER, reported=_v2_reported("x1_5"))
def shufflenet_v2_x1_5(num_classes: int = 1000) -> ShuffleNetV2:
    """ShuffleNet V2 1.5× (Table 5)."""
    return ShuffleNetV2("x1_5", num_classes)


@register("shufflenet_v2_x2_0", family="shufflenet", paper=_V2_PAPER, reported=_v2_reported("x2_0"))
def shufflenet_v2_x2_0(num_classes: int = 1000) -> ShuffleNetV2:
    """ShuffleNet V2 2× (Table 5)."""
    return ShuffleNetV2("x2_0", num_classes)
