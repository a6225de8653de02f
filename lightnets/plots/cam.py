"""Class activation maps (lesson 05): maps laid over their images, and the pointing game's
scores."""
from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = ["cam_grid", "pointing_game_bars"]


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

