"""Lesson 10's suspects and instruments: networks that deviate from their paper, and the checks
that catch them.

Each builder returns a new network (the one given is never changed): a blog's MobileNetV3
(:func:`blog_mobilenet_v3`), or one deviation at a time (a table edit such as
:func:`flags_exchanged`, or a module swap such as :func:`with_se_gate`). The instruments are the
counts (:class:`Counts`, each network profiled once), the layer table
(:mod:`lightnets.layer_table`) and the outputs with shared weights (:func:`output_gap`).
"""
from __future__ import annotations

import copy
from typing import Callable, Mapping, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from lightnets._checks import check_float, check_int
from lightnets.cost import profile
from lightnets.layers import InvertedResidual, SqueezeExcite

# --- the instruments ------------------------------------------------------------------------------


class Counts:
    """(parameters, MACs) of a network at a resolution, each network profiled once (by identity:
    profile a copy, not a network changed in place after its first count)."""

    def __init__(self) -> None:
        self._measured: dict = {}

    def __call__(self, model: nn.Module, px: int = 224) -> tuple[int, int]:
        key = (id(model), px)
        if key not in self._measured:
            cost = profile(model, (1, 3, px, px))
            self._measured[key] = (model, (cost.params, cost.macs))  # the model keeps its id
        return self._measured[key][1]


