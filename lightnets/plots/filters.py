"""MobileNetV1 Fig. 2 drawn by code: the filters of a standard convolution, and the depthwise and
pointwise filters that replace them (Howard et al. 2017, §3.1)."""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

__all__ = ["separable_filters"]

# Each filter is drawn as a stack of its channel slices, one square per input channel, the later
# channels set back up and to the right so that the stack reads as a block D_K wide and M deep.
_DEPTH_STEP = (0.45, 0.35)


def _filter(ax, x: float, y: float, side: float, colours: list) -> float:
    """One filter at (x, y): ``len(colours)`` slices of ``side``×``side``; returns its right
    edge."""
    dx, dy = _DEPTH_STEP
    for depth in reversed(range(len(colours))):  # back to front, so the front slice is on top
        ax.add_patch(Rectangle((x + depth * dx, y + depth * dy), side, side,
                               facecolor=colours[depth], edgecolor="black", lw=0.6))
    if side > 1:  # the kernel's D_K × D_K grid on the front slice
        for i in range(1, int(side)):
            ax.plot([x + i, x + i], [y, y + side], color="black", lw=0.3)
            ax.plot([x, x + side], [y + i, y + i], color="black", lw=0.3)
    return x + side + (len(colours) - 1) * dx


def separable_filters(in_channels: int = 4, out_channels: int = 3, kernel_size: int = 3,
                      figsize=(10, 2.8)):
    """V1 Fig. 2: (a) N standard filters of D_K×D_K×M, (b) M depthwise filters of D_K×D_K×1, one
    per input channel, (c) N pointwise filters of 1×1×M. Slices are coloured by the input channel
    they read, so (b) shows each channel filtered on its own and (c) every channel mixed.

    The drawing uses small ``in_channels`` (M), ``out_channels`` (N) and ``kernel_size`` (D_K);
    ``data`` holds each panel's filter count and shape and its weights, and the layer totals.
    """
    for name, value, low, high in (("in_channels", in_channels, 1, 8),
                                   ("out_channels", out_channels, 1, 6),
                                   ("kernel_size", kernel_size, 1, 7)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name} must be an int in [{low}, {high}] to be drawn, got {value!r}")
    m, n, k = in_channels, out_channels, kernel_size
    palette = [plt.cm.tab10(i % 10) for i in range(m)]
    panels = {
        "standard": {"count": n, "shape": (k, k, m), "side": k, "colours": [palette] * n,
                     "title": "(a) standard convolution filters\n"
                              r"$N$ filters of $D_K \times D_K \times M$"},
        "depthwise": {"count": m, "shape": (k, k, 1), "side": k,
                      "colours": [[palette[c]] for c in range(m)],
                      "title": "(b) depthwise filters\n"
                               r"$M$ filters of $D_K \times D_K \times 1$"},
        "pointwise": {"count": n, "shape": (1, 1, m), "side": 1, "colours": [palette] * n,
                      "title": "(c) pointwise (1×1) filters\n"
                               r"$N$ filters of $1 \times 1 \times M$"},
    }
    fig, axes = plt.subplots(1, 3, figsize=figsize,
                             gridspec_kw={"width_ratios": [n * (k + 2), m * (k + 1), n * 2.5]})
    data = {"in_channels": m, "out_channels": n, "kernel_size": k, "panels": {}}
    for ax, (name, panel) in zip(axes, panels.items()):
        x, gap = 0.0, 0.8
        for colours in panel["colours"]:
            x = _filter(ax, x, 0.0, panel["side"], colours) + gap
        height = k + (m - 1) * _DEPTH_STEP[1]
        ax.set_xlim(-0.3, x - gap + 0.3)
        ax.set_ylim(-0.3, height + 0.3)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.axis("off")
        ax.set_title(panel["title"], fontsize=9)
        a, b, c = panel["shape"]
        data["panels"][name] = {"filters": panel["count"], "shape": panel["shape"],
                                "weights": panel["count"] * a * b * c}
    weights = {name: p["weights"] for name, p in data["panels"].items()}
    data["separable_weights"] = weights["depthwise"] + weights["pointwise"]
    data["standard_weights"] = weights["standard"]
    fig.suptitle(f"MobileNetV1 Fig. 2, drawn for M = {m}, N = {n}, D_K = {k}: (a) is replaced by "
                 "(b) then (c); colours are input channels", fontsize=10)
    fig.tight_layout()
    return fig, data
