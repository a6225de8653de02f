"""Small helpers the notebooks share: repeatable randomness and torchvision weights."""
from __future__ import annotations

import random
from typing import Mapping

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
    """Copy a torchvision state dict into the matching lightnets ``model``, tensor by tensor.

    Our modules are registered in the same order as torchvision's, so the i-th tensor of one state
    dict is the i-th of the other even where the names differ (``features.1.block.0.0.weight`` here,
    ``features.1.conv.0.0.weight`` there). Shapes are checked pair by pair; the first pair that does
    not fit raises a ValueError naming both tensors. ``num_batches_tracked`` counters are matched too.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    ours = model.state_dict()
    theirs = list(state_dict.items())
    if len(ours) != len(theirs):
        for (our_name, our_tensor), (their_name, their_tensor) in zip(ours.items(), theirs):
            if our_tensor.shape != their_tensor.shape:
                break
        else:
            our_name, their_name = _first_extra(list(ours), [n for n, _ in theirs])
        raise ValueError(
            f"state dict has {len(theirs)} tensors, the model {len(ours)}; first that does not fit: "
            f"ours {our_name!r} vs theirs {their_name!r}"
        )
    mapped = {}
    for (our_name, our_tensor), (their_name, their_tensor) in zip(ours.items(), theirs):
        if our_tensor.shape != their_tensor.shape:
            raise ValueError(
                f"tensor {our_name!r} has shape {tuple(our_tensor.shape)} but the state dict's "
                f"{their_name!r} has shape {tuple(their_tensor.shape)}"
            )
        mapped[our_name] = their_tensor
    model.load_state_dict(mapped)
    return model


def _first_extra(ours: list, theirs: list) -> tuple:
    n = min(len(ours), len(theirs))
    return (ours[n] if n < len(ours) else "<none>", theirs[n] if n < len(theirs) else "<none>")
