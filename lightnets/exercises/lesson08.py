"""Exercises for lesson 08: ShuffleNet, SqueezeNet, Xception, and why fewer MACs is not faster."""
from __future__ import annotations

from lightnets.exercises._question import Question, choice, numeric


def _conv_macs(c_in: int, c_out: int, kernel_size: int, groups: int, side: int) -> int:
    from torch import nn

    from lightnets import profile
    conv = nn.Conv2d(c_in, c_out, kernel_size, padding=kernel_size // 2, groups=groups, bias=False)
    return profile(conv, (1, c_in, side, side)).macs


def _fire_params(in_channels: int, squeeze: int, expand_1x1: int, expand_3x3: int,
                 bias: bool = True) -> int:
    from lightnets import profile
    from lightnets.layers import FireModule
    fire = FireModule(in_channels, squeeze, expand_1x1, expand_3x3)
    params = profile(fire, (1, in_channels, 8, 8)).params
    return params if bias else params - (squeeze + expand_1x1 + expand_3x3)


def _shuffled_order(channels: int, groups: int) -> tuple:
    import torch

    from lightnets.layers import ChannelShuffle
    x = torch.arange(channels, dtype=torch.float32).view(1, channels, 1, 1)
    return tuple(int(v) for v in ChannelShuffle(groups)(x).flatten())


def _order_difference(c_in: int, c_out: int) -> int:
    # Chollet §1.2: depthwise then pointwise (Xception's order) against Inception's 1×1 first.
    from torch import nn

    from lightnets import profile

    def depthwise(c):
        return nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False)

    pointwise = nn.Conv2d(c_in, c_out, 1, bias=False)
    size = (1, c_in, 19, 19)
    depthwise_first = profile(nn.Sequential(depthwise(c_in), pointwise), size).params
    return profile(nn.Sequential(pointwise, depthwise(c_out)), size).params - depthwise_first


def _deploy_saving(name: str) -> int:
    from lightnets import create_model, deploy
    model = create_model(name)

    def count(m):
        return sum(p.numel() for p in m.parameters())

    return count(model) - count(deploy(model))


def _batchnorm_channels(name: str) -> int:
    from torch import nn

    from lightnets import create_model
    return sum(m.num_features for m in create_model(name).modules()
               if isinstance(m, nn.BatchNorm2d))


# What the notebook has imported when its solution cells run (tests run the solutions in it too).
NOTEBOOK_CONTEXT = "from torch import nn\nfrom lightnets.layers import ChannelShuffle, FireModule"

q1 = Question(
    name="lesson08.q1",
    prompt="ShuffleNet V1's Stage 3 (g = 3): a grouped 1×1 convolution from 480 to 120 channels "
           "on a 14×14 map. How many multiply-accumulates does it cost?",
    checker=numeric(lambda: _conv_macs(480, 120, 1, 3, 14), mistakes=[
        (lambda: _conv_macs(480, 120, 1, 1, 14),
         "that is the ungrouped conv: each output channel sees only 480/g inputs, so divide by g"),
        (lambda: _conv_macs(480, 120, 1, 1, 14) / 9,
         "you divided by g²: the number of groups divides the cost once"),
        (lambda: 480 * 120 / 3, "that is the number of weights: multiply by the 14×14 positions")]),
    hints=["A 1×1 conv costs C_in·C_out·H·W MACs; grouping divides it by g.",
           "480 · 120 · 14 · 14 / 3, or profile an nn.Conv2d(480, 120, 1, groups=3)."],
    solution_code="conv = nn.Conv2d(480, 120, 1, groups=3, bias=False)\n"
                  "answer = lightnets.profile(conv, (1, 480, 14, 14)).macs",
)

q2 = Question(
    name="lesson08.q2",
    prompt="SqueezeNet 1.0's fire2 takes 96 channels, squeezes to 16, expands to 64 (1×1) + 64 "
           "(3×3). How many parameters does it have (weights and biases)?",
    checker=numeric(lambda: _fire_params(96, 16, 64, 64), mistakes=[
        (lambda: _fire_params(96, 16, 64, 64, bias=False),
         "SqueezeNet has no BatchNorm, so every conv keeps its bias: add 16 + 64 + 64"),
        (lambda: 96 * 16 + 16 + 16 * 64 + 64 + 16 * 64 + 64,
         "the expand 3×3 filters have 3·3 weights per input channel"),
        (lambda: 96 * 16 + 16 + 96 * 64 + 64 + 96 * 64 * 9 + 64,
         "both expand layers read the 16 squeezed channels, not the 96 inputs (strategy 2)")]),
    hints=["squeeze: 96·16 + 16; expand1x1: 16·64 + 64; expand3x3: 16·64·9 + 64.",
           "Compare with Table 1's '#parameter before pruning' column for fire2."],
    solution_code="answer = sum(p.numel() for p in FireModule(96, 16, 64, 64).parameters())",
)

q3 = Question(
    name="lesson08.q3",
    prompt="Six channels numbered 0…5 go through a channel shuffle with g = 3 groups. In what "
           "order do they come out? Answer a tuple of six ints.",
    checker=choice(lambda: _shuffled_order(6, 3), {
        _shuffled_order(6, 2): "that is the shuffle with g = 2: reshape to (g, C/g) = (3, 2)",
        (0, 1, 2, 3, 4, 5): "a shuffle moves channels: this is the identity",
        (5, 4, 3, 2, 1, 0): "a shuffle deals the groups out like cards, it does not reverse them"}),
    hints=["Reshape the six channels into a (g, 6/g) = (3, 2) grid: rows [0 1] [2 3] [4 5].",
           "Transpose to (2, 3) and read row by row."],
    solution_code="x = torch.arange(6.0).view(1, 6, 1, 1)\n"
                  "answer = tuple(int(v) for v in ChannelShuffle(3)(x).flatten())",
)

q4 = Question(
    name="lesson08.q4",
    prompt="Xception's exit flow has a separable conv from 728 to 1024 channels. How many more "
           "parameters would it have with Inception's order (1×1 first, then 3×3 depthwise) than "
           "with Xception's (3×3 depthwise first, then 1×1)?",
    checker=numeric(lambda: _order_difference(728, 1024), mistakes=[
        (lambda: -_order_difference(728, 1024),
         "the sign: the depthwise conv after the 1×1 sees the wider, 1024-channel map"),
        (lambda: 0, "the 1×1 parts are equal, the depthwise parts are not: 9·728 against 9·1024")]),
    hints=["Only the depthwise part differs: it has 9 weights per channel of the map it filters.",
           "9 · (1024 − 728)"],
    solution_code="answer = 9 * (1024 - 728)",
)

q5 = Question(
    name="lesson08.q5",
    prompt="How many parameters does lightnets.deploy remove from mobilenet_v3_small?",
    checker=numeric(lambda: _deploy_saving("mobilenet_v3_small"), mistakes=[
        (lambda: 2 * _batchnorm_channels("mobilenet_v3_small"),
         "γ and β go, but each folded conv gains a bias of one value per channel"),
        (lambda: 4 * _batchnorm_channels("mobilenet_v3_small"),
         "running mean and variance are buffers, not parameters")]),
    hints=["Each BatchNorm has γ and β (2 per channel); its conv had no bias and gains one.",
           "Count the BatchNorm2d channels, or subtract the parameter counts before and after."],
    solution_code="model = lightnets.create_model('mobilenet_v3_small')\n"
                  "count = lambda m: sum(p.numel() for p in m.parameters())\n"
                  "answer = count(model) - count(lightnets.deploy(model))",
)
