"""Figure builders for lesson 08 (ShuffleNet, SqueezeNet, Xception and speed). Each returns
``(figure, data)``: the figure for the learner and the numbers it drew, so tests check the data.
``PAPER_TOP1`` and :func:`load_result` are the data those figures draw."""
from __future__ import annotations

import json
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from lightnets.cost import profile
from lightnets.experiments import RESULTS_DIRECTORY
from lightnets.layers import ChannelShuffle
from lightnets.models.squeezenet import TABLE_1, SqueezeNet
from lightnets.plots.tradeoff import pareto_front

__all__ = ["PAPER_TOP1", "load_result", "connectivity", "connectivity_panels",
           "squeezenet_variant", "squeezenet_sweeps", "macs_by_block", "macs_by_block_bars",
           "guideline_panels", "deploy_bars", "pareto_panels"]

# ImageNet top-1 (%) as the papers report it (single crop, at each model's native resolution), for
# the zoo's Pareto front. squeezenet1_1 is not in a paper: torchvision's documented accuracy.
PAPER_TOP1 = {
    "mobilenet_v1": (70.6, "Howard et al. 2017, Table 8"),
    "mobilenet_v2": (72.0, "Sandler et al. 2018, Table 4"),
    "mobilenet_v3_large": (75.2, "Howard et al. 2019, Table 3"),
    "mobilenet_v3_small": (67.4, "Howard et al. 2019, Table 3"),
    "efficientnet_b0": (77.1, "Tan & Le 2019, Table 2 (ICML version)"),
    "shufflenet_v2_x1_0": (69.4, "Ma et al. 2018, Table 8 (top-1 error 30.6%)"),
    "squeezenet1_0": (57.5, "Iandola et al. 2016, Table 2"),
    "squeezenet1_1": (58.2, "torchvision's documentation (acc@1 58.178); no paper"),
    "xception": (79.0, "Chollet 2017, Table 1"),
}


def load_result(name: str) -> dict:
    """A saved experiment or benchmark result from ``lightnets/experiments/results/NAME.json``."""
    with open(RESULTS_DIRECTORY / f"{name}.json") as f:
        return json.load(f)


# --- ShuffleNet V1 Fig. 1: who can talk to whom -------------------------------------------------

def connectivity(channels: int, groups: int, shuffle: bool) -> np.ndarray:
    """Which input channels reach which outputs through two stacked grouped 1×1 convolutions, with
    or without a channel shuffle between them (ShuffleNet V1 Fig. 1a vs 1c). Computed, not drawn:
    the convs get all-ones weights and a one-hot image per input channel goes through them."""
    first = nn.Conv2d(channels, channels, 1, groups=groups, bias=False)
    second = nn.Conv2d(channels, channels, 1, groups=groups, bias=False)
    for conv in (first, second):
        nn.init.ones_(conv.weight)
    middle = ChannelShuffle(groups) if shuffle else nn.Identity()
    one_hot = torch.eye(channels).view(channels, channels, 1, 1)  # image i lights channel i only
    with torch.no_grad():
        out = second(middle(first(one_hot)))
    return out.view(channels, channels).numpy() > 0  # [input, output]


