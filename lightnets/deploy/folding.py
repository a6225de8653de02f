"""BatchNorm folding: the same answer with one layer where the model ran two.

Training needs BatchNorm to normalise with the statistics of each batch; inference uses the frozen
running statistics, so each BatchNorm is then a fixed per-channel affine map
``y = γ (x − μ) / √(σ² + ε) + β``. When it directly follows a convolution (or a linear layer), that
map can be multiplied into the layer's weights and bias once, ahead of time (Ioffe & Szegedy 2015,
§3.2 "a single linear transformation"; Jacob et al. 2018, §3.2, fold it for integer inference):

    W' = W · s,   b' = (b − μ) · s + β,   with s = γ / √(σ² + ε) per output channel.

The deployed copy then runs one layer where the model ran two, and reads and writes one activation
tensor fewer per folded pair (ShuffleNet V2's guideline G4: element-wise operations are not free).

A BatchNorm that no convolution feeds directly (DenseNet's pre-activation ``norm1``, which
normalises a concatenation) cannot be folded into one; it becomes a :class:`ChannelAffine`, the same
map without the bookkeeping of running statistics, so no BatchNorm is left in a deployed model.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

__all__ = ["fold_batchnorm", "ChannelAffine"]

_FOLDABLE = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)
_BATCHNORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


class ChannelAffine(nn.Module):
    """``x · scale + shift`` per channel (dimension 1): an evaluation-mode BatchNorm, frozen."""

    def __init__(self, scale: torch.Tensor, shift: torch.Tensor) -> None:
        super().__init__()
        self.scale = nn.Parameter(scale, requires_grad=False)
        self.shift = nn.Parameter(shift, requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = [1, -1] + [1] * (x.dim() - 2)
        return torch.addcmul(self.shift.view(shape), x, self.scale.view(shape))

    def extra_repr(self) -> str:
        return f"{self.scale.numel()}"


def _bn_scale_shift(bn: nn.modules.batchnorm._BatchNorm) -> tuple:
    """s = γ / √(σ² + ε) and t = β − μ·s, in float64 so that folding adds no rounding of its own."""
    var = bn.running_var.double()
    mean = bn.running_mean.double()
    gamma = bn.weight.double() if bn.weight is not None else torch.ones_like(var)
    beta = bn.bias.double() if bn.bias is not None else torch.zeros_like(var)
    scale = gamma / torch.sqrt(var + bn.eps)
    return scale, beta - mean * scale


def _fold_into(layer: nn.Module, bn: nn.modules.batchnorm._BatchNorm) -> None:
    """Multiply ``bn`` into ``layer``'s weight and bias, in place (W' = W·s, b' = b·s + t)."""
    scale, shift = _bn_scale_shift(bn)
    weight = layer.weight
    # Output channels are dimension 0 of conv and linear weights alike.
    view = [-1] + [1] * (weight.dim() - 1)
    new_weight = weight.double() * scale.view(view)
    bias = layer.bias.double() if layer.bias is not None else torch.zeros_like(scale)
    new_bias = bias * scale + shift
    layer.weight = nn.Parameter(new_weight.to(weight.dtype), requires_grad=weight.requires_grad)
    layer.bias = nn.Parameter(new_bias.to(weight.dtype), requires_grad=weight.requires_grad)


def _is_plain_sequential(module: nn.Module) -> bool:
    # Only nn.Sequential's own forward guarantees that child i's output goes to child i + 1 and
    # nowhere else; a subclass that overrides forward may reuse it (a residual), so it is skipped.
    return isinstance(module, nn.Sequential) and type(module).forward is nn.Sequential.forward


def _last_layer(module: nn.Module) -> Optional[nn.Module]:
    """The conv/linear layer whose output ``module`` returns (looking into Sequentials), or None."""
    if isinstance(module, _FOLDABLE) and not isinstance(module, nn.modules.conv._ConvTransposeNd):
        return module
    if _is_plain_sequential(module) and len(module) > 0:
        return _last_layer(module[-1])
    return None


def _foldable(bn: nn.Module, layer: Optional[nn.Module]) -> bool:
    if layer is None or not bn.track_running_stats or bn.running_var is None:
        return False
    return layer.weight.shape[0] == bn.num_features


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """Fold, in place, every BatchNorm that directly follows a conv/linear layer inside an
    ``nn.Sequential`` (ConvBNAct, Xception's SeparableConv → BN, ...) and replace it by
    ``nn.Identity``; turn every other BatchNorm into a :class:`ChannelAffine`. Evaluation only:
    the running statistics become constants. Returns ``model``."""
    for module in list(model.modules()):  # every Sequential, inner ones included
        if not _is_plain_sequential(module):
            continue
        names = list(module._modules)
        for previous, name in zip(names, names[1:]):
            bn = module._modules[name]
            if isinstance(bn, _BATCHNORMS):
                layer = _last_layer(module._modules[previous])
                if _foldable(bn, layer):
                    _fold_into(layer, bn)
                    setattr(module, name, nn.Identity())
    for parent in list(model.modules()):
        for name, child in list(parent._modules.items()):
            if isinstance(child, _BATCHNORMS) and child.track_running_stats:
                scale, shift = _bn_scale_shift(child)
                dtype = child.running_var.dtype
                setattr(parent, name, ChannelAffine(scale.to(dtype), shift.to(dtype)))
    return model
