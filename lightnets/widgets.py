"""ipywidgets explorers. The update logic of each is a pure function of the slider values that
returns what the widgets show (an HTML string, PNG bytes), so tests call it directly and strict
nbval never depends on a live kernel; the notebook wires it to the sliders with ``observe``."""
from __future__ import annotations

import functools
import html
import math
from typing import NamedTuple

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
    left, right, top, bottom = 52, 12, 12, 34
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

    def update(_change=None) -> None:
        view.value = render_compound(**{name: slider.value for name, slider in sliders.items()})

    for slider in sliders.values():
        slider.observe(update, names="value")
    return widgets.VBox([*sliders.values(), view])
