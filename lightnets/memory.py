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

import torch
from torch import nn

from lightnets._checks import check_int, describe
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
    input_size = _check_arguments(model, input_size)
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
    _check_steps(steps, bytes_per_value)
    return max(s.live for s in steps) * bytes_per_value


def largest_tensor_by_resolution(steps: Sequence[Step], bytes_per_value: int = 2) -> dict:
    """Table 3's rows: per resolution (side), the largest tensor materialised at it, in bytes."""
    _check_steps(steps, bytes_per_value)
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

    input_size = _check_arguments(model, input_size)
    hooks = [m.register_forward_hook(hook) for m in model.modules()
             if isinstance(m, NONLINEARITIES)]
    _shapes_pass(model, input_size, hooks)
    return rows


def _check_arguments(model, input_size) -> tuple:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(input_size, (tuple, list, torch.Size)) or len(input_size) != 4:
        raise ValueError(
            f"input_size must be (batch, channels, height, width), got {describe(input_size)}")
    for side in input_size:
        check_int("input_size", side, low=1, high=2**16)
    smallest = getattr(model, "min_resolution", None)
    if isinstance(smallest, int) and min(input_size[2:]) < smallest:
        raise ValueError(f"input_size height and width must be >= {smallest} px for "
                         f"{type(model).__name__}, got {input_size[2]}x{input_size[3]}")
    channels = getattr(model, "in_channels", None)
    if isinstance(channels, int) and input_size[1] != channels:
        raise ValueError(f"input_size must have {channels} channels for {type(model).__name__}, "
                         f"got {input_size[1]}")
    return tuple(input_size)


def _check_steps(steps, bytes_per_value) -> None:
    check_int("bytes_per_value", bytes_per_value, low=1, high=16)
    if isinstance(steps, (str, bytes)) or not hasattr(steps, "__iter__") or not steps \
            or not all(isinstance(step, Step) for step in steps):
        raise ValueError("steps must be a non-empty list of Step (from inference_steps)")


def _shapes_pass(model: nn.Module, input_size: Sequence[int], hooks: list) -> None:
    """One forward pass on meta tensors (shapes are all we need, as in lightnets.profile), then
    the ``hooks`` are removed."""
    try:
        meta_forward(model, input_size)
    finally:
        for h in hooks:
            h.remove()


# --- training: what a forward pass keeps for backward (DenseNet lesson, Pleiss et al. 2017) ------


@dataclass(frozen=True)
class TrainingMemory:
    """Activation memory of one training forward pass, in bytes of the model's dtype.

    ``peak``: the most bytes that tensors made during the pass occupied at any one time;
    ``kept``: what is still alive when the forward pass ends, i.e. what the autograd graph keeps
    for backward (the output itself excluded).
    """

    peak: int
    kept: int


def training_activation_memory(model: nn.Module,
                               input_size: Sequence[int] = (1, 3, 224, 224)) -> TrainingMemory:
    """Measure the activation memory of a training-mode forward pass of ``model``.

    Every tensor an operation creates is tracked (a ``TorchDispatchMode``) by its storage, and
    released when the last tensor on that storage is freed; storages that views or in-place ops
    share are counted once. The pass runs on meta tensors with the parameters' ``requires_grad``,
    so autograd saves exactly what it would on a real device, but nothing is computed: the result
    is a count of bytes, the same on every machine. Parameters and the input are not counted.
    """
    import weakref

    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten

    class _Live(TorchDispatchMode):
        def __init__(self) -> None:
            super().__init__()
            self.size, self.holders, self.total, self.peak = {}, {}, 0, 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in tree_flatten(out)[0]:
                if isinstance(t, torch.Tensor):
                    key = t.untyped_storage()._cdata
                    if key not in self.size:
                        self.size[key], self.holders[key] = t.untyped_storage().nbytes(), 0
                        self.total += self.size[key]
                        self.peak = max(self.peak, self.total)
                    self.holders[key] += 1
                    weakref.finalize(t, self._release, key)
            return out

        def _release(self, key) -> None:
            self.holders[key] -= 1
            if self.holders[key] == 0:
                self.total -= self.size.pop(key)
                del self.holders[key]

    live = _Live()
    out = meta_forward(model, input_size, training=True, watch=live)
    outputs = [t for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor)]
    kept = live.total - sum(t.untyped_storage().nbytes() for t in outputs)
    return TrainingMemory(peak=live.peak, kept=kept)
