"""Figures of lesson 09 (searching for networks). Each builder returns ``(figure, data)``."""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

from lightnets import search

__all__ = ["reward_curves", "search_plane", "netadapt_path", "search_candidates"]


def reward_curves(accuracy: float = 0.75, target_ms: float = 75.0,
                  latencies_ms: Sequence[float] = tuple(np.linspace(30, 150, 121))):
    """MnasNet eq. 2 over latency for one accuracy: soft (w = −0.07), hard (0 / −1) and the
    w = −0.15 of MobileNetV3-Small's search, with the target T marked."""
    settings = {
        "soft, w = −0.07 (MnasNet)": search.SOFT_CONSTRAINT,
        "soft, w = −0.15 (MobileNetV3-Small)": (search.MOBILENET_V3_SMALL_W,) * 2,
        "hard: α = 0, β = −1": search.HARD_CONSTRAINT,
    }
    data = {"latency_ms": list(latencies_ms), "reward": {}}
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, (alpha, beta) in settings.items():
        values = [search.reward(accuracy, lat, target_ms, alpha, beta) for lat in latencies_ms]
        data["reward"][label] = values
        ax.plot(latencies_ms, values, label=label)
    ax.axvline(target_ms, color="grey", ls="--", lw=1)
    ax.annotate(f"target T = {target_ms:g} ms", (target_ms, ax.get_ylim()[0]),
                xytext=(4, 6), textcoords="offset points", fontsize=8, color="grey")
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel(f"reward ACC·(LAT/T)^w at ACC = {accuracy:g}")
    ax.set_title("MnasNet's reward (eq. 2): one model's accuracy, its latency varied")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig, data


def search_plane(points: Sequence[dict]):
    """MACs against measured CPU latency (median, bars: interquartile range) of sampled
    architectures (grey) and the references (labelled)."""
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    data = {"name": [], "macs_millions": [], "median_ms": []}
    for kind, style in (("sample", dict(color="0.6", ms=4)), ("reference", dict(color="C3", ms=6))):
        chosen = [p for p in points if p["kind"] == kind]
        x = [p["macs"] / 1e6 for p in chosen]
        y = [p["median_ms"] for p in chosen]
        ax.errorbar(x, y, yerr=[p["iqr_ms"] / 2 for p in chosen], fmt="o", capsize=2,
                    label="random samples of the search space" if kind == "sample" else
                    "published networks", **style)
        data["name"] += [p["name"] for p in chosen]
        data["macs_millions"] += x
        data["median_ms"] += y
        if kind == "reference":
            # The published networks sit close together: labels go to a column above them,
            # ordered as the points are, with leader lines, so they never overlap.
            order = sorted(range(len(chosen)), key=lambda i: x[i])
            top = max(y) + 0.25 * (max(y) - min(data["median_ms"]) + 1.0) + 40
            for rank, i in enumerate(order):
                ax.annotate(chosen[i]["name"], (x[i], y[i]), fontsize=8, color="C3",
                            xytext=(min(x) + 60 * rank, top + 45 * rank), textcoords="data",
                            arrowprops=dict(arrowstyle="-", color="C3", lw=0.6))
    ax.set_xlabel("multiply-accumulates (millions)")
    ax.set_ylabel("CPU latency, 224 px, batch 1 (ms)")
    ax.set_title("The search space on a MACs / latency plane")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig, data


def netadapt_path(result: dict, source: str = "saved run"):
    """NetAdapt's path: every step's proposals (grey) and the chosen one (line), table latency
    against holdout accuracy after the short fine-tune; the latency target dashed. ``source``
    says in the title where the run was made (its look-up table was timed there)."""
    path = result["path"]
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for step in path[1:]:
        for proposal in step["proposals"]:
            before = path[step["step"] - 1]["latency_ms"]
            ax.scatter(before + proposal["delta_latency"], proposal["holdout_accuracy"],
                       color="0.7", s=14, zorder=2)
    x = [step["latency_ms"] for step in path]
    y = [step["holdout_accuracy"] for step in path]
    ax.plot(x, y, "o-", color="C0", zorder=3, label="chosen proposal at each step")
    for step, xi, yi in zip(path, x, y):
        ax.annotate(str(step["step"]), (xi, yi), xytext=(0, 6), textcoords="offset points",
                    fontsize=8, ha="center")
    ax.scatter([], [], color="0.7", s=14, label="other proposals")
    ax.axvline(result["target_ms"], color="grey", ls="--", lw=1, label="latency target")
    ax.invert_xaxis()
    ax.set_xlabel("latency from the look-up table (ms per batch of 32), shrinking →")
    ax.set_ylabel("holdout accuracy after short fine-tune")
    ax.set_title(f"NetAdapt, {source}: one layer cut per step")
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig, {"latency_ms": x, "holdout_accuracy": y}


def search_candidates(candidates: Sequence, target_macs: float, w: float):
    """A live search's candidates (:func:`lightnets.tiny_search.evolve`) on the MACs / accuracy
    plane: numbered in training order, the Pareto front joined, the best reward starred, and the
    curve of equal reward through it (``ACC = R · (MACs / T)^−w``), the target T dashed."""
    from lightnets.tiny_search import pareto_front

    fig, ax = plt.subplots(figsize=(9, 4.5))
    x = [c.macs / 1e6 for c in candidates]
    y = [c.accuracy for c in candidates]
    colours = ["0.55" if c.parent is None else "C0" for c in candidates]
    ax.scatter(x, y, c=colours, s=22, zorder=3)
    for c, xi, yi in zip(candidates, x, y):
        ax.annotate(str(c.index), (xi, yi), xytext=(4, 3), textcoords="offset points",
                    fontsize=7)
    front = pareto_front(candidates)
    ax.plot([c.macs / 1e6 for c in front], [c.accuracy for c in front], "-", color="C2",
            lw=1, zorder=2, label="Pareto front (no other is cheaper and as accurate)")
    best = max(candidates, key=lambda c: c.reward)
    grid = np.linspace(min(x) * 0.9, max(x) * 1.1, 100)
    target = target_macs / 1e6
    equal = [best.reward * (m / target) ** -w for m in grid]  # soft constraint: α = β = w
    ax.plot(grid, equal, ":", color="C3", lw=1, label=f"equal reward to the best, w = {w:g}")
    ax.scatter([best.macs / 1e6], [best.accuracy], marker="*", s=160, color="C3", zorder=4,
               label="best reward")
    ax.scatter([], [], color="0.55", s=22, label="random start")
    ax.scatter([], [], color="C0", s=22, label="mutation of a good parent")
    ax.axvline(target, color="grey", ls="--", lw=1)
    ax.annotate(f"T = {target:g} M", (target, max(y)), xytext=(4, 0), textcoords="offset points",
                fontsize=8, color="grey")
    ax.set_xlabel("multiply-adds (millions), counted")
    ax.set_ylabel("held-out accuracy after the short training")
    ax.set_title("A live search: every candidate trained, measured and scored")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig, {"macs_millions": x, "accuracy": y, "front": [c.index for c in front],
                 "best": best.index}
