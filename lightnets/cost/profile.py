"""The measured count: a dispatch mode that records every operation a model runs, and
:class:`Profile`, the rows it records with their totals.

Counting needs shapes, not numbers, so the forward pass runs on meta tensors
(:func:`lightnets._torch.meta_forward`): no memory is allocated and no arithmetic is done. A
``TorchDispatchMode`` sees every ATen operation the model runs, from modules and functional code
alike (``x + y``, ``torch.cat``, ``F.relu``); forward hooks name the module each operation ran in.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from lightnets._checks import check_choice, describe
from lightnets._torch import meta_forward
from lightnets.cost.formulas import CONVENTIONS, conv_kind, conv_macs, linear_macs, numel

__all__ = ["SE_MODULE_NAMES", "LayerCost", "Profile", "profile", "formula_macs", "format_profile",
           "check_input_size", "MAX_INPUT_ELEMENTS"]

# Modules whose every operation counts as kind "se": ours, torchvision's and timm's spellings.
SE_MODULE_NAMES = ("SqueezeExcite", "SqueezeExcitation", "SEModule")

# The largest input profile accepts: 2^40 elements. Meta tensors allocate nothing, so a 100,000 px
# image costs fine; beyond this a size is a typo, and MAC counts near 2^63 would overflow int64.
MAX_INPUT_ELEMENTS = 2 ** 40


@dataclass(frozen=True)
class LayerCost:
    """One counted operation: where it ran, what it is, and what it costs.

    ``kind`` is what the per-kind totals group by: "standard", "depthwise", "pointwise",
    "grouped", "linear", "se" (anything inside a squeeze-and-excite block), and in the "all"
    convention also "batchnorm", "activation", "pooling", "add", "multiply", "bias".
    ``op`` is the arithmetic itself ("conv", "linear", "bias", "batchnorm", "activation",
    "pooling", "add", "multiply"), so an SE block's pieces stay distinguishable.
    ``module_class`` is the class of the innermost module it ran in (``"ReLU"``, ``"Conv2d"``);
    ``aten_op`` the ATen operator (for an activation, its name without the trailing ``_``).
    """

    name: str
    kind: str
    output_shape: tuple
    params: int
    macs: int
    op: str = "conv"
    input_shape: tuple = ()
    kernel: Optional[tuple] = None
    groups: Optional[int] = None
    module_class: str = ""
    aten_op: str = ""
    weights: int = 0  # the weight tensor alone, without bias: what MobileNetV1 Table 2 counts

    @property
    def type(self) -> str:
        """Read-only alias of :attr:`kind` (its earlier name, which notebook 01 reads)."""
        return self.kind

    @property
    def module(self) -> str:
        """Read-only alias of :attr:`module_class`."""
        return self.module_class

    @property
    def detail(self) -> str:
        """Read-only alias of :attr:`aten_op`."""
        return self.aten_op


@dataclass
class Profile:
    """The cost of a model at one input size; ``by_layer`` holds the rows that make up the total.

    Under ``convention="paper"``, ``macs`` is the conv and linear multiply-accumulates. Under
    ``"all"`` the rows are every operation, and ``macs`` holds their sum, which :attr:`ops`
    names honestly; :attr:`conv_linear_macs` is the paper's count in either convention.
    """

    params: int
    macs: int
    input_size: tuple
    by_layer: list = field(default_factory=list)
    convention: str = "paper"

    @property
    def ops(self) -> int:
        """Every counted operation: the paper's MACs under "paper", each operation under "all"."""
        return sum(row.macs for row in self.by_layer)

    @property
    def conv_linear_macs(self) -> int:
        """Multiply-accumulates of the conv and linear rows alone (the papers' Mult-Adds)."""
        return sum(row.macs for row in self.by_layer if row.op in ("conv", "linear"))

    @property
    def by_type(self) -> dict:
        """MACs summed per layer kind, in order of first appearance."""
        return _totals(self.by_layer, "kind")

    @property
    def by_op(self) -> dict:
        """MACs (operations, in "all") per kind of arithmetic, in order of first appearance."""
        return _totals(self.by_layer, "op")

    @property
    def params_by_type(self) -> dict:
        """Parameters summed per layer kind (the weights of the counted rows)."""
        return _totals(self.by_layer, "kind", value="params", skip_zero=True)

    @property
    def weights_by_type(self) -> dict:
        """Weights (no biases, no BatchNorm) per layer kind: MobileNetV1 Table 2's "Parameters"."""
        return _totals(self.by_layer, "kind", value="weights", skip_zero=True)

    def shares(self) -> dict:
        """Each kind's fraction of ``macs`` (MobileNetV1 Table 2's "Mult-Adds" column)."""
        return {kind: macs / self.macs for kind, macs in self.by_type.items()}

    def table(self, max_rows: Optional[int] = 20) -> str:
        """A fixed-width text table: the largest layers first, then the per-kind totals."""
        return format_profile(self, max_rows)


