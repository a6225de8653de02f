"""What a network costs: parameters and multiply-accumulates (MACs), layer by layer, and time.

Two counting conventions (``profile(..., convention=...)``):

``"paper"`` (the default)
    One multiply-accumulate per weight use in a convolution or a fully connected layer, and
    nothing else: BatchNorm is folded into the convolution before it, activations, pooling and
    element-wise adds are free, a bias is free. These are the papers' "Mult-Adds" (MobileNetV1
    §3, Table 2) and torchvision's published "GFLOPS" (the ``_ops`` of its weights, which are
    GMACs). Convolutions inside a squeeze-and-excite block count, as type ``"se"``.

``"all"``
    Every arithmetic operation of the inference graph, one per element:
    conv / linear as above; a bias add 1 per output element; BatchNorm 1 per element (the
    scale-and-shift y = a·x + b it folds into is one multiply-add); an activation 1 per element;
    SE's channel-wise multiply and residual adds 1 per output element; pooling 1 per element of
    each window (average: an add, max: a compare). Concatenation, channel shuffle, reshapes and
    dropout at inference move memory and cost 0.

Counting needs shapes, not numbers, so the forward pass runs on meta tensors: no memory is
allocated and no arithmetic is done. A ``TorchDispatchMode`` sees every ATen operation the model
runs, from modules and functional code alike (``x + y``, ``torch.cat``, ``F.relu``); forward
hooks name the module each operation ran in. The closed-form formulas below
(:func:`standard_conv_macs` ...) give the same numbers without running anything, and
:func:`cost_plan` costs a network described as a list of layers without building it.

Other counters print other numbers for the same network. :func:`tool_counts` rebuilds what
thop, ptflops, fvcore, torchinfo and ``torch.utils.flop_counter`` report from our "all" rows,
under each tool's rules (``ToolCount.rules``), so every gap from the papers has a cause and a
size: BatchNorm counted (2 or 4 per element), ReLU counted twice (ptflops), SE's multiply and
residual adds skipped (operators no module hook sees), biases added, or 2 FLOPs per MAC.

``input_size`` is (batch, channels, height, width); a model with another input rank says so with
an ``input_rank`` attribute, and one with a ``min_resolution`` attribute rejects smaller inputs.
:func:`latency` measures time, which MACs do not predict.
"""
from __future__ import annotations

import copy
import statistics
import time
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence, Union

import torch
from torch import nn
from torch.func import functional_call
from torch.utils._python_dispatch import TorchDispatchMode

from lightnets._checks import check_choice, check_int

CONVENTIONS = ("paper", "all")

# Modules whose every operation counts as type "se": ours, torchvision's and timm's spellings.
SE_MODULE_NAMES = ("SqueezeExcite", "SqueezeExcitation", "SEModule")


# --- closed-form formulas ------------------------------------------------------------------------


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: Optional[int] = None,
                     dilation: int = 1) -> int:
    r"""Side of a convolution's (or pooling's) output.

    .. math:: H_{out} = \left\lfloor \frac{H + 2p - d(k - 1) - 1}{s} \right\rfloor + 1

    with "same" padding :math:`p = \lfloor (k - 1)/2 \rfloor` when ``padding`` is None.
    """
    if padding is None:
        padding = (kernel_size - 1) // 2
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def standard_conv_macs(in_channels: int, out_channels: int, kernel_size: int, out_height: int,
                       out_width: Optional[int] = None) -> int:
    r"""A standard k×k convolution (MobileNetV1 eq. 2):

    .. math:: D_K \cdot D_K \cdot M \cdot N \cdot D_F \cdot D_F

    kernel side :math:`D_K`, ``in_channels`` M, ``out_channels`` N, output map :math:`D_F \times D_F`.
    """
    out_width = out_height if out_width is None else out_width
    return kernel_size * kernel_size * in_channels * out_channels * out_height * out_width


def depthwise_conv_macs(channels: int, kernel_size: int, out_height: int,
                        out_width: Optional[int] = None, multiplier: int = 1) -> int:
    r"""A depthwise k×k convolution, one filter per input channel (MobileNetV1 eq. 3):

    .. math:: D_K \cdot D_K \cdot M \cdot D_F \cdot D_F

    (times the channel ``multiplier`` when each channel has more than one filter).
    """
    out_width = out_height if out_width is None else out_width
    return kernel_size * kernel_size * channels * multiplier * out_height * out_width


