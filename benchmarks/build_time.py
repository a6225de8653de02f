"""How long does building each registered model take? (Issue "The zoo, exact": under 2 s each here,
EfficientNet-B7 included.) A benchmark, not a timed test: a loaded machine would make a test flaky.

Run:  python benchmarks/build_time.py [--repeats 3] [--limit 2.0]
Builds every model at its default size with random initialisation (what a learner's first
`create_model` call does) and prints the median of ``--repeats`` builds. Exits 1 if any median
is over ``--limit`` seconds.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time

import torch

import lightnets
from lightnets.registry import model_spec


def build_seconds(name: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model = lightnets.create_model(name)
        times.append(time.perf_counter() - start)
        del model
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="builds per model (median reported)")
    parser.add_argument("--limit", type=float, default=2.0, help="seconds allowed per build")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}")
    lightnets.create_model("mobilenet_v1")  # first build pays for imports; not what we measure
    worst = ("", 0.0)
    for name in lightnets.list_models():
        seconds = build_seconds(name, args.repeats)
        params = sum(p.numel() for p in lightnets.create_model(name).parameters())
        flag = "" if seconds < args.limit else f"  OVER {args.limit} s"
        print(f"{name:<22}{model_spec(name).resolution:>5} px {params / 1e6:>8.2f} M params {seconds:>8.3f} s{flag}")
        worst = max(worst, (name, seconds), key=lambda item: item[1])
    print(f"slowest: {worst[0]} {worst[1]:.3f} s (limit {args.limit} s)")
    return 0 if worst[1] < args.limit else 1


if __name__ == "__main__":
    sys.exit(main())
