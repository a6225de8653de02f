"""The inverted residual (MBConv) and its parts: squeeze-and-excite, stochastic depth, and the
block's layout as data (:func:`mbconv_layers`), which the block builds and the cost plans read.
"""
from __future__ import annotations

from typing import Callable, NamedTuple, Optional

import torch
from torch import nn

from lightnets.layers.blocks import ConvBNAct

__all__ = ["SqueezeExcite", "StochasticDepth", "MBConvLayer", "mbconv_layers", "MBConvConfig",
           "NetworkPlan", "InvertedResidual"]


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


class MBConvLayer(NamedTuple):
    """One layer of an inverted residual block: ``role`` "expand", "depthwise", "se" (then
    ``out_channels`` is the squeeze width) or "project"."""

    role: str
    in_channels: int
    out_channels: int
    kernel_size: int = 1
    stride: int = 1
    groups: int = 1


def mbconv_layers(in_channels: int, out_channels: int, expanded_channels: int,
                  kernel_size: int = 3, stride: int = 1,
                  squeeze_channels: Optional[int] = None) -> list:
    """The layout of one inverted residual (MBConv) block, which :class:`InvertedResidual` builds
    and :func:`lightnets.cost.inverted_residual_plan` costs: a 1×1 expansion (only when it
    widens), the k×k depthwise convolution, optional squeeze-and-excite, the 1×1 projection."""
    layers = []
    if expanded_channels != in_channels:
        layers.append(MBConvLayer("expand", in_channels, expanded_channels))
    layers.append(MBConvLayer("depthwise", expanded_channels, expanded_channels, kernel_size,
                              stride, expanded_channels))
    if squeeze_channels is not None:
        layers.append(MBConvLayer("se", expanded_channels, squeeze_channels))
    layers.append(MBConvLayer("project", expanded_channels, out_channels))
    return layers


class MBConvConfig(NamedTuple):
    """One inverted residual block of a network's plan, in whole channels."""

    in_channels: int
    out_channels: int
    expanded_channels: int
    kernel_size: int = 3
    stride: int = 1
    squeeze_channels: Optional[int] = None


class NetworkPlan(NamedTuple):
    """A stem conv, blocks, and a 1×1 head conv (None: no head conv) in whole channels: what a
    family's builder instantiates and :func:`lightnets.cost.mbconv_network_plan` costs."""

    stem_channels: int
    blocks: list
    head_channels: Optional[int]


class InvertedResidual(nn.Module):
    """The inverted residual with linear bottleneck (MobileNetV2 §3.3, Table 1), a.k.a. MBConv.

    narrow → wide → narrow: a 1×1 expansion to ``expanded_channels`` (skipped when it would not
    widen), a k×k depthwise convolution, optional squeeze-and-excite, and a *linear* 1×1 projection
    back to ``out_channels``. The shortcut joins the narrow bottlenecks, and only when the block
    keeps both resolution and width. MobileNetV3, MnasNet and EfficientNet reuse it with other
    activations, kernels, SE and stochastic depth; ``padding="same_tf"`` pads its convolutions
    as TensorFlow does (:class:`~lightnets.layers.TFSamePad`), for EfficientNet-Lite's weights.
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
        padding: Optional[str] = None,
    ) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        if padding not in (None, "same_tf"):
            raise ValueError(f"padding must be None (symmetric) or 'same_tf', got {padding!r}")
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        self.use_shortcut = stride == 1 and in_channels == out_channels
        conv_options = dict(bn_eps=bn_eps, bn_momentum=bn_momentum, padding=padding)
        layers: list[nn.Module] = []
        for layer in mbconv_layers(in_channels, out_channels, expanded_channels, kernel_size,
                                   stride, squeeze_channels):
            if layer.role == "se":
                layers.append(SqueezeExcite(layer.in_channels, layer.out_channels, se_activation,
                                            se_gate))
            else:
                # MobileNetV2 §3.2: a ReLU in the narrow layer would destroy information, so the
                # projection stays linear.
                act = None if layer.role == "project" else activation
                layers.append(ConvBNAct(layer.in_channels, layer.out_channels, layer.kernel_size,
                                        layer.stride, groups=layer.groups, activation=act,
                                        **conv_options))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = (StochasticDepth(stochastic_depth_prob) if self.use_shortcut
                                 else nn.Identity())

    @classmethod
    def from_config(cls, block, **options) -> "InvertedResidual":
        """The block a plan's :class:`MBConvConfig` (or any object with its fields) describes;
        ``options`` are the activations, BatchNorm settings and stochastic depth."""
        return cls(block.in_channels, block.out_channels, block.expanded_channels,
                   block.kernel_size, block.stride,
                   squeeze_channels=getattr(block, "squeeze_channels", None), **options)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block(x)
        if self.use_shortcut:
            out = x + self.stochastic_depth(out)
        return out
