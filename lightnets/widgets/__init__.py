"""Interactive explorers for the notebooks: sliders wired to pure functions, nothing more. This
file is only their face; each lesson's widget has its module.

Each widget is split in two: ``render_*`` functions that take the slider values and return what
the widget shows (HTML text, PNG bytes drawn by :mod:`lightnets.plots`), which the tests call
directly; and a thin ``*_widget`` builder that wires sliders to them (:func:`~._wire.wire`). What
the views show is computed by pure functions beside the science (:mod:`lightnets.scaling`,
:mod:`lightnets.cost`). The notebooks' stored outputs stay stable because nothing is printed from
a callback.

- :mod:`~.widgets.multipliers`: lesson 01, MobileNetV1's width α and resolution ρ;
- :mod:`~.widgets.bottlenecks`: lesson 02, MobileNetV2 Fig. 1 (a spiral through ReLU);
- :mod:`~.widgets.scaling`: lesson 04, compound scaling's α, β, γ and φ;
- :mod:`~.widgets.densenet`: lesson 07, DenseNet-BC's growth rate k and depth L;
- :mod:`~.widgets._wire`: the wiring they share, and PNG helpers.
"""
from lightnets.widgets._wire import figure_png, png_size
from lightnets.widgets.bottlenecks import render_spiral, spiral_widget
from lightnets.widgets.densenet import (growth_depth_widget, render_growth_depth,
                                       render_growth_depth_plot)
from lightnets.widgets.multipliers import (render_width_resolution, render_width_resolution_plot,
                                           width_resolution_widget)
from lightnets.widgets.scaling import compound_widget, render_compound, render_compound_plot

__all__ = ["figure_png", "png_size",
           "render_width_resolution", "render_width_resolution_plot", "width_resolution_widget",
           "render_spiral", "spiral_widget",
           "render_compound", "render_compound_plot", "compound_widget",
           "render_growth_depth", "render_growth_depth_plot", "growth_depth_widget"]
