"""What a model family declares about each builder: the spec types, the table of names and the
:func:`register` decorator.

They live here, below the registry, so that the families can register themselves without
importing upward; :mod:`lightnets.registry` re-exports them and adds the lookup and validation.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

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


REGISTRY: dict[str, ModelSpec] = {}


def register(name: str, *, family: str, resolution: int = 224, paper: str = "",
             reported: Optional[Reported] = None) -> Callable:
    """Decorator: make ``builder`` available as ``create_model(name)``.

    ``resolution`` is the model's native input side; ``reported`` its published cost, which the
    tour notebook and the tests set beside ours.
    """

    def decorate(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in REGISTRY:
            raise ValueError(f"model name {name!r} is registered twice")
        REGISTRY[name] = ModelSpec(name, builder, family, resolution, paper, reported)
        return builder

    return decorate
