"""EfficientNet-B0 … B7 (Tan & Le 2019, "EfficientNet: Rethinking Model Scaling for Convolutional
Neural Networks", arXiv:1905.11946), laid out as torchvision's ``efficientnet_b*`` so that their
weights load unchanged, and EfficientNet-Lite0 … Lite4 (tensorflow/tpu, 2020), the same plan bent
for phones: no squeeze-and-excite, ReLU6, stem and head fixed, TensorFlow's padding.

B0 is a searched baseline of MBConv blocks with squeeze-and-excite and swish (SiLU), Table 1.
B1–B7 are B0 grown by one compound coefficient φ (§3.3): depth d = α^φ, width w = β^φ and
resolution r = γ^φ. :func:`efficientnet_plan` turns (w, d) into whole channels and layers; the
builder only instantiates that plan, so the cost of any compound-scaled network can be read from
the plan alone, without building a module.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, NamedTuple, Optional, Union

from torch import nn

from lightnets._checks import check_choice, check_float, check_int
from lightnets.layers import ConvBNAct, InvertedResidual, make_divisible
from lightnets.models._spec import Reported, register
from lightnets.models.base import Network, init_weights

PAPER = "Tan & Le 2019, arXiv:1905.11946"


class Stage(NamedTuple):
    stage: int  # i
    operator: str  # F̂_i, the paper's "MBConv6, k3x3" split into operator ...
    expansion: int  # ... expansion ratio ...
    kernel_size: int  # ... and kernel
    resolution: int  # Ĥ_i × Ŵ_i, the side of the stage's input at 224 px
    channels: Union[int, str]  # Ĉ_i, output channels
    layers: int  # L̂_i, repeats


# Table 1, "EfficientNet-B0 baseline network", in the paper's columns (Stage, Operator, Resolution,
# #Channels, #Layers). The table has no stride column: a stage's stride is its resolution divided
# by the next stage's (224 → 112 is stride 2), which is how the builder reads it.
TABLE_1 = (
    Stage(1, "Conv", 1, 3, 224, 32, 1),
    Stage(2, "MBConv", 1, 3, 112, 16, 1),
    Stage(3, "MBConv", 6, 3, 112, 24, 2),
    Stage(4, "MBConv", 6, 5, 56, 40, 2),
    Stage(5, "MBConv", 6, 3, 28, 80, 3),
    Stage(6, "MBConv", 6, 5, 14, 112, 3),
    Stage(7, "MBConv", 6, 5, 14, 192, 4),
    Stage(8, "MBConv", 6, 3, 7, 320, 1),
    Stage(9, "Conv1x1 & Pooling & FC", 1, 1, 7, 1280, 1),
)


class Variant(NamedTuple):
    width_mult: float  # w = β^φ
    depth_mult: float  # d = α^φ
    resolution: int  # r = γ^φ, as an input side in pixels
    dropout: float
    bn_eps: float
    bn_momentum: float


# The official code's (width, depth, resolution, dropout) per variant (``efficientnet_params``),
# which torchvision repeats. torchvision trained B0–B4 itself with PyTorch's BatchNorm defaults,
# and ported B5–B7 from TensorFlow, whose BatchNorm has eps 1e-3 and decay 0.99 (momentum 0.01).
VARIANTS = {
    "b0": Variant(1.0, 1.0, 224, 0.2, 1e-5, 0.1),
    "b1": Variant(1.0, 1.1, 240, 0.2, 1e-5, 0.1),
    "b2": Variant(1.1, 1.2, 260, 0.3, 1e-5, 0.1),
    "b3": Variant(1.2, 1.4, 300, 0.3, 1e-5, 0.1),
    "b4": Variant(1.4, 1.8, 380, 0.4, 1e-5, 0.1),
    "b5": Variant(1.6, 2.2, 456, 0.4, 1e-3, 0.01),
    "b6": Variant(1.8, 2.6, 528, 0.5, 1e-3, 0.01),
    "b7": Variant(2.0, 3.1, 600, 0.5, 1e-3, 0.01),
}

# Table 2: the paper's parameters (millions) and FLOPS (billions) of each variant
# (arXiv:1905.11946v5, as every result table below; the paper writes FLOPS for these counts).
TABLE_2 = {
    "b0": (5.3, 0.39), "b1": (7.8, 0.70), "b2": (9.2, 1.0), "b3": (12, 1.8),
    "b4": (19, 4.2), "b5": (30, 9.9), "b6": (43, 19), "b7": (66, 37),
}

# Table 2's top-1 ImageNet accuracy (%) of each variant (arXiv:1905.11946v5; Table 8 gives the
# same to two decimals, e.g. B0 77.11).
TABLE_2_TOP1 = {"b0": 77.1, "b1": 79.1, "b2": 80.1, "b3": 81.6, "b4": 82.9, "b5": 83.6,
                "b6": 84.0, "b7": 84.3}


class ScaledResult(NamedTuple):
    scaling: str  # "baseline", "depth", "width", "resolution" or "compound"
    factor: str  # the paper's multipliers, e.g. "d=4" or "d=1.4, w=1.2, r=1.3"
    flops_billions: float
    top1_percent: float


# Table 3, "Scaling Up MobileNets and ResNet" (arXiv:1905.11946v5): each network scaled to about
# the same FLOPS one dimension at a time, or by all three. The paper has no depth-scaled
# MobileNetV1 row.
TABLE_3 = {
    "MobileNetV1": (
        ScaledResult("baseline", "", 0.6, 70.6),
        ScaledResult("width", "w=2", 2.2, 74.2),
        ScaledResult("resolution", "r=2", 2.2, 72.7),
        ScaledResult("compound", "d=1.4, w=1.2, r=1.3", 2.3, 75.6),
    ),
    "MobileNetV2": (
        ScaledResult("baseline", "", 0.3, 72.0),
        ScaledResult("depth", "d=4", 1.2, 76.8),
        ScaledResult("width", "w=2", 1.1, 76.4),
        ScaledResult("resolution", "r=2", 1.2, 74.8),
        ScaledResult("compound", "", 1.3, 77.4),
    ),
    "ResNet-50": (
        ScaledResult("baseline", "", 4.1, 76.0),
        ScaledResult("depth", "d=4", 16.2, 78.1),
        ScaledResult("width", "w=2", 14.7, 77.7),
        ScaledResult("resolution", "r=2", 16.4, 77.5),
        ScaledResult("compound", "", 16.7, 78.8),
    ),
}

# Table 7 (arXiv:1905.11946v5), the B0 models of Fig. 7 and 8, scaled one dimension at a time or
# compound.
TABLE_7 = (
    ScaledResult("baseline", "", 0.4, 77.3),
    ScaledResult("depth", "d=4", 1.8, 79.0),
    ScaledResult("width", "w=2", 1.8, 78.9),
    ScaledResult("resolution", "r=2", 1.9, 79.1),
    ScaledResult("compound", "d=1.4, w=1.2, r=1.3", 1.8, 81.1),
)


# EfficientNet-Lite (tensorflow/tpu, models/official/efficientnet/lite): the official
# ``efficientnet_lite_params`` (width, depth, resolution, dropout), with TensorFlow's BatchNorm
# (eps 1e-3, decay 0.99 = PyTorch momentum 0.01) as its checkpoints were trained and as timm's
# ``tf_efficientnet_lite*`` use.
LITE_VARIANTS = {
    "lite0": Variant(1.0, 1.0, 224, 0.2, 1e-3, 0.01),
    "lite1": Variant(1.0, 1.1, 240, 0.2, 1e-3, 0.01),
    "lite2": Variant(1.1, 1.2, 260, 0.3, 1e-3, 0.01),
    "lite3": Variant(1.2, 1.4, 280, 0.3, 1e-3, 0.01),
    "lite4": Variant(1.4, 1.8, 300, 0.3, 1e-3, 0.01),
}

LITE_SOURCE = ("tensorflow/tpu, models/official/efficientnet/lite/README.md (commit 07e173c), "
               "the table of checkpoints; latencies on a Pixel 4, batch 1, 4 CPU threads")


class LiteResult(NamedTuple):
    params_millions: float
    mult_adds_millions: float
    top1_fp32: float  # ImageNet top-1 (%), float model
    cpu_fp32_ms: float  # Pixel 4 latencies (ms)
    gpu_fp32_ms: float
    gpu_fp16_ms: float
    top1_int8: float  # ImageNet top-1 (%), post-training quantized to int8
    cpu_int8_ms: float
    edgetpu_int8_ms: Optional[float]  # "-" for Lite4 in the README


# The official results table, in the README's columns and units ("1.44B" MAdds → 1440 M).
# The README does not say how it counted MAdds: our count of convolutions and the classifier,
# which equals timm's tf_efficientnet_lite* (tests/references), is 3–6% below it (Lite0: 385.2 M
# against 407 M at 224 px).
LITE_TABLE = {
    "lite0": LiteResult(4.7, 407, 75.1, 12, 9.0, 6.0, 74.4, 6.5, 3.8),
    "lite1": LiteResult(5.4, 631, 76.7, 18, 12, 8.0, 75.9, 9.1, 5.4),
    "lite2": LiteResult(6.1, 899, 77.6, 26, 16, 10, 77.0, 12, 7.9),
    "lite3": LiteResult(8.2, 1440, 79.8, 41, 23, 14, 79.0, 18, 9.7),
    "lite4": LiteResult(13.0, 2640, 81.5, 76, 36, 21, 80.2, 30, None),
}


def round_filters(channels: int, width_mult: float, divisor: int = 8) -> int:
    """``channels × width_mult`` rounded to a multiple of ``divisor`` (official ``round_filters``).

    e.g. B7 (width 2.0) turns B0's 1280 head channels into 2560 and B2 (width 1.1) its 40 into 48.
    """
    check_int("channels", channels, low=1)
    check_float("width_mult", width_mult, 0.0, None, low_inclusive=False)
    check_int("divisor", divisor, low=1)
    return make_divisible(channels * width_mult, divisor)


def round_repeats(repeats: int, depth_mult: float) -> int:
    """``repeats × depth_mult`` rounded up (official ``round_repeats``: ``ceil``), e.g. 3 × 3.1 →
    10."""
    check_int("repeats", repeats, low=1)
    check_float("depth_mult", depth_mult, 0.0, None, low_inclusive=False)
    return int(math.ceil(depth_mult * repeats))


class BlockConfig(NamedTuple):
    """One MBConv block of a (scaled) EfficientNet, in whole channels."""

    in_channels: int
    out_channels: int
    expanded_channels: int
    kernel_size: int
    stride: int
    squeeze_channels: Optional[int]  # None: no squeeze-and-excite (EfficientNet-Lite)
    stage: int  # the Table 1 stage the block belongs to


# The activations a plan may name, in the papers' words: B0's swish (SiLU, §4) and Lite's ReLU6.
ACTIVATIONS = {"swish": nn.SiLU, "relu6": nn.ReLU6}
# "symmetric": PyTorch's (k - 1) // 2 on both sides (torchvision's weights); "same_tf":
# TensorFlow's "SAME", asymmetric on stride 2 (weights converted from TF, EfficientNet-Lite).
PADDINGS = ("symmetric", "same_tf")


@dataclass(frozen=True)
class EfficientNetPlan:
    """Everything an :class:`EfficientNet` is built from, in whole numbers and named options: the
    stem's channels, each MBConv block (:class:`BlockConfig`), the head's channels, and what every
    layer shares (activation, padding, BatchNorm). :func:`efficientnet_plan` makes one from B0's
    Table 1 and checks it; the builder only instantiates it, and the cost of any plan can be read
    without building a module (:func:`lightnets.scaling.network_cost`)."""

    stem_channels: int
    blocks: tuple  # of BlockConfig, in order
    head_channels: int
    activation: str = "swish"  # a key of ACTIVATIONS
    padding: str = "symmetric"  # one of PADDINGS
    bn_eps: float = 1e-5
    bn_momentum: float = 0.1
    width_mult: float = 1.0  # the multipliers the layout was scaled by (a record; the layout
    depth_mult: float = 1.0  # above is what gets built)

    def __post_init__(self) -> None:
        check_int("stem_channels", self.stem_channels, low=1)
        check_int("head_channels", self.head_channels, low=1)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("padding", self.padding, PADDINGS)
        check_float("bn_eps", self.bn_eps, 0.0, 1.0, low_inclusive=False)
        check_float("bn_momentum", self.bn_momentum, 0.0, 1.0)
        check_float("width_mult", self.width_mult, 0.0, 8.0, low_inclusive=False)
        check_float("depth_mult", self.depth_mult, 0.0, 8.0, low_inclusive=False)
        if not isinstance(self.blocks, tuple) or not self.blocks or not all(
                isinstance(b, BlockConfig) for b in self.blocks):
            raise ValueError("blocks must be a non-empty tuple of BlockConfig")
        channels = self.stem_channels
        for index, block in enumerate(self.blocks):
            for field in ("in_channels", "out_channels", "expanded_channels", "kernel_size"):
                check_int(f"blocks[{index}].{field}", getattr(block, field), low=1)
            check_choice(f"blocks[{index}].stride", block.stride, (1, 2))
            if block.in_channels != channels:
                raise ValueError(f"blocks[{index}].in_channels is {block.in_channels}, but the "
                                 f"layer before it gives {channels} channels")
            channels = block.out_channels


def efficientnet_plan(
    width_mult: float = 1.0,
    depth_mult: float = 1.0,
    *,
    squeeze_excite: bool = True,
    activation: str = "swish",
    fixed_stem_head: bool = False,
    fixed_first_last_repeats: bool = False,
    padding: str = "symmetric",
    bn_eps: float = 1e-5,
    bn_momentum: float = 0.1,
    round_channels: Optional[Callable[[int, float], int]] = None,
) -> EfficientNetPlan:
    """The whole-number layout of B0 (Table 1) scaled by width ``width_mult`` and depth
    ``depth_mult``, with the options that make the family's variants.

    Channels go through ``round_channels`` (default :func:`round_filters`: multiples of 8),
    repeats through :func:`round_repeats` (rounded up); every block of a stage but the first keeps
    the stage's width and stride 1. The options are the official code's (``GlobalParams``):
    ``squeeze_excite`` (SE on a quarter of the block's input width), ``activation`` ("swish" or
    "relu6"), ``fixed_stem_head`` (stem 32 and head 1280 whatever the width),
    ``fixed_first_last_repeats`` (the first and last MBConv stages keep one block each),
    ``padding`` ("symmetric" or TF's "same_tf") and BatchNorm's ``bn_eps``/``bn_momentum``.
    EfficientNet-Lite is all of them switched (:func:`efficientnet_lite_plan`).
    """
    check_float("width_mult", width_mult, 0.0, 8.0, low_inclusive=False)
    check_float("depth_mult", depth_mult, 0.0, 8.0, low_inclusive=False)
    for name, flag in (("squeeze_excite", squeeze_excite), ("fixed_stem_head", fixed_stem_head),
                       ("fixed_first_last_repeats", fixed_first_last_repeats)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be True or False, got {flag!r}")
    if round_channels is None:
        round_channels = round_filters  # looked up now, so a patched module function applies
    elif not callable(round_channels):
        raise TypeError(f"round_channels must be a function (channels, width_mult) -> int, got "
                        f"{round_channels!r}")
    stem, *stages, head = TABLE_1
    stem_channels = stem.channels if fixed_stem_head else round_channels(stem.channels, width_mult)
    in_channels = stem_channels
    blocks = []
    for position, (stage, following) in enumerate(zip(stages, stages[1:] + [head])):
        out_channels = round_channels(stage.channels, width_mult)
        fixed = fixed_first_last_repeats and position in (0, len(stages) - 1)
        repeats = stage.layers if fixed else round_repeats(stage.layers, depth_mult)
        for i in range(repeats):
            blocks.append(BlockConfig(
                in_channels, out_channels, in_channels * stage.expansion, stage.kernel_size,
                stage.resolution // following.resolution if i == 0 else 1,
                # SE squeezes to a quarter of the block's *input* width (se_ratio 0.25), not of
                # the expanded width as in MobileNetV3.
                max(1, in_channels // 4) if squeeze_excite else None,
                stage.stage,
            ))
            in_channels = out_channels
    head_channels = head.channels if fixed_stem_head else round_channels(head.channels, width_mult)
    return EfficientNetPlan(stem_channels, tuple(blocks), head_channels, activation, padding,
                            bn_eps, bn_momentum, width_mult, depth_mult)


def efficientnet_lite_plan(width_mult: float = 1.0, depth_mult: float = 1.0) -> EfficientNetPlan:
    """EfficientNet-Lite's plan (tensorflow/tpu ``efficientnet_lite_builder.py``): B0's table
    bent for phones. No squeeze-and-excite ("not well supported for some mobile accelerators"),
    ReLU6 instead of swish ("for easier post-quantization"), stem and head fixed while scaling and
    the first and last stages' repeats unscaled ("for keeping models small and fast"; the
    official model code's ``fix_head_stem``); TF's "SAME" padding and BatchNorm (eps 1e-3,
    decay 0.99), as the weights were trained."""
    return efficientnet_plan(width_mult, depth_mult, squeeze_excite=False, activation="relu6",
                             fixed_stem_head=True, fixed_first_last_repeats=True,
                             padding="same_tf", bn_eps=1e-3, bn_momentum=0.01)


class EfficientNet(Network):
    """An EfficientNet built from a plan (:func:`efficientnet_plan`): a 3×3 stem, MBConv blocks
    grouped by stage (``features[1]`` … ``features[7]``), a 1×1 head conv, pooling, dropout and a
    linear layer.

    Give either ``width_mult``/``depth_mult``/``bn_eps``/``bn_momentum`` (B0's table scaled, SE
    and swish) or a ready ``plan`` (e.g. :func:`efficientnet_lite_plan`), not both.
    Stochastic depth drops block *i* of *N* with probability ``stochastic_depth_prob · i / N``
    (the official drop-connect schedule, which torchvision follows).
    """

    def __init__(
        self,
        num_classes: int = 1000,
        width_mult: float = 1.0,
        depth_mult: float = 1.0,
        resolution: int = 224,
        dropout: float = 0.2,
        stochastic_depth_prob: float = 0.2,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
        plan: Optional[EfficientNetPlan] = None,
    ) -> None:
        super().__init__()
        if plan is None:
            plan = efficientnet_plan(width_mult, depth_mult, bn_eps=bn_eps,
                                     bn_momentum=bn_momentum)
        elif not isinstance(plan, EfficientNetPlan):
            raise TypeError(f"plan must be an EfficientNetPlan, got {type(plan).__name__}")
        elif (width_mult, depth_mult, bn_eps, bn_momentum) != (1.0, 1.0, 1e-5, 0.1):
            raise ValueError("give a plan or width_mult/depth_mult/bn_eps/bn_momentum, not both "
                             "(the plan already holds them)")
        check_float("dropout", dropout, 0.0, 1.0, high_inclusive=False)
        check_float("stochastic_depth_prob", stochastic_depth_prob, 0.0, 1.0, high_inclusive=False)
        self.width_mult, self.depth_mult, self.plan = plan.width_mult, plan.depth_mult, plan
        options = dict(activation=ACTIVATIONS[plan.activation], bn_eps=plan.bn_eps,
                       bn_momentum=plan.bn_momentum,
                       padding="same_tf" if plan.padding == "same_tf" else None)
        stem = TABLE_1[0]
        stem_stride = stem.resolution // TABLE_1[1].resolution
        # Every layer pads, so the trunk runs at any side >= 1 px (``min_resolution`` measures it).
        self.resolution = check_int("resolution", resolution, low=1, high=4096)

        layers: list[nn.Module] = [
            ConvBNAct(3, plan.stem_channels, stem.kernel_size, stem_stride, **options)
        ]
        stages: dict = {}
        for index, block in enumerate(plan.blocks):
            stages.setdefault(block.stage, []).append(InvertedResidual.from_config(
                block, se_activation=ACTIVATIONS[plan.activation], se_gate=nn.Sigmoid,
                stochastic_depth_prob=stochastic_depth_prob * index / len(plan.blocks), **options,
            ))
        layers += [nn.Sequential(*blocks) for blocks in stages.values()]
        layers.append(ConvBNAct(plan.blocks[-1].out_channels, plan.head_channels, 1, **options))
        self.features = nn.Sequential(*layers)
        self.num_features = plan.head_channels
        self.classifier = nn.Sequential(nn.Dropout(dropout),
                                        nn.Linear(plan.head_channels, num_classes))
        init_weights(self)
        # torchvision's EfficientNet draws the classifier uniformly in ±1/sqrt(num_classes).
        bound = 1.0 / math.sqrt(num_classes)
        nn.init.uniform_(self.classifier[-1].weight, -bound, bound)


@register("efficientnet", family="efficientnet", paper=PAPER)
def efficientnet(
    num_classes: int = 1000,
    width_mult: float = 1.0,
    depth_mult: float = 1.0,
    resolution: int = 224,
    dropout: float = 0.2,
    stochastic_depth_prob: float = 0.2,
) -> EfficientNet:
    """Any compound-scaled EfficientNet: B0's Table 1 with width ``width_mult`` and depth
    ``depth_mult`` (each in (0, 8]). ``resolution`` is the native input side the network is meant
    for (stored as ``model.resolution``, used when profiling); the network accepts any input
    >= ``model.min_resolution``. BatchNorm uses PyTorch's defaults, as torchvision's B0–B4.
    """
    return EfficientNet(num_classes, width_mult, depth_mult, resolution, dropout,
                        stochastic_depth_prob)


def _reported(variant: str) -> Reported:
    params_millions, gflops = TABLE_2[variant]
    return Reported(params_millions, round(gflops * 1000, 1), "Tan & Le 2019, Table 2")


def _variant(variant: str, num_classes: int, dropout: float,
             stochastic_depth_prob: float) -> EfficientNet:
    config = VARIANTS[variant]
    return EfficientNet(num_classes, config.width_mult, config.depth_mult, config.resolution,
                        dropout,
                        stochastic_depth_prob, config.bn_eps, config.bn_momentum)


@register("efficientnet_b0", family="efficientnet", resolution=VARIANTS["b0"].resolution,
          paper=PAPER,
          reported=_reported("b0"))
def efficientnet_b0(num_classes: int = 1000, dropout: float = VARIANTS["b0"].dropout,
                    stochastic_depth_prob: float = 0.2) -> EfficientNet:
    """EfficientNet-B0: Table 1 as printed, 224 px."""
    return _variant("b0", num_classes, dropout, stochastic_depth_prob)


@register("efficientnet_b1", family="efficientnet", resolution=VARIANTS["b1"].resolution,
          paper=PAPER,
          reported=_reported("b1"))
def efficientnet_b1(num_classes: int = 1000, dropout: float = VARIANTS["b1"].dropout,
                    stochastic_depth_prob: float = 0.2) -> EfficientNet:
    """EfficientNet-B1: width 1.0, depth 1.1, 240 px."""
    return _variant("b1", num_classes, dropout, stochastic_depth_prob)


@register("efficientnet_b2", family="efficientnet", resolution=VARIANTS["b2"].resolution,
          paper=PAPER,
          reported=_reported("b2"))
def efficientnet_b2(num_classes: int = 1000, dropout: float = VARIANTS["b2"].dropout,
                    stochastic_depth_prob: float = 0.2) -> EfficientNet:
    """EfficientNet-B2: width 1.1, depth 1.2, 260 px (torchvision's weights were evaluated at 288
    px)."""
    return _variant("b2", num_classes, dropout, stochastic_depth_prob)


@register("efficientnet_b3", family="efficientnet", resolution=VARIANTS["b3"].resolution,
          paper=PAPER,
          reported=_reported("b3"))
def efficientnet_b3(num_classes: int = 1000, dropout: float = VARIANTS["b3"].dropout,
                    stochastic_depth_prob: float = 0.2) -> EfficientNet:
    """EfficientNet-B3: width 1.2, depth 1.4, 300 px."""
    return _variant("b3", num_classes, dropout, stochastic_depth_prob)


@register("efficientnet_b4", family="efficientnet", resolution=VARIANTS["b4"].resolution,
          paper=PAPER,
          reported=_reported("b4"))
def efficientnet_b4(num_classes: int = 1000, dropout: float = VARIANTS["b4"].dropout,
                    stochastic_depth_prob: float = 0.2) -> EfficientNet:
    """EfficientNet-B4: width 1.4, depth 1.8, 380 px."""
    return _variant("b4", num_classes, dropout, stochastic_depth_prob)


@register("efficientnet_b5", family="efficientnet", resolution=VARIANTS["b5"].resolution,
          paper=PAPER,
          reported=_reported("b5"))
def efficientnet_b5(num_classes: int = 1000, dropout: float = VARIANTS["b5"].dropout,
                    stochastic_depth_prob: float = 0.2) -> EfficientNet:
    """EfficientNet-B5: width 1.6, depth 2.2, 456 px, TensorFlow's BatchNorm eps/momentum."""
    return _variant("b5", num_classes, dropout, stochastic_depth_prob)


@register("efficientnet_b6", family="efficientnet", resolution=VARIANTS["b6"].resolution,
          paper=PAPER,
          reported=_reported("b6"))
def efficientnet_b6(num_classes: int = 1000, dropout: float = VARIANTS["b6"].dropout,
                    stochastic_depth_prob: float = 0.2) -> EfficientNet:
    """EfficientNet-B6: width 1.8, depth 2.6, 528 px, TensorFlow's BatchNorm eps/momentum."""
    return _variant("b6", num_classes, dropout, stochastic_depth_prob)


@register("efficientnet_b7", family="efficientnet", resolution=VARIANTS["b7"].resolution,
          paper=PAPER,
          reported=_reported("b7"))
def efficientnet_b7(num_classes: int = 1000, dropout: float = VARIANTS["b7"].dropout,
                    stochastic_depth_prob: float = 0.2) -> EfficientNet:
    """EfficientNet-B7: width 2.0, depth 3.1, 600 px, TensorFlow's BatchNorm eps/momentum."""
    return _variant("b7", num_classes, dropout, stochastic_depth_prob)


def _lite_reported(variant: str) -> Reported:
    row = LITE_TABLE[variant]
    return Reported(row.params_millions, row.mult_adds_millions, "EfficientNet-Lite README")


def _lite(variant: str, num_classes: int, dropout: float,
          stochastic_depth_prob: float) -> EfficientNet:
    config = LITE_VARIANTS[variant]
    return EfficientNet(num_classes, resolution=config.resolution, dropout=dropout,
                        stochastic_depth_prob=stochastic_depth_prob,
                        plan=efficientnet_lite_plan(config.width_mult, config.depth_mult))


@register("efficientnet_lite0", family="efficientnet", resolution=LITE_VARIANTS["lite0"].resolution,
          paper=PAPER, reported=_lite_reported("lite0"))
def efficientnet_lite0(num_classes: int = 1000, dropout: float = LITE_VARIANTS["lite0"].dropout,
                       stochastic_depth_prob: float = 0.2) -> EfficientNet:
    """EfficientNet-Lite0: B0 without SE, with ReLU6 and TF padding, 224 px."""
    return _lite("lite0", num_classes, dropout, stochastic_depth_prob)


@register("efficientnet_lite1", family="efficientnet", resolution=LITE_VARIANTS["lite1"].resolution,
          paper=PAPER, reported=_lite_reported("lite1"))
def efficientnet_lite1(num_classes: int = 1000, dropout: float = LITE_VARIANTS["lite1"].dropout,
                       stochastic_depth_prob: float = 0.2) -> EfficientNet:
    """EfficientNet-Lite1: Lite0 with depth 1.1 (first and last stages unscaled), 240 px."""
    return _lite("lite1", num_classes, dropout, stochastic_depth_prob)


@register("efficientnet_lite2", family="efficientnet", resolution=LITE_VARIANTS["lite2"].resolution,
          paper=PAPER, reported=_lite_reported("lite2"))
def efficientnet_lite2(num_classes: int = 1000, dropout: float = LITE_VARIANTS["lite2"].dropout,
                       stochastic_depth_prob: float = 0.2) -> EfficientNet:
    """EfficientNet-Lite2: width 1.1, depth 1.2, stem 32 and head 1280 fixed, 260 px."""
    return _lite("lite2", num_classes, dropout, stochastic_depth_prob)


@register("efficientnet_lite3", family="efficientnet", resolution=LITE_VARIANTS["lite3"].resolution,
          paper=PAPER, reported=_lite_reported("lite3"))
def efficientnet_lite3(num_classes: int = 1000, dropout: float = LITE_VARIANTS["lite3"].dropout,
                       stochastic_depth_prob: float = 0.2) -> EfficientNet:
    """EfficientNet-Lite3: width 1.2, depth 1.4, stem 32 and head 1280 fixed, 280 px."""
    return _lite("lite3", num_classes, dropout, stochastic_depth_prob)


@register("efficientnet_lite4", family="efficientnet", resolution=LITE_VARIANTS["lite4"].resolution,
          paper=PAPER, reported=_lite_reported("lite4"))
def efficientnet_lite4(num_classes: int = 1000, dropout: float = LITE_VARIANTS["lite4"].dropout,
                       stochastic_depth_prob: float = 0.2) -> EfficientNet:
    """EfficientNet-Lite4: width 1.4, depth 1.8, stem 32 and head 1280 fixed, 300 px."""
    return _lite("lite4", num_classes, dropout, stochastic_depth_prob)
