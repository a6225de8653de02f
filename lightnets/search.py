"""How MnasNet and MobileNetV3 were searched: the reward, the search space, and NetAdapt's step.

* The multi-objective reward (MnasNet, Tan et al. 2019, eq. 2): ``ACC(m) · (LAT(m) / T)^w`` with
  ``w = α`` where the latency meets the target T and ``w = β`` where it does not. The soft
  constraint uses α = β = −0.07; the hard constraint α = 0, β = −1 (§3). MobileNetV3 (Howard et al.
  2019, §4.1) searched its Small model with w = −0.15, because the accuracy of small models changes
  faster with latency; EfficientNet-B0 (Tan & Le 2019, §4) used FLOPS instead of latency, T = 400 M.
* The factorized hierarchical search space (MnasNet §4.1, Fig. 4): the network is cut into seven
  blocks, as MobileNetV2's; each block picks one layer (conv op, kernel, SE ratio, skip op, filter
  size) and repeats it N_i times. :data:`SEARCH_SPACE` holds the choices as data,
  :func:`sample_architecture` draws from it and :func:`build_network` builds the result from
  lightnets' own blocks.
* NetAdapt (Yang et al. 2018) shrinks a trained network one layer at a time: each step proposes,
  for every layer, the widest cut that lowers the latency by δ, fine-tunes each proposal briefly and
  keeps one. MobileNetV3 §4.2 keeps the proposal with the largest ΔAccuracy / |ΔLatency|.
  :func:`prune_expansion` is one such proposal on an inverted residual (the expansion layer is the
  first of the two kinds of proposal §4.2 lists); ``lightnets.experiments.netadapt`` runs the loop.
"""
from __future__ import annotations

import random
from typing import NamedTuple, Optional, Sequence

import torch
from torch import nn

from lightnets._checks import check_choice, check_float, check_int
from lightnets.layers import ConvBNAct, DepthwiseSeparable, InvertedResidual, make_divisible
from lightnets.models.base import Network, init_weights

# --- the reward ----------------------------------------------------------------------------------

SOFT_CONSTRAINT = (-0.07, -0.07)  # MnasNet §3: (α, β) for the soft constraint
HARD_CONSTRAINT = (0.0, -1.0)  # ... and for the hard one
MOBILENET_V3_SMALL_W = -0.15  # MobileNetV3 §4.1: the weight used to search the Small model
EFFICIENTNET_B0_TARGET_FLOPS = 400e6  # EfficientNet §4: T = 400M FLOPS, w = −0.07


def reward(accuracy: float, latency: float, target: float,
           alpha: float = SOFT_CONSTRAINT[0], beta: float = SOFT_CONSTRAINT[1]) -> float:
    """MnasNet eq. 2: ``accuracy · (latency / target)^w``, w = ``alpha`` if latency ≤ target else
    ``beta``. ``latency`` and ``target`` may be any cost in the same unit (ms, or FLOPS as for
    EfficientNet-B0)."""
    check_float("accuracy", accuracy, 0.0, 1.0)
    check_float("latency", latency, 0.0, None, low_inclusive=False)
    check_float("target", target, 0.0, None, low_inclusive=False)
    check_float("alpha", alpha, -10.0, 10.0)
    check_float("beta", beta, -10.0, 10.0)
    w = alpha if latency <= target else beta
    return accuracy * (latency / target) ** w


def equal_reward_accuracy(accuracy: float, latency_ratio: float, w: float) -> float:
    """The accuracy a model ``latency_ratio`` times slower needs for the same reward under weight
    ``w``: ``accuracy · latency_ratio^(−w)``. With w = −0.07, doubling the latency must buy about
    5% more accuracy (relative), MnasNet's empirical observation behind the value."""
    check_float("accuracy", accuracy, 0.0, 1.0)
    check_float("latency_ratio", latency_ratio, 0.0, None, low_inclusive=False)
    check_float("w", w, -10.0, 10.0)
    return accuracy * latency_ratio ** (-w)


# --- the factorized hierarchical search space ----------------------------------------------------

# MnasNet §4.1: the per-block choices. "mbconv3"/"mbconv6" are mobile inverted bottlenecks with
# expansion 3 or 6 (the ratios MnasNet-A1 uses); the filter size and the layer count are searched
# relative to MobileNetV2's block (§4.1: {0.75, 1.0, 1.25} and {−1, 0, +1}).
SEARCH_SPACE = {
    "conv_op": ("conv", "dconv", "mbconv3", "mbconv6"),
    "kernel_size": (3, 5),
    "se_ratio": (0.0, 0.25),
    "skip_op": ("identity", "none"),  # MnasNet also lists pooling; our blocks offer these two
    "filter_mult": (0.75, 1.0, 1.25),
    "layers_delta": (-1, 0, 1),
}


