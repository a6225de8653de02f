"""What a network costs (lessons 01 and 06): where the multiply-accumulates go by layer type,
what each counting tool counts, and shares of MACs beside shares of time."""
from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = ["cost_shares", "tool_counts_chart", "macs_vs_time"]


def cost_shares(costs, paper_percent: dict = None, title: str = "", paper_label: str = "paper"):
    """Horizontal bars on a linear axis, grouped by layer type: each type's share of the MACs of
    one profile or of several (``costs``: a profile, or {label: profile}), and the paper's share
    where ``paper_percent`` ({type: %}) gives one (hatched). Every bar carries its value, so a
    0.18 % share reads as well as a 95 % one."""
    costs = costs if isinstance(costs, dict) else {"ours": costs}
    totals: dict = {}
    for cost in costs.values():
        for kind, macs in cost.by_type.items():
            totals[kind] = totals.get(kind, 0) + macs / cost.macs
    kinds = sorted(totals, key=lambda kind: -totals[kind])
    rows = {label: [round(100 * cost.by_type[kind] / cost.macs, 2) if kind in cost.by_type
                    else None for kind in kinds]  # None: the network has no such layer
            for label, cost in costs.items()}
    data = {"type": kinds, "percent": rows,
            "paper_percent": [None if paper_percent is None else paper_percent.get(k)
                              for k in kinds]}
    bars = dict(rows)
    if paper_percent:
        bars[paper_label] = [paper_percent.get(k) for k in kinds]
    height = 0.8 / len(bars)
    fig, ax = plt.subplots(figsize=(7, 1.4 + 0.22 * len(kinds) * len(bars)))
    for j, (label, values) in enumerate(bars.items()):
        paper = paper_percent and label == paper_label
        y = [i + (j - (len(bars) - 1) / 2) * height for i in range(len(kinds))]
        shown = [(yy, v) for yy, v in zip(y, values) if v is not None]
        ax.barh([yy for yy, _ in shown], [v for _, v in shown], height=height * 0.9, label=label,
                color="white" if paper else plt.cm.tab10(j % 10),
                edgecolor="gray" if paper else None, hatch="//" if paper else None)
        for yy, v in shown:
            ax.text(v + 1, yy, f"{v:.2f}%", va="center", fontsize=7)
    ax.set_yticks(range(len(kinds)), kinds)
    ax.invert_yaxis()  # the largest share on top
    ax.set_xlim(0, 112)
    ax.set_xlabel("share of multiply-accumulates (%)")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig, data


def tool_counts_chart(counts: dict, title: str = ""):
    """Stacked bars: what each tool counts (``lightnets.cost.tool_counts``), split by kind of
    operation, in millions; the paper convention is the first bar."""
    tools = list(counts)
    kinds = sorted({k for c in counts.values() for k in c.parts},
                   key=lambda k: (k not in ("conv", "linear"), k))
    data = {"tool": tools, "total_millions": [round(counts[t].count / 1e6, 2) for t in tools],
            "parts_millions": {k: [round(counts[t].factor * counts[t].parts.get(k, 0) / 1e6,
                                         3) for t in tools]
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
    ax.set_ylim(0, 1.1 * max(data["total_millions"]))  # room for the totals above the bars
    # "ptflops_aten", "flop_counter": long names on two lines, so that neighbours never touch
    ax.set_xticks(range(len(tools)), [tool.replace("_", "\n") for tool in tools])
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
