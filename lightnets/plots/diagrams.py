"""Block diagrams drawn by code (lessons 02–05): MobileNetV2 Figs. 3–4, MobileNetV3 Figs. 4–5,
EfficientNet Fig. 2 and the CAM schematic of Zhou et al. Fig. 2.
Each returns ``(figure, data)`` like every :mod:`lightnets.plots` builder; ``data`` holds the
boxes drawn, so a test can check what the figure says."""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle
from torch import nn

__all__ = ["se_block_diagram", "last_stage_diagram", "scaling_diagram", "block_layers",
           "residual_diagram", "cam_diagram"]

_KIND_COLOURS = {"conv": "#cfe2f3", "dw": "#d9ead3", "se": "#fce5cd", "pool": "#eeeeee",
                 "linear": "#ead1dc", "tensor": "#ffffff"}


def _blank(ax) -> None:
    # No ticks and no frame: a diagram, not a chart (tick labels hidden by axis("off") would
    # still be laid out).
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _box(ax, x: float, y: float, text: str, kind: str, width: float = 2.6, height: float = 0.62,
         fontsize: float = 8):
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.02", facecolor=_KIND_COLOURS[kind],
                                edgecolor="black", lw=0.8))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, start, end, style="-|>", **kwargs):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=9, lw=0.8,
                                 shrinkA=0, shrinkB=0, **kwargs))


def se_block_diagram(in_channels: int = 40, expanded: int = 120, squeeze: int = 32,
                     out_channels: int = 40, kernel_size: int = 5, nonlinearity: str = "ReLU",
                     residual: bool = True):
    """MobileNetV3 Fig. 4: MobileNetV2's inverted residual with squeeze-and-excite placed after
    the depthwise filter, on the widest (expanded) tensor, gated by a hard sigmoid (§5.3).
    Defaults: Table 1's 28²×40 block (5×5, exp size 120, SE, RE). ``data["main"]`` lists the
    main path's boxes top to bottom, ``data["se"]`` the SE branch's."""
    main = [(f"input  {in_channels} ch", "tensor"),
            (f"1×1 conv → {expanded}, BN, {nonlinearity}", "conv"),
            (f"{kernel_size}×{kernel_size} depthwise, BN, {nonlinearity}", "dw"),
            ("× (scale each channel)", "se"),
            (f"1×1 conv → {out_channels}, BN (linear)", "conv"),
            (f"output  {out_channels} ch" + ("  (+ input)" if residual else ""), "tensor")]
    se = [("global average pool", "pool"), (f"1×1 → {squeeze}, ReLU", "se"),
          (f"1×1 → {expanded}, hard sigmoid", "se")]
    fig, ax = plt.subplots(figsize=(7.2, 4.6))
    ys = [5.5 - 1.0 * i for i in range(len(main))]
    for (text, kind), y in zip(main, ys):
        _box(ax, 2.0, y, text, kind, width=3.2)
    for y0, y1 in zip(ys, ys[1:]):
        _arrow(ax, (2.0, y0 - 0.31), (2.0, y1 + 0.31))
    se_ys = [ys[2], ys[2] - 0.75, ys[2] - 1.5]
    for (text, kind), y in zip(se, se_ys):
        _box(ax, 6.0, y, text, kind, width=2.8, height=0.5, fontsize=7.5)
    _arrow(ax, (3.6, ys[2]), (4.6, se_ys[0]))
    for y0, y1 in zip(se_ys, se_ys[1:]):
        _arrow(ax, (6.0, y0 - 0.25), (6.0, y1 + 0.25))
    _arrow(ax, (4.6, se_ys[-1]), (3.6, ys[3]))
    ax.text(6.0, se_ys[0] + 0.45, f"squeeze-and-excite: {squeeze} = {expanded} / 4, to 8",
            ha="center", fontsize=7.5)
    if residual:
        ax.plot([0.4, 0.05, 0.05], [ys[0], ys[0], ys[-1]], color="black", lw=0.8)
        _arrow(ax, (0.05, ys[-1]), (0.4, ys[-1]))
        ax.text(-0.12, (ys[0] + ys[-1]) / 2, "residual", rotation=90, ha="center", va="center",
                fontsize=7.5)
    ax.set_xlim(-0.4, 7.8)
    ax.set_ylim(ys[-1] - 0.6, ys[0] + 0.6)
    _blank(ax)
    ax.set_title("MobileNetV3 Fig. 4: squeeze-and-excite inside the inverted residual", fontsize=10)
    fig.tight_layout()
    return fig, {"main": [text for text, _ in main], "se": [text for text, _ in se]}


