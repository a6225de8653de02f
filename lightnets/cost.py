"""What a network costs: parameters and multiply-accumulates (MACs), layer by layer.

The convention is the papers' ("Mult-Adds"): one multiply-accumulate per weight use in a
convolution or fully connected layer; BatchNorm is folded into the convolution before it and
activations are free. torchvision publishes the same numbers (its "GFLOPS" are GMACs).

Counting needs shapes, not numbers, so the forward pass runs on meta tensors: no memory is
allocated and no arithmetic is done, which is what makes profiling a large model cheap.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import torch
from torch import nn
from torch.func import functional_call


@dataclass(frozen=True)
class LayerCost:
    """One convolution or linear layer: where it is, what it is, and what it costs."""

    name: str
    type: str  # "standard", "depthwise", "pointwise", "grouped" or "linear"
    output_shape: tuple
    params: int
    macs: int


@dataclass
class Profile:
    """The cost of a model at one input size; ``by_layer`` holds the rows that make up ``macs``."""

    params: int
    macs: int
    input_size: tuple
    by_layer: list = field(default_factory=list)

    @property
    def by_type(self) -> dict:
        """MACs summed per layer type, in order of first appearance."""
        totals: dict = {}
        for row in self.by_layer:
            totals[row.type] = totals.get(row.type, 0) + row.macs
        return totals


def conv_type(conv: nn.Conv2d) -> str:
    """Name a convolution the way MobileNetV1 §3 does: standard, depthwise, pointwise or grouped."""
    if conv.groups == 1:
        return "pointwise" if conv.kernel_size == (1, 1) else "standard"
    if conv.groups == conv.in_channels:
        return "depthwise"
    return "grouped"


def profile(model: nn.Module, input_size: Sequence[int] = (1, 3, 224, 224)) -> Profile:
    """Count ``model``'s parameters and its MACs for one forward pass on a batch of ``input_size``."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    input_size = tuple(input_size)
    if len(input_size) != 4 or not all(isinstance(d, int) and d > 0 for d in input_size):
        raise ValueError(f"input_size must be 4 positive integers (batch, channels, height, width), got {input_size}")

    rows: list[LayerCost] = []
    names = {module: name for name, module in model.named_modules()}

    def count(module: nn.Module, _inputs, output: torch.Tensor) -> None:
        weight_params = sum(p.numel() for p in module.parameters(recurse=False))
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            macs = output.numel() * (module.in_channels // module.groups) * kh * kw
            kind = conv_type(module)
        else:
            macs = output.numel() * module.in_features
            kind = "linear"
        rows.append(LayerCost(names[module], kind, tuple(output.shape), weight_params, macs))

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    on_meta = {k: torch.empty_like(v, device="meta") for k, v in {**dict(model.named_parameters()),
                                                                  **dict(model.named_buffers())}.items()}
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            functional_call(model, on_meta, (torch.empty(input_size, device="meta"),))
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    params = sum(p.numel() for p in model.parameters())
    return Profile(params=params, macs=sum(r.macs for r in rows), input_size=input_size, by_layer=rows)
