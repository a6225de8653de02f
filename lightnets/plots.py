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


def cam_grid(images, maps: dict, row_titles=None, alpha: float = 0.5, cell: float = 1.3):
    """One row per image: the image, then each method's map laid over it (lesson 05).

    ``images`` is (N, 3, H, W) in [0, 1]; ``maps`` maps a column title (e.g. "CAM", "Grad-CAM")
    to (N, H, W) maps in [0, 1]. A white cross marks each peak (:func:`lightnets.cam.peaks`),
    the point the pointing game judges. Returns ``(fig, data)`` with ``data["peaks"][title]`` the
    (row, col) peak of each image.
    """
    from lightnets.cam import overlay, peaks as find_peaks

    titles = list(maps)
    count = len(images)
    fig, axes = plt.subplots(count, 1 + len(titles), figsize=(cell * (1 + len(titles)), cell * count),
                             squeeze=False)
    peaks = {title: [tuple(p) for p in find_peaks(maps[title]).tolist()] for title in titles}
    for row in range(count):
        picture = images[row].permute(1, 2, 0).cpu().numpy()
        axes[row, 0].imshow(picture)
        if row_titles is not None:
            axes[row, 0].set_ylabel(row_titles[row], fontsize=8)
        for column, title in enumerate(titles, start=1):
            peak = peaks[title][row]
            axes[row, column].imshow(overlay(images[row], maps[title][row], alpha))
            axes[row, column].plot(peak[1], peak[0], "w+", markersize=10, markeredgewidth=2)
            if row == 0:
                axes[row, column].set_title(title, fontsize=9)
        if row == 0:
            axes[row, 0].set_title("image", fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig, {"titles": titles, "peaks": peaks}


def pointing_game_bars(scores: dict, chance: float = None):
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
    ax.set_ylabel("pointing-game score")
    fig.tight_layout()
    return fig, {"method": names, "score": values, "chance": chance}
