"""Figures of the DenseNet lesson (07). Each builder returns ``(figure, data it drew)``."""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["feature_reuse_heatmap", "early_exit_curves", "exit_examples", "memory_bars",
           "cost_vs_growth_depth"]


def feature_reuse_heatmap(matrices: dict, cmap: str = "viridis", cell: float = 2.6):
    """DenseNet Fig. 5: one heat map per dense block, source layer s (rows) against target ℓ.

    ``matrices``: title → matrix from :func:`lightnets.feature_reuse.feature_reuse`. All panels
    share one colour scale so that blocks can be compared.
    """
    titles = list(matrices)
    values = np.concatenate([np.ravel(matrices[t]) for t in titles])
    low, high = np.nanmin(values), np.nanmax(values)
    fig, axes = plt.subplots(
        1,
        len(titles),
        figsize=(cell * len(titles) + 1.0, cell + 0.4),
        squeeze=False,
        constrained_layout=True,
    )
    image = None
    for ax, title in zip(axes[0], titles):
        matrix = np.asarray(matrices[title], dtype=float)
        n = matrix.shape[0]
        image = ax.imshow(
            np.ma.masked_invalid(matrix), cmap=cmap, vmin=low, vmax=high, origin="upper"
        )
        ax.set_title(title, fontsize=9)
        ax.set_xticks(range(n), [str(t) for t in range(1, n)] + ["out"], fontsize=7)
        ax.set_yticks(range(n), [str(s) for s in range(n)], fontsize=7)
        ax.set_xlabel("target layer ℓ (out: transition / classifier)", fontsize=8)
        ax.set_ylabel("source layer s (0: block input)", fontsize=8)
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label="mean |weight|")
    fig.suptitle(
        "Feature reuse: mean |weight| from source s to target ℓ (DenseNet Fig. 5)", fontsize=10
    )
    return fig, {
        "matrices": {t: np.asarray(matrices[t]) for t in titles},
        "range": (float(low), float(high)),
    }


def early_exit_curves(sweeps: dict, singles: dict,
                      title: str = "Early exits vs one-exit networks (DenseNet-BC, Shapes 32 px)"):
    """Accuracy against average MACs per image: one early-exit curve per seed (τ moving along
    it) and each seed's one-exit networks as markers.

    ``sweeps``: seed → rows of :func:`lightnets.early_exit.sweep`; ``singles``: seed → list of
    (MACs, accuracy) of the one-exit networks.
    """
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    drawn = {}
    colours = plt.get_cmap("tab10")
    for i, seed in enumerate(sorted(sweeps)):
        rows = sorted(sweeps[seed], key=lambda row: row["mean_macs"])
        x = [row["mean_macs"] / 1e6 for row in rows]
        y = [row["accuracy"] for row in rows]
        ax.plot(x, y, "-o", ms=3, color=colours(i), label=f"early exits, seed {seed} (τ varies)")
        sx = [m / 1e6 for m, _ in singles.get(seed, [])]
        sy = [a for _, a in singles.get(seed, [])]
        ax.plot(
            sx,
            sy,
            "s--",
            ms=6,
            color=colours(i),
            mfc="white",
            label=f"one-exit networks, seed {seed}",
        )
        drawn[seed] = {"macs": x, "accuracy": y, "single_macs": sx, "single_accuracy": sy}
    ax.set_xlabel("average MACs per image (millions)")
    ax.set_ylabel("test accuracy")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig, drawn


def exit_examples(
    images,
    exits: np.ndarray,
    labels: Sequence[int],
    class_names: Sequence[str],
    per_exit: int = 8,
    cell: float = 0.9,
):
    """A grid of test images, one row per exit: the first ``per_exit`` images that leave there."""
    exits = np.asarray(exits)
    rows = int(exits.max()) + 1
    fig, axes = plt.subplots(
        rows, per_exit, figsize=(cell * per_exit, cell * rows + 0.5), squeeze=False
    )
    shown = {}
    for r in range(rows):
        chosen = np.flatnonzero(exits == r)[:per_exit].tolist()
        shown[r] = chosen
        for c in range(per_exit):
            ax = axes[r][c]
            ax.axis("off")
            if c < len(chosen):
                ax.imshow(np.asarray(images[chosen[c]]).transpose(1, 2, 0))
                ax.set_title(class_names[int(labels[chosen[c]])], fontsize=6)
        axes[r][0].text(
            -0.15,
            0.5,
            f"exit {r + 1}",
            transform=axes[r][0].transAxes,
            ha="right",
            va="center",
            fontsize=8,
        )
    fig.suptitle("Which test images leave at which exit", fontsize=9)
    return fig, shown


def memory_bars(rows: dict, unit: float = 2**20):
    """Horizontal bars: activation memory kept for backward per network (MiB)."""
    names = list(rows)
    values = [rows[n] / unit for n in names]
    fig, ax = plt.subplots(figsize=(6.4, 0.45 * len(names) + 1.0))
    ax.barh(names, values, color="#4c72b0")
    for y, v in enumerate(values):
        ax.text(v, y, f" {v:.0f}", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("activations kept for backward, batch 1, 224 px (MiB, float32)")
    ax.set_title("Training memory of one forward pass")
    fig.tight_layout()
    return fig, dict(zip(names, values))


def cost_vs_growth_depth(
    cost, growth_rates=(12, 24, 40), depths=tuple(range(40, 251, 30)), current=None,
    figsize=(8.4, 3.2)
):
    """Parameters and MACs of DenseNet-BC against depth L, one line per growth rate k.

    ``cost(depth, growth_rate)`` returns an object with ``.params`` and ``.macs``; ``current``
    (k, L) is marked."""
    fig, (left, right) = plt.subplots(1, 2, figsize=figsize)
    drawn = {}
    for k in growth_rates:
        costs = [cost(depth, k) for depth in depths]
        params, macs = [c.params / 1e6 for c in costs], [c.macs / 1e9 for c in costs]
        left.plot(depths, params, "-o", ms=3, label=f"k = {k}")
        right.plot(depths, macs, "-o", ms=3, label=f"k = {k}")
        drawn[k] = {"depth": list(depths), "params_m": params, "gmacs": macs}
    if current is not None:
        k, depth = current
        c = cost(depth, k)
        left.plot([depth], [c.params / 1e6], "k*", ms=12)
        right.plot([depth], [c.macs / 1e9], "k*", ms=12)
        drawn["current"] = (k, depth, c.params, c.macs)
    for ax, label in ((left, "parameters (M)"), (right, "MACs (G), 32×32 input")):
        ax.set_xlabel("depth L")
        ax.set_ylabel(label)
        ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both")
    left.legend(fontsize=8)
    fig.suptitle(
        "DenseNet-BC on 32×32: cost grows with k² and, within a block, with L²", fontsize=10
    )
    fig.tight_layout()
    return fig, drawn