def output_gap(reference: nn.Module, suspect: nn.Module, px: int = 224) -> Optional[float]:
    """Largest |Δ logit| over the largest |logit| on two fixed random images, with the
    reference's weights copied into (a copy of) the suspect; None when some tensor has another
    shape, so the weights cannot be shared. Computed on float64 copies in eval mode: the
    caller's networks stay as they are, and the figure does not hinge on float32 rounding."""
    check_int("px", px, low=1, high=4096)
    try:
        suspect = copy.deepcopy(suspect)
        suspect.load_state_dict(reference.state_dict())
    except RuntimeError:
        return None
    x = torch.randn(2, 3, px, px, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    with torch.no_grad():
        a = copy.deepcopy(reference).double().eval()(x)
        b = suspect.double().eval()(x)
    return ((a - b).abs().max() / a.abs().max()).item()


def change_text(new: float, old: float) -> str:
    """"none", or the relative change with one decimal ("+0.1%")."""
    return "none" if new == old else f"{new / old - 1:+.1%}"


def gap_text(gap: Optional[float]) -> str:
    """:func:`output_gap` in words: "shapes differ", "identical" or "46% apart"."""
    return "shapes differ" if gap is None else "identical" if gap == 0 else f"{gap:.0%} apart"


def efficientnet_row(name: str, model: nn.Module, reference: nn.Module, px: int,
                     reference_px: int, counts: Counts, gap_px: int = 64) -> tuple:
    """What each instrument says of an EfficientNet deviation: (name, change in parameters,
    change in MACs, "N rows" of the layer table that differ, the outputs in words).

    The layer table counts the differing rows (kernel, exp size, #out, SE, NL); where the
    expansion convolutions' kernels differ, a column the paper's table leaves implied, every
    block with an expansion differs. The outputs are compared at ``gap_px`` pixels.
    """
    from lightnets.layer_table import expansion_kernels, rows_differing

    (params, macs), (reference_params, reference_macs) = counts(model, px), counts(reference,
                                                                                  reference_px)
    rows = rows_differing(reference, model)
    if expansion_kernels(model) != expansion_kernels(reference):
        rows = len(expansion_kernels(model))
    return (name, change_text(params, reference_params), change_text(macs, reference_macs),
            f"{rows} rows", gap_text(output_gap(reference, model, gap_px)))


# --- deviations as table edits -------------------------------------------------------------------


def flags_exchanged(table: Sequence) -> tuple:
    """A MobileNetV3 table with every bottleneck's RE and HS flags exchanged."""
    swap = {"RE": "HS", "HS": "RE"}
    return tuple(row._replace(nonlinearity=swap[row.nonlinearity]) if row.operator == "bneck"
                 else row for row in table)


def widened(table: Sequence, expansions: Mapping[int, int]) -> tuple:
    """A MobileNetV3 table with each expansion width ``old`` replaced by ``expansions[old]``."""
    return tuple(row._replace(expanded_channels=expansions.get(row.expanded_channels,
                                                               row.expanded_channels))
                 if row.operator == "bneck" else row for row in table)


# --- deviations as module swaps (each on a copy) -------------------------------------------------


def with_se_gate(model: nn.Module, gate: Callable[[], nn.Module]) -> nn.Module:
    """A copy of ``model`` whose squeeze-and-excite blocks gate with ``gate()``."""
    model = copy.deepcopy(model)
    for module in model.modules():
        if isinstance(module, SqueezeExcite):
            module.gate = gate()
    return model


def with_stem_activation(model: nn.Module, activation: Callable[[], nn.Module]) -> nn.Module:
    """A copy of a MobileNet/EfficientNet whose stem (conv, BN, activation) ends in
    ``activation()``."""
    model = copy.deepcopy(model)
    model.features[0][2] = activation()
    return model


def with_expansion_kernel(model: nn.Module, kernel_size: int) -> nn.Module:
    """A copy of an EfficientNet whose 1×1 expansion convolutions are ``kernel_size`` square
    ("same" padding, no bias, as the 1×1 had)."""
    check_int("kernel_size", kernel_size, low=1, high=15)
    if kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd (for 'same' padding), got {kernel_size}")
    model = copy.deepcopy(model)
    for block in model.modules():
        if isinstance(block, InvertedResidual) and len(block.block) == 4:  # expand, dw, SE, proj
            old = block.block[0][0]
            block.block[0][0] = nn.Conv2d(old.in_channels, old.out_channels, kernel_size,
                                          padding=kernel_size // 2, bias=False)
    return model


def drop_rates(model: nn.Module) -> list[float]:
    """Each block's stochastic-depth drop probability (0 where a block has no shortcut)."""
    return [block.stochastic_depth.p if block.use_shortcut else 0.0
            for block in model.modules() if isinstance(block, InvertedResidual)]


def with_constant_drop_rate(model: nn.Module, rate: float) -> nn.Module:
    """A copy of an EfficientNet that drops every residual block with probability ``rate``
    (the official code's schedule grows linearly with the block's depth instead)."""
    check_float("rate", rate, 0.0, 1.0, high_inclusive=False)
    model = copy.deepcopy(model)
    for block in model.modules():
        if isinstance(block, InvertedResidual) and block.use_shortcut:
            block.stochastic_depth.p = rate
    return model


# --- a blog's MobileNetV3 ------------------------------------------------------------------------


def blog_mobilenet_v3(table: Sequence, expansions: Mapping[int, int],
                      width_mult: float = 1.0) -> nn.Module:
    """The suspect of lesson 10: our MobileNetV3 built from ``table`` with four of a blog's
    deviations: RE/HS exchanged, some expansion widths changed, the SE gate an h-swish, and a
    ReLU6 stem whose BatchNorm has int(16 · width) channels (TF's eps and momentum)."""
    from lightnets.models.mobilenet_v3 import MobileNetV3

    model = MobileNetV3(widened(flags_exchanged(table), expansions), width_mult=width_mult)
    stem = model.features[0]
    stem[1] = nn.BatchNorm2d(int(16 * width_mult), eps=0.001, momentum=0.01)
    stem[2] = nn.ReLU6(inplace=True)
    for module in model.modules():
        if isinstance(module, SqueezeExcite):
            module.gate = nn.Hardswish()
    return model


# --- other networks and formulas a blog gets wrong -----------------------------------------------


def efficientnet_from_phi(phi: float) -> tuple[nn.Module, int]:
    """(EfficientNet, input side) with every dimension from the compound rule at ``phi``
    (eq. 3), where the paper's B1–B7 were hand-rounded."""
    from lightnets import scaling
    from lightnets.models.efficientnet import EfficientNet

    depth, width, resolution = scaling.multipliers(phi)
    return (EfficientNet(width_mult=width, depth_mult=depth),
            scaling.scaled_resolution(resolution))


def separable_macs_eq6(layers: Sequence, alpha: float, alpha_on_input: bool = True) -> float:
    """MobileNetV1 eq. 6 summed over the depthwise separable layers of a width-1 profile's
    ``by_layer``: D_K²·αM·D_F² + αM·αN·D_F². ``alpha_on_input=False`` is a blog's misreading,
    M·αN·D_F² for the pointwise part."""
    total = 0.0
    for dw, pw in zip(layers, layers[1:]):
        if dw.kind == "depthwise" and pw.kind == "pointwise":
            m, n, side, kernel = dw.input_shape[1], pw.output_shape[1], dw.output_shape[-1], \
                dw.kernel[0]
            inputs = alpha * m if alpha_on_input else m
            total += kernel * kernel * alpha * m * side ** 2 + inputs * alpha * n * side ** 2
    return total


@torch.no_grad()
def split_inference(block: InvertedResidual, x: torch.Tensor, pieces: int) -> tuple:
    """MobileNetV2 §5.1's memory-saving inference of one bottleneck block (expansion, depthwise,
    projection), its inner tensor cut into ``pieces`` groups of channels: each group is expanded,
    filtered and projected on its own and the projections are summed, so the output and the
    MACs stay and the largest inner tensor shrinks. Returns (output, the largest group's
    channels). The block must be in eval mode (BatchNorm with running statistics)."""
    if block.training:
        raise ValueError("block must be in eval mode: BatchNorm uses its running statistics")
    expand, depthwise, project = block.block
    check_int("pieces", pieces, low=1, high=expand[0].out_channels)
    total, largest = 0, 0
    for part in torch.arange(expand[0].out_channels).chunk(pieces):
        inner = x
        for layer, options in ((expand, {}),
                               (depthwise, {"padding": depthwise[0].padding,
                                            "stride": depthwise[0].stride,
                                            "groups": len(part)})):
            conv, norm = layer[0], layer[1]
            inner = F.conv2d(inner, conv.weight[part], **options)
            inner = F.batch_norm(inner, norm.running_mean[part], norm.running_var[part],
                                 norm.weight[part], norm.bias[part], eps=norm.eps)
            inner = layer[2](inner)
        largest = max(largest, inner.shape[1])
        total = total + F.conv2d(inner, project[0].weight[:, part])
    out = project[1](total)
    return (out + x if block.use_shortcut else out), largest
