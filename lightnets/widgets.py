"""Interactive explorers for the notebooks.

Each widget is split in two: a pure ``render_*`` function that takes the slider values and returns
what the widget shows (HTML text, PNG bytes), which the tests call directly; and a thin ``*_widget``
builder that wires sliders to it with ``observe``. The notebooks stay testable under strict nbval
because nothing is printed from a callback.
"""
from __future__ import annotations

import functools
import html
import io
import math
from typing import NamedTuple

import matplotlib.pyplot as plt


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
    # The table keeps its natural width (it was squeezed into a narrow column beside the image);
    # the row wraps the image below it when the page is narrower than both.
    table = w.HTML(layout=w.Layout(flex="0 0 auto", margin="0 16px 0 0"))
    image = w.Image(format="png", layout=w.Layout(flex="0 0 auto"))
    _wire([alpha, side], [table, image],
          lambda a, r: (render_width_resolution(a, r), render_width_resolution_plot(a, r)))
    return w.VBox([w.HBox([alpha, side]), w.HBox([table, image], layout=w.Layout(flex_flow="row wrap"))])


# --- lesson 04: compound scaling (EfficientNet §3.3) ---------------------------------------------

COMPOUND_SLIDERS = {  # name: (low, high, step, default); defaults are the paper's STEP 1 result
    "alpha": (1.0, 1.5, 0.01, 1.2),
    "beta": (1.0, 1.5, 0.01, 1.1),
    "gamma": (1.0, 1.5, 0.01, 1.15),
    "phi": (0.0, 8.0, 0.1, 1.0),
}
CURVE_PHIS = tuple(float(x) for x in range(9))  # 0, 1, ..., 8: enough for a smooth log plot, cheap


class CompoundState(NamedTuple):
    """What the compound-scaling explorer shows for one position of its four sliders."""

    alpha: float
    beta: float
    gamma: float
    phi: float
    constraint: float  # α·β²·γ²
    depth_mult: float
    width_mult: float
    resolution: int
    predicted_macs: float  # B0's MACs × (α·β²·γ²)^φ
    macs: int  # the rounded network, costed from its plan (None when outside the plan's range)
    params: int
    curve: list  # (φ, predicted MACs, actual MACs or None) along φ = 0 … 8
    variants: list  # (name, MACs, φ at which the predicted curve reaches them, or None)


@functools.lru_cache(maxsize=None)
def _official_macs() -> tuple:
    """B0's MACs and (name, MACs) of B0–B7: fixed, so computed once."""
    from lightnets import scaling
    from lightnets.models.efficientnet import VARIANTS

    rows = tuple((name.upper(), scaling.network_cost(c.width_mult, c.depth_mult, c.resolution).macs)
                 for name, c in VARIANTS.items())
    return rows[0][1], rows


@functools.lru_cache(maxsize=4096)
def _network_cost(width_mult: float, depth_mult: float, resolution: int):
    from lightnets import scaling

    return scaling.network_cost(width_mult, depth_mult, resolution)


def compound_state(alpha: float, beta: float, gamma: float, phi: float) -> CompoundState:
    """Everything the explorer displays, computed from the plan (no model is built).

    Multipliers beyond what the plan accepts (width or depth above 8) leave ``macs`` None.
    """
    from lightnets import scaling

    def actual(p: float):
        depth, width, resolution = scaling.multipliers(p, alpha, beta, gamma)
        if depth > 8 or width > 8:
            return None
        return _network_cost(width, depth, scaling.scaled_resolution(resolution))

    here = actual(phi)
    depth, width, resolution = scaling.multipliers(phi, alpha, beta, gamma)
    base, official = _official_macs()
    c = scaling.constraint(alpha, beta, gamma)
    curve = []
    for p in CURVE_PHIS:
        point = here if p == phi else actual(p)
        curve.append((p, base * c ** p, point.macs if point else None))
    variants = [(name, macs, math.log(macs / base) / math.log(c) if c > 1 else None) for name, macs in official]
    return CompoundState(alpha, beta, gamma, phi, c, depth, width, scaling.scaled_resolution(resolution),
                         base * c ** phi, here.macs if here else None, here.params if here else None, curve,
                         variants)


