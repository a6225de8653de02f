"""Model names → builders, and the argument checks every builder shares.

A family registers each of its builders with :func:`register`; :func:`create_model` looks a name up,
checks ``num_classes`` and the keyword arguments against the builder's signature, and calls it.
Bad input fails here, with the argument's name and its allowed range, never deep inside torch.
"""
from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

from torch import nn


@dataclass(frozen=True)
class Reported:
    """A model's cost as its paper (or reference implementation) reports it, with the source."""

    params_millions: Optional[float]  # None where the source gives no figure
    mult_adds_millions: Optional[float]
    source: str  # e.g. "Howard et al. 2017, Table 8"


@dataclass(frozen=True)
class ModelSpec:
    """What the registry knows about one model name."""

    name: str
    builder: Callable[..., nn.Module]
    family: str
    resolution: int  # the input size the paper (or torchvision's weights) use
    paper: str
    reported: Optional[Reported] = None


_REGISTRY: dict[str, ModelSpec] = {}


def register(
    name: str, *, family: str, resolution: int = 224, paper: str = "", reported: Optional[Reported] = None
) -> Callable:
    """Decorator: make ``builder`` available as ``create_model(name)``.

    ``resolution`` is the model's native input side; ``reported`` its published cost, which the
    tour notebook and the tests set beside ours.
    """

    def decorate(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _REGISTRY:
            raise ValueError(f"model name {name!r} is registered twice")
        _REGISTRY[name] = ModelSpec(name, builder, family, resolution, paper, reported)
        return builder

    return decorate


def list_models(family: Optional[str] = None) -> list[str]:
    """Every registered model name (optionally only one family's), sorted."""
    _load_families()
    return sorted(n for n, s in _REGISTRY.items() if family is None or s.family == family)


def model_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of a registered name; ValueError listing the known names otherwise."""
    _load_families()
    if name not in _REGISTRY:
        raise ValueError(f"unknown model name {name!r}; known names: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def create_model(name: str, num_classes: Optional[int] = None, **config) -> nn.Module:
    """Build a registered model, e.g. ``create_model("mobilenet_v1", width_mult=0.5)``.

    ``num_classes`` must be a positive integer; left out, it is the builder's own default (1000 for
    the ImageNet models, 10 for the CIFAR ones). Every other keyword must be one of the builder's
    own (its signature is the documentation), and each builder checks its values' ranges.
    """
    spec = model_spec(name)
    if num_classes is None:
        default = inspect.signature(spec.builder).parameters.get("num_classes")
        num_classes = 1000 if default is None or default.default is inspect.Parameter.empty else default.default
    check_int("num_classes", num_classes, low=1)
    accepted = [p for p in inspect.signature(spec.builder).parameters if p != "num_classes"]
    unknown = sorted(set(config) - set(accepted))
    if unknown:
        raise ValueError(
            f"{name} got unknown argument(s) {', '.join(unknown)}; it accepts: {', '.join(accepted) or 'none'}"
        )
    model = spec.builder(num_classes=num_classes, **config)
    model.model_name = name
    return model


def _load_families() -> None:
    # Importing the family modules runs their @register decorators.
    import lightnets.models  # noqa: F401


# --- argument checks shared by the builders ---------------------------------------------------


def check_int(name: str, value, low: Optional[int] = None, high: Optional[int] = None) -> int:
    """``value`` must be an int in [low, high]; ValueError naming ``name`` and the range otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer{_range_text(low, high)}, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be an integer{_range_text(low, high)}, got {value}")
    return value


def check_float(
    name: str,
    value,
    low: Optional[float] = None,
    high: Optional[float] = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """``value`` must be a finite real number in the given interval; ValueError otherwise."""
    interval = _interval_text(low, high, low_inclusive, high_inclusive)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number in {interval}, got {value!r}")
    too_low = low is not None and (value < low or (value == low and not low_inclusive))
    too_high = high is not None and (value > high or (value == high and not high_inclusive))
    if too_low or too_high:
        raise ValueError(f"{name} must be in {interval}, got {value}")
    return float(value)


def check_choice(name: str, value, choices: Iterable):
    """``value`` must be one of ``choices``."""
    choices = list(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def _range_text(low, high) -> str:
    if low is not None and high is not None:
        return f" in [{low}, {high}]"
    if low is not None:
        return f" >= {low}"
    if high is not None:
        return f" <= {high}"
    return ""


def _interval_text(low, high, low_inclusive, high_inclusive) -> str:
    left = "[" if low_inclusive and low is not None else "("
    right = "]" if high_inclusive and high is not None else ")"
    return f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
