"""SqueezeNet (Iandola et al. 2016, "SqueezeNet: AlexNet-level accuracy with 50x fewer parameters
and <0.5MB model size", arXiv:1602.07360v4, the ICLR 2017 submission), laid out as torchvision's
``squeezenet1_0``/``squeezenet1_1``, with §6's simple and complex bypass variants.

No BatchNorm anywhere: every convolution has a bias and a ReLU. There is no fully connected layer
either: a 1×1 convolution to one channel per class, ReLU and global average pooling make the
head (§3.3, after Network-in-Network), so ``forward_head`` is overridden.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

import torch
from torch import nn

from lightnets.layers import ConvBNAct, FireModule
from lightnets.models.base import Network
from lightnets._checks import check_float
from lightnets.models._spec import Reported, register


class Layer(NamedTuple):
    name: str
    output_size: tuple  # (height, width, channels) as printed for the paper's input
    # (kernel, stride) of convs and pools; None for Fire modules
    filter_size_stride: Optional[tuple]
    depth: int  # layers of weights (a Fire module counts 2: squeeze, then expand)
    squeeze_1x1: Optional[int]  # s1x1
    expand_1x1: Optional[int]  # e1x1
    expand_3x3: Optional[int]  # e3x3
    parameters_before_pruning: Optional[int]


# Table 1, "SqueezeNet architectural dimensions", in the paper's columns up to "#parameter before
# pruning" (the sparsity, bit-width and after-pruning columns belong to Deep Compression, not to the
# architecture). Two slips in the table: conv1's 111×111 output is what a 227×227 input gives
# (Caffe's crop), not the 224×224 printed above it — torchvision's 224 px gives 109×109 — and
# maxpool8 is printed 13×12×512 where the next row, fire9, is 13×13×512.
TABLE_1 = (
    Layer("conv1", (111, 111, 96), (7, 2), 1, None, None, None, 14_208),
    Layer("maxpool1", (55, 55, 96), (3, 2), 0, None, None, None, None),
    Layer("fire2", (55, 55, 128), None, 2, 16, 64, 64, 11_920),
    Layer("fire3", (55, 55, 128), None, 2, 16, 64, 64, 12_432),
    Layer("fire4", (55, 55, 256), None, 2, 32, 128, 128, 45_344),
    Layer("maxpool4", (27, 27, 256), (3, 2), 0, None, None, None, None),
    Layer("fire5", (27, 27, 256), None, 2, 32, 128, 128, 49_440),
    Layer("fire6", (27, 27, 384), None, 2, 48, 192, 192, 104_880),
    Layer("fire7", (27, 27, 384), None, 2, 48, 192, 192, 111_024),
    Layer("fire8", (27, 27, 512), None, 2, 64, 256, 256, 188_992),
    Layer("maxpool8", (13, 12, 512), (3, 2), 0, None, None, None, None),  # sic: 13×13
    Layer("fire9", (13, 13, 512), None, 2, 64, 256, 256, 197_184),
    Layer("conv10", (13, 13, 1000), (1, 1), 1, None, None, None, 513_000),
    Layer("avgpool10", (1, 1, 1000), (13, 1), 0, None, None, None, None),
)

# SqueezeNet 1.1 is not in the paper: it is the revision published with the authors' code
# (github.com/forresti/SqueezeNet, SqueezeNet_v1.1/README), "2.4x less computation than 1.0 without
# sacrificing accuracy": conv1 has 64 filters of 3×3, and the max pools move earlier (after conv1,
# fire3 and fire5) so that more Fire modules run on small maps. Same columns as Table 1, the sizes
# worked out for the same 227 px input as the paper's table (our test checks them).
TABLE_1_V1_1 = (
    Layer("conv1", (113, 113, 64), (3, 2), 1, None, None, None, 1_792),
    Layer("maxpool1", (56, 56, 64), (3, 2), 0, None, None, None, None),
    Layer("fire2", (56, 56, 128), None, 2, 16, 64, 64, 11_408),
    Layer("fire3", (56, 56, 128), None, 2, 16, 64, 64, 12_432),
    Layer("maxpool3", (28, 28, 128), (3, 2), 0, None, None, None, None),
    Layer("fire4", (28, 28, 256), None, 2, 32, 128, 128, 45_344),
    Layer("fire5", (28, 28, 256), None, 2, 32, 128, 128, 49_440),
    Layer("maxpool5", (14, 14, 256), (3, 2), 0, None, None, None, None),
    Layer("fire6", (14, 14, 384), None, 2, 48, 192, 192, 104_880),
    Layer("fire7", (14, 14, 384), None, 2, 48, 192, 192, 111_024),
    Layer("fire8", (14, 14, 512), None, 2, 64, 256, 256, 188_992),
    Layer("fire9", (14, 14, 512), None, 2, 64, 256, 256, 197_184),
    Layer("conv10", (14, 14, 1000), (1, 1), 1, None, None, None, 513_000),
    Layer("avgpool10", (1, 1, 1000), (14, 1), 0, None, None, None, None),
)



class Table2Row(NamedTuple):
    cnn: str
    compression: str
    data_type: str  # bits per weight, as printed
    model_size_mb: float
    top1: float  # percent
    top5: float  # percent


# Table 2 (arXiv v4), "Comparing SqueezeNet to model compression approaches": the two SqueezeNet
# rows lesson 08 uses, uncompressed and with Deep Compression at 6 bits (the title's "<0.5MB").
TABLE_2 = (
    Table2Row("SqueezeNet", "None", "32 bit", 4.8, 57.5, 80.3),
    Table2Row("SqueezeNet", "Deep Compression", "6 bit", 0.47, 57.5, 80.3),
)


class Table3Row(NamedTuple):
    architecture: str
    bypass: str  # our builder's argument for it
    top1: float  # percent, ImageNet
    top5: float  # percent
    model_size_mb: float  # uncompressed, as printed (4.8 MB is 1.25 M float32 weights in MiB)


# Table 3 (arXiv v4, §6), "SqueezeNet accuracy and model size using different macroarchitecture
# configurations". Simple bypass: identity around fire3, 5, 7 and 9, whose input and output widths
# match; complex bypass: in addition, a 1×1 conv with as many filters as outputs around the other
# Fire modules. The paper gives no further detail of those 1×1 bypasses (bias, where they start).
TABLE_3 = (
    Table3Row("Vanilla SqueezeNet", "none", 57.5, 80.3, 4.8),
    Table3Row("SqueezeNet + Simple Bypass", "simple", 60.4, 82.5, 4.8),
    Table3Row("SqueezeNet + Complex Bypass", "complex", 58.8, 82.0, 7.7),
)
BYPASS_CHOICES = ("none", "simple", "complex")


class FireBypass(nn.Module):
    """A Fire module with §6's bypass: its output plus its input (simple, an identity "wire") or
    plus a 1×1 convolution of its input (complex, where the widths differ). As in ResNet, the sum
    comes after the Fire module's ReLUs: "the input to Fire4 [is] (output of Fire2 + output of
    Fire3)"."""

    def __init__(self, fire: FireModule, shortcut: Optional[nn.Module] = None) -> None:
        super().__init__()
        self.fire = fire
        self.shortcut = shortcut if shortcut is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fire(x) + self.shortcut(x)