def _svg_curve(state: CompoundState, width: int = 420, height: int = 260) -> str:
    """MACs (log scale) against φ: eq. 3's prediction, the rounded networks, B0–B7 and the slider."""
    left, right, top, bottom = 56, 12, 12, 34
    values = [m for _, p, a in state.curve for m in (p, a) if m] + [m for _, m, _ in state.variants]
    low, high = math.log10(min(values)), math.log10(max(values))
    low, high = math.floor(low), math.ceil(high) if high > low else low + 1

    def x(phi: float) -> float:
        return left + (width - left - right) * phi / CURVE_PHIS[-1]

    def y(macs: float) -> float:
        return top + (height - top - bottom) * (high - math.log10(macs)) / (high - low)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             'font-family="sans-serif" font-size="10">',
             f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}" '
             'fill="white" stroke="#999"/>']
    for decade in range(low, high + 1):
        parts.append(f'<text x="{left - 4}" y="{y(10 ** decade) + 3:.1f}" text-anchor="end">'
                     f'{10 ** decade / 1e9:g} G</text>')
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(10 ** decade):.1f}" '
                     f'y2="{y(10 ** decade):.1f}" stroke="#eee"/>')
    for phi in range(0, 9, 2):
        parts.append(f'<text x="{x(phi):.1f}" y="{height - bottom + 13}" text-anchor="middle">{phi}</text>')
    parts.append(f'<text x="{(left + width - right) / 2}" y="{height - 4}" text-anchor="middle">'
                 'φ (compound coefficient)</text>')
    # issue 19: the curve had no y label
    parts.append(f'<text x="12" y="{(top + height - bottom) / 2}" text-anchor="middle" '
                 f'transform="rotate(-90 12 {(top + height - bottom) / 2})">'
                 'multiply-accumulates (log scale)</text>')
    predicted = " ".join(f"{x(p):.1f},{y(m):.1f}" for p, m, _ in state.curve)
    parts.append(f'<polyline points="{predicted}" fill="none" stroke="#1f77b4" stroke-dasharray="4 3"/>')
    measured = " ".join(f"{x(p):.1f},{y(a):.1f}" for p, _, a in state.curve if a)
    if measured:
        parts.append(f'<polyline points="{measured}" fill="none" stroke="#d62728"/>')
    for name, macs, phi in state.variants:
        if phi is not None and 0 <= phi <= CURVE_PHIS[-1]:
            parts.append(f'<circle cx="{x(phi):.1f}" cy="{y(macs):.1f}" r="3" fill="#2ca02c"/>'
                         f'<text x="{x(phi) + 4:.1f}" y="{y(macs) - 4:.1f}" fill="#2ca02c">{name}</text>')
    if state.macs:
        parts.append(f'<circle cx="{x(state.phi):.1f}" cy="{y(state.macs):.1f}" r="5" fill="none" '
                     'stroke="black" stroke-width="2"/>')
    parts.append(f'<text x="{left + 6}" y="{top + 12}" fill="#1f77b4">- - predicted B0·(αβ²γ²)^φ</text>'
                 f'<text x="{left + 6}" y="{top + 24}" fill="#d62728">— rounded network (plan)</text>'
                 f'<text x="{left + 6}" y="{top + 36}" fill="#2ca02c">● B0–B7 at their MACs</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_compound(alpha: float, beta: float, gamma: float, phi: float) -> str:
    """The explorer's HTML for one slider position: a table of the numbers and the SVG curve."""
    state = compound_state(alpha, beta, gamma, phi)
    off = abs(state.constraint - 2) / 2
    rows = [
        ("α·β²·γ² (want ≈ 2)",
         f"{state.constraint:.3f}" + (" ✓" if off <= 0.05 else f" ({off:.0%} from 2)")),
        ("depth d = α^φ", f"{state.depth_mult:.3f}"),
        ("width w = β^φ", f"{state.width_mult:.3f}"),
        ("resolution 224·γ^φ", f"{state.resolution} px"),
        ("predicted MACs", f"{state.predicted_macs / 1e6:,.0f} M"),
        ("actual MACs (rounded plan)", "outside the plan's range (width, depth ≤ 8)" if state.macs is None
         else f"{state.macs / 1e6:,.0f} M ({state.macs / state.predicted_macs:.2f}× predicted)"),
        ("parameters", "—" if state.params is None else f"{state.params / 1e6:.2f} M"),
    ]
    table = "".join(f"<tr><td>{html.escape(k)}</td><td><b>{html.escape(v)}</b></td></tr>" for k, v in rows)
    return (f'<div style="display:flex;gap:16px;align-items:flex-start"><table>{table}</table>'
            f"{_svg_curve(state)}</div>")


def compound_widget(alpha: float = 1.2, beta: float = 1.1, gamma: float = 1.15, phi: float = 1.0):
    """Four sliders (α, β, γ, φ) and an HTML view that :func:`render_compound` refills on every move."""
    import ipywidgets as widgets

    values = {"alpha": alpha, "beta": beta, "gamma": gamma, "phi": phi}
    labels = {"alpha": "α (depth)", "beta": "β (width)", "gamma": "γ (resolution)", "phi": "φ"}
    sliders = {
        name: widgets.FloatSlider(value=values[name], min=low, max=high, step=step, description=labels[name],
                                  continuous_update=True, readout_format=".2f" if name != "phi" else ".1f",
                                  style={"description_width": "110px"}, layout={"width": "420px"})
        for name, (low, high, step, _) in COMPOUND_SLIDERS.items()
    }
    view = widgets.HTML(value=render_compound(**values))
    _wire(list(sliders.values()), [view], lambda *moved: (render_compound(*moved),))
    return widgets.VBox([*sliders.values(), view])
