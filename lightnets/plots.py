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
