"""The face every lightnets model shows: ``features`` → pooling → ``classifier``.

Keeping the convolutional trunk in ``features`` and the head in ``classifier`` (torchvision's
names) lets CAM, summaries and the lessons find the same parts in every family.
"""
from __future__ import annotations

import torch
from torch import nn


class Network(nn.Module):
    """Base class: subclasses set ``features`` and ``classifier`` (and may override the head).

    ``min_resolution`` is the smallest input side for which every layer still sees at least one
    pixel; smaller inputs are rejected with a ValueError before any layer runs.
    """

    min_resolution: int = 32
    in_channels: int = 3

    def __init__(self) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels, self.min_resolution, type(self).__name__)
        return self.forward_head(self.features(x))

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(x), 1))


def check_input(x: torch.Tensor, in_channels: int, min_resolution: int, model_name: str) -> None:
    """Reject a batch the network cannot take, naming what is wrong and what would be right."""
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"input must be a 4-D tensor (batch, {in_channels}, height, width), got {shape}")
    if x.shape[1] != in_channels:
        raise ValueError(f"input must have {in_channels} channels, got {x.shape[1]} (shape {tuple(x.shape)})")
    height, width = x.shape[-2:]
    if height < min_resolution or width < min_resolution:
        raise ValueError(
            f"input height and width must be >= {min_resolution} px for {model_name}, "
            f"got {height}x{width}"
        )


def init_weights(model: nn.Module) -> None:
    """torchvision's initialisation for the MobileNet family: He (fan-out) convs, N(0, 0.01) linears."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)


def output_side(side: int, kernel: int, stride: int = 1, padding: int = 0, ceil_mode: bool = False) -> int:
    """The side of a convolution's or pooling's output, by PyTorch's formula; 0 where it would fail.

    With ``ceil_mode`` (Caffe's pooling, SqueezeNet) the last window may hang over the edge, but it
    must start inside the input or its left padding, so PyTorch drops a window that would start
    beyond it.
    """
    if side < 1:
        return 0
    span = side + 2 * padding - kernel
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= side + padding:
            out -= 1
        return max(out, 0)
    return span // stride + 1 if span >= 0 else 0


def smallest_input_side(trunk_side, limit: int = 4096) -> int:
    """The smallest input side for which ``trunk_side(side)`` (the side of the trunk's last map,
    computed layer by layer with :func:`output_side`) is at least one pixel.

    Output sides never shrink as the input grows, so a bisection finds the boundary.
    """
    if trunk_side(limit) < 1:
        raise ValueError(f"the network needs inputs larger than {limit} px")
    low, high = 0, limit  # trunk_side(low) < 1 <= trunk_side(high)
    while high - low > 1:
        middle = (low + high) // 2
        if trunk_side(middle) >= 1:
            high = middle
        else:
            low = middle
    return high


def measured_trunk_side(model: Network, side: int) -> int:
    """Run ``model.features`` on a meta tensor of ``side`` px and return its output's smaller side,
    0 where a layer fails or gets no pixel: the measurement that checks a computed
    ``min_resolution`` (meta tensors carry shapes only, so this is cheap even for large models)."""
    from torch.func import functional_call

    on_meta = {k: torch.empty_like(v, device="meta")
               for k, v in model.features.state_dict(keep_vars=True).items()}
    was_training = model.features.training
    model.features.eval()  # a 1×1 map of one sample is fine for BatchNorm in eval mode only
    try:
        with torch.no_grad():
            out = functional_call(model.features, on_meta,
                                  (torch.empty(1, model.in_channels, side, side, device="meta"),))
    except RuntimeError:
        return 0
    finally:
        model.features.train(was_training)
    return min(out.shape[-2:])
