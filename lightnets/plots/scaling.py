"""Figures of lesson 04, compound scaling (EfficientNet §3.3, Fig. 3). Each returns
``(figure, data)`` like every :mod:`lightnets.plots` builder."""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter

from lightnets.plots._finish import finish

__all__ = ["SCALING_COLOURS", "compound_curve", "macs_by_scaling_kind", "accuracy_vs_macs",
           "images_by_resolution", "live_beside_saved"]

SCALING_COLOURS = {"depth": "tab:blue", "width": "tab:orange", "resolution": "tab:green",
                   "compound": "tab:red"}


def compound_curve(curve, variants=(), constraint=None, coefficients=None, current=None,
                   figsize=(7, 4)):
    """MACs against φ for one (α, β, γ): eq. 3's prediction B0·(αβ²γ²)^φ, the rounded networks
    costed from their plans, B0–B7 placed where the prediction reaches their MACs, and the
    slider's φ.

    ``curve`` is [(φ, predicted MACs, actual MACs or None)], ``variants`` [(name, MACs, φ or
    None)], ``constraint`` α·β²·γ², ``coefficients`` (α, β, γ) and ``current`` (φ, MACs or None):
    the fields of :func:`lightnets.scaling.compound_state`, whose result may also be passed whole
    as ``curve``.
    """
    if hasattr(curve, "curve"):  # a scaling.CompoundState carries every argument
        state = curve
        curve, variants, constraint = state.curve, state.variants, state.constraint
        coefficients, current = (state.alpha, state.beta, state.gamma), (state.phi, state.macs)
    phis = [p for p, _, _ in curve]
    data = {
        "phi": phis,
        "predicted_macs": [m for _, m, _ in curve],
        "actual_macs": [a for _, _, a in curve],
        "variants": {name: (phi, macs) for name, macs, phi in variants},
    }
    fig, ax = plt.subplots(figsize=figsize)
    ax.plot(phis, [m / 1e9 for m in data["predicted_macs"]], "--", color="tab:blue",
            label=f"predicted: B0 · ({constraint:.3f})^φ")
    measured = [(p, a / 1e9) for p, a in zip(phis, data["actual_macs"]) if a]
    if measured:
        ax.plot(*zip(*measured), color="tab:red", label="rounded network (from its plan)")
    for name, (phi, macs) in data["variants"].items():
        if phi is not None and 0 <= phi <= phis[-1]:
            ax.scatter(phi, macs / 1e9, color="tab:green", zorder=3)
            ax.annotate(name, (phi, macs / 1e9), textcoords="offset points", xytext=(4, -10),
                        fontsize=8)
    if current is not None and current[1]:
        ax.scatter(current[0], current[1] / 1e9, s=90, facecolors="none", edgecolors="black",
                   zorder=4, label=f"φ = {current[0]:g}")
    ax.set_yscale("log")
    ax.set_xlabel("compound coefficient φ")
    ax.set_ylabel("multiply-accumulates (G, log scale)")
    if coefficients is not None:
        ax.set_title("α = {:g}, β = {:g}, γ = {:g}".format(*coefficients))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig, data


def macs_by_scaling_kind(costs: dict):
    """MACs against φ for B0 scaled by depth only, width only, resolution only and compound.
    ``costs`` is :func:`lightnets.scaling.kind_costs`'s output (kind → CompoundCost per φ)."""
    data = {kind: {"phi": [c.phi for c in rows], "macs": [c.macs for c in rows],
                   "predicted_macs": [c.predicted_macs for c in rows]}
            for kind, rows in costs.items()}
    fig, ax = plt.subplots(figsize=(7, 4))
    for kind, series in data.items():
        colour = SCALING_COLOURS.get(kind)
        ax.plot(series["phi"], [m / 1e9 for m in series["macs"]], "o-", color=colour, label=kind,
                ms=3)
        ax.plot(series["phi"], [m / 1e9 for m in series["predicted_macs"]], ":", color=colour, lw=1)
    ax.set_yscale("log")
    finish(fig, ax, "φ", "multiply-accumulates (G, log scale)",
           "B0 scaled one dimension at a time, or all three (dotted: eq. 3's prediction)",
           8, "both")
    return fig, data