# MnasNet §4.1's worked example of the factorization (CVPR 2019 = arXiv:1807.11626v3): S choices
# per block, B blocks, N layers per block give S^B networks against S^(B·N) for a per-layer
# search, "about 10^13" against 10^39.
SPACE_SIZE_EXAMPLE = {"choices_per_block": 432, "blocks": 5, "layers_per_block": 3}


class Reference(NamedTuple):
    """A block of MobileNetV2 (Table 2), the reference the search space is relative to."""

    out_channels: int
    layers: int
    stride: int


MOBILENET_V2_BLOCKS = (
    Reference(16, 1, 1), Reference(24, 2, 2), Reference(32, 3, 2), Reference(64, 4, 2),
    Reference(96, 3, 1), Reference(160, 3, 2), Reference(320, 1, 1),
)
STEM_CHANNELS, HEAD_CHANNELS = 32, 1280


class BlockChoice(NamedTuple):
    """One block of a searched network: the layer it repeats and how often."""

    conv_op: str
    kernel_size: int
    se_ratio: float
    skip_op: str
    out_channels: int
    layers: int
    stride: int


def sample_architecture(seed: int) -> list:
    """Draw one network from :data:`SEARCH_SPACE` (uniformly per block), repeatably from
    ``seed``."""
    check_int("seed", seed, low=0)
    rng = random.Random(seed)
    blocks = []
    for reference in MOBILENET_V2_BLOCKS:
        pick = {key: rng.choice(values) for key, values in SEARCH_SPACE.items()}
        blocks.append(BlockChoice(
            pick["conv_op"], pick["kernel_size"], pick["se_ratio"], pick["skip_op"],
            make_divisible(reference.out_channels * pick["filter_mult"], 8),
            max(1, reference.layers + pick["layers_delta"]), reference.stride))
    return blocks


# MnasNet-A1 as MnasNet's Fig. 7(a) draws it, written in the search space's terms.
MNASNET_A1 = [
    BlockChoice("dconv", 3, 0.0, "none", 16, 1, 1),  # SepConv (k3x3)
    BlockChoice("mbconv6", 3, 0.0, "identity", 24, 2, 2),
    BlockChoice("mbconv3", 5, 0.25, "identity", 40, 3, 2),
    BlockChoice("mbconv6", 3, 0.0, "identity", 80, 4, 2),
    BlockChoice("mbconv6", 3, 0.25, "identity", 112, 2, 1),
    BlockChoice("mbconv6", 5, 0.25, "identity", 160, 3, 2),
    BlockChoice("mbconv6", 3, 0.0, "identity", 320, 1, 1),
]


def _layer(choice: BlockChoice, in_channels: int, stride: int) -> nn.Module:
    if choice.conv_op == "conv":
        return ConvBNAct(in_channels, choice.out_channels, choice.kernel_size, stride)
    if choice.conv_op == "dconv":
        return DepthwiseSeparable(in_channels, choice.out_channels, stride, choice.kernel_size)
    expansion = 3 if choice.conv_op == "mbconv3" else 6
    # SE squeezes to se_ratio of the block's input channels, as the official MnasNet code does.
    squeeze = max(1, int(in_channels * choice.se_ratio)) if choice.se_ratio else None
    block = InvertedResidual(in_channels, choice.out_channels, in_channels * expansion,
                             choice.kernel_size, stride, activation=nn.ReLU,
                             squeeze_channels=squeeze)
    if choice.skip_op == "none":
        block.use_shortcut = False
        block.stochastic_depth = nn.Identity()
    return block


