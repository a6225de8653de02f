"""Xception (Chollet 2017, "Xception: Deep Learning with Depthwise Separable Convolutions", CVPR
2017, arXiv:1610.02357v3), laid out as timm's ``legacy_xception`` (the Keras model ported to
PyTorch) so that its weights load. torchvision has no Xception.

The "extreme Inception" hypothesis (§1.2, Fig. 4): cross-channel and spatial correlations can be
mapped entirely separately, so every Inception module becomes a depthwise separable convolution,
and the network is a linear stack of them with residual connections (36 convolutional layers in 14
modules: 34 depthwise separable and the 2 regular 3×3 convolutions of the entry flow).
"""
from __future__ import annotations

from typing import NamedTuple

from torch import nn

from lightnets.layers import ConvBNAct, SeparableConvBNAct, XceptionBlock
from lightnets.models.base import Network
from lightnets._checks import check_float
from lightnets.models._spec import Reported, register


class Module(NamedTuple):
    flow: str  # "entry", "middle" or "exit"
    layer: str  # "conv" (3×3), "residual" (separable convs with a shortcut) or "separable"
    widths: tuple  # output channels of each convolution, top to bottom in Fig. 5
    stride: int  # "conv": the conv's; "residual": of the 3×3 max pool and the 1×1 shortcut
    repeats: int


# Fig. 5, "The Xception architecture", top to bottom. Every convolution is followed by BatchNorm
# (Fig. 5's caption); a residual module is ReLU → SeparableConv → BN per width, then a 3×3/2 max
# pool
# beside a 1×1/2 shortcut convolution when it downsamples. The stem convs are unpadded (299 → 149 →
# 147).
FIGURE_5 = (
    Module("entry", "conv", (32,), 2, 1),
    Module("entry", "conv", (64,), 1, 1),
    Module("entry", "residual", (128, 128), 2, 1),
    Module("entry", "residual", (256, 256), 2, 1),
    Module("entry", "residual", (728, 728), 2, 1),
    Module("middle", "residual", (728, 728, 728), 1, 8),  # "Repeated 8 times"
    Module("exit", "residual", (728, 1024), 2, 1),
    Module("exit", "separable", (1536,), 1, 1),
    Module("exit", "separable", (2048,), 1, 1),
)
# Fig. 5 ends with global average pooling, "optional fully-connected layer(s)" and logistic
# regression.


# Table 1 (arXiv v3 / CVPR 2017), "Classification performance comparison on ImageNet (single crop,
# single model)": (top-1, top-5) accuracy as fractions, the two rows lesson 08 compares.
TABLE_1 = {"Inception V3": (0.782, 0.941), "Xception": (0.790, 0.945)}
# Table 3 (arXiv v3 / CVPR 2017), "Size and training speed comparison": parameter counts.
TABLE_3_PARAMETERS = {"Inception V3": 23_626_728, "Xception": 22_855_952}

LAYERS = ("conv", "residual", "separable")


class Unit(NamedTuple):
    """One layer of the stack in whole channels, a module of :data:`FIGURE_5` repeated."""

    layer: str
    in_channels: int
    widths: tuple
    stride: int
    start_with_relu: bool  # residual units only: False for the one right after the stem


def xception_plan(figure: tuple = FIGURE_5) -> tuple:
    """``figure`` (:data:`FIGURE_5` by default) unrolled into :class:`Unit`s: each module repeated,
    each unit's input the previous one's last width. The paper prints every width, so nothing is
    rounded; a module with an unknown layer or a width that is not a whole positive number is
    refused here."""
    if not figure:
        raise ValueError("figure must list at least one module, e.g. FIGURE_5")
    units, channels = [], 3
    for module in figure:
        if module.layer not in LAYERS:
            raise ValueError(f"figure's layers must be one of {list(LAYERS)}, got {module.layer!r}")
        if not module.widths or any(isinstance(n, bool) or not isinstance(n, int) or n < 1
                                    for n in (*module.widths, module.repeats)):
            raise ValueError(f"figure's modules need whole positive widths and repeats, got "
                             f"{module!r}")
        for _ in range(module.repeats):
            # The first residual module follows the stem's ReLU, so it starts without one.
            first = not units or units[-1].layer != "residual"
            units.append(Unit(module.layer, channels, tuple(module.widths), module.stride,
                              not first))
            channels = module.widths[-1]
    return tuple(units)


class Xception(Network):
    """Xception built from :data:`FIGURE_5` (or another ``figure`` of the same columns).

    The first residual module has no leading ReLU (its input has just been through the stem's). The
    exit flow's separable convs are followed by BN and ReLU. §4.3: the ImageNet model has dropout
    0.5 before the logistic regression layer, and no fully connected layer before it (§4.4).
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5,
                 figure: tuple = FIGURE_5) -> None:
        super().__init__()
        check_float("dropout", dropout, 0.0, 1.0, high_inclusive=False)
        plan = xception_plan(figure)
        layers: list[nn.Module] = []
        for unit in plan:
            if unit.layer == "conv":
                layers.append(ConvBNAct(unit.in_channels, unit.widths[0], 3, unit.stride,
                                        padding=0))
            elif unit.layer == "residual":
                layers.append(XceptionBlock(unit.in_channels, unit.widths, unit.stride,
                                            start_with_relu=unit.start_with_relu))
            else:
                layers.append(SeparableConvBNAct(unit.in_channels, unit.widths[0]))
        channels = plan[-1].widths[-1]
        self.features = nn.Sequential(*layers)
        self.num_features = channels
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(channels, num_classes))

        # timm's initialisation: He-normal (fan-out) convs, BatchNorm 1/0, PyTorch's default linear.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)


@register(
    "xception",
    family="xception",
    resolution=299,
    paper="Chollet 2017, arXiv:1610.02357",
    reported=Reported(22.855952, None,
                      "Chollet 2017, Table 3 (parameter count; no mult-adds given)"),
)
def xception(num_classes: int = 1000, dropout: float = 0.5) -> Xception:
    """Xception for 299×299 ImageNet images (§4.3; any side >= 7 px works)."""
    return Xception(num_classes, dropout)
