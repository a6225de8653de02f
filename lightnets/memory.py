"""How much activation memory inference needs: MobileNetV2 §5.1 and Table 3.

During inference only some tensors must exist at once. A convolution needs its input and its
output; a shortcut keeps its block's input alive until the sum. MobileNetV2 §5.1 adds a twist: an
inverted residual block's wide inner tensor never has to exist whole. The block is a per-channel
chain (1×1 expand → depthwise → 1×1 project), so it can be computed t channels-groups at a time and
summed into the output; then the block costs only its narrow input and output. Counting is done on
shapes (hooks on one forward pass on meta tensors); the model is not changed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from torch import nn

from lightnets._torch import meta_forward
from lightnets.layers import InvertedResidual


@dataclass(frozen=True)
class Step:
    """One step of inference: what runs, at which resolution, and how many values are live."""

    name: str
    live: int  # values that must be in memory at once during this step
    tensors: tuple  # (side, values) of the input and output this step materialises


def inference_steps(model: nn.Module, input_size: Sequence[int] = (1, 3, 224, 224),
                    stream_blocks: bool = True) -> list:
    """The steps of ``model.features``: one per convolution, or one per inverted residual block
    when ``stream_blocks`` (MobileNetV2 §5.1's memory-efficient inference)."""
    records, owner = [], {}
    for name, module in model.named_modules():
        if isinstance(module, InvertedResidual):
            for sub in module.modules():
                owner.setdefault(sub, (name, module))
    blocks_seen: dict = {}

    def hook(module, inputs, output):
        block_name, block = owner.get(module, (None, None))
        tensors = ((inputs[0].shape[-1], inputs[0].numel()), (output.shape[-1], output.numel()))
        records.append((names[module], module, block_name, block, inputs[0].numel(),
                        output.numel(), tensors))

    names = {m: n for n, m in model.named_modules()}
    watched = [m for m in model.modules() if isinstance(m, (nn.Conv2d, InvertedResidual))]
    hooks = [m.register_forward_hook(hook) for m in watched]
    _shapes_pass(model, input_size, hooks)
    steps = []
    for name, module, block_name, block, n_in, n_out, tensors in records:
        if isinstance(module, InvertedResidual):
            if stream_blocks:
                steps.append(Step(name, n_in + n_out, tensors))
            continue
        if block is not None and stream_blocks:
            continue
        # A shortcut keeps the block's input alive while the inner layers run (not for the first,
        # whose input it already is).
        kept = 0
        if block is not None and block.use_shortcut:
            first = blocks_seen.setdefault(block_name, name) == name
            kept = 0 if first else _block_input(records, block)
        steps.append(Step(name, n_in + n_out + kept, tensors))
    return steps


def _block_input(records: list, block: nn.Module) -> int:
    """Values in the input of ``block``, from its own recorded step."""
    for _name, module, *_rest in records:
        if module is block:
            return _rest[2]
    raise ValueError("block not found among the recorded steps")


def peak_memory(steps: Sequence[Step], bytes_per_value: int = 2) -> int:
    """Peak live activation memory in bytes (16-bit values, as MobileNetV2 Table 3 assumes)."""
    return max(s.live for s in steps) * bytes_per_value


def largest_tensor_by_resolution(steps: Sequence[Step], bytes_per_value: int = 2) -> dict:
    """Table 3's rows: per resolution (side), the largest tensor materialised at it, in bytes."""
    table: dict = {}
    for step in steps:
        for side, values in step.tensors:
            table[side] = max(table.get(side, 0), values * bytes_per_value)
    return dict(sorted(table.items(), reverse=True))


@dataclass(frozen=True)
class Nonlinearity:
    """One activation layer: where it is, which function, and how many values it transforms."""

    name: str
    kind: str  # the module's class name, e.g. "Hardswish", "ReLU"
    side: int  # side of the map it acts on (1 after pooling)
    values: int


NONLINEARITIES = (nn.ReLU, nn.ReLU6, nn.Hardswish, nn.Hardsigmoid, nn.SiLU, nn.Sigmoid)


def nonlinearity_sizes(model: nn.Module, input_size: Sequence[int] = (1, 3, 224, 224)) -> list:
    """Every activation layer of ``model`` in execution order, with the number of values it sees.

    A nonlinearity costs time in proportion to the values it transforms (MobileNetV3 §5.2), so this
    is its cost up to a per-value price that depends on the function and the hardware.
    """
    rows: list = []
    names = {m: n for n, m in model.named_modules()}

    def hook(module, _inputs, output):
        side = output.shape[-1] if output.dim() == 4 else 1
        rows.append(Nonlinearity(names[module], type(module).__name__, side, output.numel()))

    hooks = [m.register_forward_hook(hook) for m in model.modules()
             if isinstance(m, NONLINEARITIES)]
    _shapes_pass(model, input_size, hooks)
    return rows


def _shapes_pass(model: nn.Module, input_size: Sequence[int], hooks: list) -> None:
    """One forward pass on meta tensors (shapes are all we need, as in lightnets.profile), then
    the ``hooks`` are removed."""
    try:
        meta_forward(model, input_size)
    finally:
        for h in hooks:
            h.remove()
