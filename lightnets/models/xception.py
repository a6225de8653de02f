"""Xception (Chollet 2017, "Xception: Deep Learning with Depthwise Separable Convolutions", CVPR,
arXiv:1610.02357), laid out as timm's ``legacy_xception`` (the Keras model ported to PyTorch) so
that
its weights load. torchvision has no Xception.

The "extreme Inception" hypothesis (§2): cross-channel and spatial correlations can be mapped
entirely separately, so every Inception module becomes a depthwise separable convolution, and the
network is a linear stack of them with residual connections (36 convolutional layers in 14 modules).
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


class Xception(Network):
    """Xception built from :data:`FIGURE_5`.

    The first residual module has no leading ReLU (its input has just been through the stem's). The
    exit flow's separable convs are followed by BN and ReLU. §4.3: the ImageNet model has dropout
    0.5
    before the logistic regression layer, and no fully connected layer before it (§4.4).
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        check_float("dropout", dropout, 0.0, 1.0, high_inclusive=False)
        layers: list[nn.Module] = []
        channels = 3
        for module in FIGURE_5:
            for _ in range(module.repeats):
                if module.layer == "conv":
                    layers.append(ConvBNAct(channels, module.widths[0], 3, module.stride,
                                            padding=0))
                elif module.layer == "residual":
                    # The first residual module follows the stem's ReLU, so it starts without one.
                    first = not isinstance(layers[-1], XceptionBlock)
                    layers.append(XceptionBlock(channels, module.widths, module.stride,
                                                start_with_relu=not first))
                else:
                    layers.append(SeparableConvBNAct(channels, module.widths[0]))
                channels = module.widths[-1]
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
