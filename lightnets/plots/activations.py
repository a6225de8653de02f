"""MobileNetV3's nonlinearities (lesson 03): swish and its hard version, with their derivatives
(§5.2)."""
from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = ["activation_curves"]


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
