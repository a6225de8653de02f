"""What lesson 12 measures on the way from a float network to a phone.

* :func:`graph_ops`: the operators of an ONNX file as ONNX Runtime runs it at an optimisation
  level, read back from the optimised graph ONNX Runtime writes (``optimized_model_filepath``).
* :func:`fake_quantize` and :func:`relative_error`: int8 codes of a tensor, per tensor or per
  output channel (one scale per filter), turned back into reals, and the error that costs.
* :func:`conv_weight_errors`: that error for every convolution of a network, per tensor and per
  channel, with the layer's kind (stem, depthwise, 1×1, head).
* :func:`preactivations`: the inputs of a network's activations on real images (forward hooks),
  and :func:`activation_errors`: how well ReLU6 and swish outputs of those very inputs survive
  uint8 (Lite README: swish replaced by ReLU6 "for easier post-quantization").
* :func:`photo_crops`: random square windows of photos, as the calibration benchmark takes them.
* :func:`time_ratio`: one callable's time over another's, interleaved, with its spread.
"""
from __future__ import annotations

import collections
import os
import tempfile
import time
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from lightnets._checks import check_choice, check_int

__all__ = ["LEVELS", "graph_ops", "fake_quantize", "relative_error", "conv_weight_errors",
           "preactivations", "activation_errors", "photo_crops", "time_ratio"]

LEVELS = ("none", "basic", "extended", "all")


def graph_ops(path, level: str = "extended") -> collections.Counter:
    """Operator types (``domain:op`` outside the default ONNX domain) of the graph that ONNX
    Runtime runs for the ONNX file ``path`` at optimisation ``level`` (one of :data:`LEVELS`).

    ``"all"`` adds layout rewrites (NCHWc blocks) that depend on this CPU's instruction set;
    ``"extended"`` and below give the same graph on every CPU."""
    import onnx
    import onnxruntime

    check_choice("level", level, LEVELS)
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"path must be an existing ONNX file, got {path!r}")
    levels = {"none": onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL,
              "basic": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC,
              "extended": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
              "all": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL}
    with tempfile.TemporaryDirectory(prefix="lightnets-graph-") as directory:
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = levels[level]
        options.optimized_model_filepath = os.path.join(directory, "optimized.onnx")
        options.log_severity_level = 3  # the "hardware specific" warning for level "all"
        onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        graph = onnx.load(options.optimized_model_filepath).graph
    return collections.Counter(node.op_type if node.domain in ("", "ai.onnx")
                               else f"{node.domain}:{node.op_type}" for node in graph.node)


def fake_quantize(x: torch.Tensor, per_channel: bool = False, bits: int = 8) -> torch.Tensor:
    """``x`` through symmetric signed integer codes and back (float64): scale = max|x| / (2^(b−1)
    − 1), over the whole tensor or, with ``per_channel``, over each slice ``x[c]`` (each output
    channel of a weight), the weight scheme ONNX Runtime's and TF-Lite's int8 use."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.numel() == 0:
        raise TypeError("x must be a non-empty floating-point torch.Tensor")
    check_int("bits", bits, low=2, high=16)
    if per_channel and x.dim() < 2:
        raise ValueError(f"per_channel needs a tensor with a channel dimension, got shape "
                         f"{tuple(x.shape)}")
    x = x.detach().to(torch.float64)
    levels = 2 ** (bits - 1) - 1
    if per_channel:
        largest = x.abs().flatten(1).amax(1).view(-1, *([1] * (x.dim() - 1)))
    else:
        largest = x.abs().max()
    scale = torch.where(largest > 0, largest / levels, torch.ones_like(largest))
    return torch.clamp(torch.round(x / scale), -levels, levels) * scale


def relative_error(approximation: torch.Tensor, exact: torch.Tensor) -> float:
    """‖approximation − exact‖ / ‖exact‖ in float64 (0 when both are zero)."""
    exact = exact.detach().to(torch.float64)
    norm = exact.norm().item()
    error = (approximation.detach().to(torch.float64) - exact).norm().item()
    return error / norm if norm > 0 else error


def _kind(conv: nn.Conv2d) -> str:
    if conv.groups > 1 and conv.groups == conv.in_channels:
        return "depthwise"
    if conv.in_channels == 3:
        return "stem"
    return "1×1" if conv.kernel_size == (1, 1) else "k×k"


def conv_weight_errors(model: nn.Module, bits: int = 8) -> list:
    """For each convolution and linear layer of ``model`` (whose BatchNorms should already be
    folded, as the deployed weights are): ``(name, kind, per_tensor, per_channel)`` relative
    errors of its weight in ``bits``-bit codes. Kinds: stem, depthwise, 1×1, k×k, linear."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    rows = []
    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            kind = _kind(module) if isinstance(module, nn.Conv2d) else "linear"
            weight = module.weight
            rows.append((name, kind,
                         relative_error(fake_quantize(weight, False, bits), weight),
                         relative_error(fake_quantize(weight, True, bits), weight)))
    if not rows:
        raise ValueError("model has no Conv2d or Linear layer to quantize")
    return rows


