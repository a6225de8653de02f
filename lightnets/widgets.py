"""Interactive explorers for the notebooks.

Each widget is split in two: a pure ``render_*`` function that takes the slider values and returns
what the widget shows (HTML text, PNG bytes), which the tests call directly; and a thin ``*_widget``
builder that wires sliders to it with ``observe``. The notebooks stay testable under strict nbval
because nothing is printed from a callback.
"""
from __future__ import annotations

import functools
import io

import matplotlib.pyplot as plt


def figure_png(fig) -> bytes:
    """The figure as PNG bytes (for an ``ipywidgets.Image``); the figure is closed afterwards."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _wire(sliders: list, outputs: list, update) -> None:
    def refresh(_change=None):
        for widget, value in zip(outputs, update(*(s.value for s in sliders))):
            widget.value = value

    for slider in sliders:
        slider.observe(refresh, names="value")
    refresh()


# --- MobileNetV2 Fig. 1 ------------------------------------------------------------------------


def render_spiral(n: int, seed: int) -> tuple:
    """(PNG of the input spiral beside T⁺ ReLU(T x) for this n and seed, HTML with both measures)."""
    from lightnets import manifold, plots

    fig, data = plots.spiral_roundtrip_panels(dims=(n,), seed=seed, figsize=(5, 2.6))
    points = data["input"]
    lost = manifold.lost_fraction(points, manifold.random_embedding(n, seed))
    html = (f"<b>n = {n}, seed = {seed}</b>: shape error {data['shape_error'][n]:.3f}, "
            f"share of points lost {lost:.1%}")
    return figure_png(fig), html


def spiral_widget(n: int = 5, seed: int = 0):
    """Sliders for the embedding dimension n and the seed of T, showing :func:`render_spiral`."""
    import ipywidgets as w

    n_slider = w.IntSlider(value=n, min=2, max=30, description="n")
    seed_slider = w.IntSlider(value=seed, min=0, max=19, description="seed")
    image, text = w.Image(format="png"), w.HTML()
    _wire([n_slider, seed_slider], [image, text], render_spiral)
    return w.VBox([w.HBox([n_slider, seed_slider]), text, image])


# --- MobileNetV1 width α and resolution ρ (§4.2-4.3, Tables 6 and 7) ---------------------------

# MobileNetV1 Table 6 (width multiplier, 224 px) and Table 7 (resolution, α = 1):
# (ImageNet top-1 %, Mult-Adds millions, parameters millions)
TABLE_6 = {1.0: (70.6, 569, 4.2), 0.75: (68.4, 325, 2.6), 0.5: (63.7, 149, 1.3), 0.25: (50.6, 41, 0.5)}
TABLE_7 = {224: (70.6, 569, 4.2), 192: (69.1, 418, 4.2), 160: (67.2, 290, 4.2), 128: (64.4, 186, 4.2)}


@functools.lru_cache(maxsize=256)
def mobilenet_v1_cost(width_mult: float, resolution: int) -> tuple:
    """(MACs, parameters) of MobileNetV1 at this α and input side, from :func:`lightnets.profile`."""
    import lightnets

    model = lightnets.create_model("mobilenet_v1", width_mult=width_mult)
    cost = lightnets.profile(model, (1, 3, resolution, resolution))
    return cost.macs, cost.params


def render_width_resolution(width_mult: float, resolution: int) -> str:
    """HTML: our cost at (α, ρ) beside the α²ρ² prediction and the paper's Tables 6 and 7."""
    macs, params = mobilenet_v1_cost(width_mult, resolution)
    base_macs, base_params = mobilenet_v1_cost(1.0, 224)
    rho = resolution / 224
    rows = [f"<tr><td>ours, α = {width_mult}, ρ = {rho:.3f} ({resolution} px)</td>"
            f"<td>{macs / 1e6:.1f}</td><td>{params / 1e6:.2f}</td></tr>",
            f"<tr><td>α² ρ² × full model</td><td>{base_macs * width_mult ** 2 * rho ** 2 / 1e6:.1f}</td>"
            f"<td>{base_params * width_mult ** 2 / 1e6:.2f} (α²)</td></tr>"]
    rows += [f"<tr><td>paper Table 6, α = {a}</td><td>{m}</td><td>{p}</td></tr>" for a, (_, m, p) in TABLE_6.items()]
    rows += [f"<tr><td>paper Table 7, {r} px</td><td>{m}</td><td>{p}</td></tr>" for r, (_, m, p) in TABLE_7.items()]
    head = "<tr><th>MobileNetV1</th><th>Mult-Adds (M)</th><th>params (M)</th></tr>"
    return "<table>" + head + "".join(rows) + "</table>"


def render_width_resolution_plot(width_mult: float, resolution: int) -> bytes:
    """PNG: cost against α and ρ with the current setting marked."""
    from lightnets import plots

    fig, _ = plots.cost_vs_multipliers([0.25, 0.5, 0.75, 1.0], [128, 160, 192, 224], mobilenet_v1_cost,
                                       current=(width_mult, resolution), figsize=(7, 3.2))
    return figure_png(fig)


def width_resolution_widget(width_mult: float = 1.0, resolution: int = 224):
    """Sliders for α and the input side, showing :func:`render_width_resolution` and its plot."""
    import ipywidgets as w

    alpha = w.FloatSlider(value=width_mult, min=0.25, max=1.0, step=0.25, description="α")
    side = w.IntSlider(value=resolution, min=128, max=224, step=32, description="resolution")
    table, image = w.HTML(), w.Image(format="png")
    _wire([alpha, side], [table, image],
          lambda a, r: (render_width_resolution(a, r), render_width_resolution_plot(a, r)))
    return w.VBox([w.HBox([alpha, side]), w.HBox([table, image])])
