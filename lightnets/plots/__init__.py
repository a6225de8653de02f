"""Figure builders for the notebooks. Each returns ``(figure, data)``: the figure for the learner,
and the numbers it drew, so that tests check the data and nbval checks the printed text."""
from __future__ import annotations

from typing import Iterable

import matplotlib.pyplot as plt
import numpy as np

from lightnets.plots._finish import finish


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


# --- MobileNetV2: manifold collapse (Fig. 1) and the bottleneck ablation (Fig. 6) ---------------


def spiral_roundtrip_panels(dims=(2, 3, 5, 15, 30), seed: int = 0, points=None, figsize=(10, 2.4)):
    """Fig. 1 of MobileNetV2: the input spiral, then T⁺ ReLU(T x) for each n in ``dims``.

    ``data`` holds the recovered points per n and their :func:`lightnets.manifold.shape_error`.
    """
    from lightnets import manifold

    points = manifold.spiral() if points is None else points
    data = {"input": points, "recovered": {}, "shape_error": {}}
    fig, axes = plt.subplots(1, len(dims) + 1, figsize=figsize)
    colours = plt.cm.viridis(np.linspace(0, 1, len(points)))
    axes[0].scatter(points[:, 0], points[:, 1], c=colours, s=3)
    axes[0].set_title("Input")
    for ax, n in zip(axes[1:], dims):
        recovered = manifold.relu_roundtrip(points, manifold.random_embedding(n, seed))
        data["recovered"][n] = recovered
        data["shape_error"][n] = manifold.shape_error(points, recovered)
        ax.scatter(recovered[:, 0], recovered[:, 1], c=colours, s=3)
        ax.set_title(f"n = {n}")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_aspect("equal", adjustable="datalim")
    fig.tight_layout()
    return fig, data


def collapse_vs_dimension(curve: dict, figsize=(7, 4),
                          title="MobileNetV2 Fig. 1, measured: a ReLU in n dimensions"):
    """Collapse measures against the embedding dimension n, ReLU against the linear control.

    ``curve`` is :func:`lightnets.manifold.collapse_curve`'s output, which is also the data
    returned.
    """
    fig, ax = plt.subplots(figsize=figsize)
    n = curve["n"]
    mean, std = np.array(curve["shape_error_relu"]), np.array(curve["shape_error_relu_std"])
    ax.plot(n, mean, "o-", label="shape error, ReLU (band: ± one std over seeds)")
    ax.fill_between(n, mean - std, mean + std, alpha=0.2)
    ax.plot(n, curve["lost_fraction_relu"], "s-", label="share of points lost, ReLU")
    ax.plot(n, curve["shape_error_linear"], "k--", label="shape error, linear control")
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(n)
    ax.set_xticklabels([str(d) for d in n])
    finish(fig, ax, "embedding dimension n", "collapse (0 = spiral intact)", title)
    return fig, curve


def accuracy_curves(result: dict, figsize=(7.5, 4.5),
                    title="MobileNetV2 Fig. 6 in miniature: test accuracy while training"):
    """Test accuracy against training step per variant: the mean over seeds, with a band of the
    95% Student-t interval over seeds (sample std, ddof = 1; none for a single seed).

    ``result`` is the JSON of :mod:`lightnets.experiments.bottleneck_ablation`; ``data`` maps each
    variant to its mean and the band's half-width per evaluation step.
    """
    from scipy import stats

    fig, ax = plt.subplots(figsize=figsize)
    data = {}
    steps = result["steps"]
    for name, curves in result["test_accuracy"].items():
        curves = np.array(curves, dtype=np.float64)
        mean, seeds = curves.mean(axis=0), len(curves)
        half = (stats.t.ppf(0.975, seeds - 1) * curves.std(axis=0, ddof=1) / np.sqrt(seeds)
                if seeds > 1 else np.zeros_like(mean))
        data[name] = {"mean": mean.tolist(), "half_width": half.tolist()}
        ax.plot(steps, mean, label=name)
        ax.fill_between(steps, mean - half, mean + half, alpha=0.2)
    seeds = len(result.get("seeds", [])) or 1
    band = f"bands: 95% t-interval over {seeds} seeds" if seeds > 1 else "one seed"
    finish(fig, ax, f"training step ({band})", "test accuracy", title, legend_fontsize=8)
    return fig, data


