"""Model names → builders.

A family registers each of its builders with :func:`register` (defined with the spec types in
:mod:`lightnets.models._spec`, below the models, and re-exported here); :func:`create_model`
looks a name up, checks ``num_classes`` and the keyword arguments against the builder's
signature, and calls it.
Bad input fails here, with the argument's name and its allowed range, never deep inside torch.
"""
from __future__ import annotations

import inspect
from typing import Optional

from torch import nn

from lightnets._checks import check_choice, check_float, check_int  # noqa: F401 (re-exported)
from lightnets.models._spec import REGISTRY as _REGISTRY
from lightnets.models._spec import ModelSpec, Reported, register  # noqa: F401 (re-exported)


def list_models(family: Optional[str] = None) -> list[str]:
    """Every registered model name (optionally only one family's), sorted."""
    _load_families()
    return sorted(n for n, s in _REGISTRY.items() if family is None or s.family == family)


def model_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of a registered name; ValueError listing the known names otherwise."""
    _load_families()
    if name not in _REGISTRY:
        raise ValueError(
            f"unknown model name {name!r}; known names: {', '.join(sorted(_REGISTRY))}")
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
        missing = default is None or default.default is inspect.Parameter.empty
        num_classes = 1000 if missing else default.default
    check_int("num_classes", num_classes, low=1)
    accepted = [p for p in inspect.signature(spec.builder).parameters if p != "num_classes"]
    unknown = sorted(set(config) - set(accepted))
    if unknown:
        raise ValueError(f"{name} got unknown argument(s) {', '.join(unknown)}; "
                         f"it accepts: {', '.join(accepted) or 'none'}")
    model = spec.builder(num_classes=num_classes, **config)
    model.model_name = name
    return model


def _load_families() -> None:
    # Importing the family modules runs their @register decorators.
    import lightnets.models  # noqa: F401
