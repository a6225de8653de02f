"""The DenseNet-BC explorer of lesson 07: growth rate k and depth L → parameters and MACs.

As every widget here, the view is a pure function of the slider values
(:func:`render_growth_depth`, HTML text; :func:`render_growth_depth_plot`, a PNG of the cost
curves with the current (k, L) starred) and the builder only wires sliders to them
(:func:`lightnets.widgets._wire.wire`): nothing is printed from a callback, so the notebook's
stored output stays the same.
"""

from __future__ import annotations

import html

from lightnets.cost.densenet import TABLE_2_BC, densenet_bc_cost
from lightnets.plots.densenet import cost_vs_growth_depth
from lightnets.widgets._wire import figure_png, wire

__all__ = ["DEPTHS", "GROWTH_RATES", "render_growth_depth", "render_growth_depth_plot",
           "growth_depth_widget"]

DEPTHS = (16, 250, 6)  # L = 6n + 4: min, max, step
GROWTH_RATES = (4, 48, 4)


def render_growth_depth(growth_rate: int, depth: int) -> str:
    """HTML: the cost of DenseNet-BC (L, k) on 32×32, its block widths, and Table 2's models."""
    cost = densenet_bc_cost(depth, growth_rate)
    n = (depth - 4) // 6
    rows = [
        ("layers per block n = (L − 4) / 6", f"{n}"),
        ("channels after blocks 1, 2, 3", ", ".join(str(c) for c in cost.block_out_channels)),
        ("parameters", f"{cost.params / 1e6:.3f} M"),
        ("MACs (32×32 input)", f"{cost.macs / 1e6:,.1f} M"),
    ]
    for (paper_depth, paper_k), params in TABLE_2_BC.items():
        ours = densenet_bc_cost(paper_depth, paper_k).params / 1e6
        rows.append(
            (f"Table 2: L = {paper_depth}, k = {paper_k}", f"{params} M (ours {ours:.2f} M)")
        )
    body = "".join(
        f"<tr><td>{html.escape(a)}</td><td><b>{html.escape(b)}</b></td></tr>" for a, b in rows
    )
    return f"<b>DenseNet-BC, L = {depth}, k = {growth_rate}</b><table>{body}</table>"


def render_growth_depth_plot(growth_rate: int, depth: int) -> bytes:
    """PNG: parameters and MACs of DenseNet-BC against L for k = 12, 40 and the chosen k, the
    chosen (k, L) starred (:func:`lightnets.plots.cost_vs_growth_depth`)."""
    rates = tuple(sorted({12, 40, growth_rate}))
    depths = tuple(range(DEPTHS[0], DEPTHS[1] + 1, 36))
    fig, _ = cost_vs_growth_depth(densenet_bc_cost, rates, depths, current=(growth_rate, depth),
                                  figsize=(7.6, 2.9))
    return figure_png(fig)


def growth_depth_widget(growth_rate: int = 12, depth: int = 100):
    """Two sliders (k, L) and an HTML view that :func:`render_growth_depth` refills on each move."""
    import ipywidgets as w

    k = w.IntSlider(
        value=growth_rate,
        min=GROWTH_RATES[0],
        max=GROWTH_RATES[1],
        step=GROWTH_RATES[2],
        description="k (growth)",
    )
    depth_slider = w.IntSlider(
        value=depth, min=DEPTHS[0], max=DEPTHS[1], step=DEPTHS[2], description="L (depth)"
    )
    view, image = w.HTML(), w.Image(format="png")
    wire([k, depth_slider], [view, image],
         lambda growth, layers: (render_growth_depth(growth, layers),
                                 render_growth_depth_plot(growth, layers)))
    return w.VBox([w.HBox([k, depth_slider]), view, image])
