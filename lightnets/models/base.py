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
