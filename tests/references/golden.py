"""What the golden files hold and how both sides rebuild it: one deterministic fill, one input,
one summary of the outputs. Imported by ``make.py`` (in the reference venv) and by
``tests/test_references.py`` (in CI, with no reference library), so both fill alike.

The fill depends only on a tensor's index in the *reference* state dict, its name and its shape,
which the golden file stores; so CI rebuilds the reference's exact state dict without torchvision.

    u(i, j) = ((40503 · j + 7919 · i + 12345) mod 65521) / 65521 - 1/2     (in [-1/2, 1/2))

for element j (row-major) of tensor i, in integer arithmetic, hence identical on every machine.
Each tensor is then scaled by its role, read from the name and rank as ``load_torchvision_weights``
reads a foreign state dict (a layer with ``running_var``, or a 1-d ``weight``, is a norm):

    conv / linear weight      u · sqrt(12 / fan_in)   variance 1 / fan_in (LeCun), so activations
                                                      neither vanish nor overflow in 200 layers
    norm weight               1 + 0.4 u               in [0.8, 1.2)
    running_var               1 + u                   in [0.5, 1.5): positive, and not 1, so a
                                                      wrong eps or a swapped statistic shows
    other bias, running_mean  0.2 u
    num_batches_tracked       0
    the input x (N, 3, H, W)  2 u(INPUT_INDEX, j)     in [-1, 1)
"""
from __future__ import annotations

import math
from typing import Dict, List, Sequence, Tuple

import torch

MULTIPLIER, STEP, OFFSET, MODULUS = 40503, 7919, 12345, 65521
INPUT_INDEX = 1_000_003  # the input's "tensor index": far from any state dict's
INPUT_SIZE = (2, 3, 128, 128)  # two images: a batch-mixing bug would show; 128 px keeps CI quick
FIRST_LOGITS = 16  # per image, stored in full
# Outputs are compared as |ours - reference| <= TOLERANCE · max|reference| (a sum of n logits:
# sqrt(n) times that, as independent rounding errors add). float32 summation in another order
# (another CPU's kernels, torch 2.13 against the files' 2.14.1, one thread or many) moved a logit
# by at most 2.9e-7 and a projection by 1.4e-6 of max|logit| over all 29 models when measured,
# more than 300x inside; a wrong tensor, BatchNorm eps (1e-5 -> 1e-3) or block moves far more.
TOLERANCE = 1e-4


def uniform(index: int, shape: Sequence[int]) -> torch.Tensor:
    """u(index, j) for j over a tensor of ``shape``, in float64."""
    numel = math.prod(shape)
    j = torch.arange(numel, dtype=torch.int64)
    values = (j * MULTIPLIER + (index * STEP + OFFSET)) % MODULUS
    return (values.to(torch.float64) / MODULUS - 0.5).reshape(tuple(shape))


def _norm_layers(names: Sequence[str], shapes: Sequence[Sequence[int]]) -> set:
    prefix = lambda name: name.rpartition(".")[0]  # noqa: E731
    norms = {prefix(n) for n in names if n.rpartition(".")[2] in ("running_var", "running_mean")}
    norms |= {prefix(n) for n, s in zip(names, shapes)
              if n.rpartition(".")[2] == "weight" and len(s) == 1}
    return norms


def fill(
    names: Sequence[str], shapes: Sequence[Sequence[int]], dtypes: Sequence[str]
) -> Dict[str, torch.Tensor]:
    """The reference state dict, rebuilt from its names, shapes and dtypes by the fill above."""
    norms = _norm_layers(names, shapes)
    state = {}
    for i, (name, shape, dtype) in enumerate(zip(names, shapes, dtypes)):
        prefix, _, role = name.rpartition(".")
        u = uniform(i, shape)
        if role == "num_batches_tracked":
            value = torch.zeros(shape, dtype=torch.float64)
        elif role == "weight" and prefix in norms:
            value = 1 + 0.4 * u
        elif role == "running_var":
            value = 1 + u
        elif role == "weight" and len(shape) >= 2:
            value = u * math.sqrt(12 / (math.prod(shape) // shape[0]))
        else:
            value = 0.2 * u
        state[name] = value.to(getattr(torch, dtype))
    return state


def fixed_input(size: Sequence[int] = INPUT_SIZE) -> torch.Tensor:
    return (2 * uniform(INPUT_INDEX, size)).to(torch.float32)


def summarise(logits: torch.Tensor) -> dict:
    """What a golden file keeps of the outputs: per image, the first logits and three float64
    projections over all of them (sum, sum of |y|, and the sum weighted by u(INPUT_INDEX + 1, j),
    which changes if logits are permuted), plus the largest |logit| that scales the tolerance."""
    y = logits.detach().to(torch.float64).reshape(logits.shape[0], -1)
    weights = uniform(INPUT_INDEX + 1, (y.shape[1],))
    return {
        "shape": list(logits.shape),
        "max_abs": float(y.abs().max()),
        "first": [[float(v) for v in row[:FIRST_LOGITS]] for row in y],
        "sum": [float(v) for v in y.sum(1)],
        "abs_sum": [float(v) for v in y.abs().sum(1)],
        "weighted_sum": [float(v) for v in (y * weights).sum(1)],
    }


def compare(ours: dict, reference: dict) -> List[Tuple[str, float, float, float]]:
    """Every summarised value outside tolerance: (what, ours, reference, allowed difference).

    A projection sums n logits, so its allowed difference is sqrt(n) times a logit's."""
    if ours["shape"] != reference["shape"]:
        return [("shape", ours["shape"], reference["shape"], 0.0)]
    allowed = TOLERANCE * reference["max_abs"]
    n = math.prod(reference["shape"][1:])
    misses = []
    root = math.sqrt(n)
    for key, scale in (("first", 1), ("sum", root), ("abs_sum", root), ("weighted_sum", root)):
        ours_values, their_values = ours[key], reference[key]
        for k, (a, b) in enumerate(zip(_flat(ours_values), _flat(their_values))):
            if abs(a - b) > allowed * scale:
                misses.append((f"{key}[{k}]", a, b, allowed * scale))
    if abs(ours["max_abs"] - reference["max_abs"]) > allowed:
        misses.append(("max_abs", ours["max_abs"], reference["max_abs"], allowed))
    return misses


def _flat(values):
    nested = values and isinstance(values[0], list)
    return [v for row in values for v in row] if nested else list(values)
