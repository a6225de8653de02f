"""Small helpers the notebooks share: repeatable randomness and torchvision weights."""
from __future__ import annotations

import random
from typing import Callable, Dict, List, Mapping, Optional, Tuple

import torch
from torch import nn


def seed_everything(seed: int) -> None:
    """Seed the random generators a notebook draws from, so its numbers repeat: Python's
    ``random``, NumPy's global generator (if installed) and torch's (CPU and every CUDA device).

    String hashing (``PYTHONHASHSEED``) is not seeded: Python reads it once at start-up, so
    setting it here would have no effect; set it in the environment before starting Python where
    set iteration order matters.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    random.seed(seed)
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy ships with torch's usual installs
        pass
    else:
        np.random.seed(seed)
    torch.manual_seed(seed)  # seeds CUDA too


def load_torchvision_weights(model: nn.Module, state_dict: Mapping[str, torch.Tensor]) -> nn.Module:
    """Copy a torchvision (or timm) state dict into the matching lightnets ``model``.

    Names differ between the two (``features.1.block.0.0.weight`` here,
    ``features.1.conv.0.0.weight`` in torchvision), so tensors are paired by what they are, not
    by their full names:

    1. Each side is split into layers (a key's prefix) and each tensor gets its role (the last name
       part: ``weight``, ``bias``, ``running_mean``, ``running_var``, ``num_batches_tracked``, ...).
       A layer's kind (conv, norm, linear) comes, on our side, from the module that owns it, and on
       theirs from the names and ranks alone: a layer with running statistics or a 1-d weight is a
       norm, a weight of rank 2 a linear layer, of rank 3 or more a convolution.
    2. A layer is identified by its kind and the roles and shapes of its tensors. Our layers are
       paired with theirs of the same identity: one with the same name if there is one, otherwise
       the first unpaired one in their order. Within a pair, tensors are matched by role, so a
       BatchNorm whose ``bias`` is stored before its ``weight``, or layers stored out of order, load
       into the right tensors. Layers that look alike keep their relative order, as in torchvision.
    3. A layer with no counterpart raises a ValueError naming our tensor and theirs (the first
       unpaired one in their order), with both shapes and roles; so does a leftover tensor.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(state_dict, Mapping):
        raise ValueError(
            f"state_dict must be a mapping of names to tensors, got {type(state_dict).__name__}"
        )
    ours = _layers(model.state_dict(), lambda prefix: _module_kind(model, prefix))
    theirs = _layers(state_dict, None)
    n_ours, n_theirs = sum(len(t) for _, _, t in ours), sum(len(t) for _, _, t in theirs)
    counts = f"state dict has {n_theirs} tensors, the model {n_ours}; "
    counts = "" if n_ours == n_theirs else counts
    by_name = {prefix: i for i, (prefix, _, _) in enumerate(theirs)}
    partner: dict = {}
    # Same layer name and the same identity: paired first, so that order cannot steal them.
    for i, (prefix, identity, _) in enumerate(ours):
        j = by_name.get(prefix)
        if j is not None and theirs[j][1] == identity:
            partner[i] = j
    used = set(partner.values())
    for i, (prefix, identity, tensors) in enumerate(ours):
        if i in partner:
            continue
        j = next((j for j, t in enumerate(theirs) if j not in used and t[1] == identity), None)
        if j is None:
            nxt = next((j for j in range(len(theirs)) if j not in used), None)
            their_next = None if nxt is None else theirs[nxt]
            raise ValueError(counts + _misfit(prefix, identity, tensors, their_next))
        partner[i] = j
        used.add(j)
    leftover = next((j for j in range(len(theirs)) if j not in used), None)
    if leftover is not None:
        prefix, identity, tensors = theirs[leftover]
        role, tensor = next(iter(tensors.items()))
        raise ValueError(
            f"{counts}first that does not fit: theirs {_key(prefix, role)!r} "
            f"({_describe(identity[0], role, tensor)}) has no counterpart in the model"
        )
    mapped = {}
    for i, (prefix, _, tensors) in enumerate(ours):
        their_tensors = theirs[partner[i]][2]
        for role in tensors:
            mapped[_key(prefix, role)] = their_tensors[role]
    model.load_state_dict(mapped)
    return model


