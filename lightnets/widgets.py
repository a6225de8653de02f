"""Interactive explorers for the notebooks: sliders wired to pure functions, nothing more.

Each widget is split in two: ``render_*`` functions that take the slider values and return what
the widget shows (HTML text, PNG bytes drawn by :mod:`lightnets.plots`), which the tests call
directly; and a thin ``*_widget`` builder that wires sliders to them with ``observe``. What the
views show is computed by pure functions in :mod:`lightnets.scaling` and :mod:`lightnets.cost`.
The notebooks stay testable under strict nbval because nothing is printed from a callback.
"""
from __future__ import annotations

import html
import io

import matplotlib.pyplot as plt

from lightnets import manifold, plots
from lightnets.models.mobilenet_v1 import (  # noqa: F401 (notebook 01 reads the tables)
    TABLE_6, TABLE_7, TABLE_9, paper_top1)
from lightnets.scaling import (  # noqa: F401 (compound_state, mobilenet_v1_cost: notebooks)
    CompoundState, compound_state, mobilenet_v1_cost, nearest_variant, width_resolution_prediction)


# One PNG pixel per CSS pixel: the widget image is shown at exactly the size it was drawn.
WIDGET_DPI = 100


def figure_png(fig) -> bytes:
    """The figure as PNG bytes (for an ``ipywidgets.Image``); the figure is closed afterwards."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=WIDGET_DPI)
    plt.close(fig)
    return buffer.getvalue()


def png_size(png: bytes) -> tuple:
    """(width, height) in pixels, read from the PNG's IHDR chunk."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _wire(sliders: list, outputs: list, update) -> None:
    def refresh(_change=None):
        for widget, value in zip(outputs, update(*(s.value for s in sliders))):
            if isinstance(value, bytes):
                # Without an explicit size the browser stretches the image to the box's width
                # and height (issue 19: 700×320 drawn at 700×662); pin it to its pixel size.
                width, height = png_size(value)
                widget.layout.width, widget.layout.height = f"{width}px", f"{height}px"
            widget.value = value

    for slider in sliders:
        slider.observe(refresh, names="value")
    refresh()


# --- MobileNetV2 Fig. 1 ------------------------------------------------------------------------


def render_spiral(n: int, seed: int) -> tuple:
    """(PNG of the input spiral beside T⁺ ReLU(T x) for this n and seed, HTML with both
    measures)."""
    fig, data = plots.spiral_roundtrip_panels(dims=(n,), seed=seed, figsize=(5, 2.6))
    lost = manifold.lost_fraction(data["input"], manifold.random_embedding(n, seed))
    text = (f"<b>n = {n}, seed = {seed}</b>: shape error {data['shape_error'][n]:.3f}, "
            f"share of points lost {lost:.1%}")
    return figure_png(fig), text


def spiral_widget(n: int = 5, seed: int = 0):
    """Sliders for the embedding dimension n and the seed of T, showing :func:`render_spiral`."""
    import ipywidgets as w

    n_slider = w.IntSlider(value=n, min=2, max=30, description="n")
    seed_slider = w.IntSlider(value=seed, min=0, max=19, description="seed")
    image, text = w.Image(format="png"), w.HTML()
    _wire([n_slider, seed_slider], [image, text], render_spiral)
    return w.VBox([w.HBox([n_slider, seed_slider]), text, image])


# --- MobileNetV1 width α and resolution ρ (§3.3-3.4, eqs. 6-7; Tables 6 and 7) -----------------


def render_width_resolution(width_mult: float, resolution: int) -> str:
    """HTML: our cost at (α, ρ) beside the α²ρ² prediction and the paper's Tables 6, 7 and 9, with
    the paper's ImageNet top-1 for this (α, ρ) where it prints one ("not in the paper" where not:
    its Fig. 4 has all 16 pairs, but only as points on a graph)."""
    macs, params = mobilenet_v1_cost(width_mult, resolution)
    rho = resolution / 224
    predicted_macs, predicted_params = width_resolution_prediction(
        *mobilenet_v1_cost(1.0, 224), width_mult, rho)
    found = paper_top1(width_mult, resolution)
    top1 = f"{found[0]}% ({found[1]})" if found else "not in the paper"
    rows = [f"<tr><td>ours, α = {width_mult}, ρ = {rho:.3f} ({resolution} px)</td>"
            f"<td>{macs / 1e6:.1f}</td><td>{params / 1e6:.2f}</td><td>{top1}</td></tr>",
            f"<tr><td>α² ρ² × full model</td><td>{predicted_macs / 1e6:.1f}</td>"
            f"<td>{predicted_params / 1e6:.2f} (α²)</td><td></td></tr>"]
    paper = [(f"Table 6, α = {a}", r) for a, r in TABLE_6.items()]
    paper += [(f"Table 7, {side} px", r) for side, r in TABLE_7.items()]
    paper += [("Table 9, α = 0.5, 160 px", TABLE_9["0.50 MobileNet-160"])]
    rows += [f"<tr><td>paper {name}</td><td>{r.mult_adds_millions}</td>"
             f"<td>{r.params_millions}</td><td>{r.top1_percent}%</td></tr>" for name, r in paper]
    head = ("<tr><th>MobileNetV1</th><th>Mult-Adds (M)</th><th>params (M)</th>"
            "<th>ImageNet top-1 (paper)</th></tr>")
    return "<table>" + head + "".join(rows) + "</table>"


def render_width_resolution_plot(width_mult: float, resolution: int) -> bytes:
    """PNG: cost against α and ρ with the current setting marked."""
    fig, _ = plots.cost_vs_multipliers([0.25, 0.5, 0.75, 1.0], [128, 160, 192, 224],
                                       mobilenet_v1_cost, current=(width_mult, resolution),
                                       figsize=(7, 3.2))
    return figure_png(fig)


def width_resolution_widget(width_mult: float = 1.0, resolution: int = 224):
    """Sliders for α and the input side, showing :func:`render_width_resolution` and its plot."""
    import ipywidgets as w

    alpha = w.FloatSlider(value=width_mult, min=0.25, max=1.0, step=0.25, description="α")
    side = w.IntSlider(value=resolution, min=128, max=224, step=32, description="resolution")
    # The table keeps its natural width (it was squeezed into a narrow column beside the image);
    # the row wraps the image below it when the page is narrower than both.
    table = w.HTML(layout=w.Layout(flex="0 0 auto", margin="0 16px 0 0"))
    image = w.Image(format="png", layout=w.Layout(flex="0 0 auto"))
    _wire([alpha, side], [table, image],
          lambda a, r: (render_width_resolution(a, r), render_width_resolution_plot(a, r)))
    return w.VBox(
        [w.HBox([alpha, side]), w.HBox([table, image], layout=w.Layout(flex_flow="row wrap"))]
    )


# --- lesson 04: compound scaling (EfficientNet §3.3) ---------------------------------------------

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
    fig, _ = plots.compound_curve(state.curve, state.variants, state.constraint,
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
    _wire(list(sliders.values()), [table, image],
          lambda *moved: (render_compound(*moved), render_compound_plot(*moved)))
    return widgets.VBox([*sliders.values(), widgets.HBox([table, image])])
