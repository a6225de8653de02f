"""MobileNetV3 (Howard et al. 2019, "Searching for MobileNetV3", arXiv:1905.02244), laid out as
torchvision's ``mobilenet_v3_large`` / ``mobilenet_v3_small`` so that their weights load unchanged.

Inverted residuals from MobileNetV2 with three additions, each visible in the tables below:
squeeze-and-excite with a hard-sigmoid gate in some blocks (§5.3), h-swish instead of ReLU in the
deeper half (§5.2), and a cheaper last stage that pools *before* the widest 1×1 layers (§5.1, Fig.
5).
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
    input: tuple  # (side, channels) of the row's input at 224 px, the paper's "224²×3"
    operator: str  # the paper's Operator column, "bneck, 5x5", split into operator ...
    kernel_size: int  # ... and kernel
    expanded_channels: Optional[int]  # "exp size": the width inside the bottleneck
    out_channels: Union[int, str]  # "#out" ("k" stands for the number of classes)
    use_se: bool  # "SE": squeeze-and-excite in this block
    nonlinearity: Optional[str]  # "NL": "HS" (h-swish), "RE" (ReLU) or None ("-")
    stride: int  # "s"


# Table 1, "Specification for MobileNetV3-Large", in the paper's columns
# (Input, Operator, exp size, #out, SE, NL, s). "NBN" marks 1×1 convolutions without BatchNorm.
TABLE_1 = (
    Row((224, 3), "conv2d", 3, None, 16, False, "HS", 2),
    Row((112, 16), "bneck", 3, 16, 16, False, "RE", 1),
    Row((112, 16), "bneck", 3, 64, 24, False, "RE", 2),
    Row((56, 24), "bneck", 3, 72, 24, False, "RE", 1),
    Row((56, 24), "bneck", 5, 72, 40, True, "RE", 2),
    Row((28, 40), "bneck", 5, 120, 40, True, "RE", 1),
    Row((28, 40), "bneck", 5, 120, 40, True, "RE", 1),
    Row((28, 40), "bneck", 3, 240, 80, False, "HS", 2),
    Row((14, 80), "bneck", 3, 200, 80, False, "HS", 1),
    Row((14, 80), "bneck", 3, 184, 80, False, "HS", 1),
    Row((14, 80), "bneck", 3, 184, 80, False, "HS", 1),
    Row((14, 80), "bneck", 3, 480, 112, True, "HS", 1),
    Row((14, 112), "bneck", 3, 672, 112, True, "HS", 1),
    Row((14, 112), "bneck", 5, 672, 160, True, "HS", 2),
    Row((7, 160), "bneck", 5, 960, 160, True, "HS", 1),
    Row((7, 160), "bneck", 5, 960, 160, True, "HS", 1),
    Row((7, 160), "conv2d", 1, None, 960, False, "HS", 1),
    Row((7, 960), "pool", 7, None, None, False, None, 1),
    Row((1, 960), "conv2d NBN", 1, None, 1280, False, "HS", 1),
    Row((1, 1280), "conv2d NBN", 1, None, "k", False, None, 1),
)

# Table 2, "Specification for MobileNetV3-Small", same columns. The paper ticks SE on the 1×1 conv
# to 576 channels; neither the official TF-slim definition nor torchvision has an SE there (and
# torchvision's weights carry none), so the builder follows them: SE only inside bottlenecks.
TABLE_2 = (
    Row((224, 3), "conv2d", 3, None, 16, False, "HS", 2),
    Row((112, 16), "bneck", 3, 16, 16, True, "RE", 2),
    Row((56, 16), "bneck", 3, 72, 24, False, "RE", 2),
    Row((28, 24), "bneck", 3, 88, 24, False, "RE", 1),
    Row((28, 24), "bneck", 5, 96, 40, True, "HS", 2),
    Row((14, 40), "bneck", 5, 240, 40, True, "HS", 1),
    Row((14, 40), "bneck", 5, 240, 40, True, "HS", 1),
    Row((14, 40), "bneck", 5, 120, 48, True, "HS", 1),
    Row((14, 48), "bneck", 5, 144, 48, True, "HS", 1),
    Row((14, 48), "bneck", 5, 288, 96, True, "HS", 2),
    Row((7, 96), "bneck", 5, 576, 96, True, "HS", 1),
    Row((7, 96), "bneck", 5, 576, 96, True, "HS", 1),
    Row((7, 96), "conv2d", 1, None, 576, True, "HS", 1),
    Row((7, 576), "pool", 7, None, None, False, None, 1),
    Row((1, 576), "conv2d NBN", 1, None, 1024, False, "HS", 1),
    Row((1, 1024), "conv2d NBN", 1, None, "k", False, None, 1),
)

NONLINEARITY = {"RE": nn.ReLU, "HS": nn.Hardswish}

# torchvision's BatchNorm settings for MobileNetV3 (TF's decay 0.99 is PyTorch momentum 0.01).
BN = dict(bn_eps=0.001, bn_momentum=0.01)


def squeeze_channels(expanded_channels: int, round_channels: RoundingRule = ROUND_TO_8) -> int:
    """§5.3: the SE bottleneck is a quarter of the expansion layer, rounded by the plan's rule
    (by default to a multiple of 8)."""
    return round_channels(expanded_channels // 4)


class Result(NamedTuple):
    network: str  # the row's name as Table 3 prints it
    top1_percent: float  # ImageNet top-1
    mult_adds_millions: float
    params_millions: float
    pixel1_ms: float  # float latency on a Pixel 1, one large core, batch 1 (TFLite)


# Table 3, "Floating point performance on the Pixel family of phones", as the ICCV 2019 camera-ready
# prints it (CVF open access), in the paper's columns (its Pixel 2 and 3 latencies left out). The
# latest arXiv version (arXiv:1905.02244v5) prints other Small rows, TABLE_3_ARXIV_V5_SMALL: 56 M /
# 2.5 M and 44 M / 2.0 M with Table 2's penultimate layer at 1024, which is the released model
# (torchvision's and ours, 56.5 M / 2.54 M); the camera-ready (and the TF-slim README) count 66 M /
# 2.9 M and 44 M / 2.4 M with 1280 features there. Its other rows were not compared here.
TABLE_3 = (
    Result("V3-Large 1.0", 75.2, 219, 5.4, 51),
    Result("V3-Large 0.75", 73.3, 155, 4.0, 39),
    Result("MnasNet-A1", 75.2, 315, 3.9, 71),
    Result("Proxyless", 74.6, 320, 4.0, 72),
    Result("V2 1.0", 72.0, 300, 3.4, 64),
    Result("V3-Small 1.0", 67.4, 66, 2.9, 15.8),
    Result("V3-Small 0.75", 65.4, 44, 2.4, 12.8),
    Result("Mnas-small", 64.9, 65.1, 1.9, 20.3),
    Result("V2 0.35", 60.8, 59.2, 1.6, 16.6),
)

# The Small rows' (Mult-Adds in millions, parameters in millions) as arXiv:1905.02244v5 prints
# them (Table 3), with a 1024-feature penultimate layer in Table 2: the released model.
TABLE_3_ARXIV_V5_SMALL = {"V3-Small 1.0": (56, 2.5), "V3-Small 0.75": (44, 2.0)}


class NonlinearityResult(NamedTuple):
    variant: str  # the row's name as Table 5 prints it ("h-swish @16": h-swish from 16 channels)
    top1_percent: float  # ImageNet top-1
    pixel1_ms: float  # Pixel 1, one large core, with h-swish implemented as one fused function
    pixel1_ms_naive: float  # the same, with h-swish not optimised ("no-opt")


# Table 5, "Effect of non-linearities on MobileNetV3-Large", as the ICCV 2019 camera-ready prints
# it (the version TABLE_3 reads: V3-Large 1.0 at 51 ms on a Pixel 1), read from a public
# transcription of that version whose Table 3 matches TABLE_3 row by row. An early arXiv version
# (the one whose Table 3 prints 66 ms for V3-Large) had one latency column and other numbers
# (V3 66 ms, ReLU 59 ms, h-swish @16 78 ms, h-swish @112 64 ms): its phone code was slower.
# arXiv v5's Table 5 was not available here to compare.
TABLE_5 = (
    NonlinearityResult("V3-Large 1.0", 75.2, 51.4, 57.5),
    NonlinearityResult("ReLU", 74.5, 50.5, 50.5),
    NonlinearityResult("h-swish @16", 75.4, 53.4, 68.9),
    NonlinearityResult("h-swish @112", 75.0, 51.0, 54.4),
)


class Saving(NamedTuple):
    change: str  # one hand-made change of §5.1, "Redesigning expensive layers"
    pixel1_ms: float  # latency it saved on MobileNetV3-Large, Pixel 1
    mult_adds_millions: float  # Mult-Adds it saved


# §5.1's savings on MobileNetV3-Large in the version with TABLE_3's latencies (ICCV 2019): the
# efficient last stage saves 7 ms, 11% of the running time, and 30 M MAdds; the 16-filter h-swish
# stem 2 ms and 10 M MAdds. (Read from summaries of that version that agree with each other; its
# own text was not available here.) The early arXiv version, read in full, says 10 ms (15%) and
# 3 ms with the same MAdds: its latencies are those of its slower Table 5. Fig. 9 ("impact of
# individual components": MnasNet-A1 + NetAdapt, then each change, as latency against top-1) is a
# plot without printed values in every version we could read, so there is no FIGURE_9 here: its
# points would have to be read off the image.
SECTION_5_1 = (
    Saving("efficient last stage (Fig. 5)", 7, 30),
    Saving("16-filter h-swish stem", 2, 10),
)
SECTION_5_1_LAST_STAGE_SHARE_PERCENT = 11  # "11% of the running time"


class ReleasedResult(NamedTuple):
    checkpoint: str  # the release table's row, e.g. "Large dm=1 (8-bit)"
    mult_adds_millions: float
    params_millions: float
    top1_percent: float
    pixel1_ms: float  # TFLite, one large core of a Pixel 1


# The released checkpoints' table, float and 8-bit side by side: tensorflow/models,
# research/slim/nets/mobilenet/README.md (commit 0ba83cf), "Mobilenet V3 Imagenet Checkpoints"
# (its Pixel 2 and 3 latencies left out). The paper's own quantized table was not available here to
# check against. The README's Small rows count 66 M / 2.9 M, as the ICCV camera-ready does.
RELEASE_SOURCE = ("tensorflow/models, research/slim/nets/mobilenet/README.md (commit 0ba83cf), "
                  "Mobilenet V3 Imagenet Checkpoints; Pixel 1 latencies, one large core")
RELEASED = (
    ReleasedResult("Large dm=1 (float)", 217, 5.4, 75.2, 51.2),
    ReleasedResult("Large dm=1 (8-bit)", 217, 5.4, 73.9, 44),
    ReleasedResult("Large dm=0.75 (float)", 155, 4.0, 73.3, 39.8),
    ReleasedResult("Small dm=1 (float)", 66, 2.9, 67.5, 15.8),
    ReleasedResult("Small dm=1 (8-bit)", 66, 2.9, 64.9, 15.5),
    ReleasedResult("Small dm=0.75 (float)", 44, 2.4, 65.4, 12.8),
)

def mobilenet_v3_plan(table: tuple = TABLE_1, width_mult: float = 1.0,
                      round_channels: RoundingRule = ROUND_TO_8) -> NetworkPlan:
    """A table (:data:`TABLE_1` Large, :data:`TABLE_2` Small) in whole channels at width
    ``width_mult``: widths rounded by ``round_channels`` (by default to multiples of 8), SE a
    quarter of the expansion (§5.3), and the last conv six times the last bottleneck's width
    (960 = 6·160, 576 = 6·96): torchvision keeps that ratio under width_mult rather than rounding
    960·α on its own. The classifier's hidden layer is not in the plan (it follows pooling)."""
    check_float("width_mult", width_mult, 0.0, 4.0, low_inclusive=False)
    check_rounding(round_channels)
    stem, *bottlenecks, last_conv, _pool, _hidden, _logits = table
    channels = stem_channels = round_channels(stem.out_channels * width_mult)
    blocks = []
    for row in bottlenecks:
        expanded = round_channels(row.expanded_channels * width_mult)
        out_channels = round_channels(row.out_channels * width_mult)
        squeeze = squeeze_channels(expanded, round_channels) if row.use_se else None
        blocks.append(MBConvConfig(channels, out_channels, expanded, row.kernel_size, row.stride,
                                   squeeze))
        channels = out_channels
    head = last_conv.out_channels // bottlenecks[-1].out_channels * channels
    return checked_plan(NetworkPlan(stem_channels, blocks, head))


