"""The convolution blocks: conv-BN-activation, depthwise-separable, and the blocks of Xception,
ShuffleNet, SqueezeNet and DenseNet.

Each block is a small ``nn.Module`` whose submodules are registered in the same order as the
reference implementations (torchvision, timm), so that a reference state dict maps onto ours
tensor by tensor. The families in ``lightnets.models`` only arrange these blocks; none of them
defines its own convolution-BatchNorm-activation.
"""
from __future__ import annotations

from typing import Callable, Optional, Union

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ActivationLayer", "make_divisible", "tf_same_padding", "TFSamePad", "ConvBNAct",
           "DepthwiseSeparable",
           "SeparableConv2d", "SeparableConvBNAct", "XceptionBlock", "ChannelShuffle",
           "ShuffleUnitV1", "ShuffleUnitV2", "FireModule", "DenseLayer", "DenseBlock", "Transition"]

ActivationLayer = Optional[Callable[..., nn.Module]]


def make_divisible(value: float, divisor: int = 8, min_value: Optional[int] = None) -> int:
    """Round a channel count to the nearest multiple of ``divisor``, never going below 90% of it.

    This is the rounding of the official MobileNet/EfficientNet code (TF-slim ``_make_divisible``):
    hardware kernels like channel counts that are multiples of 8, and the 90% floor stops rounding
    from removing more than a tenth of a layer's width.
    """
    if divisor < 1:
        raise ValueError(f"divisor must be a positive integer, got {divisor}")
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def tf_same_padding(height: int, width: int, kernel_size: int, stride: int) -> tuple:
    """TensorFlow's ``padding="SAME"`` for a k×k convolution of ``stride`` on a height×width map,
    as ``(left, right, top, bottom)`` (the order ``F.pad`` takes).

    TF keeps ``ceil(side / stride)`` outputs and pads ``max((out - 1)·stride + k - side, 0)`` in
    all, the odd pixel at the end (right, bottom). With stride 1 and an odd kernel that is
    PyTorch's symmetric ``(k - 1) // 2``; with stride 2 on an even side it is not: a 3×3/2 conv
    on 224 px pads 0 before and 1 after, where PyTorch's ``padding=1`` pads 1 on both sides and
    so samples every output one pixel to the left of TF's. Weights trained in TF give the same
    outputs only with TF's padding.
    """
    pads = []
    for side in (width, height):
        out = -(-side // stride)  # ceil
        total = max((out - 1) * stride + kernel_size - side, 0)
        pads += [total // 2, total - total // 2]
    return tuple(pads)


class TFSamePad(nn.Module):
    """Zero padding as TensorFlow's "SAME" (:func:`tf_same_padding`), computed from each input's
    size, so that a convolution after it with ``padding=0`` sees what TF's would, at any size.
    """

    def __init__(self, kernel_size: int, stride: int = 1) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = tf_same_padding(x.shape[-2], x.shape[-1], self.kernel_size, self.stride)
        return F.pad(x, pads) if any(pads) else x

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class ConvBNAct(nn.Sequential):
    """Conv2d → BatchNorm2d → activation, the unit every CNN here is made of.

    ``padding`` defaults to "same" for odd kernels, ``(kernel_size - 1) // 2``; the convolution has
    no bias because the BatchNorm after it has one. ``activation=None`` gives a linear layer
    (MobileNetV2's linear bottleneck); ``norm=False`` drops the BatchNorm and restores the bias.

    ``padding="same_tf"`` pads as TensorFlow does (asymmetric on stride 2, :class:`TFSamePad`),
    for weights trained there (EfficientNet-Lite): a k×k layer (k > 1) is then
    ``TFSamePad → Conv2d(padding=0) → BN → act``, so its conv is child 1; a 1×1 layer pads
    nothing in either framework and keeps the usual three children.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        groups: int = 1,
        activation: ActivationLayer = nn.ReLU,
        norm: bool = True,
        padding: Union[int, str, None] = None,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
    ) -> None:
        layers: list[nn.Module] = []
        if padding == "same_tf":
            if kernel_size > 1:
                layers.append(TFSamePad(kernel_size, stride))
            padding = 0
        elif isinstance(padding, str):
            raise ValueError(f"padding must be an int, None or 'same_tf', got {padding!r}")
        elif padding is None:
            padding = (kernel_size - 1) // 2
        layers.append(nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding,
                                groups=groups, bias=not norm))
        if norm:
            layers.append(nn.BatchNorm2d(out_channels, eps=bn_eps, momentum=bn_momentum))
        if activation is not None:
            layers.append(activation(inplace=True) if _takes_inplace(activation) else activation())
        super().__init__(*layers)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.groups = kernel_size, stride, groups


def _takes_inplace(activation: Callable[..., nn.Module]) -> bool:
    return activation in (nn.ReLU, nn.ReLU6, nn.Hardswish, nn.Hardsigmoid, nn.SiLU)


class DepthwiseSeparable(nn.Sequential):
    """MobileNetV1's factorised convolution (Howard et al. 2017, Fig. 3).

    A k×k depthwise convolution filters each input channel on its own, then a 1×1 pointwise
    convolution mixes channels; each is followed by BatchNorm and the activation. Its cost is
    eq. 5 (eq. 4's depthwise cost plus the pointwise one), which is ``1/N + 1/k²`` of a standard
    k×k convolution with N output channels (eq. 2); §3.1 leaves that ratio unnumbered.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        kernel_size: int = 3,
        activation: ActivationLayer = nn.ReLU,
    ) -> None:
        super().__init__(
            ConvBNAct(in_channels, in_channels, kernel_size, stride, groups=in_channels,
                      activation=activation),
            ConvBNAct(in_channels, out_channels, 1, activation=activation),
        )
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride


class SeparableConv2d(nn.Sequential):
    """Xception's separable convolution (Chollet 2017, §2 and Fig. 5): a k×k depthwise convolution
    straight into a 1×1 pointwise one, with *no* BatchNorm or ReLU between them (§4.7, Fig. 10: the
    intermediate non-linearity made Xception worse). Unlike :class:`DepthwiseSeparable` it is one
    layer, normalised and activated only by what surrounds it."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 stride: int = 1) -> None:
        super().__init__(
            nn.Conv2d(in_channels, in_channels, kernel_size, stride, (kernel_size - 1) // 2,
                      groups=in_channels, bias=False),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
        )
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride


class SeparableConvBNAct(nn.Sequential):
    """:class:`SeparableConv2d` → BatchNorm2d → activation (Xception's exit flow, Fig. 5)."""

    def __init__(self, in_channels: int, out_channels: int,
                 activation: ActivationLayer = nn.ReLU) -> None:
        layers: list[nn.Module] = [SeparableConv2d(in_channels, out_channels),
                                   nn.BatchNorm2d(out_channels)]
        if activation is not None:
            layers.append(activation(inplace=True) if _takes_inplace(activation) else activation())
        super().__init__(*layers)
        self.in_channels, self.out_channels = in_channels, out_channels


class XceptionBlock(nn.Module):
    """One residual module of Xception (Chollet 2017, Fig. 5): ``ReLU → SeparableConv → BN``
    repeated,
    then a 3×3/2 max pool when the block downsamples; a 1×1 strided convolution with BN carries the
    shortcut when width or resolution changes, the identity otherwise.

    ``widths`` lists the output channels of each separable convolution in order (Fig. 5 reads them
    top to bottom). ``start_with_relu=False`` drops the first ReLU (the first entry-flow module
    follows the stem's ReLU directly). The shortcut is registered first, as in timm's
    ``legacy_xception``, so that its state dict maps onto ours tensor by tensor.
    """

    def __init__(self, in_channels: int, widths: tuple, stride: int = 1,
                 start_with_relu: bool = True) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        out_channels = widths[-1]
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        self.shortcut = (
            ConvBNAct(in_channels, out_channels, 1, stride, activation=None)
            if stride != 1 or in_channels != out_channels else nn.Identity()
        )
        layers: list[nn.Module] = []
        channels = in_channels
        for i, width in enumerate(widths):
            if i > 0 or start_with_relu:
                # Not in place: the block's input is still needed by the shortcut.
                layers.append(nn.ReLU(inplace=i > 0))
            layers += [SeparableConv2d(channels, width), nn.BatchNorm2d(width)]
            channels = width
        if stride != 1:
            layers.append(nn.MaxPool2d(3, stride, padding=1))
        self.residual = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.residual(x) + self.shortcut(x)


class ChannelShuffle(nn.Module):
    """ShuffleNet's channel shuffle (Zhang et al. 2018, §3.1, Fig. 1c).

    After a grouped convolution each output channel has seen only its own group. Reshaping the
    channels to ``(groups, channels_per_group)``, transposing and flattening deals them out so that
    the next grouped convolution's every group receives channels from every previous group. It is a
    fixed permutation: no parameters, no multiply-accumulates.
    """

    def __init__(self, groups: int) -> None:
        super().__init__()
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
            raise ValueError(f"groups must be an integer >= 1, got {groups!r}")
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        if channels % self.groups:
            raise ValueError(f"channel count {channels} is not divisible by groups={self.groups}")
        x = x.view(batch, self.groups, channels // self.groups, height, width)
        return x.transpose(1, 2).reshape(batch, channels, height, width)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


class ShuffleUnitV1(nn.Module):
    """The ShuffleNet unit (Zhang et al. 2018, §3.2, Fig. 2b/c).

    Residual branch: grouped 1×1 conv → BN → ReLU → channel shuffle → 3×3 depthwise conv (stride 1
    or
    2) → BN (no ReLU: §3.2 follows Chollet) → grouped 1×1 conv → BN. With stride 1 the branch is
    added to the input; with stride 2 the shortcut is a 3×3/2 average pool, *concatenated* with the
    branch, so the branch only produces ``out_channels - in_channels`` channels. ReLU follows the
    join. The bottleneck is a quarter of the unit's output channels (§3.3).
    ``first_pointwise_groups`` lets Stage 2's first unit use an ungrouped 1×1 (§3.3).
    """

    def __init__(
        self, in_channels: int, out_channels: int, groups: int, stride: int = 1,
        first_pointwise_groups: Optional[int] = None,
    ) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        if stride == 1 and in_channels != out_channels:
            raise ValueError(f"a stride-1 unit adds its input, so in_channels ({in_channels}) "
                             f"must equal "
                             f"out_channels ({out_channels})")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.stride, self.groups = stride, groups
        self.bottleneck_channels = out_channels // 4
        branch_channels = out_channels - in_channels if stride == 2 else out_channels
        first_groups = groups if first_pointwise_groups is None else first_pointwise_groups
        self.residual = nn.Sequential(
            ConvBNAct(in_channels, self.bottleneck_channels, 1, groups=first_groups),
            ChannelShuffle(groups),
            ConvBNAct(self.bottleneck_channels, self.bottleneck_channels, 3, stride,
                      groups=self.bottleneck_channels, activation=None),
            ConvBNAct(self.bottleneck_channels, branch_channels, 1, groups=groups, activation=None),
        )
        self.shortcut = nn.AvgPool2d(3, 2, padding=1) if stride == 2 else nn.Identity()
        self.activation = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            return self.activation(self.residual(x) + x)
        return self.activation(torch.cat((self.shortcut(x), self.residual(x)), 1))


class ShuffleUnitV2(nn.Module):
    """The ShuffleNet V2 unit (Ma et al. 2018, §4, Fig. 3c/d), laid out as torchvision's.

    Stride 1 (Fig. 3c): a channel split sends half the channels through untouched (guideline G1/G3)
    and the other half through 1×1 → BN-ReLU → 3×3 depthwise → BN → 1×1 → BN-ReLU; the halves are
    concatenated (no add, G4) and shuffled with 2 groups. Stride 2 (Fig. 3d): no split; both
    branches
    see the whole input, the left one a 3×3/2 depthwise conv → BN → 1×1 → BN-ReLU, so the width
    doubles.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        branch_channels = out_channels // 2
        if stride == 1 and in_channels != 2 * branch_channels:
            raise ValueError(f"a stride-1 unit splits its input in half, so in_channels "
                             f"({in_channels}) must "
                             f"equal out_channels ({out_channels}) and be even")
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        if stride == 2:
            self.branch1 = nn.Sequential(
                ConvBNAct(in_channels, in_channels, 3, stride, groups=in_channels, activation=None),
                ConvBNAct(in_channels, branch_channels, 1),
            )
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            ConvBNAct(in_channels if stride == 2 else branch_channels, branch_channels, 1),
            ConvBNAct(branch_channels, branch_channels, 3, stride, groups=branch_channels,
                      activation=None),
            ConvBNAct(branch_channels, branch_channels, 1),
        )
        self.shuffle = ChannelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            kept, x = x.chunk(2, dim=1)
            out = torch.cat((kept, self.branch2(x)), 1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), 1)
        return self.shuffle(out)


class FireModule(nn.Module):
    """SqueezeNet's Fire module (Iandola et al. 2016, §3.2, Fig. 1).

    A 1×1 *squeeze* layer with few filters (strategy 2: fewer input channels to the 3×3 filters)
    feeds an *expand* layer of 1×1 (strategy 1: cheap) and 3×3 filters side by side, whose outputs
    are concatenated. Every convolution has a bias and a ReLU, and no BatchNorm (the paper predates
    it here). Submodules are named and ordered as torchvision's ``Fire``.
    """

    def __init__(self, in_channels: int, squeeze_channels: int, expand1x1_channels: int,
                 expand3x3_channels: int) -> None:
        super().__init__()
        if squeeze_channels >= expand1x1_channels + expand3x3_channels:
            raise ValueError(f"squeeze_channels ({squeeze_channels}) must be smaller than the "
                             f"expand width "
                             f"({expand1x1_channels + expand3x3_channels}), §3.2")
        self.in_channels = in_channels
        self.out_channels = expand1x1_channels + expand3x3_channels
        self.squeeze = ConvBNAct(in_channels, squeeze_channels, 1, norm=False)
        self.expand1x1 = ConvBNAct(squeeze_channels, expand1x1_channels, 1, norm=False)
        self.expand3x3 = ConvBNAct(squeeze_channels, expand3x3_channels, 3, norm=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.squeeze(x)
        return torch.cat((self.expand1x1(x), self.expand3x3(x)), 1)


class DenseLayer(nn.Module):
    """One layer of a dense block, DenseNet-B's bottleneck form (Huang et al. 2017, §3).

    Pre-activation order, BN → ReLU → Conv (after He et al. 2016): a 1×1 conv to ``bn_size ×
    growth_rate`` channels (4k in the paper) then a 3×3 conv producing ``growth_rate`` (k) new
    feature maps. Names and order are torchvision's ``_DenseLayer`` so its weights load.
    """

    def __init__(self, in_channels: int, growth_rate: int, bn_size: int = 4,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_channels, bn_size * growth_rate, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, 3, padding=1, bias=False)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(self.relu1(self.norm1(x)))
        return self.dropout(self.conv2(self.relu2(self.norm2(x))))


class DenseBlock(nn.Module):
    """A dense block (Huang et al. 2017, §3, Fig. 1, eq. 2): layer ℓ sees the concatenation of the
    block input and every earlier layer's output, ``[x0, x1, …, x(ℓ-1)]``, so the block's output
    has ``in_channels + num_layers × growth_rate`` channels."""

    def __init__(self, num_layers: int, in_channels: int, growth_rate: int, bn_size: int = 4,
                 dropout: float = 0.0, memory_efficient: bool = False) -> None:
        super().__init__()
        for i in range(num_layers):
            self.add_module(f"denselayer{i + 1}",
                            DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size,
                                       dropout))
        self.in_channels, self.out_channels = in_channels, in_channels + num_layers * growth_rate
        self.memory_efficient = bool(memory_efficient)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.children():
            if self.memory_efficient and torch.is_grad_enabled():
                features.append(_checkpointed_layer(layer, features))
            else:
                features.append(layer(torch.cat(features, 1)))
        return torch.cat(features, 1)


def _checkpointed_layer(layer: DenseLayer, features: list) -> torch.Tensor:
    """A dense layer that keeps only its k-channel inputs for backward (Pleiss et al. 2017, §3).

    Concatenation → BN → ReLU → 1×1 conv makes two tensors as wide as everything before the layer;
    stored for every layer they grow quadratically with depth. Under ``torch.utils.checkpoint``
    they are dropped after the forward pass and recomputed in the backward pass (the 1×1 conv
    runs twice). The recomputation normalises with the batch statistics again but must not move
    BN's running averages a second time, so it calls ``batch_norm`` with momentum 0: the averages
    stay exactly as the forward pass left them ((1 − 0)·r + 0·batch = r).
    """
    from torch.utils.checkpoint import checkpoint

    calls = []

    def bottleneck(*inputs: torch.Tensor) -> torch.Tensor:
        x = torch.cat(inputs, 1)
        norm = layer.norm1
        if calls and norm.training:  # the recomputation in backward
            x = F.batch_norm(x, norm.running_mean, norm.running_var, norm.weight, norm.bias, True,
                             0.0, norm.eps)
        else:
            x = norm(x)
        calls.append(True)
        return layer.conv1(layer.relu1(x))

    x = checkpoint(bottleneck, *features, use_reentrant=False)
    return layer.dropout(layer.conv2(layer.relu2(layer.norm2(x))))


class Transition(nn.Sequential):
    """DenseNet's transition layer (Huang et al. 2017, §3 "Pooling layers"): BN → ReLU → 1×1 conv
    (to θ·m channels, compression θ, DenseNet-C) → 2×2 average pooling with stride 2."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(in_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.pool = nn.AvgPool2d(2, 2)
        self.in_channels, self.out_channels = in_channels, out_channels