def _totals(rows: Iterable[LayerCost], key: str, value: str = "macs",
            skip_zero: bool = False) -> dict:
    totals: dict = {}
    for row in rows:
        amount = getattr(row, value)
        if amount or not skip_zero:
            totals[getattr(row, key)] = totals.get(getattr(row, key), 0) + amount
    return totals


_ACTIVATIONS = {
    "relu", "relu_", "relu6", "hardtanh", "hardtanh_", "hardswish", "hardswish_", "hardsigmoid",
    "hardsigmoid_", "sigmoid", "sigmoid_", "silu", "silu_", "gelu", "gelu_", "tanh", "tanh_",
    "elu", "elu_", "leaky_relu", "leaky_relu_", "prelu", "_prelu_kernel", "mish", "mish_",
    "softplus", "_softmax", "_log_softmax",
}
_BATCHNORMS = {"native_batch_norm", "_native_batch_norm_legit",
               "_native_batch_norm_legit_no_training", "batch_norm", "cudnn_batch_norm",
               "miopen_batch_norm"}
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
        inference_bn = ("native_batch_norm", "_native_batch_norm_legit_no_training")
        if name in inference_bn and not _bn_training(name, args):
            # Inference BatchNorm keeps its input's shape; torch's meta kernel for it is a slow
            # Python decomposition (half of profile's time on EfficientNet-B7), so produce the
            # shapes directly.
            x = args[0]
            out = (torch.empty_like(x), x.new_empty((0,)), x.new_empty((0,)))
        else:
            out = func(*args, **kwargs)
        if name in ("convolution", "_convolution"):
            self._conv(args, out)
        elif name in _MATMULS:
            self._matmul(name, args, out)
        elif self.convention == "all":
            self._other(name, args, out)
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
            name=name, kind="se" if in_se else kind, output_shape=tuple(out.shape), params=params,
            macs=int(macs), op=op, input_shape=tuple(inputs.shape), module_class=module, **extra))

    def _conv(self, args, out) -> None:
        x, weight, bias = args[0], args[1], args[2]
        groups = int(args[8]) if len(args) > 8 else 1
        kernel = tuple(int(k) for k in weight.shape[2:])
        in_channels, out_channels = int(x.shape[1]), int(weight.shape[0])
        # Each output element is a dot product over (in_channels / groups) × kernel weights.
        macs = out.numel() * numel(weight.shape[1:])
        params = weight.numel() + (bias.numel() if bias is not None else 0)
        kind = conv_kind(in_channels, out_channels, kernel, groups)
        self._add("conv", kind, x, out, macs, params, kernel=kernel, groups=groups,
                  aten_op="convolution", weights=weight.numel())
        if bias is not None and self.convention == "all":
            self._add("bias", "bias", out, out, out.numel(), kernel=kernel, groups=groups,
                      aten_op="conv bias")

    def _matmul(self, name: str, args, out) -> None:
        if name in ("addmm", "baddbmm"):
            bias, x, weight = args[0], args[1], args[2]
        else:
            bias, x, weight = None, args[0], args[1]
        macs = out.numel() * int(x.shape[-1])
        params = weight.numel() + (bias.numel() if bias is not None else 0)
        self._add("linear", "linear", x, out, macs, params, aten_op=name, weights=weight.numel())
        if bias is not None and self.convention == "all":
            self._add("bias", "bias", out, out, out.numel(), aten_op=f"{name} bias")

    def _other(self, name: str, args, out) -> None:
        first = args[0] if args else None
        if not isinstance(first, torch.Tensor):
            return
        if name in _BATCHNORMS:
            weight = args[1]
            params = (weight.numel() * 2) if weight is not None else 0
            self._add("batchnorm", "batchnorm", first, _first(out), first.numel(), params,
                      aten_op=name)
        elif name in _ACTIVATIONS:
            self._add("activation", "activation", first, out, out.numel(), aten_op=name.rstrip("_"))
        elif name in _POOLS:
            # ATen computes adaptive_avg_pool2d to 1×1 as mean(dim=[-1, -2], keepdim=True); name
            # it so, apart from a model's own x.mean((2, 3)), because some tools count one and
            # not the other.
            keepdim = args[2] if len(args) > 2 else False
            if name == "mean" and list(args[1]) == [-1, -2] and keepdim:
                name = "adaptive_avg_pool2d"
            self._add("pooling", "pooling", first, _first(out), _pool_ops(name, args, _first(out)),
                      aten_op=name)
        elif name in _ELEMENTWISE:
            self._add(_ELEMENTWISE[name], _ELEMENTWISE[name], first, out, out.numel(), aten_op=name)


