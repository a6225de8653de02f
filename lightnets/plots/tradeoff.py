"""Accuracy beside cost: a paper's result table drawn as top-1 accuracy against Mult-Adds, with
the Pareto front over every point shown. Lessons 01–04 (MobileNetV1 Tables 4–8, V2 Table 4, V3
Table 3, EfficientNet Tables 2–3) and lesson 08 (the zoo) share this one builder."""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter

from lightnets.plots._finish import finish

__all__ = ["accuracy_vs_cost", "pareto_front"]


def pareto_front(points: Iterable[tuple]) -> list:
    """Indices of the points (cost, accuracy) that no other point beats: cheaper-or-equal and
    more-or-equally accurate, better in at least one."""
    points = list(points)
    front = []
    for i, (cost_i, acc_i) in enumerate(points):
        dominated = any(c <= cost_i and a >= acc_i and (c < cost_i or a > acc_i)
                        for j, (c, a) in enumerate(points) if j != i)
        if not dominated:
            front.append(i)
    return front


def accuracy_vs_cost(series: Mapping[str, Sequence[tuple]], title: str,
                     xlabel: str = "Mult-Adds (millions, log scale)",
                     ylabel: str = "ImageNet top-1 accuracy (%)", current=None, log_x: bool = True,
                     figsize=(7.5, 4.2)):
    """One line per series of ``(label, cost, top1)`` rows (e.g. {"width α": [...], "resolution
    ρ": [...]}); points on the Pareto front over all series are ringed. ``current`` = (cost,
    top1 or None, label) marks a slider's position (top1 None: drawn at the axis' foot).

    ``data`` holds each series' rows and the labels on the front, in order of cost.
    """
    everything = [(name, row) for name, rows in series.items() for row in rows]
    front = pareto_front((cost, top1) for _, (_, cost, top1) in everything)
    front_rows = sorted({everything[i][1][1:]: everything[i][1] for i in front}.values(),
                        key=lambda row: row[1])  # a point two series share counts once
    data = {"series": {name: list(rows) for name, rows in series.items()},
            "front": [label for label, _, _ in front_rows]}
    fig, ax = plt.subplots(figsize=figsize)
    labels = {}  # (cost, top1) -> [label, colour, offset]: a point two series share is named once
    for k, (name, rows) in enumerate(series.items()):
        rows = sorted(rows, key=lambda row: row[1])
        colour = plt.cm.tab10(k % 10)
        ax.plot([c for _, c, _ in rows], [a for _, _, a in rows], "o-", color=colour, label=name,
                zorder=3)
        for i, (label, cost, top1) in enumerate(rows):
            if (cost, top1) in labels:
                labels[cost, top1][0] += f" = {label}"
            else:  # alternate above and below the line so neighbouring labels do not meet
                labels[cost, top1] = [label, colour, (5, 5 if i % 2 == 0 else -11)]
    for (cost, top1), (label, colour, offset) in labels.items():
        ax.annotate(label, (cost, top1), textcoords="offset points", fontsize=7, xytext=offset,
                    color=colour)
    ax.scatter([c for _, c, _ in front_rows], [a for _, _, a in front_rows], s=110,
               facecolors="none", edgecolors="black", zorder=4, label="Pareto front")
    if current is not None:
        cost, top1, label = current
        y = top1 if top1 is not None else min(a for _, (_, _, a) in everything)
        ax.scatter([cost], [y], marker="*", s=160, color="black", zorder=5, label=label)
    if log_x:
        ax.set_xscale("log")
        # 40, not 4×10¹; between the decades only 2× and 5× are named, so labels never crowd
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.xaxis.set_minor_formatter(FuncFormatter(
            lambda value, _: f"{value:g}" if f"{value:.0e}"[0] in "25" else ""))
    finish(fig, ax, xlabel, ylabel, title, legend_fontsize=8, grid_which="both")
    return fig, data
