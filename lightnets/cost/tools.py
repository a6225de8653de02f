"""Why other counters print other numbers: thop, ptflops, fvcore, torchinfo and torch's
``FlopCounterMode``, each re-created from our "all" rows under that tool's rules.

One small function per tool answers "what does this tool count for this row?"; its docstring is
the rule. So every gap from the papers has a cause and a size: BatchNorm counted (2 or 4 per
element), ReLU counted twice (ptflops), SE's multiply and residual adds skipped (operators that
no module hook sees), biases added, or 2 FLOPs per MAC.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable, Sequence

from torch import nn

from lightnets._checks import check_choice
from lightnets.cost.formulas import numel
from lightnets.cost.profile import LayerCost, profile

__all__ = ["TOOLS", "TOOL_RULES", "ToolCount", "tool_counts"]

_CONV_MODULES = ("Conv1d", "Conv2d", "Conv3d")
_BN_MODULES = ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm")
_ADAPTIVE_POOLS = ("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d")
_AVG_POOLS = ("AvgPool1d", "AvgPool2d", "AvgPool3d")
_PTFLOPS_ACTIVATION_MODULES = ("ReLU", "PReLU", "ELU", "LeakyReLU", "ReLU6", "GELU")
_NN_ACTIVATIONS = ("ReLU", "ReLU6", "PReLU", "ELU", "LeakyReLU", "GELU", "SiLU", "Hardswish",
                   "Hardsigmoid", "Sigmoid", "Tanh", "Mish", "Softplus", "Softmax", "Hardtanh")
# What ptflops patches in torch.nn.functional, as the ATen activation each one runs.
_PTFLOPS_PATCHED_ACTIVATIONS = ("relu", "elu", "gelu", "silu", "prelu", "hardtanh")
# nn modules whose forward calls a torch.nn.functional function that ptflops patches and counts
# again.
_PTFLOPS_PATCHED_BY_MODULE = {
    "ReLU": "relu", "PReLU": "prelu", "ELU": "elu", "GELU": "gelu", "SiLU": "silu",
    "AvgPool2d": "pool", "MaxPool2d": "pool", "AdaptiveAvgPool2d": "pool",
    "AdaptiveMaxPool2d": "pool", "AvgPool1d": "pool", "MaxPool1d": "pool",
}
_PTFLOPS_POOL_MODULES = ("MaxPool1d", "MaxPool2d", "MaxPool3d", *_AVG_POOLS, "AdaptiveMaxPool1d",
                         "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", *_ADAPTIVE_POOLS)


def paper(row: LayerCost, batch: int) -> int:
    """conv + linear multiply-accumulates; BatchNorm folded, activations, pooling, adds free."""
    return row.macs if row.op in ("conv", "linear") else 0


def every_operation(row: LayerCost, batch: int) -> int:
    """every operation once: conv/linear MACs, biases, BatchNorm, activations, pooling, adds, SE
    multiply."""
    return row.macs


def thop(row: LayerCost, batch: int) -> int:
    """module hooks only (thop 0.1.1-2209072238): conv/linear MACs; BatchNorm 2·numel, doubled again
    when affine; ReLU/ReLU6 and unlisted activations (Hardswish, SiLU, Sigmoid) 0; adaptive avg pool
    (window+1)·out; functional ops (x + y, SE's x * scale) never seen."""
    op, module = row.op, row.module_class
    if op == "conv":
        return row.macs if module in _CONV_MODULES else 0
    if op == "linear":
        return row.macs if module == "Linear" else 0
    if op == "batchnorm" and module in _BN_MODULES:
        return 2 * numel(row.input_shape) * (2 if row.params else 1)
    if op == "pooling" and module in _ADAPTIVE_POOLS:
        window = numel(row.input_shape[2:]) // numel(row.output_shape[2:])
        return (window + 1) * numel(row.output_shape)
    if op == "pooling" and module in _AVG_POOLS:
        return numel(row.output_shape)
    return 0


def ptflops(row: LayerCost, batch: int) -> int:
    """module hooks plus patched torch.nn.functional (ptflops 0.7.5, backend="pytorch", the
    code's default): conv/linear MACs + bias adds; BatchNorm 2·numel; ReLU counted by its hook
    and again by the patched F.relu its forward calls (likewise pooling); ReLU6 (F.hardtanh),
    Hardswish, Sigmoid not patched; operators x + y and x * scale not patched, so residual adds
    and SE multiplies are skipped."""
    op, module, in_numel = row.op, row.module_class, numel(row.input_shape)
    if op in ("conv", "bias") and row.kernel is not None:
        return row.macs if module in _CONV_MODULES else 0
    if op in ("linear", "bias"):
        return row.macs if module == "Linear" else 0
    if op == "batchnorm":
        return in_numel * (2 if row.params else 1) if module in _BN_MODULES else 0
    if op == "activation":
        hooked = numel(row.output_shape) if module in _PTFLOPS_ACTIVATION_MODULES else 0
        if module in _NN_ACTIVATIONS:  # counted again when its forward calls a patched F.*
            patched = module in _PTFLOPS_PATCHED_BY_MODULE
        else:  # the model's own code: assume F.relu / F.relu6 / F.silu ..., as models write it
            patched = row.aten_op in _PTFLOPS_PATCHED_ACTIVATIONS
        return hooked + (in_numel if patched else 0)
    if op == "pooling":
        hooked = in_numel if module in _PTFLOPS_POOL_MODULES else 0
        patched = module in _PTFLOPS_PATCHED_BY_MODULE or (hooked == 0 and row.aten_op != "mean")
        return hooked + (in_numel if patched else 0)
    return 0  # residual adds and SE multiplies are operators, which ptflops does not patch


def ptflops_aten(row: LayerCost, batch: int) -> int:
    """ATen operations (ptflops 0.7.3+, backend="aten"; pass it: the 0.7.4 and 0.7.5 wheels
    default to "pytorch" although their README says "aten"): aten.convolution and the matrix
    products mm, matmul, addmm, bmm, one per multiply-accumulate, plus one add per output element
    for a convolution's or addmm's bias; BatchNorm, activations, pooling and element-wise
    operations are not in its table."""
    return row.macs if row.op in ("conv", "linear", "bias") else 0


def fvcore(row: LayerCost, batch: int) -> int:
    """traced ATen ops (fvcore 0.1.5.post20221221): conv/linear MACs (no bias); BatchNorm 2·numel;
    adaptive avg pool 1·numel of its input; activations, adds, SE multiplies and max pooling
    ignored."""
    op, in_numel = row.op, numel(row.input_shape)
    if op in ("conv", "linear"):
        return row.macs
    if op == "batchnorm":
        return in_numel * (2 if row.params else 1)
    if op == "pooling" and (row.module_class in _ADAPTIVE_POOLS or "adaptive_avg" in row.aten_op):
        return in_numel
    return 0


def torchinfo(row: LayerCost, batch: int) -> int:
    """module parameters (torchinfo 1.8.0): conv (weight+bias)·output pixels, linear
    (weight+bias)·batch, BatchNorm (2·channels)·batch; nothing else."""
    op, module = row.op, row.module_class
    if op == "conv" and module in _CONV_MODULES:
        return row.macs
    if op == "bias" and row.kernel is not None and module in _CONV_MODULES:
        return row.macs
    if op in ("linear", "bias") and module == "Linear":
        return row.macs
    if op == "batchnorm" and module in _BN_MODULES:
        return batch * row.params
    return 0


def flop_counter(row: LayerCost, batch: int) -> int:
    """torch.utils.flop_counter (torch 2.x): conv and matmul only, 2 FLOPs (a multiply and an add)
    per MAC."""
    return row.macs if row.op in ("conv", "linear") else 0


# tool name → what it counts for one "all" row, and the factor its total is multiplied by.
_TOOLS: dict[str, tuple[Callable[[LayerCost, int], int], int]] = {
    "paper": (paper, 1),
    "all": (every_operation, 1),
    "thop": (thop, 1),
    "ptflops": (ptflops, 1),
    "fvcore": (fvcore, 1),
    "torchinfo": (torchinfo, 1),
    "flop_counter": (flop_counter, 2),
    "ptflops_aten": (ptflops_aten, 1),
}
# The tools tool_counts reports by default; ptflops' aten backend (the paper's count plus biases)
# is there on request.
TOOLS = ("paper", "all", "thop", "ptflops", "fvcore", "torchinfo", "flop_counter")
TOOL_RULES = {name: " ".join(inspect.getdoc(rule).split()) for name, (rule, _) in _TOOLS.items()}


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


def tool_counts(model: nn.Module, input_size: Sequence[int] = (1, 3, 224, 224),
                tools: Sequence[str] = TOOLS) -> dict:
    """Rebuild what thop, ptflops (``"ptflops"``: its pytorch backend; ``"ptflops_aten"``: its
    aten backend), fvcore, torchinfo and torch's FlopCounterMode report for ``model``, from our
    own "all" count, so that each difference from the papers has a cause and a number:
    {tool: :class:`ToolCount`}. Covers models built from standard nn modules (as every lightnets
    and torchvision model is); the rules of each tool are in ``ToolCount.rules``.
    """
    if isinstance(tools, str):
        raise ValueError(
            f"tools must be a sequence of tool names from {list(_TOOLS)}, got {tools!r}")
    for tool in tools:
        check_choice("tools", tool, _TOOLS)
    cost = profile(model, input_size, convention="all")
    batch = cost.input_size[0]
    result = {}
    for tool in tools:
        rule, factor = _TOOLS[tool]
        parts: dict = {}
        for row in cost.by_layer:
            parts[row.op] = parts.get(row.op, 0) + rule(row, batch)
        result[tool] = ToolCount(tool, factor * sum(parts.values()), factor, parts,
                                 TOOL_RULES[tool])
    return result