def last_stage_diagram(endings: Mapping[str, Sequence[tuple]]):
    """MobileNetV3 Fig. 5: the original and the efficient last stage side by side. ``endings``
    maps a name to its layers top to bottom as ``(label, kind, MACs)`` (kind: "conv", "dw",
    "pool" or "linear"; MACs from :func:`lightnets.profile`). ``data`` holds each ending's total
    MACs."""
    fig, ax = plt.subplots(figsize=(8.4, 4.4))
    data = {}
    depth = max(len(layers) for layers in endings.values())
    for column, (name, layers) in enumerate(endings.items()):
        x = 2.2 + 4.6 * column
        ys = [depth - 0.9 * i for i in range(len(layers))]
        for (label, kind, macs), y in zip(layers, ys):
            _box(ax, x, y, label, kind, width=2.9, height=0.55, fontsize=7.5)
            if macs:
                ax.text(x + 1.55, y, f"{macs / 1e6:.1f} M", ha="left", va="center", fontsize=7)
        for y0, y1 in zip(ys, ys[1:]):
            _arrow(ax, (x, y0 - 0.275), (x, y1 + 0.275))
        total = sum(macs for _, _, macs in layers)
        data[name] = total
        ax.text(x, ys[0] + 0.6, f"{name}: {total / 1e6:.1f} M MACs", ha="center", fontsize=8.5,
                fontweight="bold")
    ax.set_xlim(0.3, 9.6)
    ax.set_ylim(depth - 0.9 * (depth - 1) - 0.5, depth + 1.0)
    _blank(ax)
    ax.set_title("MobileNetV3 Fig. 5: pooling before the widest 1×1 layers", fontsize=10)
    fig.tight_layout()
    return fig, data


def scaling_diagram(layers: int = 3, panels: Optional[Mapping[str, tuple]] = None):
    """EfficientNet Fig. 2: a baseline ConvNet of ``layers`` layers, and the same network made
    wider, deeper, fed a higher resolution, or all three. ``panels`` maps a title to the
    multipliers (d, w, r) (default: baseline, w = 2, d = 2, r = 2 and Table 3's compound
    d = 1.4, w = 1.2, r = 1.3). A layer is drawn as a bar as wide as its channels; the input
    square's side is the resolution. ``data`` holds each panel's (layers drawn, width, side)."""
    if panels is None:
        panels = {"(a) baseline": (1, 1, 1), "(b) width scaling": (1, 2, 1),
                  "(c) depth scaling": (2, 1, 1), "(d) resolution scaling": (1, 1, 2),
                  "(e) compound scaling": (1.4, 1.2, 1.3)}
    fig, axes = plt.subplots(1, len(panels), figsize=(10.5, 3.6), sharey=True)
    data = {}
    for ax, (title, (d, w, r)) in zip(axes, panels.items()):
        count = max(1, round(layers * d))
        width, side = 1.0 * w, 0.9 * r
        ax.add_patch(Rectangle((-side / 2, 0), side, side, facecolor="#f4cccc", edgecolor="black",
                               lw=0.8))
        for i in range(count):
            y = side + 0.35 + 0.45 * i
            ax.add_patch(Rectangle((-width / 2, y), width, 0.3, facecolor="#cfe2f3",
                                   edgecolor="black", lw=0.8))
        ax.text(0, -0.35, f"d×{d:g}  w×{w:g}  r×{r:g}", ha="center", va="top", fontsize=7.5)
        ax.set_title(title, fontsize=8.5)
        ax.set_xlim(-1.3, 1.3)
        ax.set_ylim(-0.8, 5.4)
        _blank(ax)
        data[title] = (count, width, side)
    axes[0].text(-1.25, 0.45, "input", rotation=90, va="center", fontsize=7)
    fig.suptitle("EfficientNet Fig. 2: bars are layers (bar width = channels), the square is the "
                 "input resolution", fontsize=9.5)
    fig.tight_layout()
    return fig, data


