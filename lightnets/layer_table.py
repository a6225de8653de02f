"""A network's layer table, read from its modules, beside its paper's table (lessons 03 and 10).

A paper describes a mobile network by a table: one row per bottleneck, in columns such as
MobileNetV3's Table 1 (kernel, exp size, #out, SE, NL). Counting parameters and Mult-Adds checks
only the widths; rebuilding the table from the modules checks every column, in the paper's own
terms. :func:`block_rows` reads it, :func:`paper_rows` puts a table of
:mod:`lightnets.models.mobilenet_v3` in the same form, and :func:`differences` lists where they
part, naming the row and the column. :func:`hidden_choices` reads what a table implies without a
column (the stem's activation, the SE gate).
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import torch
from torch import nn

from lightnets._torch import evaluating
from lightnets.layers import InvertedResidual, SqueezeExcite

# MobileNetV3 Table 1's NL column: "RE" ReLU, "HS" h-swish (RE6: the ReLU6 some blogs use).
NONLINEARITY_FLAGS = {nn.ReLU: "RE", nn.Hardswish: "HS", nn.ReLU6: "RE6"}
COLUMNS = ("k", "exp", "out", "SE", "NL")


class BlockRow(NamedTuple):
    """One bottleneck, in MobileNetV3 Table 1's columns."""

    kernel_size: int
    expanded_channels: int
    out_channels: int
    use_se: bool
    nonlinearity: str  # a flag of NONLINEARITY_FLAGS, else the activation's class name


def block_rows(model: nn.Module) -> list[BlockRow]:
    """(kernel, exp size, #out, SE, NL) of every inverted-residual block of ``model``, in order,
    read from the modules: the depthwise convolution's kernel and width, its activation."""
    rows = []
    for block in model.modules():
        if not isinstance(block, InvertedResidual):
            continue
        depthwise = next(layer for layer in block.block if layer[0].groups > 1)
        activation = type(depthwise[2])
        rows.append(BlockRow(depthwise[0].kernel_size[0], depthwise[0].out_channels,
                             block.out_channels,
                             any(isinstance(m, SqueezeExcite) for m in block.block),
                             NONLINEARITY_FLAGS.get(activation, activation.__name__)))
    return rows


def paper_rows(table: Sequence) -> list[BlockRow]:
    """The bottleneck rows of a MobileNetV3 table (``TABLE_1``, ``TABLE_2``), as
    :class:`BlockRow`."""
    return [BlockRow(r.kernel_size, r.expanded_channels, r.out_channels, r.use_se, r.nonlinearity)
            for r in table if r.operator == "bneck"]


def hidden_choices(model: nn.Module) -> dict:
    """What MobileNetV3's table implies without a column of its own: the stem's activation (the
    first row's NL) and the SE blocks' gate (a hard sigmoid, §5.3)."""
    gates = {type(m.gate).__name__ for m in model.modules() if isinstance(m, SqueezeExcite)}
    return {"stem": type(model.features[0][2]).__name__, "SE gate": ", ".join(sorted(gates))}


# What Table 1 implies for the parts it has no column for (MobileNetV3 §5.2, §5.3).
TABLE_1_HIDDEN = {"stem": "Hardswish", "SE gate": "Hardsigmoid"}


def differences(table: Sequence, model: nn.Module) -> list[str]:
    """Every cell where ``model`` departs from the MobileNetV3 ``table`` ("row 9 exp: 184 ->
    192"), then the stem and the SE gate where they depart from what the table implies; a
    missing or extra block is a difference too."""
    paper, ours = paper_rows(table), block_rows(model)
    found = [f"row {i} {column}: {a} -> {b}"
             for i, (row, mine) in enumerate(zip(paper, ours), 1)
             for column, a, b in zip(COLUMNS, row, mine) if a != b]
    if len(paper) != len(ours):
        found.append(f"bottlenecks: {len(paper)} -> {len(ours)}")
    hidden = hidden_choices(model)
    found += [f"{part}: {expected} -> {hidden[part]}" for part, expected in TABLE_1_HIDDEN.items()
              if hidden[part] != expected]
    return found


def rows_differing(reference: nn.Module, other: nn.Module) -> int:
    """How many rows of ``other``'s layer table differ from ``reference``'s (a row one of them
    lacks counts as differing)."""
    a, b = block_rows(reference), block_rows(other)
    return sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b))


def expansion_kernels(model: nn.Module) -> list[int]:
    """The kernel of every block's 1×1 expansion convolution (EfficientNet's MBConv: expansion,
    depthwise, SE, projection), a column the tables leave implied."""
    return [block.block[0][0].kernel_size[0] for block in model.modules()
            if isinstance(block, InvertedResidual) and len(block.block) == 4]


# --- MobileNetV3's Table 1 and 2 printed beside our network's outputs (lesson 03) --------------


@torch.no_grad()
def output_shapes(model: nn.Module, side: int = 224) -> list[tuple]:
    """The output shape (without the batch) of every row of a MobileNetV3 table, measured on
    ``model``: each feature layer, the pooling, then the classifier's two 1×1 (linear) layers."""
    x, shapes = torch.zeros(1, 3, side, side), []
    with evaluating(model):
        for layer in model.features:
            x = layer(x)
            shapes.append(tuple(x.shape[1:]))
    return shapes + [(x.shape[1], 1, 1), (model.classifier[0].out_features,),
                     (model.classifier[-1].out_features,)]


def table_text(table: Sequence, shapes: Sequence[tuple]) -> str:
    """A MobileNetV3 table in the paper's columns, each row with the output shape measured on our
    network (:func:`output_shapes`) at its end."""
    lines = [f"{'Input':>11s}  {'Operator':12s} {'exp':>4s} {'#out':>5s} {'SE':>3s} {'NL':>3s} "
             f"{'s':>2s}   our output"]
    for row, shape in zip(table, shapes):
        operator = (f"{row.operator}, {row.kernel_size}x{row.kernel_size}"
                    if row.operator == "bneck" else row.operator)
        lines.append(
            f"{row.input[0]:>4d}²×{row.input[1]:<5d} {operator:12s} "
            f"{row.expanded_channels or '-':>4} {row.out_channels or '-':>5} "
            f"{'✓' if row.use_se else '-':>3s} {row.nonlinearity or '-':>3s} {row.stride:>2d}   "
            f"{shape}")
    return "\n".join(lines)


def chain_breaks(table: Sequence, shapes: Sequence[tuple]) -> list[str]:
    """Rows whose measured output is not the next row's printed input (side², channels): empty
    when our network reproduces the table's sizes from end to end."""
    return [f"row {i}: output {shape}, next row's input {next_row.input}"
            for i, (next_row, shape) in enumerate(zip(table[1:], shapes), 1)
            if len(shape) == 3 and (shape[1], shape[0]) != tuple(next_row.input)]