def connectivity_panels(channels: int = 12, groups: int = 3):
    """Two heat maps: input → output reachability without and with the shuffle."""
    data = {name: connectivity(channels, groups, shuffle) for name, shuffle in
            (("no shuffle", False), ("shuffle", True))}
    fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.6))
    for ax, (name, matrix) in zip(axes, data.items()):
        ax.imshow(matrix, cmap="Greens", vmin=0, vmax=1.4)
        ax.set_title(f"{name}: {matrix.mean():.0%} of pairs connected", fontsize=10)
        ax.set_xlabel("output channel")
        ax.set_ylabel("input channel")
        for edge in range(0, channels, channels // groups):
            ax.axhline(edge - 0.5, color="grey", lw=0.6)
            ax.axvline(edge - 0.5, color="grey", lw=0.6)
    fig.suptitle(f"two grouped 1×1 convs, {channels} channels, g = {groups} (ShuffleNet V1 Fig. 1)",
                 fontsize=10)
    fig.tight_layout()
    return fig, data


# --- SqueezeNet: the design space of Fig. 3, and where the MACs are -----------------------------

def squeezenet_variant(squeeze_ratio: float = 0.125, pct_3x3: float = 0.5, num_classes: int = 1000):
    """SqueezeNet 1.0 with every Fire module re-shaped by Iandola et al.'s §5 metaparameters: the
    expand width e_i of Table 1 stays, s1x1 = SR·e_i and e3x3 = pct3x3·e_i (SR 0.125 and pct3x3 0.5
    give Table 1 itself)."""
    rows = []
    for row in TABLE_1:
        if row.squeeze_1x1 is None:
            rows.append(row)
            continue
        expand = row.expand_1x1 + row.expand_3x3
        expand_3x3 = int(round(pct_3x3 * expand))
        rows.append(row._replace(squeeze_1x1=max(1, int(round(squeeze_ratio * expand))),
                                 expand_1x1=expand - expand_3x3, expand_3x3=expand_3x3))
    return SqueezeNet(tuple(rows), num_classes)


def squeezenet_sweeps(squeeze_ratios: Sequence[float] = (0.125, 0.25, 0.5, 0.75),
                      pcts_3x3: Sequence[float] = (0.01, 0.125, 0.25, 0.5, 0.75, 0.99),
                      side: int = 224):
    """Parameters and MACs against the squeeze ratio SR (pct3x3 = 0.5) and against the 3×3 share
    (SR = 0.125): the x-axes of Iandola et al.'s Fig. 3, with cost where the paper plots
    accuracy."""
    def cost(sr, pct):
        p = profile(squeezenet_variant(sr, pct), (1, 3, side, side))
        return p.params / 1e6, p.macs / 1e6

    data = {"squeeze_ratio": list(squeeze_ratios), "sr_params_m": [], "sr_macs_m": [],
            "pct_3x3": list(pcts_3x3), "pct_params_m": [], "pct_macs_m": []}
    for sr in squeeze_ratios:
        params, macs = cost(sr, 0.5)
        data["sr_params_m"].append(params)
        data["sr_macs_m"].append(macs)
    for pct in pcts_3x3:
        params, macs = cost(0.125, pct)
        data["pct_params_m"].append(params)
        data["pct_macs_m"].append(macs)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, x, key, label in ((axes[0], "squeeze_ratio", "sr", "squeeze ratio SR (pct3x3 = 0.5)"),
                              (axes[1], "pct_3x3", "pct", "share of 3×3 filters (SR = 0.125)")):
        ax.plot(data[x], data[f"{key}_params_m"], "o-", label="parameters (M)")
        twin = ax.twinx()
        twin.plot(data[x], data[f"{key}_macs_m"], "s--", color="tab:orange", label="MACs (M)")
        ax.set_xlabel(label)
        ax.set_ylabel("parameters (M)", color="tab:blue")
        twin.set_ylabel("MACs (M)", color="tab:orange")
    fig.suptitle("SqueezeNet's design space (Iandola et al. Fig. 3 axes; cost, not accuracy)",
                 fontsize=10)
    fig.tight_layout()
    return fig, data


def macs_by_block(model: nn.Module, input_size=(1, 3, 224, 224)) -> dict:
    """MACs and output side per top-level block of ``model.features`` (plus the classifier)."""
    cost = profile(model, input_size)
    blocks: dict = {}
    for row in cost.by_layer:
        parts = row.name.split(".")
        block = ".".join(parts[:2]) if parts[0] == "features" else parts[0]
        entry = blocks.setdefault(block, {"macs": 0, "side": None})
        entry["macs"] += row.macs
        if len(row.output_shape) == 4:
            entry["side"] = row.output_shape[-1]
    return blocks


def macs_by_block_bars(models: dict, input_size=(1, 3, 224, 224), labels: dict = None):
    """One bar per block, MACs (M), for each model in ``models`` (name → model); the block's map
    side is written on its bar, so late downsampling shows as tall bars on large maps.
    ``labels`` may name the blocks: model name → {"features.3": "fire3", ...}."""
    data = {name: macs_by_block(model, input_size) for name, model in models.items()}
    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 3.4), squeeze=False)
    for ax, (name, blocks) in zip(axes[0], data.items()):
        names = (labels or {}).get(name, {})
        labels_here = [names.get(b, b.replace("features.", "")) for b in blocks]
        values = [b["macs"] / 1e6 for b in blocks.values()]
        ax.bar(range(len(values)), values, color="tab:blue")
        for i, b in enumerate(blocks.values()):
            if b["side"]:
                ax.text(i, values[i], f"{b['side']}", ha="center", va="bottom", fontsize=7)
        ax.set_xticks(range(len(values)), labels_here, rotation=90, fontsize=7)
        ax.set_ylabel("MACs (M)")
        ax.set_title(f"{name}: {sum(values):.0f} M MACs (numbers: map side)", fontsize=10)
    fig.tight_layout()
    return fig, data