class SqueezeNetPlan(NamedTuple):
    """A table's body as (row, in_channels) pairs, conv1 to fire9, the body's output width and
    the conv10 row."""

    body: tuple
    num_features: int
    conv10: Layer


def squeezenet_plan(table: tuple = TABLE_1) -> SqueezeNetPlan:
    """``table`` (:data:`TABLE_1` or :data:`TABLE_1_V1_1`, or an edit of either) with each row's
    input width. Nothing is rounded: the table prints every width. Checked here: the rows are
    convs, max pools and Fire modules ending with conv10 and the average pool, and a Fire
    module's two expand layers add up to the channels its row prints."""
    if (len(table) < 3 or not table[-2].name.startswith("conv")
            or not table[-1].name.startswith("avgpool")):
        raise ValueError("table must end with its conv10 and avgpool10 rows, as TABLE_1 does")
    body, channels = [], 3
    for row in table[:-2]:
        if not row.name.startswith(("conv", "maxpool", "fire")):
            raise ValueError(f"table's rows must be conv, maxpool or fire layers, got {row.name!r}")
        if row.name.startswith("fire") and row.expand_1x1 + row.expand_3x3 != row.output_size[-1]:
            raise ValueError(f"table's {row.name}: e1x1 + e3x3 = "
                             f"{row.expand_1x1 + row.expand_3x3} must equal its printed "
                             f"{row.output_size[-1]} output channels")
        body.append((row, channels))
        channels = row.output_size[-1]
    return SqueezeNetPlan(tuple(body), channels, table[-2])