def accuracy_vs_macs(curves: dict, grid: list = (), title: str = "Scaling a tiny EfficientNet on "
                     "Stripes (EfficientNet Fig. 3 in miniature)"):
    """EfficientNet Fig. 3 / Fig. 8 in miniature: validation accuracy against MACs, one line per way
    of scaling (``curves``: kind → rows sorted by MACs, from
    :func:`lightnets.experiments.scaling.curves`); ``grid`` rows (the STEP 1 search) as grey
    crosses. Rows with a ``half_width`` (a mean over seeds,
    :func:`lightnets.experiments.scaling.seed_summary`) get error bars of that half-width."""
    data = {kind: {"name": [r["name"] for r in rows], "macs": [r["macs"] for r in rows],
                   "val_accuracy": [r["val_accuracy"] for r in rows],
                   "half_width": [r.get("half_width") for r in rows]}
            for kind, rows in curves.items()}
    fig, ax = plt.subplots(figsize=(7, 4))
    for kind, series in data.items():
        errors = series["half_width"] if all(h is not None for h in series["half_width"]) else None
        ax.errorbar([m / 1e6 for m in series["macs"]], series["val_accuracy"], yerr=errors,
                    fmt="o-", capsize=3, color=SCALING_COLOURS.get(kind), label=kind)
    if grid:
        data["grid"] = {"name": [r["name"] for r in grid], "macs": [r["macs"] for r in grid],
                        "val_accuracy": [r["val_accuracy"] for r in grid]}
        ax.scatter([r["macs"] / 1e6 for r in grid], [r["val_accuracy"] for r in grid], marker="x",
                   color="grey", label="grid search (STEP 1)", zorder=3)
    ax.set_xscale("log")
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(plain)
    ax.tick_params(axis="x", which="minor", labelsize=7)
    finish(fig, ax, "multiply-accumulates (M, log scale)", "validation accuracy", title, 8, "both")
    return fig, data


def live_beside_saved(live: list, saved: list, chance: float = None,
                      title: str = "A tiny live run beside the saved full run"):
    """Validation accuracy of each run of a live, small re-run (``live``: rows of
    :func:`lightnets.experiments.scaling.run_live`) beside the same run in the saved results
    (``saved``: their ``runs``), one pair of bars per run, each bar labelled with its value;
    ``chance`` (e.g. 1/4 for four classes) as a dotted line. ``data`` holds the values drawn."""
    import numpy as np

    by_name = {row["name"]: row for row in saved}
    missing = [row["name"] for row in live if row["name"] not in by_name]
    if missing:
        raise ValueError(f"saved has no run named {missing}; saved runs: {sorted(by_name)}")
    names = [row["name"] for row in live]
    data = {"name": names, "live": [row["val_accuracy"] for row in live],
            "saved": [by_name[name]["val_accuracy"] for name in names]}
    fig, ax = plt.subplots(figsize=(7, 3.6))
    x = np.arange(len(names))
    for offset, key, colour in ((-0.2, "saved", "tab:grey"), (0.2, "live", "tab:green")):
        bars = ax.bar(x + offset, data[key], width=0.4, color=colour, label=f"{key} run")
        ax.bar_label(bars, fmt="%.2f", fontsize=8)
    if chance is not None:
        ax.axhline(chance, color="black", ls=":", lw=1, label=f"chance ({chance:g})")
    ax.set_xticks(x, names)
    ax.set_ylim(0, 1.08)
    finish(fig, ax, "run", "validation accuracy", title, 8)
    return fig, data


def images_by_resolution(scenes, resolutions, count: int = 6):
    """The first ``count`` scenes of ``scenes`` (e.g. :class:`lightnets.data.Stripes` drawn at the
    largest of ``resolutions``), one row per resolution: every row shows the *same* scenes, each
    shrunk by area averaging to that side (as a camera with fewer pixels sees it) and drawn at
    the same size, so the detail a lower resolution loses is compared like for like. Titles are
    the class names; ``data`` holds them and the images drawn per resolution."""
    import torch

    images = scenes.images[:count].float() / 255
    names = [scenes.class_names[int(label)] for label in scenes.labels[:count]]
    data = {"class_names": names, "images": {}}
    fig, axes = plt.subplots(len(resolutions), count, figsize=(1.1 * count, 1.2 * len(resolutions)),
                             squeeze=False, dpi=72)
    for row, side in zip(axes, resolutions):
        shown = images if side == images.shape[-1] else torch.nn.functional.interpolate(
            images, size=(side, side), mode="area")
        data["images"][side] = shown
        for i, ax in enumerate(row):
            ax.imshow(shown[i].permute(1, 2, 0).clamp(0, 1).numpy(), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(names[i], fontsize=8)
        row[0].set_ylabel(f"{side} px", fontsize=9)
    fig.suptitle("The same scenes at each resolution", fontsize=9)
    fig.tight_layout()
    return fig, data
