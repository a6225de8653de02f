"""The building blocks shared by every lightnets family.

Each block is a small ``nn.Module`` whose submodules are registered in the same order as the
reference implementations (torchvision, timm), so that a reference state dict maps onto ours
tensor by tensor. The families in ``lightnets.models`` only arrange these blocks; none of them
defines its own convolution-BatchNorm-activation.
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
from torch import nn

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


class ConvBNAct(nn.Sequential):
    """Conv2d → BatchNorm2d → activation, the unit every CNN here is made of.

    ``padding`` defaults to "same" for odd kernels, ``(kernel_size - 1) // 2``; the convolution has
    no bias because the BatchNorm after it has one. ``activation=None`` gives a linear layer
    (MobileNetV2's linear bottleneck); ``norm=False`` drops the BatchNorm and restores the bias.
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
        padding: Optional[int] = None,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
    ) -> None:
        if padding is None:
            padding = (kernel_size - 1) // 2
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, groups=groups, bias=not norm)
        ]
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
    ``1/N + 1/k²`` of a standard k×k convolution with N output channels (eq. 5).
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
            ConvBNAct(in_channels, in_channels, kernel_size, stride, groups=in_channels, activation=activation),
            ConvBNAct(in_channels, out_channels, 1, activation=activation),
        )
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation (Hu et al. 2018) as used inside MobileNetV3 and EfficientNet blocks.

    Global average pooling squeezes each channel to one number; two 1×1 convolutions (a bottleneck
    of ``squeeze_channels``) and a gate turn those into per-channel weights that rescale the input.
    """

    def __init__(
        self,
        channels: int,
        squeeze_channels: int,
        activation: Callable[..., nn.Module] = nn.ReLU,
        gate: Callable[..., nn.Module] = nn.Sigmoid,
    ) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, channels, 1)
        self.activation = activation()
        self.gate = gate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.gate(self.fc2(self.activation(self.fc1(self.avgpool(x)))))
        return x * scale


class StochasticDepth(nn.Module):
    """Drop a residual branch for whole samples during training (Huang et al. 2016).

    Each sample's branch survives with probability ``1 - p`` and is scaled by ``1 / (1 - p)`` so
    that its expected value is unchanged; at evaluation the branch passes through untouched.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"stochastic depth probability p must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f"p={self.p}"


class InvertedResidual(nn.Module):
    """The inverted residual with linear bottleneck (MobileNetV2 §3.3, Table 1), a.k.a. MBConv.

    narrow → wide → narrow: a 1×1 expansion to ``expanded_channels`` (skipped when it would not
    widen), a k×k depthwise convolution, optional squeeze-and-excite, and a *linear* 1×1 projection
    back to ``out_channels``. The shortcut joins the narrow bottlenecks, and only when the block
    keeps both resolution and width. MobileNetV3, MnasNet and EfficientNet reuse it with other
    activations, kernels, SE and stochastic depth.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        expanded_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        activation: Callable[..., nn.Module] = nn.ReLU6,
        squeeze_channels: Optional[int] = None,
        se_activation: Callable[..., nn.Module] = nn.ReLU,
        se_gate: Callable[..., nn.Module] = nn.Sigmoid,
        stochastic_depth_prob: float = 0.0,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
    ) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        self.use_shortcut = stride == 1 and in_channels == out_channels
        bn = dict(bn_eps=bn_eps, bn_momentum=bn_momentum)
        layers: list[nn.Module] = []
        if expanded_channels != in_channels:
            layers.append(ConvBNAct(in_channels, expanded_channels, 1, activation=activation, **bn))
        layers.append(
            ConvBNAct(expanded_channels, expanded_channels, kernel_size, stride,
                      groups=expanded_channels, activation=activation, **bn)
        )
        if squeeze_channels is not None:
            layers.append(SqueezeExcite(expanded_channels, squeeze_channels, se_activation, se_gate))
        # MobileNetV2 §3.2: a ReLU in the narrow layer would destroy information, so it stays linear.
        layers.append(ConvBNAct(expanded_channels, out_channels, 1, activation=None, **bn))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob) if self.use_shortcut else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block(x)
        if self.use_shortcut:
            out = x + self.stochastic_depth(out)
        return out
