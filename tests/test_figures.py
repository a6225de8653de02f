"""Every figure builder in lightnets.plots, drawn as a notebook draws it: it has a sensible size
and no two pieces of text overlap (titles, axis labels, tick labels, annotations, legend texts).
"""
import json
from itertools import combinations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from lightnets import plots  # noqa: E402


def _drawn_tick_labels(ax) -> list:
    """The tick labels matplotlib actually draws: visible ones whose tick lies inside the view
    (an axis keeps Text objects for ticks beyond its limits but does not draw them)."""
    found = []
    for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
        low, high = sorted(axis.get_view_interval())
        for tick in axis.get_major_ticks() + axis.get_minor_ticks():
            inside = low - 1e-9 * abs(high - low) <= tick.get_loc() <= high + 1e-9 * abs(high - low)
            for label in (tick.label1, tick.label2):
                if inside and label.get_visible() and label.get_text().strip():
                    found.append((label, (id(ax), name)))
    return found


def _texts(fig) -> list:
    """(text, tick axis or None, window extent) of every drawn, non-empty text in the figure."""
    renderer = fig.canvas.get_renderer()
    ticks = [t for ax in fig.axes for t in _drawn_tick_labels(ax)]
    all_tick_labels = {id(label) for ax in fig.axes
                       for label in ax.xaxis.get_ticklabels(which="both") + ax.yaxis.get_ticklabels(which="both")}
    all_tick_labels |= {id(t.label2) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)
                        for t in axis.get_major_ticks() + axis.get_minor_ticks()}
    others = [(text, None) for text in fig.findobj(matplotlib.text.Text)
              if id(text) not in all_tick_labels and text.get_visible() and text.get_text().strip()]
    return [(text.get_text(), axis, text.get_window_extent(renderer)) for text, axis in ticks + others]


def overlaps(fig) -> list:
    fig.canvas.draw()
    clashes = []
    for (a, axis_a, box_a), (b, axis_b, box_b) in combinations(_texts(fig), 2):
        if axis_a is not None and axis_a == axis_b and (box_a.x0, box_a.y0) == (box_b.x0, box_b.y0):
            continue  # one tick label drawn twice (shared axes) at the same place
        if box_a.overlaps(box_b) and box_a.width > 0 and box_b.width > 0:
            clashes.append((a, b))
    return clashes


def _zoo():
    from lightnets.zoo import zoo_rows

    # issue 19: a CIFAR model's 32-px cost is not drawn among ImageNet models'
    return plots.params_vs_macs([r for r in zoo_rows() if r.dataset == "ImageNet"])


def _alpha_ladder():
    import lightnets
    from lightnets.models.mobilenet_v1 import TABLE_6
    from lightnets.zoo import ZooRow

    ladder = []
    for alpha, paper in TABLE_6.items():  # as notebook 00 draws it
        cost = lightnets.profile(lightnets.create_model("mobilenet_v1", width_mult=alpha))
        ladder.append(ZooRow(f"α = {alpha:g}", "mobilenet_v1", 224, cost.params, cost.macs,
                             paper.params_millions, paper.mult_adds_millions, "Table 6"))
    return plots.params_vs_macs(ladder, title="MobileNetV1's width multiplier α (Table 6)",
                                figsize=(7.5, 4.5))


def _collapse():
    from lightnets import manifold

    return plots.collapse_vs_dimension(manifold.collapse_curve([2, 3, 5, 8, 15, 30], seeds=range(3)))


def _ablation():
    from lightnets.experiments import bottleneck_ablation

    with open(bottleneck_ablation.DEFAULT_PATH) as f:
        return plots.accuracy_curves(json.load(f))


def _activations():
    import torch
    import torch.nn.functional as F

    return plots.activation_curves({"swish": F.silu, "h-swish": F.hardswish, "sigmoid": torch.sigmoid,
                                    "h-sigmoid": F.hardsigmoid})