class MobileNetV3(Network):
    """MobileNetV3 built from a table (:data:`TABLE_1` or :data:`TABLE_2`).

    ``features`` holds the stem, the bottlenecks and the 1×1 conv before pooling; ``classifier``
    the two 1×1 "NBN" layers, which act on a 1×1 map and so are fully connected layers
    (``nn.Linear``, as in torchvision), with h-swish and dropout between them.
    """

    def __init__(self, table: tuple, num_classes: int = 1000, width_mult: float = 1.0,
                 dropout: float = 0.2, round_channels: RoundingRule = ROUND_TO_8) -> None:
        super().__init__()
        check_float("dropout", dropout, 0.0, 1.0, high_inclusive=False)  # width: in the plan
        self.width_mult = width_mult

        stem, *bottlenecks, last_conv, _pool, hidden, _logits = table
        plan = mobilenet_v3_plan(table, width_mult, round_channels)
        layers: list[nn.Module] = [
            ConvBNAct(3, plan.stem_channels, stem.kernel_size, stem.stride,
                      activation=NONLINEARITY[stem.nonlinearity], **BN)
        ]
        for row, block in zip(bottlenecks, plan.blocks):
            layers.append(InvertedResidual.from_config(
                block, activation=NONLINEARITY[row.nonlinearity],
                se_activation=nn.ReLU, se_gate=nn.Hardsigmoid, **BN,
            ))
        last_channels = plan.head_channels
        layers.append(ConvBNAct(plan.blocks[-1].out_channels, last_channels, 1,
                                activation=NONLINEARITY[last_conv.nonlinearity], **BN))
        self.features = nn.Sequential(*layers)
        self.num_features = last_channels
        hidden_channels = round_channels(hidden.out_channels * width_mult)
        # §5.1: after pooling, the 1×1 layers see one pixel, so they cost params but few MACs.
        self.classifier = nn.Sequential(
            nn.Linear(last_channels, hidden_channels),
            NONLINEARITY[hidden.nonlinearity](inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden_channels, num_classes),
        )
        init_weights(self)


