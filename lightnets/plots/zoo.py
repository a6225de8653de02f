"""The zoo at a glance (lesson 00): every model's parameters against its multiply-accumulates,
beside the papers' own figures."""
from __future__ import annotations

from typing import Iterable

import matplotlib.pyplot as plt

__all__ = ["params_vs_macs"]


def _plain_log_ticks(ax) -> None:
    """Log axes ticked at 1, 2, 5 × 10^k and labelled as plain numbers (never "6×10⁻¹")."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axis.set_minor_formatter(NullFormatter())


def params_vs_macs(rows: Iterable, label_points: bool = True,
                   title: str = "Parameters against multiply-accumulates", figsize=(11, 6.5)):
    """Scatter of parameters (M) against multiply-accumulates (M), one point per zoo row.

    ``rows`` are :class:`lightnets.zoo.ZooRow` of one dataset (a CIFAR model's 32-px cost is not
    comparable with ImageNet models', so mixing them is refused). Where a paper reports a cost, a
    black × marks it, drawn above our point so it is never hidden, and a thin line joins the two.
    Each label takes a free place near its point (a leader line where it had to move away);
    models of identical cost share one label.
    """
    rows = list(rows)
    datasets = sorted({getattr(r, "dataset", "ImageNet") for r in rows})
    if len(datasets) > 1:
        raise ValueError(f"rows must be of one dataset, got {datasets}: plot them separately")
    data = {
        "name": [r.name for r in rows],
        "macs_millions": [r.macs / 1e6 for r in rows],
        "params_millions": [r.params / 1e6 for r in rows],
        "paper_macs_millions": [r.reported_mult_adds_millions for r in rows],
        "paper_params_millions": [r.reported_params_millions for r in rows],
    }
    fig, ax = plt.subplots(figsize=figsize)
    families = sorted({r.family for r in rows})
    colours = {f: plt.cm.tab10(i % 10) for i, f in enumerate(families)}
    xs, ys = list(data["macs_millions"]), list(data["params_millions"])
    for r, x, y in zip(rows, data["macs_millions"], data["params_millions"]):
        ax.scatter(x, y, color=colours[r.family], label=r.family, s=30, zorder=3)
        if r.reported_mult_adds_millions is not None and r.reported_params_millions is not None:
            px, py = r.reported_mult_adds_millions, r.reported_params_millions
            ax.scatter(px, py, marker="x", color="k", s=28, lw=1, zorder=4,
                       label="paper's figure")
            ax.plot([x, px], [y, py], color=colours[r.family], lw=0.8, zorder=2)
            xs.append(px)
            ys.append(py)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    if "paper's figure" in unique:  # last in the legend, after the families
        unique["paper's figure"] = unique.pop("paper's figure")
    ax.legend(unique.values(), unique.keys(), fontsize=8,
              title=f"family ({datasets[0] if datasets else 'ImageNet'})",
              loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_xscale("log")
    ax.set_yscale("log")
    # Room around the points for their labels: a quarter of a decade on each side.
    ax.set_xlim(min(xs) / 10 ** 0.3, max(xs) * 10 ** 0.3)
    ax.set_ylim(min(ys) / 10 ** 0.3, max(ys) * 10 ** 0.3)
    _plain_log_ticks(ax)
    ax.set_xlabel("multiply-accumulates (millions, log scale)")
    ax.set_ylabel("parameters (millions, log scale)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    if label_points:
        from lightnets.plots._labels import place_labels

        # One label for models of identical cost (e.g. "efficientnet = efficientnet_b0"), placed
        # from the costliest down; labels avoid the paper's markers too.
        names = {}
        for r, x, y in zip(rows, data["macs_millions"], data["params_millions"]):
            names.setdefault((r.macs, r.params, x, y), []).append(r.name)
        points = sorted(names.items(), key=lambda item: -item[0][0])
        paper = [(px, py) for px, py in zip(data["paper_macs_millions"],
                                            data["paper_params_millions"]) if px and py]
        place_labels(ax, [key[2] for key, _ in points], [key[3] for key, _ in points],
                     [" = ".join(sorted(group)) for _, group in points], extra_points=paper)
    return fig, data
