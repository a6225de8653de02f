"""Costing a network without building it: a plan (a list of layer specs) and the closed-form
formulas, so a whole EfficientNet configuration costs in well under a millisecond."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Union

from lightnets._checks import check_int
from lightnets.layers import mbconv_layers
from lightnets.cost.formulas import conv_kind, conv_macs, conv_output_size, linear_macs, se_macs

__all__ = ["ConvSpec", "SESpec", "PoolSpec", "LinearSpec", "LayerSpec", "PlanCost", "cost_plan",
           "inverted_residual_plan", "mbconv_network_plan"]


@dataclass(frozen=True)
class ConvSpec:
    """A k×k convolution (followed by BatchNorm when ``norm``, whose 2·out parameters count)."""

    in_channels: int
    out_channels: int
    kernel_size: int = 1
    stride: int = 1
    groups: int = 1
    norm: bool = True
    padding: Optional[int] = None  # None: "same", (k - 1) // 2


@dataclass(frozen=True)
class SESpec:
    """Squeeze-and-excite on ``channels`` with a ``squeeze_channels`` bottleneck (two biased 1×1
    convs)."""

    channels: int
    squeeze_channels: int


@dataclass(frozen=True)
class PoolSpec:
    """Global average pooling: the map shrinks to 1×1 (free in the paper convention)."""


@dataclass(frozen=True)
class LinearSpec:
    """A fully connected layer with bias."""

    in_features: int
    out_features: int


LayerSpec = Union[ConvSpec, SESpec, PoolSpec, LinearSpec]


@dataclass(frozen=True)
class PlanCost:
    """The paper-convention cost of a plan: MACs, parameters, and MACs per layer type."""

    macs: int
    params: int
    by_type: dict
    resolution: int


def cost_plan(plan: Iterable[LayerSpec], resolution: int, batch: int = 1) -> PlanCost:
    """Cost a network given as a list of layer specs at a square input of side ``resolution``,
    by the closed-form formulas alone: no module is built and no tensor is made, so a whole
    EfficientNet configuration costs in well under a millisecond. The side shrinks through each
    conv's stride (:func:`conv_output_size`); SE works on the current map; :class:`PoolSpec`
    takes it to 1×1. Equals ``profile(model).macs`` for the model the plan describes.
    """
    check_int("resolution", resolution, low=1)
    check_int("batch", batch, low=1)
    side, macs, params = resolution, 0, 0
    by_type: dict = {}
    for spec in plan:
        if isinstance(spec, ConvSpec):
            side = conv_output_size(side, spec.kernel_size, spec.stride, spec.padding)
            if side < 1:
                raise ValueError(
                    f"resolution {resolution} is too small: the map vanishes at {spec}")
            kind = conv_kind(spec.in_channels, spec.out_channels, spec.kernel_size, spec.groups)
            cost = batch * conv_macs(spec.in_channels, spec.out_channels, spec.kernel_size,
                                     spec.groups, side)
            params += (spec.kernel_size ** 2 * spec.in_channels // spec.groups
                       * spec.out_channels)
            # BatchNorm γ and β, or a bias
            params += 2 * spec.out_channels if spec.norm else spec.out_channels
        elif isinstance(spec, SESpec):
            kind, cost = "se", batch * se_macs(spec.channels, spec.squeeze_channels)
            params += (2 * spec.channels * spec.squeeze_channels + spec.channels
                       + spec.squeeze_channels)
        elif isinstance(spec, PoolSpec):
            side = 1
            continue
        elif isinstance(spec, LinearSpec):
            kind, cost = "linear", linear_macs(spec.in_features, spec.out_features, batch)
            params += spec.in_features * spec.out_features + spec.out_features
        else:
            raise ValueError(
                f"plan entries must be ConvSpec, SESpec, PoolSpec or LinearSpec, got {spec!r}")
        macs += cost
        by_type[kind] = by_type.get(kind, 0) + cost
    return PlanCost(macs, params, by_type, resolution)


def inverted_residual_plan(in_channels: int, out_channels: int, expanded_channels: int,
                           kernel_size: int = 3, stride: int = 1,
                           squeeze_channels: Optional[int] = None) -> list:
    """The layers of one inverted residual (MBConv) block as specs, from the same layout
    (:func:`lightnets.layers.mbconv_layers`) that ``InvertedResidual`` builds."""
    return [SESpec(layer.in_channels, layer.out_channels) if layer.role == "se" else
            ConvSpec(layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride,
                     groups=layer.groups)
            for layer in mbconv_layers(in_channels, out_channels, expanded_channels, kernel_size,
                                       stride, squeeze_channels)]


def mbconv_network_plan(stem_channels: int, blocks: Iterable, head_channels: Optional[int],
                        num_classes: int = 1000, in_channels: int = 3, stem_kernel: int = 3,
                        stem_stride: int = 2) -> list:
    """A MobileNetV1 / V2 / MnasNet / EfficientNet-shaped network as a plan: a k×k stem, the
    blocks (objects with ``in_channels, out_channels, expanded_channels, kernel_size, stride`` and
    optionally ``squeeze_channels``; a depthwise-separable layer is a block that does not
    expand), a 1×1 head conv (none when ``head_channels`` is None), global pooling and the
    classifier. A family's ``*_plan`` function (:class:`lightnets.layers.NetworkPlan`) gives the
    three arguments its builder reads."""
    plan: list = [ConvSpec(in_channels, stem_channels, stem_kernel, stem_stride)]
    for block in blocks:
        plan += inverted_residual_plan(block.in_channels, block.out_channels,
                                       block.expanded_channels, block.kernel_size, block.stride,
                                       getattr(block, "squeeze_channels", None))
    last = plan[-1].out_channels
    if head_channels is not None:
        plan.append(ConvSpec(last, head_channels, 1))
        last = head_channels
    return plan + [PoolSpec(), LinearSpec(last, num_classes)]