def block_layers(block: nn.Module) -> dict:
    """Read a residual block's main path from the module itself: each convolution's label, input
    and output channels and activation (None: no non-linearity), and whether a shortcut is added.
    Works for :class:`lightnets.layers.InvertedResidual` and ResNet's ``Bottleneck``/
    ``BasicBlock`` (the shortcut's projection, ``downsample``, is not the main path)."""
    if not isinstance(block, nn.Module):
        raise TypeError(f"block must be a torch.nn.Module, got {type(block).__name__}")
    layers = []
    for name, conv in block.named_modules():
        if not isinstance(conv, nn.Conv2d) or name.startswith("downsample"):
            continue
        parent = block.get_submodule(name.rpartition(".")[0])
        if not isinstance(parent, nn.Sequential):
            continue  # a squeeze-and-excite's 1×1 layers gate the path; they are not on it
        after = [m for m in parent.children() if not isinstance(m, (nn.Conv2d, nn.BatchNorm2d))]
        k, s = conv.kernel_size[0], conv.stride[0]
        kind = "depthwise" if conv.groups == conv.in_channels > 1 else "conv"
        label = f"{k}×{k} {kind}" + (f", stride {s}" if s > 1 else "")
        layers.append({"label": label, "in": conv.in_channels, "out": conv.out_channels,
                       "activation": type(after[0]).__name__ if after else None})
    if not layers:
        raise ValueError(f"block has no convolution on its main path: {type(block).__name__}")
    shortcut = bool(getattr(block, "use_shortcut", hasattr(block, "downsample")))
    # ResNet applies its last ReLU after the addition: the path is not linear there.
    final = getattr(block, "relu", None)
    if layers[-1]["activation"] is None and isinstance(final, nn.ReLU):
        layers[-1]["activation"] = "ReLU after the add"
    return {"layers": layers, "shortcut": shortcut,
            "channels": [layers[0]["in"]] + [layer["out"] for layer in layers]}


def residual_diagram(blocks: Mapping[str, nn.Module]):
    """MobileNetV2 Figs. 3–4 from real blocks: each tensor a bar as wide as its channels (scaled to
    the widest bar of its panel), the operation and its non-linearity between bars, and the
    shortcut drawn where it joins. Hatched bars come out of a layer with no non-linearity, as in
    the paper's Fig. 3. A classic residual (ResNet) runs wide → narrow → wide and joins the wide
    tensors; the inverted residual runs narrow → wide → narrow, joins the bottlenecks and keeps
    them linear. ``data`` maps each title to :func:`block_layers` of its block."""
    if not blocks:
        raise ValueError("blocks must map at least one title to a block")
    data = {title: block_layers(block) for title, block in blocks.items()}
    fig, axes = plt.subplots(1, len(data), figsize=(3.6 * len(data), 4.6), squeeze=False)
    for ax, (title, info) in zip(axes[0], data.items()):
        widest = max(info["channels"])

        def bar_width(channels: int) -> float:
            return 0.4 + 2.6 * channels / widest

        ys = [3.0 * len(info["layers"]) - 3.0 * i for i in range(len(info["channels"]))]
        for i, (channels, y) in enumerate(zip(info["channels"], ys)):
            linear = i > 0 and info["layers"][i - 1]["activation"] is None
            width = bar_width(channels)
            ax.add_patch(Rectangle((-width / 2, y - 0.35), width, 0.7, lw=0.8, edgecolor="black",
                                   facecolor="#ffffff" if linear else "#cfe2f3",
                                   hatch="////" if linear else None))
            ax.text(width / 2 + 0.1, y, f"{channels}", va="center", fontsize=8)
        for layer, y0, y1 in zip(info["layers"], ys, ys[1:]):
            _arrow(ax, (0, y0 - 0.35), (0, y1 + 0.35))
            ax.text(0.12, (y0 + y1) / 2, f"{layer['label']}\n{layer['activation'] or 'linear'}",
                    va="center", fontsize=7.5)
        if info["shortcut"]:
            # From the input bar's left edge to the output bar's.
            source, target = (bar_width(info["channels"][i]) / 2 for i in (0, -1))
            left = -1.8
            ax.plot([-source, left, left], [ys[0], ys[0], ys[-1]], color="#cc0000", lw=1.0)
            _arrow(ax, (left, ys[-1]), (-target, ys[-1]), color="#cc0000")
            ax.text(left - 0.12, (ys[0] + ys[-1]) / 2, "shortcut (+)", rotation=90,
                    ha="right", va="center", fontsize=7.5, color="#cc0000")
        ax.set_xlim(-2.4, 2.6)
        ax.set_ylim(ys[-1] - 0.8, ys[0] + 0.8)
        _blank(ax)
        ax.set_title(title, fontsize=8.5)
    fig.suptitle("MobileNetV2 Figs. 3–4: bar width = channels; hatched = no non-linearity",
                 fontsize=9.5)
    fig.tight_layout()
    return fig, data