# A layer: (prefix, identity, {role: tensor}); identity = (kind, sorted (role, shape) pairs).
_Layer = Tuple[str, tuple, Dict[str, torch.Tensor]]

_NORMS = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)


def _layers(
    state_dict: Mapping[str, torch.Tensor], kind_of: Optional[Callable[[str], str]]
) -> List[_Layer]:
    """Group a state dict's tensors by owning layer, in order of first appearance."""
    groups: Dict[str, Dict[str, torch.Tensor]] = {}
    for key, tensor in state_dict.items():
        if not isinstance(key, str) or not isinstance(tensor, torch.Tensor):
            raise ValueError(
                f"state_dict must map names to tensors, got {key!r}: {type(tensor).__name__}"
            )
        prefix, _, role = key.rpartition(".")
        groups.setdefault(prefix, {})[role] = tensor
    layers = []
    for prefix, tensors in groups.items():
        kind = kind_of(prefix) if kind_of is not None else "other"
        if kind == "other":
            kind = _pattern_kind(tensors)
        identity = (kind, tuple(sorted((role, tuple(t.shape)) for role, t in tensors.items())))
        layers.append((prefix, identity, tensors))
    return layers


def _module_kind(model: nn.Module, prefix: str) -> str:
    """Our side: the kind of the module that owns the tensors under ``prefix``."""
    module = model.get_submodule(prefix)
    if isinstance(module, nn.modules.conv._ConvNd):
        return "conv"
    if isinstance(module, _NORMS):
        return "norm"
    if isinstance(module, nn.Linear):
        return "linear"
    return "other"


def _pattern_kind(tensors: Mapping[str, torch.Tensor]) -> str:
    """Their side: a layer's kind from its tensors' names and ranks only."""
    weight = tensors.get("weight")
    if "running_mean" in tensors or "running_var" in tensors:
        return "norm"
    if weight is not None and weight.dim() == 1:  # LayerNorm, GroupNorm, BatchNorm without stats
        return "norm"
    if weight is not None and weight.dim() == 2:
        return "linear"
    if weight is not None and weight.dim() >= 3:
        return "conv"
    return "other"


def _key(prefix: str, role: str) -> str:
    return f"{prefix}.{role}" if prefix else role


def _describe(kind: str, role: str, tensor: torch.Tensor) -> str:
    return f"{kind} {role}, shape {tuple(tensor.shape)}"


def _misfit(
    prefix: str, identity: tuple, tensors: Mapping[str, torch.Tensor], other: Optional[_Layer]
) -> str:
    """The error for our layer ``prefix`` that none of theirs fits (``other``: their next one)."""
    if other is None:
        role, tensor = next(iter(tensors.items()))
        return (
            f"first that does not fit: tensor {_key(prefix, role)!r} "
            f"({_describe(identity[0], role, tensor)}) has no counterpart: "
            "every tensor of the state dict is already paired"
        )
    their_prefix, their_identity, their_tensors = other
    # Name the first of our tensors that differs from theirs, by role and shape, and its namesake.
    differing = (r for r, t in tensors.items()
                 if r not in their_tensors or their_tensors[r].shape != t.shape)
    role = next(differing, next(iter(tensors)))
    extra = (r for r in their_tensors if r not in tensors)  # e.g. a role the model does not have
    their_role = role if role in their_tensors else next(extra, next(iter(their_tensors)))
    ours, theirs = tensors[role], their_tensors[their_role]
    kind, their_kind = identity[0], their_identity[0]
    kinds = "" if kind == their_kind else f" (ours a {kind} layer, theirs a {their_kind} layer)"
    return (
        f"first that does not fit: tensor {_key(prefix, role)!r} has shape {tuple(ours.shape)} "
        f"({kind} {role}) but the state dict's {_key(their_prefix, their_role)!r} has shape "
        f"{tuple(theirs.shape)} ({their_kind} {their_role}){kinds}, and no other layer there fits"
    )