def _cost_shares():
    import lightnets

    from lightnets.models.mobilenet_v1 import TABLE_2

    costs = {name: lightnets.profile(lightnets.create_model(name))
             for name in ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large")}
    paper = {kind: share.mult_adds_percent for kind, share in TABLE_2.items()}
    return plots.cost_shares(costs, paper, "Where the Mult-Adds go (224 px)",
                             paper_label="V1, Table 2")


def _tool_counts():
    import lightnets
    from lightnets import cost

    counts = cost.tool_counts(lightnets.create_model("mobilenet_v2"), (1, 3, 224, 224),
                              tools=(*cost.TOOLS, "ptflops_aten"))  # as notebook 06 draws it
    return plots.tool_counts_chart(counts, "MobileNetV2 224: one network, eight numbers")


def _macs_vs_time():
    return plots.macs_vs_time(["depthwise", "pointwise"], [903_168, 51_380_224], [0.4, 1.1],
                              "one depthwise separable layer, 14×14×512")


def _cam_grid():
    from lightnets.data import Shapes

    shapes = Shapes(2, 128, seed=2)
    images, labels, masks = shapes.batch(range(2))
    return plots.cam_grid(images, {"object mask": masks.float(), "again": masks.float()},
                          row_titles=[shapes.class_names[i] for i in labels])


def _pointing():
    return plots.pointing_game_bars({"CAM 4×4": 0.6, "Grad-CAM 4×4": 0.62, "Grad-CAM 8×8": 0.7,
                                     "random": 0.2}, chance=0.18)


def _compound():
    from lightnets import scaling

    return plots.compound_curve(scaling.compound_state(1.2, 1.1, 1.15, 1.0))


def _by_kind():
    from lightnets import scaling

    return plots.macs_by_scaling_kind(scaling.kind_costs([p / 2 for p in range(13)]))


def _accuracy_vs_macs():
    from lightnets.experiments import scaling as experiment

    results = experiment.load_results()
    grid = [row for row in results["runs"] if row["kind"] == "grid"]
    return plots.accuracy_vs_macs(experiment.curves(results), grid)


def _resolutions():
    from lightnets.data import Stripes

    return plots.images_by_resolution(Stripes(6, 64, seed=1, clutter=0.5, period=(0.05, 0.1)),
                                      (32, 45, 64), count=6)


def _se_block():
    return plots.se_block_diagram()


def _last_stage():
    endings = {"original": [("1×1 conv → 960", "conv", 7.5e6), ("3×3 depthwise", "dw", 0.4e6),
                            ("1×1 conv → 320", "conv", 15e6), ("1×1 conv → 1280", "conv", 20e6),
                            ("average pool", "pool", 0), ("1×1 → 1000", "linear", 1.3e6)],
               "efficient": [("1×1 conv → 960", "conv", 7.5e6), ("average pool", "pool", 0),
                             ("1×1 → 1280", "linear", 1.2e6), ("1×1 → 1000", "linear", 1.3e6)]}
    return plots.last_stage_diagram(endings)


def _scaling_diagram():
    return plots.scaling_diagram()


def _residual_blocks():
    import lightnets

    v2, resnet = lightnets.create_model("mobilenet_v2"), lightnets.create_model("resnet50")
    return {"(a) ResNet-50 bottleneck": resnet.features.conv2_x[1],
            "(b) inverted residual": v2.features[3], "(c) stride 2": v2.features[4]}


def _residual_diagram():
    return plots.residual_diagram(_residual_blocks())


def _cam_inputs(seed=0):
    import torch

    generator = torch.Generator().manual_seed(seed)
    return (torch.rand(3, 64, 64, generator=generator), torch.rand(32, 4, 4, generator=generator),
            torch.randn(32, generator=generator))


def _cam_diagram():
    image, features, weights = _cam_inputs()
    return plots.cam_diagram(image, features, weights, bias=0.5, class_name="square")


def _cost_vs_multipliers():
    from lightnets import scaling

    return plots.cost_vs_multipliers([0.25, 0.5, 0.75, 1.0], [128, 160, 192, 224], scaling.mobilenet_v1_cost,
                                     current=(0.5, 160))


def _spiral():
    return plots.spiral_roundtrip_panels(dims=(2, 3, 5, 15, 30), seed=0)


def _paper_tradeoff():
    from lightnets.models.mobilenet_v1 import TABLE_6, TABLE_7

    series = {"width α": [(f"α={a:g}", r.mult_adds_millions, r.top1_percent)
                          for a, r in TABLE_6.items()],
              "resolution ρ": [(f"{px} px", r.mult_adds_millions, r.top1_percent)
                               for px, r in TABLE_7.items()]}
    return plots.accuracy_vs_cost(series, "MobileNetV1 Tables 6 and 7", current=(300, None, "now"))


def _separable_filters():
    return plots.separable_filters()


FIGURES = [
    pytest.param(_zoo, id="00_params_vs_macs_zoo", marks=pytest.mark.slow),  # profiles the zoo
    pytest.param(_alpha_ladder, id="00_params_vs_macs_alpha_ladder"),
    pytest.param(_cost_vs_multipliers, id="01_cost_vs_multipliers"),
    pytest.param(_paper_tradeoff, id="01_accuracy_vs_cost"),
    pytest.param(_separable_filters, id="01_separable_filters"),
    pytest.param(_spiral, id="02_spiral_roundtrip_panels"),
    pytest.param(_collapse, id="02_collapse_vs_dimension"),
    pytest.param(_ablation, id="02_accuracy_curves"),
    pytest.param(_activations, id="03_activation_curves"),
    pytest.param(_compound, id="04_compound_curve"),
    pytest.param(_by_kind, id="04_macs_by_scaling_kind"),
    pytest.param(_resolutions, id="04_images_by_resolution"),
    pytest.param(_se_block, id="03_se_block_diagram"),
    pytest.param(_last_stage, id="03_last_stage_diagram"),
    pytest.param(_scaling_diagram, id="04_scaling_diagram"),
    pytest.param(_residual_diagram, id="02_residual_diagram"),
    pytest.param(_cam_diagram, id="05_cam_diagram"),
    pytest.param(_accuracy_vs_macs, id="04_accuracy_vs_macs"),
    pytest.param(_cam_grid, id="05_cam_grid"),
    pytest.param(_pointing, id="05_pointing_game_bars"),
    pytest.param(_cost_shares, id="06_cost_shares"),
    pytest.param(_tool_counts, id="06_tool_counts_chart"),
    pytest.param(_macs_vs_time, id="06_macs_vs_time"),
]


def test_every_figure_builder_is_drawn_here():
    import inspect

    # The builders of the lesson modules that once made up plots/__init__ (before it became a
    # face over one module per topic); a builder there without a figure test fails here.
    modules = {f"{plots.__name__}.{m}" for m in
               ("zoo", "multipliers", "bottlenecks", "activations", "cost", "cam")}
    builders = {name for name, f in inspect.getmembers(plots, inspect.isfunction)
                if f.__module__ in modules and not name.startswith("_")}
    assert len(builders) >= 11, sorted(builders)
    drawn = {p.values[0].__code__.co_names for p in FIGURES}
    called = {name for names in drawn for name in names}
    assert builders <= called, f"figure builders without a test: {sorted(builders - called)}"


@pytest.mark.parametrize("build", FIGURES)
def test_figure_reads_at_its_size(build):
    fig, _ = build()
    try:
        width, height = fig.get_size_inches() * fig.dpi
        assert 300 <= width <= 1200 and 150 <= height <= 1200, (width, height)
        clashes = overlaps(fig)
        assert not clashes, f"overlapping texts: {clashes}"
        clipped = [text for text, _, box in _texts(fig)
                   if box.x0 < -1 or box.y0 < -1 or box.x1 > width + 1 or box.y1 > height + 1]
        assert not clipped, f"texts cut off at the figure's edge: {clipped}"
    finally:
        plt.close(fig)


@pytest.mark.parametrize("build", FIGURES)
def test_figure_has_a_title(build):
    """issue 19: a title on every figure."""
    fig, _ = build()
    try:
        titles = [ax.get_title(loc) for ax in fig.axes for loc in ("left", "center", "right")]
        suptitle = fig._suptitle.get_text() if fig._suptitle is not None else ""
        assert suptitle.strip() or any(t.strip() for t in titles), "figure without a title"
    finally:
        plt.close(fig)


@pytest.mark.parametrize("make", ["width_resolution_widget", "spiral_widget"])
def test_widget_images_are_shown_at_their_pixel_size(make):
    """issue 19: an Image without a size was stretched (01: 700×320 drawn at 700×662) or upscaled
    (02: ×1.9); the widget pins the layout to the PNG's own pixels, and keeps it on every move."""
    import ipywidgets

    from lightnets import widgets

    box = getattr(widgets, make)()
    images = [w for w in _descendants(box) if isinstance(w, ipywidgets.Image)]
    sliders = [w for w in _descendants(box) if isinstance(w, ipywidgets.widgets.widget_int._Int)
               or isinstance(w, ipywidgets.FloatSlider)]
    assert images and sliders
    for move in (None, sliders[0].max):
        if move is not None:
            sliders[0].value = move
        for image in images:
            width, height = widgets.png_size(image.value)
            assert (image.layout.width, image.layout.height) == (f"{width}px", f"{height}px")
            assert 300 <= width <= 1000 and 150 <= height <= 700


def _descendants(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _descendants(child)


def test_images_by_resolution_shows_the_same_scene_in_every_row():
    """issue 19: each row once drew its own random scenes; now each row is the same scene shrunk."""
    import torch

    fig, data = _resolutions()
    plt.close(fig)
    small = torch.nn.functional.interpolate(data["images"][64], size=(32, 32), mode="area")
    assert torch.allclose(small, data["images"][32])
    assert data["class_names"] == ["0°", "45°", "90°", "135°", "0°", "45°"]


def test_params_vs_macs_keeps_cifar_models_apart_and_names_equal_costs_once():
    """issue 19: a 32-px CIFAR model among ImageNet ones is refused; models of identical cost
    (efficientnet and efficientnet_b0) share one label instead of two colliding ones."""
    from lightnets.zoo import zoo_rows

    rows = zoo_rows(["densenet_bc", "efficientnet", "efficientnet_b0", "mobilenet_v1"])
    assert [r.dataset for r in rows] == ["CIFAR", "ImageNet", "ImageNet", "ImageNet"]
    with pytest.raises(ValueError, match="one dataset"):
        plots.params_vs_macs(rows)
    fig, _ = plots.params_vs_macs(rows[1:])
    try:
        labels = [t.get_text() for t in fig.axes[0].texts if t.get_text()]
        assert sorted(labels) == ["efficientnet = efficientnet_b0", "mobilenet_v1"]
    finally:
        plt.close(fig)


def test_place_labels_refuses_when_there_is_no_room():
    from lightnets.plots._labels import place_labels

    fig, ax = plt.subplots(figsize=(1, 1))
    try:
        with pytest.raises(ValueError, match="no free place"):
            place_labels(ax, [0.5], [0.5], ["a label far wider than the axes"])
    finally:
        plt.close(fig)


@pytest.mark.parametrize("build", [pytest.param(_zoo, id="zoo", marks=pytest.mark.slow),
                                   pytest.param(_alpha_ladder, id="alpha_ladder")])
def test_notebook00_log_axes_are_ticked_in_plain_numbers(build):
    """issue 19: log axes once ticked notebook 00 as "6×10⁻¹"; now in plain numbers (0.5, 1, 2)."""
    fig, _ = build()
    try:
        fig.canvas.draw()
        ticks = [label.get_text() for label, _ in _drawn_tick_labels(fig.axes[0])]
        assert ticks and not [t for t in ticks if "times" in t or "^" in t], ticks
        assert all(float(t) > 0 for t in ticks)
    finally:
        plt.close(fig)


def test_residual_diagram_reads_the_blocks_it_draws():
    """MobileNetV2 Fig. 3: ResNet's bottleneck is wide-narrow-wide with a ReLU after every layer
    (the last after the add); the inverted residual is narrow-wide-narrow and ends linear; the
    stride-2 block has no shortcut (Fig. 4e)."""
    fig, data = _residual_diagram()
    plt.close(fig)
    resnet, inverted, strided = data.values()
    assert resnet["channels"] == [256, 64, 64, 256] and resnet["shortcut"]
    assert [layer["activation"] for layer in resnet["layers"]] == ["ReLU", "ReLU",
                                                                   "ReLU after the add"]
    assert inverted["channels"] == [24, 144, 144, 24] and inverted["shortcut"]
    assert [layer["activation"] for layer in inverted["layers"]] == ["ReLU6", "ReLU6", None]
    assert inverted["layers"][1]["label"] == "3×3 depthwise"
    assert strided["channels"] == [24, 144, 144, 32] and not strided["shortcut"]
    assert strided["layers"][1]["label"] == "3×3 depthwise, stride 2"
    import lightnets

    se_block = plots.block_layers(lightnets.create_model("mobilenet_v3_large").features[4])
    assert se_block["channels"] == [24, 72, 72, 40]  # Table 1's 5×5 SE row; SE is off the path
    assert [layer["activation"] for layer in se_block["layers"]] == ["ReLU", "ReLU", None]
    with pytest.raises(TypeError, match="block must be a torch.nn.Module"):
        plots.block_layers("block")
    with pytest.raises(ValueError, match="blocks must map"):
        plots.residual_diagram({})


def test_cam_diagram_weights_the_maps_with_the_scores_weights():
    """Zhou et al. Fig. 2: M_c = Σ_k w_k f_k over all channels, and its mean plus the bias is the
    class score Σ_k w_k F_k + b; the channels drawn are the largest contributions w_k F_k."""
    import torch

    image, features, weights = _cam_inputs()
    fig, data = plots.cam_diagram(image, features, weights, bias=0.5, top=3)
    plt.close(fig)
    expected = (weights.double()[:, None, None] * features.double()).sum(0)
    assert torch.allclose(data["cam"], expected)
    assert abs(data["cam"].mean().item() + 0.5 - data["score"]) < 1e-12
    contributions = weights.double() * features.double().mean((1, 2))
    assert data["channels"] == contributions.topk(3).indices.tolist()
    with pytest.raises(ValueError, match="top must be an int in"):
        plots.cam_diagram(image, features, weights, top=0)
    with pytest.raises(ValueError, match="features must be"):
        plots.cam_diagram(image, features[0], weights)
    with pytest.raises(ValueError, match="finite"):
        plots.cam_diagram(image, features, weights, bias=float("inf"))
    features[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="finite"):
        plots.cam_diagram(image, features, weights)