def preactivations(model: nn.Module, images: torch.Tensor, activation=nn.ReLU6,
                   samples: int = 20_000, seed: int = 0) -> list:
    """The inputs of each ``activation`` module of ``model`` on ``images``: one float32 tensor of
    at most ``samples`` values per module (drawn at random with ``seed``), in the order they
    ran. Forward pre-hooks record them; the model is left as it was."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    check_int("samples", samples, low=1)
    generator = torch.Generator().manual_seed(seed)
    found = []

    def record(module, inputs):
        values = inputs[0].detach().flatten().float()
        if values.numel() > samples:
            values = values[torch.randperm(values.numel(), generator=generator)[:samples]]
        found.append(values.clone())

    # A pre-hook: an in-place activation (ReLU6(inplace=True)) has overwritten its input by the
    # time a forward hook runs.
    handles = [m.register_forward_pre_hook(record) for m in model.modules()
               if isinstance(m, activation)]
    if not handles:
        raise ValueError(f"model has no {getattr(activation, '__name__', activation)} module")
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(images)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return found


def _uint8(y: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """``y`` through uint8 codes over [low, high] (with 0 representable, as int8 runtimes ask)."""
    low, high = min(low, 0.0), max(high, 0.0)
    scale = (high - low) / 255 if high > low else 1.0
    zero_point = round(-low / scale)
    codes = torch.clamp(torch.round(y / scale) + zero_point, 0, 255)
    return (codes - zero_point) * scale


def activation_errors(pre: Sequence[torch.Tensor]) -> list:
    """For each tensor of pre-activations ``x``: ``(relu6, swish, swish_max)``, the relative
    errors of ReLU6(x) in uint8 over its fixed range [0, 6] and of swish(x) = x·σ(x) in uint8
    over the range its outputs span here (min-max calibration on these very values, the most
    favourable range for swish), and the largest swish output (what sets its scale). float64."""
    rows = []
    for x in pre:
        x = x.detach().to(torch.float64)
        relu6 = x.clamp(0, 6)
        swish = x * torch.sigmoid(x)
        rows.append((relative_error(_uint8(relu6, 0.0, 6.0), relu6),
                     relative_error(_uint8(swish, swish.min().item(), swish.max().item()), swish),
                     swish.max().item()))
    return rows


def photo_crops(photos: Sequence, count: int, seed=0) -> list:
    """``count`` random square windows (40–100 % of the shorter side) of ``photos`` (records of
    :func:`lightnets.data.photos` or arrays), taken from each photo in turn. ``seed`` is an int,
    or a ``numpy.random.Generator`` that successive calls share (calibration crops, then
    held-out crops from the same stream)."""
    check_int("count", count, low=1)
    if not photos:
        raise ValueError("photos must hold at least one photo")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    windows = []
    for i in range(count):
        image = getattr(photos[i % len(photos)], "image", photos[i % len(photos)])
        height, width = image.shape[:2]
        side = int(rng.uniform(0.4, 1.0) * min(height, width))
        top = int(rng.integers(0, height - side + 1))
        left = int(rng.integers(0, width - side + 1))
        windows.append(np.ascontiguousarray(image[top:top + side, left:left + side]))
    return windows


def time_ratio(numerator: Callable, denominator: Callable, x, repeats: int = 7,
               runs: int = 3) -> tuple:
    """Time of ``numerator(x)`` over ``denominator(x)``: in each of ``repeats`` rounds both run
    ``runs`` times (after one warm-up call, in alternating order) and the round's ratio of
    medians is kept; returns (median, lower quartile, upper quartile) of those ratios."""
    check_int("repeats", repeats, low=1)
    check_int("runs", runs, low=1)
    ratios = []
    with torch.no_grad():
        for function in (numerator, denominator):
            function(x)
        for round_index in range(repeats):
            medians = [0.0, 0.0]
            order = (0, 1) if round_index % 2 == 0 else (1, 0)
            for index in order:
                samples = []
                for _ in range(runs):
                    start = time.perf_counter()
                    (numerator, denominator)[index](x)
                    samples.append(time.perf_counter() - start)
                medians[index] = float(np.median(samples))
            ratios.append(medians[0] / medians[1])
    low, middle, high = np.percentile(ratios, [25, 50, 75])
    return float(middle), float(low), float(high)
