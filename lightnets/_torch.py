"""Small torch mechanics several modules share, kept once at the bottom floor."""
from __future__ import annotations

import contextlib
from typing import Iterator

from torch import nn


@contextlib.contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode for the block, then restore its train/eval mode, even on error.

    Inference-time measurements (costs, CAMs, accuracy) need BatchNorm's running statistics and no
    dropout; the caller's model must come back as it was given.
    """
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)