def _reported(network: str) -> Reported:
    if network in TABLE_3_ARXIV_V5_SMALL:  # the released Small model is the one arXiv v5 counts
        mult_adds, params = TABLE_3_ARXIV_V5_SMALL[network]
        return Reported(params, mult_adds,
                        f"Howard et al. 2019, arXiv:1905.02244v5, Table 3 ({network[3:]})")
    row = next(row for row in TABLE_3 if row.network == network)
    return Reported(row.params_millions, row.mult_adds_millions,
                    f"Howard et al. 2019, ICCV, Table 3 ({network[3:]})")


@register(
    "mobilenet_v3_large",
    family="mobilenet_v3",
    paper="Howard et al. 2019, arXiv:1905.02244",
    reported=_reported("V3-Large 1.0"),
)
def mobilenet_v3_large(num_classes: int = 1000, width_mult: float = 1.0,
                       dropout: float = 0.2) -> MobileNetV3:
    """MobileNetV3-Large (Table 1) with width multiplier ``width_mult`` in (0, 4] (the paper: 0.75,
    1.0)."""
    return MobileNetV3(TABLE_1, num_classes, width_mult, dropout)


@register(
    "mobilenet_v3_small",
    family="mobilenet_v3",
    paper="Howard et al. 2019, arXiv:1905.02244",
    reported=_reported("V3-Small 1.0"),
)
def mobilenet_v3_small(num_classes: int = 1000, width_mult: float = 1.0,
                       dropout: float = 0.2) -> MobileNetV3:
    """MobileNetV3-Small (Table 2) with width multiplier ``width_mult`` in (0, 4] (the paper: 0.75,
    1.0)."""
    return MobileNetV3(TABLE_2, num_classes, width_mult, dropout)
