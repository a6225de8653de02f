"""Time, which MACs do not predict: the median of repeated forward passes, with its spread."""
from __future__ import annotations

import copy
import os
import statistics
import time
from dataclasses import dataclass
from typing import Optional, Sequence, Union

import torch
from torch import nn

from lightnets._checks import check_int
from lightnets._torch import check_device
from lightnets.cost.profile import check_input_size, check_model

__all__ = ["Latency", "latency", "check_device"]


@dataclass(frozen=True)
class Latency:
    """Wall-clock time of one forward pass: the median of ``runs`` timed passes and their spread.

    ``spread_ms`` is the interquartile range (75th - 25th percentile); ``device`` and ``threads``
    say what produced the numbers, because the same model can rank differently elsewhere.
    """

    median_ms: float
    spread_ms: float
    min_ms: float
    max_ms: float
    runs: int
    device: str
    threads: int
    input_size: tuple
    times_ms: tuple


def memory_bytes() -> int:
    """This machine's physical memory in bytes (2^40 where the platform does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 2 ** 40


def latency(model: nn.Module, input_size: Sequence[int] = (1, 3, 224, 224), runs: int = 20,
            warmup: int = 3, device: Optional[Union[str, torch.device]] = None) -> Latency:
    """Time ``model``'s forward pass on random input: ``warmup`` untimed passes, then ``runs``
    timed (``runs`` in [1, 10000], ``warmup`` in [0, 1000]).

    Runs on CUDA when present (or on ``device``), in eval mode without gradients, on a copy of
    the model so the caller's stays where it was. CUDA passes are synchronised before each clock
    read. MACs are not time: memory traffic, kernel launches and how well an operation maps to
    the hardware (a depthwise conv does little arithmetic per byte it reads) decide latency.
    """
    check_model(model)
    # Timing allocates real tensors: an input whose float32 values alone exceed a quarter of the
    # machine's memory could not run (activations are several times the input), so refuse it.
    memory = memory_bytes()
    input_size = check_input_size(model, input_size, memory // 16,
                                  f" on this machine ({memory / 2 ** 30:,.1f} GiB of memory)")
    check_int("runs", runs, low=1, high=10_000)
    check_int("warmup", warmup, low=0, high=1_000)
    device = check_device(device, kinds=("cpu", "cuda"))  # timing synchronises CUDA only
    weights = [*model.parameters(), *model.buffers()]
    if any(weight.is_meta for weight in weights):
        raise ValueError(f"model ({type(model).__name__}) has meta weights (shapes without "
                         "values), which cannot run: build or load it on the cpu or a cuda device")
    timed = copy.deepcopy(model).to(device).eval()
    # The input takes the weights' dtype: a model moved to float64 (or float16) runs on its own.
    dtype = next((w.dtype for w in weights if w.is_floating_point()), torch.float32)
    x = torch.randn(input_size, device=device, dtype=dtype)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    times = []
    with torch.no_grad():
        for i in range(warmup + runs):
            sync()
            start = time.perf_counter()
            timed(x)
            sync()
            if i >= warmup:
                times.append(1e3 * (time.perf_counter() - start))
    quartiles = statistics.quantiles(times, n=4) if len(times) > 1 else [times[0]] * 3
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    return Latency(statistics.median(times), quartiles[2] - quartiles[0], min(times), max(times),
                   runs, name, torch.get_num_threads(), input_size, tuple(times))
