"""The face every lightnets model shows: ``features`` → pooling → ``classifier``.

Keeping the convolutional trunk in ``features`` and the head in ``classifier`` (torchvision's
names) lets CAM, summaries and the lessons find the same parts in every family.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn
from torch.utils._python_dispatch import _disable_current_modes

from lightnets._checks import check_int
from lightnets._torch import meta_forward


class Network(nn.Module):
    """Base class: subclasses set ``features`` and ``classifier`` (and may override the head).

    ``min_resolution`` is the smallest input side for which every layer still sees at least one
    pixel, measured once per model by :func:`measured_min_resolution`; smaller inputs are
    rejected with a ValueError before any layer runs.
    """

    in_channels: int = 3

    @property
    def min_resolution(self) -> int:
        # Measured on first use (the trunk must exist) and kept: the trunk's shape never changes.
        if "_min_resolution" not in self.__dict__:
            self.__dict__["_min_resolution"] = measured_min_resolution(self)
        return self.__dict__["_min_resolution"]

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


def smallest_layer_side(model: nn.Module, side: int) -> int:
    """The smallest side of any layer's output when ``model.features`` runs on a ``side`` px
    square input (a meta tensor: shapes only, so this is cheap even for large models); 0 where a
    layer fails or gets no pixel. Eval mode: one pixel of one sample is fine for BatchNorm then.
    """
    sides: list = []

    def record(module, inputs, output):
        if isinstance(output, torch.Tensor) and output.dim() == 4:
            sides.append(min(output.shape[-2:]))

    # The caller's hooks (torchinfo's summary, a CAM's feature hook) must not see this pass:
    # they are set aside while it runs and put back after.
    modules = list(model.features.modules())
    saved = [(m._forward_hooks, m._forward_pre_hooks) for m in modules]
    for m in modules:
        m._forward_hooks, m._forward_pre_hooks = OrderedDict(), OrderedDict()
    for m in modules:
        m.register_forward_hook(record)
    try:
        meta_forward(model.features, (1, model.in_channels, side, side))
    except RuntimeError:  # a pooling window larger than its input: PyTorch refuses it
        return 0
    finally:
        for m, (forward, pre) in zip(modules, saved):
            m._forward_hooks, m._forward_pre_hooks = forward, pre
    return min(sides, default=side)


def measured_min_resolution(model: nn.Module, limit: int = 4096) -> int:
    """``min_resolution``, measured the same way for every model: the smallest input side for
    which every layer of ``model.features`` still outputs at least one pixel.

    A layer's output side never shrinks as its input grows, so doubling from 1 px brackets the
    boundary and a bisection finds it (most of the zoo pads every layer and runs at 1 px, as
    torchvision's ``min_size (1, 1)`` says; pooling without padding needs more). The answer
    depends only on the layers, so it is kept per trunk description (``repr`` of the layers).
    """
    key = (type(model).__qualname__, getattr(model, "in_channels", 3), repr(model.features), limit)
    if key not in _MIN_RESOLUTIONS:
        # The search is the model's own business: a dispatch mode the caller runs (profile's
        # counter, FlopCounterMode, a memory tracker) must not see its meta passes, so the
        # active modes are set aside while it runs and restored after.
        with _disable_current_modes():
            _MIN_RESOLUTIONS[key] = _search_min_resolution(model, limit)
    return _MIN_RESOLUTIONS[key]


_MIN_RESOLUTIONS: dict = {}


def _search_min_resolution(model: nn.Module, limit: int) -> int:
    high = 1
    while smallest_layer_side(model, high) < 1:
        if high >= limit:
            # Every side up to the limit fails: say why, in PyTorch's words at the limit (a
            # BatchNorm sized for other channels fails at every size, a pooling window too large
            # for its input only at small ones).
            try:
                meta_forward(model.features, (1, model.in_channels, limit, limit))
                reason = "a layer outputs no pixel"
            except RuntimeError as err:
                reason = str(err).strip().splitlines()[0]
            raise ValueError(f"{type(model).__name__}'s layers fail on every input side up to "
                             f"{limit} px; at {limit} px: {reason}")
        high *= 2
    low = high // 2  # smallest_layer_side(low) < 1 <= smallest_layer_side(high), or low = 0
    while high - low > 1:
        middle = (low + high) // 2
        if smallest_layer_side(model, middle) >= 1:
            high = middle
        else:
            low = middle
    return high