def pointwise_conv_macs(in_channels: int, out_channels: int, out_height: int,
                        out_width: Optional[int] = None) -> int:
    r"""A 1×1 (pointwise) convolution, the channel mixer of MobileNetV1 eq. 4:

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
    return kernel_size * kernel_size * (in_channels // groups) * out_channels * out_height * out_width


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


def conv_macs(in_channels: int, out_channels: int, kernel_size: int, groups: int, out_height: int,
              out_width: Optional[int] = None) -> int:
    """Dispatch to the formula of the convolution's type (see :func:`conv_kind`)."""
    kind = conv_kind(in_channels, out_channels, kernel_size, groups)
    if kind == "standard":
        return standard_conv_macs(in_channels, out_channels, kernel_size, out_height, out_width)
    if kind == "pointwise":
        return pointwise_conv_macs(in_channels, out_channels, out_height, out_width)
    if kind == "depthwise":
        return depthwise_conv_macs(in_channels, kernel_size, out_height, out_width, out_channels // in_channels)
    return grouped_conv_macs(in_channels, out_channels, kernel_size, groups, out_height, out_width)


def conv_kind(in_channels: int, out_channels: int, kernel_size, groups: int) -> str:
    """Name a convolution the way MobileNetV1 §3 does: standard, depthwise, pointwise or grouped."""
    square = kernel_size if isinstance(kernel_size, int) else kernel_size[0] * kernel_size[1]
    if groups == 1:
        return "pointwise" if square == 1 else "standard"
    if groups == in_channels:
        return "depthwise"
    return "grouped"


def conv_type(conv: nn.Conv2d) -> str:
    """:func:`conv_kind` of an ``nn.Conv2d``."""
    return conv_kind(conv.in_channels, conv.out_channels, tuple(conv.kernel_size), conv.groups)


# --- the measured count ------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerCost:
    """One counted operation: where it ran, what it is, and what it costs.

    ``type`` is what the per-type totals group by: "standard", "depthwise", "pointwise",
    "grouped", "linear", "se" (anything inside a squeeze-and-excite block), and in the "all"
    convention also "batchnorm", "activation", "pooling", "add", "multiply", "bias".
    ``op`` is the arithmetic itself ("conv", "linear", "bias", "batchnorm", "activation",
    "pooling", "add", "multiply"), so an SE block's pieces stay distinguishable.
    ``module`` is the class of the innermost module it ran in (``"ReLU"``, ``"InvertedResidual"``).
    """

    name: str
    type: str
    output_shape: tuple
    params: int
    macs: int
    op: str = "conv"
    input_shape: tuple = ()
    kernel: Optional[tuple] = None
    groups: Optional[int] = None
    module: str = ""
    detail: str = ""  # the ATen operator, or the activation's name
    weights: int = 0  # the weight tensor alone, without bias: what MobileNetV1 Table 2 counts


@dataclass
class Profile:
    """The cost of a model at one input size; ``by_layer`` holds the rows that make up ``macs``."""

    params: int
    macs: int
    input_size: tuple
    by_layer: list = field(default_factory=list)
    convention: str = "paper"

    @property
    def by_type(self) -> dict:
        """MACs summed per layer type, in order of first appearance."""
        return _totals(self.by_layer, "type")

    @property
    def by_op(self) -> dict:
        """MACs (operations, in "all") summed per kind of arithmetic, in order of first appearance."""
        return _totals(self.by_layer, "op")

    @property
    def params_by_type(self) -> dict:
        """Parameters summed per layer type (the weights of the counted rows)."""
        return _totals(self.by_layer, "type", value="params", skip_zero=True)

    @property
    def weights_by_type(self) -> dict:
        """Weights (no biases, no BatchNorm) per layer type: MobileNetV1 Table 2's "Parameters"."""
        return _totals(self.by_layer, "type", value="weights", skip_zero=True)

    def shares(self) -> dict:
        """Each type's fraction of ``macs`` (MobileNetV1 Table 2's "Mult-Adds" column)."""
        return {kind: macs / self.macs for kind, macs in self.by_type.items()}

    def table(self, max_rows: Optional[int] = 20) -> str:
        """A fixed-width text table: the largest layers first, then the per-type totals."""
        return format_profile(self, max_rows)


def _totals(rows: Iterable[LayerCost], key: str, value: str = "macs", skip_zero: bool = False) -> dict:
    totals: dict = {}
    for row in rows:
        amount = getattr(row, value)
        if amount or not skip_zero:
            totals[getattr(row, key)] = totals.get(getattr(row, key), 0) + amount
    return totals


def _numel(shape: Sequence[int]) -> int:
    total = 1
    for side in shape:
        total *= int(side)
    return total


_ACTIVATIONS = {
    "relu", "relu_", "relu6", "hardtanh", "hardtanh_", "hardswish", "hardswish_", "hardsigmoid",
    "hardsigmoid_", "sigmoid", "sigmoid_", "silu", "silu_", "gelu", "gelu_", "tanh", "tanh_",
    "elu", "elu_", "leaky_relu", "leaky_relu_", "prelu", "_prelu_kernel", "mish", "mish_",
    "softplus", "_softmax", "_log_softmax",
}
_BATCHNORMS = {"native_batch_norm", "_native_batch_norm_legit", "_native_batch_norm_legit_no_training",
               "batch_norm", "cudnn_batch_norm", "miopen_batch_norm"}
_ELEMENTWISE = {"add": "add", "add_": "add", "sub": "add", "sub_": "add",
                "mul": "multiply", "mul_": "multiply", "div": "multiply", "div_": "multiply"}
_POOLS = {"avg_pool2d", "max_pool2d", "max_pool2d_with_indices", "_adaptive_avg_pool2d",
          "adaptive_avg_pool2d", "adaptive_max_pool2d", "mean", "avg_pool1d", "max_pool1d"}
_MATMULS = {"addmm", "mm", "bmm", "baddbmm"}


class _Counter(TorchDispatchMode):
    """Records one :class:`LayerCost` per ATen operation that does arithmetic."""

    def __init__(self, stack: list, convention: str) -> None:
        super().__init__()
        self.stack, self.convention, self.rows = stack, convention, []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = func.overloadpacket.__name__
        if name in ("native_batch_norm", "_native_batch_norm_legit_no_training") and not _bn_training(name, args):
            # Inference BatchNorm keeps its input's shape; torch's meta kernel for it is a slow Python
            # decomposition (half of profile's time on EfficientNet-B7), so produce the shapes directly.
            x = args[0]
            out = (torch.empty_like(x), x.new_empty((0,)), x.new_empty((0,)))
        else:
            out = func(*args, **kwargs)
        if name in ("convolution", "_convolution"):
            self._conv(args, out)
        elif name in _MATMULS:
            self._matmul(name, args, out)
        elif self.convention == "all":
            self._other(name, func, args, kwargs, out)
        return out

    def _where(self) -> tuple:
        if not self.stack:
            return "", "", False
        name, module = self.stack[-1]
        in_se = any(type(m).__name__ in SE_MODULE_NAMES for _, m in self.stack)
        return name, type(module).__name__, in_se

    def _add(self, op: str, kind: str, inputs, out, macs: int, params: int = 0, **extra) -> None:
        name, module, in_se = self._where()
        self.rows.append(LayerCost(
            name=name, type="se" if in_se else kind, output_shape=tuple(out.shape), params=params,
            macs=int(macs), op=op, input_shape=tuple(inputs.shape), module=module, **extra))

    def _conv(self, args, out) -> None:
        x, weight, bias = args[0], args[1], args[2]
        groups = int(args[8]) if len(args) > 8 else 1
        kernel = tuple(int(k) for k in weight.shape[2:])
        in_channels, out_channels = int(x.shape[1]), int(weight.shape[0])
        # Each output element is a dot product over (in_channels / groups) × kernel weights.
        macs = out.numel() * _numel(weight.shape[1:])
        params = weight.numel() + (bias.numel() if bias is not None else 0)
        kind = conv_kind(in_channels, out_channels, kernel, groups)
        self._add("conv", kind, x, out, macs, params, kernel=kernel, groups=groups, detail="convolution",
                  weights=weight.numel())
        if bias is not None and self.convention == "all":
            self._add("bias", "bias", out, out, out.numel(), kernel=kernel, groups=groups, detail="conv bias")

    def _matmul(self, name: str, args, out) -> None:
        if name in ("addmm", "baddbmm"):
            bias, x, weight = args[0], args[1], args[2]
        else:
            bias, x, weight = None, args[0], args[1]
        macs = out.numel() * int(x.shape[-1])
        params = weight.numel() + (bias.numel() if bias is not None else 0)
        self._add("linear", "linear", x, out, macs, params, detail=name, weights=weight.numel())
        if bias is not None and self.convention == "all":
            self._add("bias", "bias", out, out, out.numel(), detail=f"{name} bias")

    def _other(self, name: str, func, args, kwargs, out) -> None:
        first = args[0] if args else None
        if not isinstance(first, torch.Tensor):
            return
        if name in _BATCHNORMS:
            weight = args[1]
            params = (weight.numel() * 2) if weight is not None else 0
            self._add("batchnorm", "batchnorm", first, _first(out), first.numel(), params, detail=name)
        elif name in _ACTIVATIONS:
            self._add("activation", "activation", first, out, out.numel(), detail=name.rstrip("_"))
        elif name in _POOLS:
            # ATen computes adaptive_avg_pool2d to 1×1 as mean(dim=[-1, -2], keepdim=True); name it so,
            # apart from a model's own x.mean((2, 3)), because some tools count one and not the other.
            if name == "mean" and list(args[1]) == [-1, -2] and (args[2] if len(args) > 2 else False):
                name = "adaptive_avg_pool2d"
            self._add("pooling", "pooling", first, _first(out), _pool_ops(name, args, _first(out)), detail=name)
        elif name in _ELEMENTWISE:
            self._add(_ELEMENTWISE[name], _ELEMENTWISE[name], first, out, out.numel(), detail=name)


def _bn_training(name: str, args) -> bool:
    # native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps)
    return name == "native_batch_norm" and bool(args[5])


def _first(out):
    return out[0] if isinstance(out, (tuple, list)) else out


def _pool_ops(name: str, args, out: torch.Tensor) -> int:
    """One add (or compare) per element of each pooling window."""
    x = args[0]
    if name in ("avg_pool2d", "max_pool2d", "max_pool2d_with_indices", "avg_pool1d", "max_pool1d"):
        kernel = args[1] if isinstance(args[1], (list, tuple)) else [args[1]]
        window = _numel(kernel) if len(kernel) > 1 or name.endswith("1d") else int(kernel[0]) ** 2
        return out.numel() * window
    return x.numel()  # adaptive pools and means read every input element once


def _check_input_size(model: nn.Module, input_size) -> tuple:
    try:
        input_size = tuple(input_size)
    except TypeError:
        raise ValueError(f"input_size must be a sequence of positive integers, got {input_size!r}") from None
    rank = getattr(model, "input_rank", 4)
    if len(input_size) != rank or not all(
            isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in input_size):
        raise ValueError(
            f"input_size must be {rank} positive integers (batch, channels, height, width), got {input_size}")
    min_resolution = getattr(model, "min_resolution", None)
    if rank == 4 and min_resolution is not None and min(input_size[2:]) < min_resolution:
        raise ValueError(
            f"input_size height and width must be >= {min_resolution} px for {type(model).__name__}, "
            f"got {input_size[2]}x{input_size[3]}")
    return input_size


def profile(model: nn.Module, input_size: Sequence[int] = (1, 3, 224, 224),
            convention: str = "paper") -> Profile:
    """Count ``model``'s parameters and its MACs for one forward pass on a batch of ``input_size``.

    Nothing is computed: the model runs on meta tensors (shapes only) under a dispatch mode that
    records each operation, so profiling EfficientNet-B7 at 600 px takes a fraction of a second
    and leaves the model (weights, mode, hooks) as it was. ``convention`` is "paper" (conv and
    linear multiply-accumulates) or "all" (every operation); see the module docstring.
    A model that cannot run at ``input_size`` raises ValueError naming ``input_size``.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    check_choice("convention", convention, CONVENTIONS)
    input_size = _check_input_size(model, input_size)

    stack: list = []  # (name, module) of the modules running now, innermost last

    def enter(name: str):
        def hook(module, _args) -> None:
            stack.append((name, module))
        return hook

    def leave(_module, _args, _output) -> None:
        stack.pop()

    hooks = []
    for name, module in model.named_modules():
        hooks.append(module.register_forward_pre_hook(enter(name)))
        hooks.append(module.register_forward_hook(leave))
    on_meta = {k: torch.empty_like(v, device="meta") for k, v in {**dict(model.named_parameters()),
                                                                  **dict(model.named_buffers())}.items()}
    counter = _Counter(stack, convention)
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad(), counter:
            dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
            functional_call(model, on_meta, (torch.empty(input_size, device="meta", dtype=dtype),))
    except (RuntimeError, ValueError) as err:
        raise ValueError(f"input_size {input_size} does not fit {type(model).__name__}: {err}") from err
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    params = sum(p.numel() for p in model.parameters())
    rows = counter.rows
    return Profile(params=params, macs=sum(r.macs for r in rows), input_size=input_size,
                   by_layer=rows, convention=convention)


def formula_macs(row: LayerCost) -> int:
    """A conv or linear row's MACs recomputed from its shapes by the closed-form formula of its type."""
    if row.op == "linear":
        return linear_macs(row.input_shape[-1], row.output_shape[-1], _numel(row.output_shape[:-1]))
    if row.op != "conv":
        raise ValueError(f"row must be a conv or linear row, got op {row.op!r}")
    batch, out_channels, height, width = row.output_shape
    in_channels = row.input_shape[1]
    kh, kw = row.kernel
    if kh != kw:  # the formulas take square kernels; a k×1 kernel costs k/k² of a k×k one
        return batch * (in_channels // row.groups) * kh * kw * out_channels * height * width
    return batch * conv_macs(in_channels, out_channels, kh, row.groups, height, width)


def format_profile(cost: Profile, max_rows: Optional[int] = 20) -> str:
    """A profile as text: the ``max_rows`` costliest rows (all when None), then totals per type."""
    rows = sorted(cost.by_layer, key=lambda r: -r.macs)
    shown = rows if max_rows is None else rows[:max_rows]
    header = f"{'layer':<28}{'type':<11}{'input':>17}{'output':>17}{'k':>4}{'g':>6}{'params':>11}{'MACs':>14}{'%':>7}"
    lines = [header, "-" * len(header)]
    for r in shown:
        k = f"{r.kernel[0]}" if r.kernel else ""
        g = f"{r.groups}" if r.groups else ""
        lines.append(f"{r.name[-27:]:<28}{r.type:<11}{_shape(r.input_shape):>17}{_shape(r.output_shape):>17}"
                     f"{k:>4}{g:>6}{r.params:>11,}{r.macs:>14,}{100 * r.macs / max(cost.macs, 1):>7.2f}")
    if len(shown) < len(rows):
        lines.append(f"... {len(rows) - len(shown)} more rows")
    lines.append("-" * len(header))
    for kind, macs in sorted(cost.by_type.items(), key=lambda kv: -kv[1]):
        lines.append(f"{'total ' + kind:<28}{'':<11}{'':>17}{'':>17}{'':>4}{'':>6}"
                     f"{cost.params_by_type.get(kind, 0):>11,}{macs:>14,}{100 * macs / max(cost.macs, 1):>7.2f}")
    lines.append(f"{'total (' + cost.convention + ')':<28}{'':<11}{_shape(cost.input_size):>17}{'':>17}{'':>4}{'':>6}"
                 f"{cost.params:>11,}{cost.macs:>14,}{100.0 if cost.macs else 0.0:>7.2f}")
    return "\n".join(lines)


def _shape(shape: Sequence[int]) -> str:
    return "×".join(str(s) for s in shape)


# --- why other tools disagree --------------------------------------------------------------------

TOOLS = ("paper", "all", "thop", "ptflops", "fvcore", "torchinfo", "flop_counter")

_CONV_MODULES = ("Conv1d", "Conv2d", "Conv3d")
_BN_MODULES = ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm")
_ADAPTIVE_POOLS = ("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d")
_PTFLOPS_ACTIVATION_MODULES = ("ReLU", "PReLU", "ELU", "LeakyReLU", "ReLU6", "GELU")
_NN_ACTIVATIONS = ("ReLU", "ReLU6", "PReLU", "ELU", "LeakyReLU", "GELU", "SiLU", "Hardswish", "Hardsigmoid",
                   "Sigmoid", "Tanh", "Mish", "Softplus", "Softmax", "Hardtanh")
# What ptflops patches in torch.nn.functional, as the ATen activation each one runs.
_PTFLOPS_PATCHED_ACTIVATIONS = ("relu", "elu", "gelu", "silu", "prelu", "hardtanh")
# nn modules whose forward calls a torch.nn.functional function that ptflops patches and counts again.
_PTFLOPS_PATCHED_BY_MODULE = {"ReLU": "relu", "PReLU": "prelu", "ELU": "elu", "GELU": "gelu", "SiLU": "silu",
                              "AvgPool2d": "pool", "MaxPool2d": "pool", "AdaptiveAvgPool2d": "pool",
                              "AdaptiveMaxPool2d": "pool", "AvgPool1d": "pool", "MaxPool1d": "pool"}
_PTFLOPS_POOL_MODULES = ("MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
                         "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "AdaptiveAvgPool1d",
                         "AdaptiveAvgPool2d", "AdaptiveAvgPool3d")


@dataclass(frozen=True)
class ToolCount:
    """What one tool reports for a model, rebuilt from our "all" rows under that tool's rules.

    ``parts`` maps a kind of operation (the rows' ``op``) to what the tool counts for it, before
    ``factor`` (2 for counters whose FLOP is a multiply *and* an add). ``count = factor · Σ parts``.
    """

    tool: str
    count: int
    factor: int
    parts: dict
    rules: str


_TOOL_RULES = {
    "paper": "conv + linear multiply-accumulates; BatchNorm folded, activations, pooling, adds free",
    "all": "every operation once: conv/linear MACs, biases, BatchNorm, activations, pooling, adds, SE multiply",
    "thop": "module hooks only (thop 0.1.1): conv/linear MACs; BatchNorm 2·numel, doubled again when affine; "
            "ReLU/ReLU6 and unlisted activations (Hardswish, SiLU, Sigmoid) 0; adaptive avg pool (window+1)·out; "
            "functional ops (x + y, SE's x * scale) never seen",
    "ptflops": "module hooks plus patched torch.nn.functional (ptflops 0.7, pytorch backend): conv/linear MACs "
               "+ bias adds; BatchNorm 2·numel; ReLU counted by its hook and again by the patched F.relu its "
               "forward calls (likewise pooling); ReLU6 (F.hardtanh), Hardswish, Sigmoid not patched; "
               "operators x + y and x * scale not patched, so residual adds and SE multiplies are skipped",
    "fvcore": "traced ATen ops (fvcore 0.1.5): conv/linear MACs (no bias); BatchNorm 2·numel; adaptive avg pool "
              "1·numel of its input; activations, adds, SE multiplies and max pooling ignored",
    "torchinfo": "module parameters (torchinfo 1.8): conv (weight+bias)·output pixels, linear (weight+bias)·batch, "
                 "BatchNorm (2·channels)·batch; nothing else",
    "flop_counter": "torch.utils.flop_counter: conv and matmul only, 2 FLOPs (a multiply and an add) per MAC",
}


def _tool_part(tool: str, row: LayerCost, batch: int) -> int:
    """What ``tool`` counts for one "all" row (see ``_TOOL_RULES``)."""
    op, module, detail = row.op, row.module, row.detail
    in_numel = _numel(row.input_shape)
    if tool in ("paper", "flop_counter"):
        return row.macs if op in ("conv", "linear") else 0
    if tool == "all":
        return row.macs
    if tool == "thop":
        if op == "conv":
            return row.macs if module in _CONV_MODULES else 0
        if op == "linear":
            return row.macs if module == "Linear" else 0
        if op == "batchnorm" and module in _BN_MODULES:
            return 2 * in_numel * (2 if row.params else 1)
        if op == "pooling" and module in _ADAPTIVE_POOLS:
            window = _numel(row.input_shape[2:]) // _numel(row.output_shape[2:])
            return (window + 1) * _numel(row.output_shape)
        if op == "pooling" and module in ("AvgPool1d", "AvgPool2d", "AvgPool3d"):
            return _numel(row.output_shape)
        return 0
    if tool == "ptflops":
        if op in ("conv", "bias") and row.kernel is not None:
            return row.macs if module in _CONV_MODULES else 0
        if op in ("linear", "bias"):
            return row.macs if module == "Linear" else 0
        if op == "batchnorm":
            return in_numel * (2 if row.params else 1) if module in _BN_MODULES else 0
        if op == "activation":
            hooked = _numel(row.output_shape) if module in _PTFLOPS_ACTIVATION_MODULES else 0
            if module in _NN_ACTIVATIONS:  # counted again when its forward calls a patched F.*
                patched = module in _PTFLOPS_PATCHED_BY_MODULE
            else:  # the model's own code: assume F.relu / F.relu6 / F.silu ..., as models write it
                patched = detail in _PTFLOPS_PATCHED_ACTIVATIONS
            return hooked + (in_numel if patched else 0)
        if op == "pooling":
            hooked = in_numel if module in _PTFLOPS_POOL_MODULES else 0
            patched = module in _PTFLOPS_PATCHED_BY_MODULE or (hooked == 0 and detail != "mean")
            return hooked + (in_numel if patched else 0)
        return 0  # residual adds and SE multiplies are operators, which ptflops does not patch
    if tool == "fvcore":
        if op in ("conv", "linear"):
            return row.macs
        if op == "batchnorm":
            return in_numel * (2 if row.params else 1)
        if op == "pooling" and (module in _ADAPTIVE_POOLS or "adaptive_avg" in detail):
            return in_numel
        return 0
    if tool == "torchinfo":
        if op == "conv" and module in _CONV_MODULES:
            return row.macs
        if op == "bias" and row.kernel is not None and module in _CONV_MODULES:
            return row.macs
        if op in ("linear", "bias") and module == "Linear":
            return row.macs
        if op == "batchnorm" and module in _BN_MODULES:
            return batch * row.params
        return 0
    raise ValueError(f"tool must be one of {TOOLS}, got {tool!r}")


def tool_counts(model: nn.Module, input_size: Sequence[int] = (1, 3, 224, 224),
                tools: Sequence[str] = TOOLS) -> dict:
    """Rebuild what thop, ptflops, fvcore, torchinfo and torch's FlopCounterMode report for
    ``model``, from our own "all" count, so that each difference from the papers has a cause
    and a number: {tool: :class:`ToolCount`}. Covers models built from standard nn modules (as
    every lightnets and torchvision model is); the rules of each tool are in ``ToolCount.rules``.
    """
    for tool in tools:
        check_choice("tools", tool, TOOLS)
    cost = profile(model, input_size, convention="all")
    batch = cost.input_size[0]
    result = {}
    for tool in tools:
        parts: dict = {}
        for row in cost.by_layer:
            counted = _tool_part(tool, row, batch)
            parts[row.op] = parts.get(row.op, 0) + counted
        factor = 2 if tool == "flop_counter" else 1
        result[tool] = ToolCount(tool, factor * sum(parts.values()), factor, parts, _TOOL_RULES[tool])
    return result


# --- costing a plan, without building a model ------------------------------------------------------


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
    """Squeeze-and-excite on ``channels`` with a ``squeeze_channels`` bottleneck (two biased 1×1 convs)."""

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
                raise ValueError(f"resolution {resolution} is too small: the map vanishes at {spec}")
            kind = conv_kind(spec.in_channels, spec.out_channels, spec.kernel_size, spec.groups)
            cost = batch * conv_macs(spec.in_channels, spec.out_channels, spec.kernel_size, spec.groups, side)
            params += spec.kernel_size ** 2 * spec.in_channels // spec.groups * spec.out_channels
            params += 2 * spec.out_channels if spec.norm else spec.out_channels  # BN γ, β or a bias
        elif isinstance(spec, SESpec):
            kind, cost = "se", batch * se_macs(spec.channels, spec.squeeze_channels)
            params += 2 * spec.channels * spec.squeeze_channels + spec.channels + spec.squeeze_channels
        elif isinstance(spec, PoolSpec):
            side = 1
            continue
        elif isinstance(spec, LinearSpec):
            kind, cost = "linear", linear_macs(spec.in_features, spec.out_features, batch)
            params += spec.in_features * spec.out_features + spec.out_features
        else:
            raise ValueError(f"plan entries must be ConvSpec, SESpec, PoolSpec or LinearSpec, got {spec!r}")
        macs += cost
        by_type[kind] = by_type.get(kind, 0) + cost
    return PlanCost(macs, params, by_type, resolution)


def inverted_residual_plan(in_channels: int, out_channels: int, expanded_channels: int, kernel_size: int = 3,
                           stride: int = 1, squeeze_channels: Optional[int] = None) -> list:
    """The layers of one inverted residual (MBConv) block, as ``lightnets.layers.InvertedResidual``
    builds them: 1×1 expansion (only when it widens), k×k depthwise, optional SE, 1×1 projection."""
    plan: list = []
    if expanded_channels != in_channels:
        plan.append(ConvSpec(in_channels, expanded_channels, 1))
    plan.append(ConvSpec(expanded_channels, expanded_channels, kernel_size, stride, groups=expanded_channels))
    if squeeze_channels is not None:
        plan.append(SESpec(expanded_channels, squeeze_channels))
    plan.append(ConvSpec(expanded_channels, out_channels, 1))
    return plan


def mbconv_network_plan(stem_channels: int, blocks: Iterable, head_channels: int, num_classes: int = 1000,
                        in_channels: int = 3, stem_kernel: int = 3, stem_stride: int = 2) -> list:
    """A MobileNetV2 / MnasNet / EfficientNet-shaped network as a plan: a k×k stem, the blocks
    (objects with ``in_channels, out_channels, expanded_channels, kernel_size, stride`` and
    optionally ``squeeze_channels``), a 1×1 head conv, global pooling and the classifier."""
    plan: list = [ConvSpec(in_channels, stem_channels, stem_kernel, stem_stride)]
    for block in blocks:
        plan += inverted_residual_plan(block.in_channels, block.out_channels, block.expanded_channels,
                                       block.kernel_size, block.stride, getattr(block, "squeeze_channels", None))
    last = plan[-1].out_channels
    plan += [ConvSpec(last, head_channels, 1), PoolSpec(), LinearSpec(head_channels, num_classes)]
    return plan


# --- time ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Latency:
    """Wall-clock time of one forward pass: the median of ``runs`` timed passes and their spread.

    ``spread_ms`` is the interquartile range (75th - 25th percentile); ``device`` and ``threads``
    say what produced the numbers, because the same model can rank differently elsewhere.
    """

    median_ms: float
    spread_ms: float
    min_ms: float
    max_ms: float
    runs: int
    device: str
    threads: int
    input_size: tuple
    times_ms: tuple


def latency(model: nn.Module, input_size: Sequence[int] = (1, 3, 224, 224), runs: int = 20, warmup: int = 3,
            device: Optional[Union[str, torch.device]] = None) -> Latency:
    """Time ``model``'s forward pass on random input: ``warmup`` untimed passes, then ``runs`` timed.

    Runs on CUDA when present (or on ``device``), in eval mode without gradients, on a copy of
    the model so the caller's stays where it was. CUDA passes are synchronised before each clock
    read. MACs are not time: memory traffic, kernel launches and how well an operation maps to
    the hardware (a depthwise conv does little arithmetic per byte it reads) decide latency.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    input_size = _check_input_size(model, input_size)
    check_int("runs", runs, low=1)
    check_int("warmup", warmup, low=0)
    device = torch.device(device if device is not None else ("cuda" if torch.cuda.is_available() else "cpu"))
    timed = copy.deepcopy(model).to(device).eval()
    x = torch.randn(input_size, device=device)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    times = []
    with torch.no_grad():
        for i in range(warmup + runs):
            sync()
            start = time.perf_counter()
            timed(x)
            sync()
            if i >= warmup:
                times.append(1e3 * (time.perf_counter() - start))
    quartiles = statistics.quantiles(times, n=4) if len(times) > 1 else [times[0]] * 3
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    return Latency(statistics.median(times), quartiles[2] - quartiles[0], min(times), max(times), runs,
                   name, torch.get_num_threads(), input_size, tuple(times))
