"""MobileNetV2's figures (lesson 02): manifold collapse under ReLU (Fig. 1) and the bottleneck
ablation's accuracy curves (Fig. 6)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from lightnets.plots._finish import finish

__all__ = ["spiral_roundtrip_panels", "collapse_vs_dimension", "accuracy_curves"]


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
