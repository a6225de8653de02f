"""ShuffleNet V2's four guidelines (Ma et al. 2018, §2), re-measured on this machine.

Ma et al. time small benchmark networks whose FLOPs are held fixed while one design choice varies,
and conclude (their "MAC" is *memory access cost*, not multiply-accumulates):

* G1: equal channel widths minimise memory access cost (Table 1: ten blocks of two 1×1 convs,
  c1 → c2 → c1, c1:c2 from 1:1 to 1:12 at equal FLOPs);
* G2: excessive group convolution increases memory access cost (Table 2: ten 1×1 convs with g
  groups, the width c raised so that c²/g stays fixed);
* G3: network fragmentation reduces the degree of parallelism (Table 3: one 1×1 conv against 2 or 4
  smaller ones in series or in parallel, at equal FLOPs);
* G4: element-wise operations are non-negligible (Table 4: a ResNet bottleneck unit with and
  without its ReLUs and its shortcut).

All inputs are 56×56, as in the paper. Each variant is timed with ``lightnets.latency`` in
``repeats`` interleaved rounds (every variant once per round, the order rotating), so the spread
over rounds shows how far a difference can be trusted. The networks' MACs and the analytic memory
access cost of G1 and G2 are exact and do not depend on the machine; the times do. On a CUDA device
the same code runs again with batch 8 (the paper's GPU setting); without one that part is skipped
and the file says why.

Run:  python -m lightnets.experiments.shufflenet_guidelines [--repeats 7] [--runs 5] [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from typing import Callable

import torch
from torch import nn

import lightnets
from lightnets._io import atomic_write
from lightnets.experiments import RESULTS_DIRECTORY, versions
from lightnets.experiments._timing import cpu_model, interleaved_times, median_iqr

DEFAULT_PATH = os.path.join(RESULTS_DIRECTORY, "shufflenet_guidelines.json")
SIDE = 56  # Ma et al. §2: "input image size is 56 × 56" in Tables 1–4
BLOCKS = 10  # "stacking 10 building blocks repeatedly"

# Ma et al. 2018, Tables 1–4, the ×1 columns: the configuration, the GPU speed (GTX 1080Ti, batch 8,
# batches/s) and the ARM speed (Snapdragon 810, batch 1, images/s; the "CPU" of Tables 2–4).
# G1's ARM configuration is narrower than its GPU one; we time the GPU one on every device.
# Transcribed by hand, not machine-checked against the PDF: verify before quoting elsewhere.
PAPER = {
    "G1": {"variants": ["1:1", "1:2", "1:6", "1:12"],
           "config": [(128, 128), (90, 180), (52, 312), (36, 432)],
           "gpu": [1480, 1296, 876, 748], "arm": [76.2, 72.9, 69.1, 57.6], "table": "Table 1"},
    "G2": {"variants": ["g=1", "g=2", "g=4", "g=8"], "config": [128, 180, 256, 360],
           "gpu": [2451, 1725, 1026, 634], "arm": [40.0, 35.0, 32.9, 27.8], "table": "Table 2"},
    "G3": {"variants": ["1-fragment", "2-fragment-series", "4-fragment-series",
                        "2-fragment-parallel", "4-fragment-parallel"], "config": 128,
           "gpu": [2446, 1790, 752, 1537, 691], "arm": [40.2, 38.6, 38.4, 33.4, 35.0],
           "table": "Table 3"},
    "G4": {"variants": ["ReLU + shortcut", "shortcut only", "ReLU only", "neither"], "config": 64,
           "gpu": [2066, 2121, 2256, 2376], "arm": [16.9, 18.2, 18.8, 20.2],
           "table": "Table 4 (c=64)"},
}


class Parallel(nn.Module):
    """Fragments side by side on one input, their outputs summed (Ma et al., appendix Fig. 1)."""

    def __init__(self, *branches: nn.Module) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.branches[0](x)
        for branch in self.branches[1:]:
            out = out + branch(x)
        return out


class Bottleneck(nn.Module):
    """ResNet's bottleneck unit (He et al. 2016, Fig. 5 right: 1×1 to c/4, 3×3, 1×1 back to c) with
    its ReLUs and its shortcut switchable, as in Ma et al.'s Table 4."""

    def __init__(self, channels: int, relu: bool, shortcut: bool) -> None:
        super().__init__()
        mid = channels // 4
        act = nn.ReLU if relu else nn.Identity
        self.body = nn.Sequential(nn.Conv2d(channels, mid, 1), act(),
                                  nn.Conv2d(mid, mid, 3, padding=1),
                                  act(), nn.Conv2d(mid, channels, 1))
        self.shortcut, self.out = shortcut, act()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return self.out(y + x if self.shortcut else y)


