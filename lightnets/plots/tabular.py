"""Figures of lesson 11 (TabTransformer). Each function returns ``(figure, data it drew)`` so tests
can check the data and notebooks only show the picture. The inputs are the results file of
``python -m lightnets.experiments.tab_transformer experiment`` (a dict) or arrays computed by
:func:`embedding_points`."""
from __future__ import annotations

import numpy as np
import torch

from lightnets._torch import evaluating

__all__ = ["LABELS", "plot_auc_comparison", "plot_ablation", "plot_robustness", "embedding_points",
           "plot_embeddings"]

LABELS = {"tab_transformer": "TabTransformer", "tab_mlp": "MLP",
          "hist_gradient_boosting": "gradient-boosted trees"}


def plot_auc_comparison(results: dict):
    """Bars: test AUC of each model, mean over seeds with its 95 % t-interval, seeds as dots."""
    import matplotlib.pyplot as plt

    names = list(results["comparison"])
    data = {n: results["comparison"][n] for n in names}
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    for k, name in enumerate(names):
        entry = data[name]
        ax.bar(k, entry["mean"], yerr=entry["half_width"], capsize=6, color=f"C{k}", alpha=0.7)
        ax.plot([k] * len(entry["values"]), entry["values"], "k.", zorder=3)
    ax.set_xticks(range(len(names)), [LABELS.get(n, n) for n in names])
    ax.set_ylim(0.75, 0.9)
    ax.set_ylabel("test AUC")
    ax.set_title(f"credit_data, {len(results['seeds'])} seeds (mean ± 95 % t-interval)")
    fig.tight_layout()
    return fig, data


def plot_ablation(results: dict):
    """Test AUC of each column-embedding variant (ℓ/d, or additive) with its interval."""
    import matplotlib.pyplot as plt

    data = results["ablation"]
    names = list(data)
    fig, ax = plt.subplots(figsize=(5.5, 3.0))
    means = [data[n]["mean"] for n in names]
    ax.errorbar(range(len(names)), means, yerr=[data[n]["half_width"] for n in names], fmt="o",
                capsize=6)
    for k, n in enumerate(names):
        ax.plot([k] * len(data[n]["values"]), data[n]["values"], "k.", alpha=0.5)
    ax.set_xticks(range(len(names)), [f"ℓ = {n}" if n.startswith("d") else n for n in names])
    ax.set_ylabel("test AUC")
    ax.set_title("shared column identifier c_i: length ℓ, none, or added")
    fig.tight_layout()
    return fig, data


def plot_robustness(results: dict, curves=("tab_transformer/mean", "tab_mlp/mean",
                                           "hist_gradient_boosting")):
    """Test AUC against the share of categorical test values removed, mean ± interval per curve."""
    import matplotlib.pyplot as plt

    shares = results["missing_shares"]
    data = {}
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    for k, key in enumerate(curves):
        curve = results["robustness"][key]
        mean = np.array([curve[str(s)]["mean"] for s in shares])
        half = np.array([curve[str(s)]["half_width"] for s in shares])
        data[key] = {"share": list(shares), "mean": mean.tolist(), "half_width": half.tolist()}
        name, _, missing = key.partition("/")
        label = LABELS.get(name, name) + (f" (missing → {missing})" if missing else "")
        ax.plot(shares, mean, "o-", color=f"C{k}", label=label)
        ax.fill_between(shares, mean - half, mean + half, color=f"C{k}", alpha=0.15)
    ax.set_xlabel("share of categorical test values removed")
    ax.set_ylabel("test AUC")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig, data


@torch.no_grad()
def embedding_points(model, x_categ: torch.Tensor, layer: int = -1) -> dict:
    """PCA (float64 SVD) of every (row, column) embedding at ``layer`` of a TabTransformer (0: the
    parametric E_φ, -1: the contextual h), with each point's column and class index."""
    with evaluating(model):
        h = model.contextual_embeddings(x_categ)[layer].double()
    n, m, d = h.shape
    flat = h.reshape(n * m, d).numpy()
    centred = flat - flat.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    coords = centred @ vt[:2].T
    # A component's sign is arbitrary; fix it so the picture is the same on every machine.
    coords *= np.sign(coords[np.abs(coords).argmax(0), range(2)])
    return {"coords": coords, "column": np.tile(np.arange(m), n),
            "klass": x_categ.reshape(-1).numpy()}


def plot_embeddings(panels: dict, column_names, class_names):
    """One scatter per entry of ``panels`` (title → :func:`embedding_points`), coloured by column;
    each (column, class) is labelled at the mean of its points."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4.2))
    axes = np.atleast_1d(axes)
    data = {}
    for ax, (title, points) in zip(axes, panels.items()):
        centres = {}
        for i, column in enumerate(column_names):
            mine = points["column"] == i
            ax.scatter(*points["coords"][mine].T, s=4, alpha=0.25, color=f"C{i}", label=column)
            for k in np.unique(points["klass"][mine]):
                where = mine & (points["klass"] == k)
                centre = points["coords"][where].mean(0)
                name = "missing" if k == 0 else class_names[i][k - 1]
                centres[f"{column}={name}"] = centre.tolist()
                ax.annotate(name, centre, fontsize=7, color=f"C{i}")
        ax.set_title(title)
        ax.set_xlabel("PC 1")
        ax.set_ylabel("PC 2")
        data[title] = centres
    axes[0].legend(markerscale=4, fontsize=8)
    fig.tight_layout()
    return fig, data
