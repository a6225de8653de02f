"""Lesson 01's explorer: MobileNetV1's width α and resolution ρ (§3.3-3.4, eqs. 6-7; Tables 6, 7
and 9)."""
from __future__ import annotations

from lightnets.models.mobilenet_v1 import TABLE_6, TABLE_7, TABLE_9, paper_top1
from lightnets.plots.multipliers import cost_vs_multipliers
from lightnets.scaling import mobilenet_v1_cost, width_resolution_prediction
from lightnets.widgets._wire import figure_png, wire

__all__ = ["render_width_resolution", "render_width_resolution_plot", "width_resolution_widget"]


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
    fig, _ = cost_vs_multipliers([0.25, 0.5, 0.75, 1.0], [128, 160, 192, 224],
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
    wire([alpha, side], [table, image],
          lambda a, r: (render_width_resolution(a, r), render_width_resolution_plot(a, r)))
    return w.VBox(
        [w.HBox([alpha, side]), w.HBox([table, image], layout=w.Layout(flex_flow="row wrap"))]
    )