# --- ShuffleNet V2 §2: the guidelines, measured --------------------------------------------------

def guideline_panels(result: dict, run: str = "cpu_batch1"):
    """Each guideline's variants: our time relative to the first variant (median over rounds, bar =
    IQR) beside the paper's (its throughput of the first variant over this one's, GPU and ARM)."""
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.6))
    data = {}
    for ax, guideline in zip(axes, ("G1", "G2", "G3", "G4")):
        paper = result["paper"][guideline]
        summary = result[run][guideline]["summary"]
        names = paper["variants"]
        ours = [summary[n]["relative"][0] for n in names]
        spread = [summary[n]["relative"][1] for n in names]
        gpu = [paper["gpu"][0] / v for v in paper["gpu"]]
        arm = [paper["arm"][0] / v for v in paper["arm"]]
        data[guideline] = {"variants": names, "ours": ours, "ours_iqr": spread, "paper_gpu": gpu,
                           "paper_arm": arm}
        x = np.arange(len(names))
        ax.bar(x, ours, yerr=np.array(spread) / 2, color="tab:blue", alpha=0.8, label="ours (IQR)")
        ax.plot(x, gpu, "o", mfc="none", color="tab:green", label="paper GPU")
        ax.plot(x, arm, "^", mfc="none", color="tab:red", label="paper ARM")
        ax.axhline(1.0, color="grey", lw=0.6)
        ax.set_xticks(x, names, rotation=35, ha="right", fontsize=7)
        ax.set_title(f"{guideline} ({paper['table']})", fontsize=10)
        ax.set_ylabel("time / first variant's")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"ShuffleNet V2 §2 guidelines at equal MACs: {result.get('cpu', '')}, "
                 f"{result.get('threads', '?')} thread(s)", fontsize=10)
    fig.tight_layout()
    return fig, data


# --- Making a small network fast, and the zoo's Pareto front -------------------------------------

def deploy_bars(benchmark: dict, batch: int = 1):
    """Median time (ms, bar = IQR) of ours eager, ours deployed and torchvision eager per model."""
    rows = [r for r in benchmark["rows"] if r["batch"] == batch]
    variants = ["ours eager", "ours deployed", "torchvision eager"]
    data = {r["model"]: {v: r["time"][v] for v in variants if v in r["time"]} for r in rows}
    fig, ax = plt.subplots(figsize=(9, 3.6))
    width = 0.27
    for k, variant in enumerate(variants):
        xs = [i + (k - 1) * width for i, r in enumerate(rows) if variant in r["time"]]
        values = [r["time"][variant] for r in rows if variant in r["time"]]
        if values:
            ax.bar(xs, [m for m, _ in values], width, yerr=[q / 2 for _, q in values],
                   label=variant)
    ax.set_xticks(range(len(rows)), [r["model"] for r in rows], fontsize=8)
    ax.set_ylabel("ms per batch")
    ax.set_title(f"CPU latency at batch {batch}, {benchmark['threads']} thread(s): "
                 f"{benchmark['cpu']}", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig, data


def pareto_panels(rows: Sequence[dict]):
    """Accuracy (papers) against MACs and against measured latency; Pareto-front points joined.
    ``rows``: dicts with name, top1, macs (count) and latency_ms."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    data = {}
    for ax, key, label in ((axes[0], "macs", "MACs (M)"), (axes[1], "latency_ms", "latency (ms)")):
        xs = [r[key] / (1e6 if key == "macs" else 1) for r in rows]
        ys = [r["top1"] for r in rows]
        front = pareto_front(zip(xs, ys))
        data[key] = {"names": [rows[i]["name"] for i in front], "x": xs, "top1": ys}
        ax.scatter(xs, ys, color="tab:blue", zorder=3)
        order = sorted(front, key=lambda i: xs[i])
        ax.plot([xs[i] for i in order], [ys[i] for i in order], color="tab:red", lw=1,
                label="Pareto front")
        for x, y, r in zip(xs, ys, rows):
            ax.annotate(r["name"], (x, y), textcoords="offset points", xytext=(3, 3), fontsize=7)
        ax.set_xlabel(label)
        ax.set_ylabel("ImageNet top-1 (%, papers)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig, data