def _bn_training(name: str, args) -> bool:
    # native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps)
    return name == "native_batch_norm" and bool(args[5])


def _first(out):
    return out[0] if isinstance(out, (tuple, list)) else out


def _pool_ops(name: str, args, out: torch.Tensor) -> int:
    """One add (or compare) per element of each pooling window."""
    x = args[0]
    windowed = ("avg_pool2d", "max_pool2d", "max_pool2d_with_indices", "avg_pool1d", "max_pool1d")
    if name in windowed:
        kernel = args[1] if isinstance(args[1], (list, tuple)) else [args[1]]
        window = numel(kernel) if len(kernel) > 1 or name.endswith("1d") else int(kernel[0]) ** 2
        return out.numel() * window
    return x.numel()  # adaptive pools and means read every input element once


def check_model(model) -> nn.Module:
    """``model`` must be a ``torch.nn.Module``; ValueError naming ``model`` otherwise."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def check_input_size(model: nn.Module, input_size, max_elements: int = MAX_INPUT_ELEMENTS,
                     why: str = "") -> tuple:
    """``input_size`` as a tuple of the model's input rank (4: batch, channels, height, width, or
    ``model.input_rank``) of positive ints, at least ``model.min_resolution`` on each side, and no
    more than ``max_elements`` elements (``why`` says where that limit comes from); ValueError
    naming ``input_size`` otherwise."""
    if isinstance(input_size, (str, bytes)):
        raise ValueError(
            f"input_size must be a sequence of positive integers, got {describe(input_size)}")
    if getattr(input_size, "ndim", None) is not None and hasattr(input_size, "dtype"):
        # A batch where its shape belongs: say so, and never paste its values into the message.
        raise ValueError(f"input_size must be a shape such as (1, 3, 224, 224), not a batch; "
                         f"got {describe(input_size)}: for a batch x, pass x.shape")
    try:
        input_size = tuple(input_size)
    except TypeError:
        raise ValueError(
            f"input_size must be a sequence of positive integers, got {describe(input_size)}"
        ) from None
    rank = getattr(model, "input_rank", 4)
    names = "(batch, channels, height, width)" if rank == 4 else f"({rank} sides)"
    if len(input_size) != rank or not all(
            isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in input_size):
        raise ValueError(f"input_size must be {rank} positive integers {names}, "
                         f"got {describe(input_size)}")
    elements = math.prod(input_size)
    if elements > max_elements:
        raise ValueError(
            f"input_size {input_size} has {elements:,} elements, more than the {max_elements:,} "
            f"allowed{why} (the float32 input alone needs {4 * elements / 2 ** 30:,.1f} GiB)")
    min_resolution = getattr(model, "min_resolution", None)
    if rank == 4 and min_resolution is not None and min(input_size[2:]) < min_resolution:
        raise ValueError(
            f"input_size height and width must be >= {min_resolution} px for "
            f"{type(model).__name__}, got {input_size[2]}x{input_size[3]}")
    return input_size


def profile(model: nn.Module, input_size: Sequence[int] = (1, 3, 224, 224),
            convention: str = "paper") -> Profile:
    """Count ``model``'s parameters and its MACs for one forward pass on a batch of ``input_size``.

    Nothing is computed: the model runs on meta tensors (shapes only) under a dispatch mode that
    records each operation, so profiling EfficientNet-B7 at 600 px takes a fraction of a second
    and leaves the model (weights, mode, hooks) as it was. ``convention`` is "paper" (conv and
    linear multiply-accumulates) or "all" (every operation); see :mod:`lightnets.cost`.
    A model that cannot run at ``input_size`` raises ValueError naming ``input_size``.
    """
    check_model(model)
    check_choice("convention", convention, CONVENTIONS)
    input_size = check_input_size(model, input_size)

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
    counter = _Counter(stack, convention)
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    try:
        with counter:
            meta_forward(model, input_size, dtype)
    except Exception as err:  # noqa: BLE001 - whatever the model raises, name the argument
        raise ValueError(
            f"input_size {input_size} does not fit {type(model).__name__}: "
            f"{type(err).__name__}: {err}") from err
    finally:
        for hook in hooks:
            hook.remove()
    params = sum(p.numel() for p in model.parameters())
    rows = counter.rows
    return Profile(params=params, macs=sum(r.macs for r in rows), input_size=input_size,
                   by_layer=rows, convention=convention)


def formula_macs(row: LayerCost) -> int:
    """A conv or linear row's MACs recomputed from its shapes by the closed-form formula of its
    kind."""
    if row.op == "linear":
        return linear_macs(row.input_shape[-1], row.output_shape[-1], numel(row.output_shape[:-1]))
    if row.op != "conv":
        raise ValueError(f"row must be a conv or linear row, got op {row.op!r}")
    batch, out_channels, height, width = row.output_shape
    in_channels = row.input_shape[1]
    kh, kw = row.kernel
    if kh != kw:  # the formulas take square kernels; a k×1 kernel costs k/k² of a k×k one
        return batch * (in_channels // row.groups) * kh * kw * out_channels * height * width
    return batch * conv_macs(in_channels, out_channels, kh, row.groups, height, width)


def format_profile(cost: Profile, max_rows: Optional[int] = 20) -> str:
    """A profile as text: the ``max_rows`` costliest rows (all when None), then totals per kind."""
    rows = sorted(cost.by_layer, key=lambda r: -r.macs)
    shown = rows if max_rows is None else rows[:max_rows]
    total = max(cost.macs, 1)
    header = (f"{'layer':<28}{'type':<11}{'input':>17}{'output':>17}{'k':>4}{'g':>6}"
              f"{'params':>11}{'MACs':>14}{'%':>7}")
    lines = [header, "-" * len(header)]
    for r in shown:
        k = f"{r.kernel[0]}" if r.kernel else ""
        g = f"{r.groups}" if r.groups else ""
        lines.append(f"{r.name[-27:]:<28}{r.kind:<11}{_shape(r.input_shape):>17}"
                     f"{_shape(r.output_shape):>17}{k:>4}{g:>6}{r.params:>11,}{r.macs:>14,}"
                     f"{100 * r.macs / total:>7.2f}")
    if len(shown) < len(rows):
        lines.append(f"... {len(rows) - len(shown)} more rows")
    lines.append("-" * len(header))
    blank = f"{'':<11}{'':>17}{'':>17}{'':>4}{'':>6}"
    for kind, macs in sorted(cost.by_type.items(), key=lambda kv: -kv[1]):
        lines.append(f"{'total ' + kind:<28}{blank}{cost.params_by_type.get(kind, 0):>11,}"
                     f"{macs:>14,}{100 * macs / total:>7.2f}")
    lines.append(f"{'total (' + cost.convention + ')':<28}{'':<11}{_shape(cost.input_size):>17}"
                 f"{'':>17}{'':>4}{'':>6}{cost.params:>11,}{cost.macs:>14,}"
                 f"{100.0 if cost.macs else 0.0:>7.2f}")
    return "\n".join(lines)


def _shape(shape: Sequence[int]) -> str:
    return "×".join(str(s) for s in shape)
