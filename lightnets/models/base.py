"""The face every lightnets model shows: ``features`` → pooling → ``classifier``.

Keeping the convolutional trunk in ``features`` and the head in ``classifier`` (torchvision's
names) lets CAM, summaries and the lessons find the same parts in every family.
"""
from __future__ import annotations

import torch
from torch import nn

from lightnets._checks import check_int
from lightnets._torch import conv_output_size, meta_forward


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

    def get_classifier(self) -> nn.Module:
        """The layer that produces the class scores: the last linear (or 1×1 conv) layer of
        ``classifier`` (timm's name)."""
        path, layer = _final_layer(self.classifier)
        return layer

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the final classifier layer with a fresh one for ``num_classes`` classes, same
        inputs, PyTorch's default initialisation (timm's ``reset_classifier``): the way to put a
        new head on a trained trunk for fine-tuning."""
        check_int("num_classes", num_classes, low=1)
        path, old = _final_layer(self.classifier)
        if isinstance(old, nn.Linear):
            new = nn.Linear(old.in_features, num_classes, bias=old.bias is not None)
        else:
            new = nn.Conv2d(old.in_channels, num_classes, old.kernel_size, old.stride,
                            old.padding, bias=old.bias is not None)
        new = new.to(device=old.weight.device, dtype=old.weight.dtype)
        if path:
            parent = self.classifier.get_submodule(path.rpartition(".")[0])
            setattr(parent, path.rpartition(".")[2], new)
        else:
            self.classifier = new
        if hasattr(self, "num_classes"):
            self.num_classes = num_classes


def _final_layer(classifier: nn.Module) -> tuple:
    """(name within ``classifier``, module) of its last ``nn.Linear`` or ``nn.Conv2d``."""
    found = [(name, m) for name, m in classifier.named_modules()
             if isinstance(m, (nn.Linear, nn.Conv2d))]
    if not found:
        raise ValueError(f"classifier has no linear or conv layer: {classifier}")
    return found[-1]


def check_input(x: torch.Tensor, in_channels: int, min_resolution: int, model_name: str) -> None:
    """Reject a batch the network cannot take, naming what is wrong and what would be right."""
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(
            f"input must be a 4-D tensor (batch, {in_channels}, height, width), got {shape}")
    if x.shape[1] != in_channels:
        raise ValueError(f"input must have {in_channels} channels, got {x.shape[1]} "
                         f"(shape {tuple(x.shape)})")
    height, width = x.shape[-2:]
    if height < min_resolution or width < min_resolution:
        raise ValueError(
            f"input height and width must be >= {min_resolution} px for {model_name}, "
            f"got {height}x{width}"
        )


def init_weights(model: nn.Module) -> None:
    """torchvision's initialisation for the MobileNet family: He (fan-out) convs, N(0, 0.01)
    linears."""
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


def output_side(side: int, kernel: int, stride: int = 1, padding: int = 0,
                ceil_mode: bool = False) -> int:
    """The side of a convolution's or pooling's output, 0 where it would fail: PyTorch's formula,
    :func:`lightnets._torch.conv_output_size`, with the models' explicit padding (default 0)."""
    return conv_output_size(side, kernel, stride, padding, ceil_mode=ceil_mode)


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
    ``min_resolution`` (meta tensors carry shapes only, so this is cheap even for large models).
    Eval mode, as a 1×1 map of one sample is fine for BatchNorm in eval mode only."""
    try:
        out = meta_forward(model.features, (1, model.in_channels, side, side))
    except RuntimeError:
        return 0
    return min(out.shape[-2:])
