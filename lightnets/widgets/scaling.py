"""Lesson 04's explorer: compound scaling (EfficientNet §3.3), four sliders α, β, γ, φ over the
state :func:`lightnets.scaling.compound_state` computes."""
from __future__ import annotations

import html

from lightnets.plots.scaling import compound_curve
from lightnets.scaling import compound_state, nearest_variant
from lightnets.widgets._wire import figure_png, wire

__all__ = ["COMPOUND_SLIDERS", "render_compound", "render_compound_plot", "compound_widget"]

COMPOUND_SLIDERS = {  # name: (low, high, step, default); defaults are the paper's STEP 1 result
    "alpha": (1.0, 1.5, 0.01, 1.2),
    "beta": (1.0, 1.5, 0.01, 1.1),
    "gamma": (1.0, 1.5, 0.01, 1.15),
    "phi": (0.0, 8.0, 0.1, 1.0),
}


def render_compound(alpha: float, beta: float, gamma: float, phi: float) -> str:
    """The explorer's HTML table for one slider position (:func:`scaling.compound_state`)."""
    state = compound_state(alpha, beta, gamma, phi)
    off = abs(state.constraint - 2) / 2
    actual = ("outside the plan's range (width, depth ≤ 8)" if state.macs is None else
              f"{state.macs / 1e6:,.0f} M ({state.macs / state.predicted_macs:.2f}× predicted)")
    rows = [
        ("α·β²·γ² (want ≈ 2)",
         f"{state.constraint:.3f}" + (" ✓" if off <= 0.05 else f" ({off:.0%} from 2)")),
        ("depth d = α^φ", f"{state.depth_mult:.3f}"),
        ("width w = β^φ", f"{state.width_mult:.3f}"),
        ("resolution 224·γ^φ", f"{state.resolution} px"),
        ("predicted MACs", f"{state.predicted_macs / 1e6:,.0f} M"),
        ("actual MACs (rounded plan)", actual),
        ("parameters", "—" if state.params is None else f"{state.params / 1e6:.2f} M"),
    ]
    name, variant_macs, top1 = nearest_variant(state.macs or state.predicted_macs)
    rows.append(("nearest B-variant by MACs",
                 f"{name} ({variant_macs / 1e6:,.0f} M): the paper's top-1, {top1:.1f}% (Table 2)"))
    table = "".join(f"<tr><td>{html.escape(k)}</td><td><b>{html.escape(v)}</b></td></tr>"
                    for k, v in rows)
    return f"<table>{table}</table>"


def render_compound_plot(alpha: float, beta: float, gamma: float, phi: float) -> bytes:
    """PNG of :func:`lightnets.plots.compound_curve` for one slider position."""
    state = compound_state(alpha, beta, gamma, phi)
    fig, _ = compound_curve(state.curve, state.variants, state.constraint,
                                  (alpha, beta, gamma), (phi, state.macs), figsize=(5.6, 3.4))
    return figure_png(fig)


def compound_widget(alpha: float = 1.2, beta: float = 1.1, gamma: float = 1.15, phi: float = 1.0):
    """Four sliders (α, β, γ, φ) above the table of :func:`render_compound` and the curve of
    :func:`render_compound_plot`, both refilled on every move."""
    import ipywidgets as widgets

    values = {"alpha": alpha, "beta": beta, "gamma": gamma, "phi": phi}
    labels = {"alpha": "α (depth)", "beta": "β (width)", "gamma": "γ (resolution)", "phi": "φ"}
    sliders = {
        name: widgets.FloatSlider(value=values[name], min=low, max=high, step=step,
                                  description=labels[name], continuous_update=True,
                                  readout_format=".2f" if name != "phi" else ".1f",
                                  style={"description_width": "110px"}, layout={"width": "420px"})
        for name, (low, high, step, _) in COMPOUND_SLIDERS.items()
    }
    table, image = widgets.HTML(), widgets.Image(format="png")
    wire(list(sliders.values()), [table, image],
          lambda *moved: (render_compound(*moved), render_compound_plot(*moved)))
    return widgets.VBox([*sliders.values(), widgets.HBox([table, image])])