def g1_network(c1: int, c2: int, blocks: int = BLOCKS) -> nn.Sequential:
    """Ten blocks of two 1×1 convs, c1 → c2 → c1 (G1)."""
    return nn.Sequential(*[nn.Sequential(nn.Conv2d(c1, c2, 1, bias=False),
                                         nn.Conv2d(c2, c1, 1, bias=False))
                           for _ in range(blocks)])


def g2_network(channels: int, groups: int, blocks: int = BLOCKS) -> nn.Sequential:
    """Ten 1×1 convs with ``groups`` groups, ``channels`` in and out (G2)."""
    return nn.Sequential(*[nn.Conv2d(channels, channels, 1, groups=groups, bias=False)
                           for _ in range(blocks)])


def g3_network(channels: int, fragments: int, parallel: bool,
               blocks: int = BLOCKS) -> nn.Sequential:
    """Ten blocks of ``fragments`` 1×1 convs in series or in parallel, each width c/√fragments so
    that every block costs the same MACs as one c → c conv (G3)."""
    width = round(channels / math.sqrt(fragments))

    def block() -> nn.Module:
        convs = [nn.Conv2d(width, width, 1, bias=False) for _ in range(fragments)]
        return Parallel(*convs) if parallel and fragments > 1 else nn.Sequential(*convs)

    return nn.Sequential(*[block() for _ in range(blocks)])


def g4_network(channels: int, relu: bool, shortcut: bool, blocks: int = BLOCKS) -> nn.Sequential:
    """Ten ResNet bottleneck units with or without ReLU and shortcut (G4)."""
    return nn.Sequential(*[Bottleneck(channels, relu, shortcut) for _ in range(blocks)])


def networks(blocks: int = BLOCKS) -> dict:
    """Each guideline's variants: name → (network, input channels), in the paper's row order.
    ``blocks`` (the paper's 10) is a knob for a quick run: the variants stay equal in MACs."""
    if not isinstance(blocks, int) or isinstance(blocks, bool) or blocks < 1:
        raise ValueError(f"blocks must be an int >= 1, got {blocks!r}")
    g1 = {name: (g1_network(c1, c2, blocks), c1)
          for name, (c1, c2) in zip(PAPER["G1"]["variants"], PAPER["G1"]["config"])}
    g2 = {name: (g2_network(c, g, blocks), c)
          for name, c, g in zip(PAPER["G2"]["variants"], PAPER["G2"]["config"], (1, 2, 4, 8))}
    c = PAPER["G3"]["config"]
    g3 = {}
    shapes = ((1, False), (2, False), (4, False), (2, True), (4, True))  # (fragments, parallel)
    for name, (fragments, parallel) in zip(PAPER["G3"]["variants"], shapes):
        g3[name] = (g3_network(c, fragments, parallel, blocks), round(c / math.sqrt(fragments)))
    c = PAPER["G4"]["config"]
    switches = ((True, True), (False, True), (True, False), (False, False))  # (ReLU, shortcut)
    g4 = {name: (g4_network(c, relu, shortcut, blocks), c)
          for name, (relu, shortcut) in zip(PAPER["G4"]["variants"], switches)}
    return {"G1": g1, "G2": g2, "G3": g3, "G4": g4}


def memory_access_cost(h: int, w: int, c1: int, c2: int, groups: int = 1) -> int:
    """Ma et al. eq. (1)/(2): a 1×1 conv reads its input and weights and writes its output,
    MAC = hw(c1 + c2) + c1·c2/g (numbers of values, not bytes)."""
    return h * w * (c1 + c2) + c1 * c2 // groups


