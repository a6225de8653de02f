"""DenseNet's cost in closed form (Huang et al. 2017, §3), without building a model.

Dense connectivity (eq. 2) makes the width of every layer's input a simple sum: layer ℓ of a
block that starts with k₀ channels receives k₀ + k·(ℓ − 1) of them. Everything else follows
from that: each DenseNet-B layer is BN → ReLU → 1×1 conv (to 4k) → BN → ReLU → 3×3 conv (to k),
each transition a BN and a 1×1 conv to ⌊θ·m⌋ channels followed by 2×2 average pooling.

MACs follow the package's "paper" convention (conv and linear multiply-accumulates, as
:func:`lightnets.profile`); parameters count every weight, BatchNorm's scale and shift included.
The tests check both against ``profile`` of the built model on a grid of (k, L).
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

from lightnets._checks import check_float, check_int

BN_SIZE = 4  # §3 "Bottleneck layers": the 1×1 conv makes 4k maps


class DenseNetCost(NamedTuple):
    params: int
    macs: int
    block_out_channels: tuple  # channels leaving each dense block (before its transition)


def channels_into_layer(in_channels: int, growth_rate: int, layer: int) -> int:
    """Eq. 2: layer ℓ (1-based) of a dense block sees k₀ + k·(ℓ − 1) channels."""
    check_int("layer", layer, low=1)
    return in_channels + growth_rate * (layer - 1)


def dense_layer_cost(
    in_channels: int, growth_rate: int, side: int, bottleneck: bool = True
) -> tuple:
    """(params, MACs) of one dense layer at ``side`` × ``side``.

    ``bottleneck=True`` is DenseNet-B's BN-ReLU-1×1(4k)-BN-ReLU-3×3(k); ``False`` the basic
    BN-ReLU-3×3(k) layer. Per pixel the 3×3 conv alone costs 9·c·k, the bottleneck form
    4k·c + 36k²: it is cheaper once c > 7.2k (§3 "Bottleneck layers").
    """
    if bottleneck:
        width = BN_SIZE * growth_rate
        params = 2 * in_channels + in_channels * width + 2 * width + 9 * width * growth_rate
        macs = (in_channels * width + 9 * width * growth_rate) * side * side
    else:
        params = 2 * in_channels + 9 * in_channels * growth_rate
        macs = 9 * in_channels * growth_rate * side * side
    return params, macs


def densenet_cost(
    block_layers: Sequence[int],
    growth_rate: int,
    compression: float = 0.5,
    num_classes: int = 10,
    resolution: int = 32,
    imagenet_stem: bool = False,
) -> DenseNetCost:
    """Parameters and MACs of :class:`lightnets.models.densenet.DenseNet` with these settings."""
    check_int("growth_rate", growth_rate, low=1)
    check_float("compression", compression, 0.0, 1.0, low_inclusive=False)
    check_int("num_classes", num_classes, low=1)
    check_int("resolution", resolution, low=1)
    k, channels, side = growth_rate, 2 * growth_rate, resolution  # the stem makes 2k maps (§3)
    if imagenet_stem:  # Table 1: 7×7/2 conv + BN, then 3×3/2 max pool
        side = (side + 2 * 3 - 7) // 2 + 1
        params, macs = 3 * 49 * channels + 2 * channels, 3 * 49 * channels * side * side
        side = (side + 2 - 3) // 2 + 1
    else:  # §3 "Implementation Details": one 3×3 conv at full resolution
        params, macs = 3 * 9 * channels, 3 * 9 * channels * side * side
    outs = []
    for i, layers in enumerate(block_layers):
        check_int("block_layers", layers, low=1)
        for layer in range(1, layers + 1):
            p, m = dense_layer_cost(channels_into_layer(channels, k, layer), k, side)
            params, macs = params + p, macs + m
        channels += layers * k
        outs.append(channels)
        if i < len(block_layers) - 1:  # transition: BN, 1×1 conv to ⌊θm⌋, 2×2 average pool
            out = int(compression * channels)
            params += 2 * channels + channels * out
            macs += channels * out * side * side
            channels, side = out, side // 2
    params += 2 * channels + channels * num_classes + num_classes  # norm5 and the classifier
    macs += channels * num_classes
    return DenseNetCost(params, macs, tuple(outs))


def densenet_bc_cost(
    depth: int = 100,
    growth_rate: int = 12,
    compression: float = 0.5,
    num_classes: int = 10,
    resolution: int = 32,
) -> DenseNetCost:
    """The CIFAR DenseNet-BC of Table 2: L = 6n + 4, three blocks of n layers each."""
    check_int("depth", depth, low=10)
    if (depth - 4) % 6:
        raise ValueError(
            f"depth must satisfy (depth - 4) % 6 == 0 for DenseNet-BC (L = 6n + 4), got {depth}"
        )
    return densenet_cost(((depth - 4) // 6,) * 3, growth_rate, compression, num_classes, resolution)


# Huang et al. 2017, Table 2: DenseNet-BC (L, k) → parameters in millions, as printed.
TABLE_2_BC = {(100, 12): 0.8, (250, 24): 15.3, (190, 40): 25.6}
