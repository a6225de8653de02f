"""Interleaved timing shared by the speed experiments and benchmarks/latency.py.

A machine's load drifts while a benchmark runs. Timing every variant once per round, in an order
that rotates from round to round, lets the drift touch all variants alike; a ratio taken within a
round cancels it, and the spread over rounds (interquartile range) says how far a difference can
be trusted.
"""
from __future__ import annotations

import platform
import statistics

import lightnets


def cpu_model() -> str:
    """The CPU's name, for the provenance of a timing."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def median_iqr(values: list) -> tuple:
    """(median, interquartile range) of ``values``; one value has no spread."""
    if len(values) == 1:
        return values[0], 0.0
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q2, q3 - q1


def interleaved_times(models: dict, input_sizes: dict, repeats: int, runs: int, warmup: int,
                      device: str = "cpu") -> dict:
    """Per model, its median time (ms, ``lightnets.latency``) in each of ``repeats`` rounds."""
    names = list(models)
    times = {name: [] for name in names}
    for round_index in range(repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            result = lightnets.latency(models[name], input_sizes[name], runs=runs, warmup=warmup,
                                       device=device)
            times[name].append(result.median_ms)
    return times