def time_variants(variants: dict, batch: int, device: str, repeats: int, runs: int,
                  warmup: int, side: int = SIDE) -> dict:
    """Median time per round (ms) of each variant, rounds interleaved with a rotating order."""
    models = {name: network for name, (network, _) in variants.items()}
    sizes = {name: (batch, channels, side, side) for name, (_, channels) in variants.items()}
    return interleaved_times(models, sizes, repeats, runs, warmup, device)


def summarise(times: dict) -> dict:
    """Median and IQR of each variant's time, and of its time relative to the first variant's
    (computed within each round, so that a slow round slows both alike)."""
    names = list(times)
    first = times[names[0]]
    return {name: {"median_ms": median_iqr(t)[0], "iqr_ms": median_iqr(t)[1],
                   "relative": median_iqr([a / b for a, b in zip(t, first)])}
            for name, t in times.items()}


def exact_costs() -> dict:
    """MACs (lightnets.profile, batch 1) of every variant, and G1/G2's memory access cost."""
    costs = {}
    for guideline, variants in networks().items():
        costs[guideline] = {name: lightnets.profile(net, (1, c, SIDE, SIDE)).macs
                            for name, (net, c) in variants.items()}
    mac = {"G1": [BLOCKS * (memory_access_cost(SIDE, SIDE, c1, c2)
                            + memory_access_cost(SIDE, SIDE, c2, c1))
                  for c1, c2 in PAPER["G1"]["config"]],
           "G2": [BLOCKS * memory_access_cost(SIDE, SIDE, c, c, g)
                  for c, g in zip(PAPER["G2"]["config"], (1, 2, 4, 8))]}
    return {"macs": costs, "memory_access_cost": mac}


def run(device: str = "cpu", batch: int = 1, repeats: int = 7, runs: int = 5, warmup: int = 2,
        guidelines=("G1", "G2", "G3", "G4"), side: int = SIDE, blocks: int = BLOCKS,
        progress: Callable[[str], None] = lambda s: None) -> dict:
    """Time each guideline's variants; ``side`` (56 px) and ``blocks`` (10) as in the paper unless
    changed for a quick run (lesson 08 runs a small one live)."""
    if not isinstance(side, int) or isinstance(side, bool) or side < 1:
        raise ValueError(f"side must be an int >= 1, got {side!r}")
    unknown = set(guidelines) - {"G1", "G2", "G3", "G4"}
    if unknown:
        raise ValueError(f"guidelines must be among G1, G2, G3, G4, got {sorted(unknown)}")
    built = networks(blocks)
    out = {}
    for guideline in guidelines:
        times = time_variants(built[guideline], batch, device, repeats, runs, warmup, side)
        out[guideline] = {"times_ms": times, "summary": summarise(times)}
        progress(f"{guideline} on {device}: " + ", ".join(
            f"{k} {v['median_ms']:.2f} ms" for k, v in out[guideline]["summary"].items()))
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=DEFAULT_PATH)
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds")
    parser.add_argument("--runs", type=int, default=5, help="timed passes per round")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    for name in ("repeats", "runs", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    start = time.perf_counter()
    result = {
        "command": "python -m lightnets.experiments.shufflenet_guidelines "
                   + " ".join(sys.argv[1:] if argv is None else argv),
        "versions": versions(),
        "cpu": cpu_model(), "threads": torch.get_num_threads(), "side": SIDE, "blocks": BLOCKS,
        "repeats": args.repeats, "runs": args.runs, "warmup": args.warmup, "paper": PAPER,
        **exact_costs(),
        "cpu_batch1": run("cpu", 1, args.repeats, args.runs, args.warmup, progress=print),
    }
    if torch.cuda.is_available():
        result["gpu_device"] = torch.cuda.get_device_name(0)
        result["gpu_batch8"] = run("cuda", 8, args.repeats, args.runs, args.warmup, progress=print)
    else:
        result["gpu_skipped"] = "no CUDA device: torch.cuda.is_available() was False here"
    result["seconds"] = round(time.perf_counter() - start, 1)
    text = json.dumps(result, indent=1)
    atomic_write(args.out, lambda f: f.write(text), binary=False)
    print(f"wrote {args.out} in {result['seconds']} s")


if __name__ == "__main__":
    main()