# --- MobileNetV1: width and resolution multipliers (§3.3-3.4, eqs. 6-7; Tables 6-7) -------------


def cost_vs_multipliers(alphas, resolutions, cost, current=None, figsize=(7, 4),
                        title="MobileNetV1: Mult-Adds against width α (eq. 6) and resolution ρ "
                              "(eq. 7)"):
    """Mult-Adds (millions) against the width multiplier α and against the resolution multiplier ρ.

    ``cost(alpha, resolution)`` returns ``(macs, params)``; ρ is ``resolution / 224``. Dashed lines
    show the α² and ρ² laws through the full model. ``current`` = (alpha, resolution) is marked.
    ``data`` holds every computed cost.
    """
    base_macs = cost(1.0, 224)[0] / 1e6
    data = {"alpha": list(alphas), "macs_vs_alpha": [cost(a, 224)[0] / 1e6 for a in alphas],
            "rho": [r / 224 for r in resolutions],
            "macs_vs_rho": [cost(1.0, r)[0] / 1e6 for r in resolutions]}
    fig, (left, right) = plt.subplots(1, 2, figsize=figsize, sharey=True)
    grid = np.linspace(0.2, 1.0, 50)
    left.plot(data["alpha"], data["macs_vs_alpha"], "o-", label="our model (ρ = 1)")
    left.plot(grid, base_macs * grid ** 2, "k--", lw=0.8, label="α² law")
    right.plot(data["rho"], data["macs_vs_rho"], "o-", label="our model (α = 1)")
    right.plot(grid, base_macs * grid ** 2, "k--", lw=0.8, label="ρ² law")
    if current is not None:
        alpha, resolution = current
        macs = cost(alpha, resolution)[0] / 1e6
        left.plot([alpha], [macs], "r*", ms=12, label=f"α={alpha}, ρ={resolution / 224:.3f}")
        right.plot([resolution / 224], [macs], "r*", ms=12)
        data["current_macs"] = macs
    left.set_xlabel("width multiplier α")
    right.set_xlabel("resolution multiplier ρ")
    left.set_ylabel("Mult-Adds (millions)")
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig, data


# --- MobileNetV3: swish and its hard version (§5.2) ---------------------------------------------


def activation_curves(functions: dict, x=None, figsize=(8, 3.4)):
    """Each function of ``functions`` (name → torch callable) and its derivative, side by side.

    Derivatives come from autograd. ``data`` holds x and, per name, the values and derivatives.
    """
    import torch

    x = torch.linspace(-6, 6, 1201, dtype=torch.float64) if x is None else x
    data = {"x": x.numpy(), "value": {}, "derivative": {}}
    fig, (left, right) = plt.subplots(1, 2, figsize=figsize)
    for name, function in functions.items():
        xs = x.clone().requires_grad_(True)
        y = function(xs)
        (grad,) = torch.autograd.grad(y.sum(), xs)
        data["value"][name], data["derivative"][name] = y.detach().numpy(), grad.numpy()
        style = "--" if name.startswith("h") else "-"
        left.plot(data["x"], data["value"][name], style, label=name)
        right.plot(data["x"], data["derivative"][name], style, label=name)
    left.set_title("value")
    right.set_title("derivative")
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
        ax.set_xlabel("x")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig, data


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


