"""Closed-form costs of one layer, the formulas a learner reads beside the paper.

Each returns multiply-accumulates (MACs) from shapes alone: nothing is built or run. They give the
same numbers as :func:`lightnets.cost.profile`, which counts what a model actually runs.
"""
from __future__ import annotations

from typing import Optional

from lightnets._checks import check_choice
from lightnets._torch import conv_output_size

__all__ = [
    "CONVENTIONS", "conv_output_size", "standard_conv_macs", "depthwise_conv_macs",
    "pointwise_conv_macs", "grouped_conv_macs", "linear_macs", "se_macs", "conv_macs", "conv_kind",
    "numel",
]

CONVENTIONS = ("paper", "all")


def standard_conv_macs(in_channels: int, out_channels: int, kernel_size: int, out_height: int,
                       out_width: Optional[int] = None) -> int:
    r"""A standard k×k convolution (MobileNetV1 eq. 2):

    .. math:: D_K \cdot D_K \cdot M \cdot N \cdot D_F \cdot D_F

    kernel side :math:`D_K`, ``in_channels`` M, ``out_channels`` N, output map
    :math:`D_F \times D_F`.
    """
    out_width = out_height if out_width is None else out_width
    return kernel_size * kernel_size * in_channels * out_channels * out_height * out_width


def depthwise_conv_macs(channels: int, kernel_size: int, out_height: int,
                        out_width: Optional[int] = None, multiplier: int = 1) -> int:
    r"""A depthwise k×k convolution, one filter per input channel (MobileNetV1 eq. 4;
    eq. 3 is its output):

    .. math:: D_K \cdot D_K \cdot M \cdot D_F \cdot D_F

    (times the channel ``multiplier`` when each channel has more than one filter).
    """
    out_width = out_height if out_width is None else out_width
    return kernel_size * kernel_size * channels * multiplier * out_height * out_width


def pointwise_conv_macs(in_channels: int, out_channels: int, out_height: int,
                        out_width: Optional[int] = None) -> int:
    r"""A 1×1 (pointwise) convolution, the channel mixer: the second term of MobileNetV1
    eq. 5, whose first term is the depthwise cost (eq. 4):

    .. math:: M \cdot N \cdot D_F \cdot D_F
    """
    out_width = out_height if out_width is None else out_width
    return in_channels * out_channels * out_height * out_width


def grouped_conv_macs(in_channels: int, out_channels: int, kernel_size: int, groups: int,
                      out_height: int, out_width: Optional[int] = None) -> int:
    r"""A grouped k×k convolution (ResNeXt, ShuffleNet's grouped 1×1): each output channel sees
    only the M/g input channels of its group,

    .. math:: D_K \cdot D_K \cdot \frac{M}{g} \cdot N \cdot D_F \cdot D_F

    g = 1 is :func:`standard_conv_macs`, g = M = N is :func:`depthwise_conv_macs`.
    """
    if in_channels % groups:
        raise ValueError(f"groups must divide in_channels={in_channels}, got {groups}")
    out_width = out_height if out_width is None else out_width
    per_output = kernel_size * kernel_size * (in_channels // groups)
    return per_output * out_channels * out_height * out_width


def linear_macs(in_features: int, out_features: int, batch: int = 1) -> int:
    r"""A fully connected layer: one multiply-accumulate per weight per sample,

    .. math:: \text{batch} \cdot C_{in} \cdot C_{out}
    """
    return batch * in_features * out_features


def se_macs(channels: int, squeeze_channels: int, height: int = 1, width: int = 1,
            convention: str = "paper") -> int:
    r"""Squeeze-and-excitation on a C×H×W map with a bottleneck of S = ``squeeze_channels``.

    "paper": the two 1×1 convolutions on the pooled 1×1 map, :math:`2 \cdot C \cdot S`.
    "all" adds the pooling (C·H·W adds), both biases (S + C), both activations (S + C) and the
    channel-wise rescaling (C·H·W multiplies):

    .. math:: 2CS + (S + C) + (S + C) + 2CHW
    """
    check_choice("convention", convention, CONVENTIONS)
    macs = 2 * channels * squeeze_channels
    if convention == "all":
        macs += 2 * (squeeze_channels + channels) + 2 * channels * height * width
    return macs


def conv_macs(in_channels: int, out_channels: int, kernel_size: int, groups: int,
              out_height: int, out_width: Optional[int] = None) -> int:
    """Dispatch to the formula of the convolution's type (see :func:`conv_kind`)."""
    kind = conv_kind(in_channels, out_channels, kernel_size, groups)
    if kind == "standard":
        return standard_conv_macs(in_channels, out_channels, kernel_size, out_height, out_width)
    if kind == "pointwise":
        return pointwise_conv_macs(in_channels, out_channels, out_height, out_width)
    if kind == "depthwise":
        return depthwise_conv_macs(in_channels, kernel_size, out_height, out_width,
                                   out_channels // in_channels)
    return grouped_conv_macs(in_channels, out_channels, kernel_size, groups, out_height, out_width)


def conv_kind(in_channels: int, out_channels: int, kernel_size, groups: int) -> str:
    """Name a convolution the way MobileNetV1 §3 does: standard, depthwise, pointwise or grouped."""
    square = kernel_size if isinstance(kernel_size, int) else kernel_size[0] * kernel_size[1]
    if groups == 1:
        return "pointwise" if square == 1 else "standard"
    if groups == in_channels:
        return "depthwise"
    return "grouped"


def numel(shape) -> int:
    """The number of elements of a tensor of ``shape``."""
    total = 1
    for side in shape:
        total *= int(side)
    return total
