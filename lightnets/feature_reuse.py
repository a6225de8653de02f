"""Feature reuse in a trained DenseNet: how strongly each layer reads each earlier layer's maps.

Huang et al. 2017, §5 "Feature Reuse" and Fig. 5: for every pair (source s, target ℓ) inside a
dense block, the average absolute weight that layer ℓ's first convolution puts on the k channels
that layer s produced (s = 0 is the block's input). The last target is whatever reads the whole
block: the transition layer, or for the last block the classifier. In DenseNet-B the first
convolution of a layer is the 1×1 bottleneck, so that is the one we read.
"""

from __future__ import annotations

import numpy as np
from torch import nn

from lightnets._checks import check_int


def source_slices(in_channels: int, growth_rate: int, num_sources: int) -> list:
    """Channel ranges of the block input (s = 0) and of layers 1 … num_sources − 1 (eq. 2)."""
    edges = [0, in_channels] + [in_channels + growth_rate * s for s in range(1, num_sources)]
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]


def feature_reuse(model: nn.Module, block: int) -> np.ndarray:
    """Matrix R (sources × targets) of mean |weight| for dense block ``block`` (1-based) of a
    :class:`~lightnets.models.densenet.DenseNet`; NaN where a source comes after its target.

    Rows are sources 0 … n (0: the block input), columns targets 1 … n + 1 (n + 1: the
    transition, or the classifier after the last block).
    """
    features = model.features
    blocks = [name for name, _ in features.named_children() if name.startswith("denseblock")]
    check_int("block", block, 1, len(blocks))
    dense = getattr(features, f"denseblock{block}")
    layers = list(dense.children())
    k, n = model.growth_rate, len(layers)
    reuse = np.full((n + 1, n + 1), np.nan)
    weights = [layer.conv1.weight for layer in layers]
    if block < len(blocks):
        weights.append(getattr(features, f"transition{block}").conv.weight)
    else:
        weights.append(model.classifier.weight)
    for target, weight in enumerate(weights):
        w = weight.detach().double().abs().reshape(weight.shape[0], weight.shape[1], -1)
        for source, part in enumerate(source_slices(dense.in_channels, k, target + 1)):
            reuse[source, target] = w[:, part].mean().item()
    return reuse