class SqueezeNet(Network):
    """SqueezeNet built from a table: conv1, Fire modules and max pools, then the conv10 head."""

    def __init__(self, table: tuple, num_classes: int = 1000, dropout: float = 0.5,
                 bypass: str = "none") -> None:
        super().__init__()
        check_float("dropout", dropout, 0.0, 1.0, high_inclusive=False)
        if bypass not in BYPASS_CHOICES:
            raise ValueError(f"bypass must be one of {BYPASS_CHOICES} (Table 3), got {bypass!r}")
        plan = squeezenet_plan(table)
        layers: list[nn.Module] = []
        for row, channels in plan.body:
            if row.name.startswith("conv"):
                kernel, stride = row.filter_size_stride
                # No padding (Caffe's), so a 224 px input gives a 109 px map in SqueezeNet 1.0.
                layers.append(ConvBNAct(channels, row.output_size[-1], kernel, stride, norm=False,
                                        padding=0))
            elif row.name.startswith("maxpool"):
                kernel, stride = row.filter_size_stride
                layers.append(nn.MaxPool2d(kernel, stride,
                                           ceil_mode=True))  # Caffe rounds pooled sizes up
            else:
                fire = FireModule(channels, row.squeeze_1x1, row.expand_1x1, row.expand_3x3)
                width = row.output_size[-1]
                if bypass != "none" and channels == width:  # §6: a simple bypass is "just a wire"
                    fire = FireBypass(fire)
                elif bypass == "complex":  # widths differ: a 1×1 conv with one filter per output
                    fire = FireBypass(fire, nn.Conv2d(channels, width, 1))
                layers.append(fire)
        conv10, channels = plan.conv10, plan.num_features
        self.features = nn.Sequential(*layers)
        self.num_features = channels
        # §3.3 / torchvision: dropout 50% after fire9, then conv10 with one output per class.
        final_conv = nn.Conv2d(channels, num_classes, conv10.filter_size_stride[0])
        self.classifier = nn.Sequential(nn.Dropout(dropout), final_conv, nn.ReLU(inplace=True),
                                        nn.AdaptiveAvgPool2d(1))
        # torchvision's initialisation: He-uniform convs, zero biases, conv10 ~ N(0, 0.01).
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                if m is final_conv:
                    nn.init.normal_(m.weight, 0.0, 0.01)
                else:
                    nn.init.kaiming_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.classifier(x), 1)


@register(
    "squeezenet1_0",
    family="squeezenet",
    paper="Iandola et al. 2016, arXiv:1602.07360",
    reported=Reported(1.248424, None,
                      "Iandola et al. 2016, Table 1 (parameters; no mult-adds given)"),
)
def squeezenet1_0(num_classes: int = 1000, dropout: float = 0.5,
                  bypass: str = "none") -> SqueezeNet:
    """SqueezeNet 1.0 of Table 1: 1.25 M parameters, AlexNet-level accuracy (Table 2).
    ``bypass``: "none", "simple" or "complex", §6's three macroarchitectures (Table 3)."""
    return SqueezeNet(TABLE_1, num_classes, dropout, bypass)


@register("squeezenet1_1", family="squeezenet",
          paper="Iandola et al. 2016, arXiv:1602.07360; v1.1 from the authors' repository")
def squeezenet1_1(num_classes: int = 1000, dropout: float = 0.5,
                  bypass: str = "none") -> SqueezeNet:
    """SqueezeNet 1.1: the authors' revision with 2.4× less computation than 1.0 (``bypass`` as
    for 1.0; the paper trained its bypass variants on 1.0 only)."""
    return SqueezeNet(TABLE_1_V1_1, num_classes, dropout, bypass)