class SearchedNetwork(Network):
    """A network of :class:`BlockChoice` blocks between MobileNetV2's stem and head."""

    def __init__(self, blocks: Sequence[BlockChoice], num_classes: int = 1000,
                 stem_channels: int = STEM_CHANNELS, head_channels: int = HEAD_CHANNELS) -> None:
        super().__init__()
        check_int("num_classes", num_classes, low=1, high=100_000)
        layers: list = [ConvBNAct(3, stem_channels, 3, 2)]
        channels = stem_channels
        for choice in blocks:
            check_choice("conv_op", choice.conv_op, SEARCH_SPACE["conv_op"])
            for i in range(choice.layers):
                layers.append(_layer(choice, channels, choice.stride if i == 0 else 1))
                channels = choice.out_channels
        layers.append(ConvBNAct(channels, head_channels, 1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(head_channels, num_classes)
        self.blocks = list(blocks)
        init_weights(self)


def build_network(blocks: Sequence[BlockChoice], num_classes: int = 1000) -> SearchedNetwork:
    """Build a sampled (or hand-written) architecture with lightnets' blocks."""
    if not blocks or not all(isinstance(b, BlockChoice) for b in blocks):
        raise TypeError("blocks must be a non-empty sequence of BlockChoice")
    return SearchedNetwork(blocks, num_classes)


# --- NetAdapt: one proposal ----------------------------------------------------------------------


def expansion_width(block: InvertedResidual) -> int:
    """The width inside an inverted residual (its expansion layer's output channels)."""
    return block.block[0].out_channels


def prune_expansion(block: InvertedResidual, keep: int) -> InvertedResidual:
    """A copy of ``block`` whose expansion layer keeps its ``keep`` filters of largest ℓ2 norm.

    NetAdapt (Yang et al. 2018, §4.2) chooses the filters to keep by the ℓ2 norm of their
    weights; the depthwise filters and the projection's input columns of the removed channels go
    with them, so the pruned block starts from the trained weights. Blocks with SE are not pruned
    here (the SE layers would need cutting too).
    """
    if not isinstance(block, InvertedResidual) or len(block.block) != 3:
        raise ValueError("block must be an InvertedResidual with an expansion layer and no SE")
    width = expansion_width(block)
    check_int("keep", keep, low=1, high=width)
    if keep == block.in_channels:
        # InvertedResidual drops the expansion layer when it would not widen its input.
        raise ValueError(f"keep must differ from the block's input width {block.in_channels}")
    expand, depthwise, project = block.block
    norms = expand[0].weight.detach().flatten(1).norm(dim=1)
    # Ties broken by the lower index, so the choice does not depend on the sort's implementation.
    order = sorted(range(width), key=lambda i: (-float(norms[i]), i))
    kept = torch.tensor(sorted(order[:keep]))
    pruned = InvertedResidual(block.in_channels, block.out_channels, keep,
                              depthwise[0].kernel_size[0], block.stride,
                              activation=type(expand[2]))
    pruned.use_shortcut = block.use_shortcut
    new_expand, new_depthwise, new_project = pruned.block
    with torch.no_grad():
        new_expand[0].weight.copy_(expand[0].weight[kept])
        new_depthwise[0].weight.copy_(depthwise[0].weight[kept])
        new_project[0].weight.copy_(project[0].weight[:, kept])
        for new, old in ((new_expand[1], expand[1]), (new_depthwise[1], depthwise[1])):
            for name in ("weight", "bias", "running_mean", "running_var"):
                getattr(new, name).copy_(getattr(old, name)[kept])
        new_project[1].load_state_dict(project[1].state_dict())
    return pruned


def prunable_blocks(model: nn.Module) -> list:
    """Names of the inverted residuals whose expansion layer NetAdapt may cut."""
    return [name for name, module in model.named_modules()
            if isinstance(module, InvertedResidual) and len(module.block) == 3]


def replace_module(model: nn.Module, name: str, new: nn.Module) -> None:
    """Put ``new`` where the submodule ``name`` of ``model`` was."""
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)


def proposal_width(widths_latency: dict, current_width: int, current_latency: float,
                   budget: float) -> Optional[int]:
    """The widest width below ``current_width`` whose table latency saves at least ``budget``.

    ``widths_latency`` maps a width to this layer's latency (NetAdapt's per-layer look-up table);
    the network's latency changes by the layer's difference alone. None when no width saves enough.
    """
    check_float("budget", budget, 0.0, None, low_inclusive=False)
    for width in sorted((w for w in widths_latency if w < current_width), reverse=True):
        if current_latency - widths_latency[width] >= budget:
            return width
    return None


def best_ratio(proposals: Sequence[dict]) -> dict:
    """MobileNetV3 §4.2: the proposal that maximises ΔAccuracy / |ΔLatency| (ties: the first)."""
    if not proposals:
        raise ValueError("proposals must not be empty")
    return max(proposals, key=lambda p: p["delta_accuracy"] / abs(p["delta_latency"]))
