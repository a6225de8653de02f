"""How every widget here is wired: sliders observed, a pure ``render`` function refilling the
outputs, images shown at the size they were drawn."""
from __future__ import annotations

import io

import matplotlib.pyplot as plt

__all__ = ["WIDGET_DPI", "figure_png", "png_size", "wire"]

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


def wire(sliders: list, outputs: list, update) -> None:
    """Refill ``outputs`` with ``update(*slider values)`` now and whenever a slider moves: the
    one place a widget's callback lives, and it prints nothing."""

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