def cam_diagram(image, features, weights, bias: float = 0.0, class_name: str = "class c",
                top: int = 3):
    """Zhou et al. (2016) Fig. 2 with real numbers: the last feature maps f_k, their global
    averages F_k, the class's weights w_k and score Σ_k w_k F_k + b above; below, the same
    weights applied to the maps, summed over *all* K channels into the class activation map
    M_c = Σ_k w_k f_k. The ``top`` channels with the largest contribution w_k F_k are drawn.
    ``image`` is (3, H, W) in [0, 1], ``features`` (K, h, w), ``weights`` (K,). ``data`` holds
    the channels drawn, their F_k and w_k, the score and the map M_c (h, w)."""
    import numpy as np
    import torch

    feats = torch.as_tensor(features).detach().double().cpu()
    w = torch.as_tensor(weights).detach().double().cpu()
    if feats.dim() != 3 or w.shape != (feats.shape[0],):
        raise ValueError(f"features must be (K, h, w) and weights (K,), got "
                         f"{tuple(feats.shape)} and {tuple(w.shape)}")
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= min(6, len(w)):
        raise ValueError(f"top must be an int in [1, {min(6, len(w))}], got {top!r}")
    if not (torch.isfinite(feats).all() and torch.isfinite(w).all() and np.isfinite(bias)):
        raise ValueError("features, weights and bias must be finite")
    pooled = feats.mean((1, 2))                       # F_k
    contribution = w * pooled
    shown = torch.argsort(contribution, descending=True)[:top].tolist()
    cam_map = torch.einsum("k,khw->hw", w, feats)     # M_c, over all K channels
    score = float(contribution.sum()) + float(bias)
    picture = torch.as_tensor(image).detach().float().cpu()
    if picture.dim() == 3 and picture.shape[0] == 3:
        picture = picture.permute(1, 2, 0)  # (3, H, W) → (H, W, 3), as imshow wants
    picture = picture.numpy()
    fig, axes = plt.subplots(2, top + 2, figsize=(1.9 * (top + 2), 4.3))
    axes[0, 0].imshow(np.clip(picture, 0, 1))
    axes[0, 0].set_title("input", fontsize=8)
    for column, k in enumerate(shown, start=1):
        axes[0, column].imshow(feats[k].numpy(), cmap="viridis")
        axes[0, column].set_title(f"f_{k}: F = {pooled[k]:.2f}", fontsize=7.5)
        weighted = (w[k] * feats[k]).numpy()
        limit = float(np.abs(weighted).max()) or 1.0
        axes[1, column].imshow(weighted, cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes[1, column].set_title(f"w = {w[k]:+.3f}  ×  f_{k}", fontsize=7.5)
    axes[0, -1].text(0.02, 0.5, f"GAP, then\nΣ_k w_k F_k + b\n= {score:.2f}\n'{class_name}'\n"
                     f"(all {len(w)} channels)", va="center", fontsize=8)
    axes[1, 0].text(0.5, 0.5, "same w_k\non the maps", ha="center", va="center", fontsize=8)
    axes[1, -1].imshow(cam_map.numpy(), cmap="jet")
    axes[1, -1].set_title(f"M_c = Σ_k w_k f_k\n(all {len(w)})", fontsize=7.5)
    for ax in axes.flat:
        _blank(ax)
    fig.suptitle("Zhou et al. Fig. 2: the weights that score the pooled features also weight "
                 "the maps", fontsize=9.5)
    fig.tight_layout()
    return fig, {"channels": shown, "pooled": pooled[shown].tolist(),
                 "weights": w[shown].tolist(), "score": score, "cam": cam_map}
