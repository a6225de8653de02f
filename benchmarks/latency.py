"""Is lightnets fast? Our eager model, our deployed model and torchvision's, timed side by side.

For each architecture and batch size the three variants are timed in one process, interleaved:
each of ``--repeats`` rounds times every variant once (``lightnets.latency``: ``--warmup`` untimed
passes, then ``--runs`` timed, their median), in an order that rotates from round to round, so that
a change in the machine's load touches all three alike. A ratio is taken within each round
(torchvision's time / ours); the table gives the median over rounds and the interquartile range
(IQR) of the times and of the ratios. A ratio above 1 means ours is faster.

"deployed" is ``lightnets.deploy(model)``: BatchNorm folded into the convolutions, eval mode,
channels_last weights (no compiler). torchvision is not a dependency of lightnets; without it the
torchvision column is left out. torchvision must match its torch build, so use a venv that has
both, e.g.  PYTHONPATH=. /path/to/venv/bin/python benchmarks/latency.py

Run:  python benchmarks/latency.py [--threads 1] [--repeats 7] [--runs 5] [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import torch

import lightnets
from lightnets._io import atomic_write
from lightnets.experiments import RESULTS_DIRECTORY
from lightnets.experiments._timing import cpu_model, interleaved_times, median_iqr

MODELS = ("mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0", "shufflenet_v2_x1_0",
          "squeezenet1_1")
BATCHES = (1, 8)
DEFAULT_OUT = os.path.join(RESULTS_DIRECTORY, "latency_benchmark.json")


def variants(name: str) -> dict:
    model = lightnets.create_model(name).eval()
    found = {"ours eager": model, "ours deployed": lightnets.deploy(model)}
    try:
        import torchvision
    except ImportError:
        return found
    found["torchvision eager"] = torchvision.models.get_model(name, weights=None).eval()
    return found


def run(models=MODELS, batches=BATCHES, resolution: int = 224, repeats: int = 7, runs: int = 5,
        warmup: int = 2) -> list:
    rows = []
    for name in models:
        built = variants(name)
        for batch in batches:
            size = (batch, 3, resolution, resolution)
            times = interleaved_times(built, dict.fromkeys(built, size), repeats, runs, warmup)
            row = {"model": name, "batch": batch, "times_ms": times, "time": {}, "ratio": {}}
            for variant, values in times.items():
                row["time"][variant] = median_iqr(values)
            reference = "torchvision eager" if "torchvision eager" in times else "ours eager"
            for variant in ("ours eager", "ours deployed"):
                if variant != reference:
                    ratios = [r / t for r, t in zip(times[reference], times[variant])]
                    row["ratio"][f"{reference} / {variant}"] = median_iqr(ratios)
            rows.append(row)
            print(format_row(row), flush=True)
    return rows


def format_header() -> str:
    return (f"{'model':20s} {'batch':>5s}  {'ours eager':>15s}  {'ours deployed':>15s}  "
            f"{'torchvision':>15s}  {'tv/eager':>11s}  {'tv/deployed':>11s}")


def format_row(row: dict) -> str:
    def cell(variant):
        if variant not in row["time"]:
            return f"{'—':>15s}"
        median, iqr = row["time"][variant]
        return f"{median:7.1f} ± {iqr:5.1f}"

    def ratio(key):
        if key not in row["ratio"]:
            return f"{'—':>11s}"
        median, iqr = row["ratio"][key]
        return f"{median:5.2f} ± {iqr:4.2f}"

    return (f"{row['model']:20s} {row['batch']:5d}  {cell('ours eager')}  {cell('ours deployed')}  "
            f"{cell('torchvision eager')}  {ratio('torchvision eager / ours eager')}  "
            f"{ratio('torchvision eager / ours deployed')}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default 1: the same "
                        "meaning on a busy machine)")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds")
    parser.add_argument("--runs", type=int, default=5, help="timed passes per round")
    parser.add_argument("--warmup", type=int, default=2, help="untimed passes per round")
    parser.add_argument("--resolution", type=int, default=224)
    parser.add_argument("--models", nargs="+", default=list(MODELS),
                        choices=lightnets.list_models())
    parser.add_argument("--out", default=DEFAULT_OUT, help="JSON results file ('' to write none)")
    args = parser.parse_args(argv)
    for name in ("threads", "repeats", "runs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1")
    torch.set_num_threads(args.threads)
    try:
        import torchvision
        tv_version = torchvision.__version__
    except ImportError:
        tv_version = None
    header = {
        "command": "python benchmarks/latency.py "
                   + " ".join(sys.argv[1:] if argv is None else argv),
        "versions": {"torch": torch.__version__, "torchvision": tv_version,
                     "python": platform.python_version()},
        "cpu": cpu_model(), "machine": platform.machine(), "threads": torch.get_num_threads(),
        "resolution": args.resolution, "repeats": args.repeats, "runs": args.runs,
        "warmup": args.warmup,
    }
    print(f"{header['command']}\ntorch {torch.__version__}, "
          f"torchvision {tv_version or 'not installed'}, {header['cpu']}, "
          f"{header['threads']} thread(s), {args.resolution} px; median ± IQR over "
          f"{args.repeats} interleaved rounds of {args.runs} runs (ms); ratio > 1: ours faster\n")
    print(format_header())
    start = time.perf_counter()
    rows = run(args.models, BATCHES, args.resolution, args.repeats, args.runs, args.warmup)
    header["seconds"] = round(time.perf_counter() - start, 1)
    if args.out:
        text = json.dumps({**header, "rows": rows}, indent=1)
        atomic_write(args.out, lambda f: f.write(text), binary=False)
        print(f"\nwrote {os.path.normpath(args.out)} in {header['seconds']} s")


if __name__ == "__main__":
    main()
