"""Figure builders for the notebooks. Each returns ``(figure, data)``: the figure for the learner,
and the numbers it drew, so that tests check the data and nbval checks the printed text."""
from __future__ import annotations

from typing import Iterable

import matplotlib.pyplot as plt


def params_vs_macs(rows: Iterable, label_points: bool = True):
    """Scatter of parameters (M) against multiply-accumulates (M), one point per zoo row.

    ``rows`` are :class:`lightnets.zoo.ZooRow`; where a paper reports a cost, a hollow marker
    shows it and a thin line joins it to our measurement.
    """
    rows = list(rows)
    data = {
        "name": [r.name for r in rows],
        "macs_millions": [r.macs / 1e6 for r in rows],
        "params_millions": [r.params / 1e6 for r in rows],
    }
    fig, ax = plt.subplots(figsize=(7, 4.5))
    families = sorted({r.family for r in rows})
    colours = {f: plt.cm.tab10(i % 10) for i, f in enumerate(families)}
    for r in rows:
        x, y, colour = r.macs / 1e6, r.params / 1e6, colours[r.family]
        ax.scatter(x, y, color=colour, label=r.family, zorder=3)
        if r.reported_mult_adds_millions is not None:
            px, py = r.reported_mult_adds_millions, r.reported_params_millions
            ax.scatter(px, py, facecolors="none", edgecolors=colour, s=80, zorder=2)
            ax.plot([x, px], [y, py], color=colour, lw=0.8)
        if label_points:
            ax.annotate(r.name, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    ax.legend(unique.values(), unique.keys(), fontsize=8, title="family (hollow: paper)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("multiply-accumulates (millions, log scale)")
    ax.set_ylabel("parameters (millions, log scale)")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return fig, data


def cost_shares(cost, paper_percent: dict = None, title: str = ""):
    """Horizontal bars: each layer type's share of a profile's MACs (%), with the paper's share
    beside it where ``paper_percent`` ({type: %}) gives one (MobileNetV1 Table 2)."""
    shares = {kind: 100 * macs / cost.macs for kind, macs in sorted(cost.by_type.items(), key=lambda kv: kv[1])}
    paper_percent = paper_percent or {}
    data = {"type": list(shares), "ours_percent": [round(v, 2) for v in shares.values()],
            "paper_percent": [paper_percent.get(k) for k in shares]}
    fig, ax = plt.subplots(figsize=(7, 3))
    y = range(len(shares))
    ax.barh([i + 0.2 for i in y], data["ours_percent"], height=0.4, label="ours (measured)")
    ax.barh([i - 0.2 for i in y], [p if p is not None else 0 for p in data["paper_percent"]], height=0.4,
            label="paper", color="lightgray", edgecolor="gray")
    for i, (ours, paper) in enumerate(zip(data["ours_percent"], data["paper_percent"])):
        ax.annotate(f"{ours:.2f}%" + (f" (paper {paper:.2f}%)" if paper is not None else ""), (ours, i + 0.2),
                    xytext=(4, -3), textcoords="offset points", fontsize=8)
    ax.set_yticks(list(y), data["type"])
    ax.set_xscale("log")
    ax.set_xlabel("share of multiply-accumulates (%, log scale)")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig, data


def tool_counts_chart(counts: dict, title: str = ""):
    """Stacked bars: what each tool counts (``lightnets.cost.tool_counts``), split by kind of
    operation, in millions; the paper convention is the first bar."""
    tools = list(counts)
    kinds = sorted({k for c in counts.values() for k in c.parts}, key=lambda k: (k not in ("conv", "linear"), k))
    data = {"tool": tools, "total_millions": [round(counts[t].count / 1e6, 2) for t in tools],
            "parts_millions": {k: [round(counts[t].factor * counts[t].parts.get(k, 0) / 1e6, 3) for t in tools]
                               for k in kinds}}
    fig, ax = plt.subplots(figsize=(7, 4))
    bottom = [0.0] * len(tools)
    for i, kind in enumerate(kinds):
        values = data["parts_millions"][kind]
        ax.bar(tools, values, bottom=bottom, label=kind, color=plt.cm.tab10(i % 10))
        bottom = [b + v for b, v in zip(bottom, values)]
    for x, total in enumerate(data["total_millions"]):
        ax.annotate(f"{total:,.1f}", (x, total), ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("counted operations (millions)")
    ax.set_title(title)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    return fig, data


def macs_vs_time(labels, macs, times_ms, title: str = ""):
    """Paired bars: each item's share of the MACs and its share of the measured time (%)."""
    labels, macs, times_ms = list(labels), list(macs), list(times_ms)
    data = {"label": labels, "macs_percent": [100 * m / sum(macs) for m in macs],
            "time_percent": [100 * t / sum(times_ms) for t in times_ms]}
    fig, ax = plt.subplots(figsize=(7, 3))
    x = range(len(labels))
    ax.bar([i - 0.2 for i in x], data["macs_percent"], width=0.4, label="share of MACs")
    ax.bar([i + 0.2 for i in x], data["time_percent"], width=0.4, label="share of time")
    ax.set_xticks(list(x), labels)
    ax.set_ylabel("%")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig, data
