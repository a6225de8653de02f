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


def _shuffles_to_identity(channels: int, groups: int) -> int:
    """How many ChannelShuffle(groups) passes bring ``channels`` back to their order."""
    import torch

    from lightnets.layers import ChannelShuffle
    x = torch.arange(channels, dtype=torch.float32).view(1, channels, 1, 1)
    y, count = ChannelShuffle(groups)(x), 1
    while not torch.equal(y, x):
        y, count = ChannelShuffle(groups)(y), count + 1
    return count


def _deploy_saving(name: str) -> int:
    from lightnets import create_model, deploy
    model = create_model(name)

    def count(m):
        return sum(p.numel() for p in m.parameters())

    return count(model) - count(deploy(model))


def _bypass_extra(name: str, bypass: str = "complex", bias: bool = True) -> int:
    from lightnets import create_model, profile
    extra = (profile(create_model(name, bypass=bypass)).params
             - profile(create_model(name)).params)
    if bias:
        return extra
    convs = [m for m in create_model(name, bypass=bypass).modules()
             if type(m).__name__ == "FireBypass" and hasattr(m.shortcut, "bias")]
    return extra - sum(m.shortcut.out_channels for m in convs)


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
    prompt="Predict, then check: twelve channels numbered 0…11 go through ChannelShuffle(3) again "
           "and again. After how many shuffles are they back in their original order? Write your "
           "guess first, then count it with a loop.",
    checker=numeric(lambda: _shuffles_to_identity(12, 3), mistakes=[
        (lambda: 2, "a shuffle is a transpose of the (g, C/g) grid, but the second shuffle "
                    "reshapes to (3, 4) again instead of transposing back: it is not its own "
                    "inverse unless g = C/g"),
        (lambda: 3, "three passes is a guess from g = 3; the number of passes is the order of "
                    "the permutation, which depends on C as well as g: count it"),
        (lambda: 12, "12 is an upper bound one might guess (one pass per channel); the "
                     "permutation's cycles are shorter")]),
    hints=["Start from x = torch.arange(12.0).view(1, 12, 1, 1) and apply ChannelShuffle(3) "
           "until torch.equal(y, x).",
           "Channel i moves to position (i mod 4)·3 + i // 4; follow channel 1 around its cycle."],
    solution_code="x = torch.arange(12.0).view(1, 12, 1, 1)\n"
                  "y, answer = ChannelShuffle(3)(x), 1\n"
                  "while not torch.equal(y, x):\n"
                  "    y, answer = ChannelShuffle(3)(y), answer + 1",
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

q6 = Question(
    name="lesson08.q6",
    prompt="SqueezeNet 1.1 with complex bypass (create_model('squeezenet1_1', bypass='complex')): "
           "how many parameters do its 1×1 bypass convolutions add to the vanilla network?",
    checker=numeric(lambda: _bypass_extra("squeezenet1_1"), mistakes=[
        (lambda: _bypass_extra("squeezenet1_0"),
         "that is SqueezeNet 1.0's: 1.1's fire2 reads 64 channels from its 3×3 conv1, not 96"),
        (lambda: _bypass_extra("squeezenet1_1", bias=False),
         "every SqueezeNet convolution has a bias, the bypass ones too: add one per output"),
        (lambda: _bypass_extra("squeezenet1_1", "simple"),
         "a simple bypass adds nothing; the complex one adds a 1×1 conv around fire2, 4, 6, 8")]),
    hints=["The complex bypasses sit around the Fire modules whose input and output widths "
           "differ: a c_in → c_out 1×1 conv with bias has c_in·c_out + c_out parameters.",
           "Or count both networks with lightnets.profile and subtract."],
    solution_code="count = lambda m: lightnets.profile(m).params\n"
                  "answer = (count(lightnets.create_model('squeezenet1_1', bypass='complex'))\n"
                  "          - count(lightnets.create_model('squeezenet1_1')))",
)
