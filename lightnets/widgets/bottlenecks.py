"""Lesson 02's explorer: MobileNetV2 Fig. 1, a spiral through ReLU in n dimensions and back."""
from __future__ import annotations

from lightnets import manifold
from lightnets.plots.bottlenecks import spiral_roundtrip_panels
from lightnets.widgets._wire import figure_png, wire

__all__ = ["render_spiral", "spiral_widget"]


def render_spiral(n: int, seed: int) -> tuple:
    """(PNG of the input spiral beside T⁺ ReLU(T x) for this n and seed, HTML with both
    measures)."""
    fig, data = spiral_roundtrip_panels(dims=(n,), seed=seed, figsize=(5, 2.6))
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
    wire([n_slider, seed_slider], [image, text], render_spiral)
    return w.VBox([w.HBox([n_slider, seed_slider]), text, image])
