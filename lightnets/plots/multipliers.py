"""MobileNetV1's two multipliers (lesson 01): Mult-Adds against width α and resolution ρ
(§3.3-3.4, eqs. 6-7; Tables 6-7)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["cost_vs_multipliers"]


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