def cam_grid(images, maps: dict, row_titles=None, alpha: float = 0.5, cell: float = 1.3,
             colormap: str = "inferno", title: str = None):
    """One row per image: the image, then each method's map laid over it (lesson 05).

    ``images`` is (N, 3, H, W) in [0, 1]; ``maps`` maps a column title (e.g. "CAM", "Grad-CAM")
    to (N, H, W) maps in [0, 1], drawn in a perceptual ``colormap`` with a colorbar. A white
    cross marks each peak (:func:`lightnets.cam.peaks`), the point the pointing game judges.
    Returns ``(fig, data)`` with ``data["peaks"][title]`` the (row, col) peak of each image.
    """
    from matplotlib.cm import ScalarMappable

    from lightnets.cam import overlay, peaks as find_peaks

    titles = list(maps)
    count = len(images)
    extra = 0.9 if titles else 0.0  # room for the colorbar
    fig, axes = plt.subplots(count, 1 + len(titles),
                             figsize=(cell * (1 + len(titles)) + extra,
                                      cell * count + (0.4 if title else 0.0)),
                             squeeze=False)
    peaks = {name: [tuple(p) for p in find_peaks(maps[name]).tolist()] for name in titles}
    for row in range(count):
        picture = images[row].permute(1, 2, 0).cpu().numpy()
        axes[row, 0].imshow(picture, interpolation="nearest")
        if row_titles is not None:
            axes[row, 0].set_ylabel(row_titles[row], fontsize=8)
        for column, name in enumerate(titles, start=1):
            peak = peaks[name][row]
            axes[row, column].imshow(overlay(images[row], maps[name][row], alpha, colormap),
                                     interpolation="nearest")
            axes[row, column].plot(peak[1], peak[0], "w+", markersize=10, markeredgewidth=2)
            if row == 0:
                axes[row, column].set_title(name, fontsize=9)
        if row == 0:
            axes[row, 0].set_title("image", fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    if titles:  # the colorbar in a margin of its own, so no panel shrinks
        width = fig.get_size_inches()[0]
        right = 1 - extra / width
        fig.subplots_adjust(right=right)
        cax = fig.add_axes([right + 0.08 / width, 0.15, 0.12 / width, 0.7])
        bar = fig.colorbar(ScalarMappable(cmap=colormap), cax=cax)
        bar.set_label("map (1 = its peak)", fontsize=8)
        bar.ax.tick_params(labelsize=7)
    return fig, {"titles": titles, "peaks": peaks}


def pointing_game_bars(scores: dict, chance: float = None,
                       title: str = "The pointing game: how often a map's peak is on the object"):
    """Bar chart of pointing-game scores (fraction of peaks on the object), one bar per method;
    ``chance`` (the mean object area, a random peak's expected score) as a dashed line."""
    names, values = list(scores), [float(v) for v in scores.values()]
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar(names, values, color=[plt.cm.tab10(i) for i in range(len(names))])
    for i, value in enumerate(values):
        ax.annotate(f"{value:.2f}", (i, value), ha="center", va="bottom", fontsize=9)
    if chance is not None:
        ax.axhline(chance, color="k", ls="--", lw=1, label=f"object area ({chance:.2f})")
        ax.legend(fontsize=8, loc="upper right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share of peaks on the object")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig, {"method": names, "score": values, "chance": chance}


# Lesson 04's figures (compound scaling) live in their own module.
from lightnets.plots.scaling import *  # noqa: E402,F401,F403
from lightnets.plots.tradeoff import *  # noqa: E402,F401,F403
from lightnets.plots.filters import *  # noqa: E402,F401,F403
# Block diagrams of lessons 02-05 (MobileNetV2 Figs. 3-4, V3 Figs. 4-5, EfficientNet Fig. 2, CAM).
from lightnets.plots.diagrams import *  # noqa: E402,F401,F403
# Point labels that never collide (leader lines when moved), for any builder that names points.
from lightnets.plots._labels import place_labels  # noqa: E402,F401
from lightnets.plots.imagenet import photo_predictions  # noqa: E402,F401 (lessons 00, 05)
