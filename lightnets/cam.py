"""Where did the network look? Class activation maps (CAM) and Grad-CAM.

CAM (Zhou et al. 2016, "Learning Deep Features for Discriminative Localization", §2): when a
network ends in global average pooling and one linear layer, the score of class c is

    y_c = Σ_k w_k^c · (1/Z) Σ_{x,y} f_k(x, y) + b_c  =  (1/Z) Σ_{x,y} M_c(x, y) + b_c,
    M_c(x, y) = Σ_k w_k^c f_k(x, y),

so the map M_c, the classifier's weights applied at every position of the last feature maps,
says how much each place contributed to the class score.

Grad-CAM (Selvaraju et al. 2017, "Grad-CAM: Visual Explanations from Deep Networks via
Gradient-based Localization", §3, Eq. 1–2) needs no such head: it weights the feature maps
A_k of any layer by their average gradient α_k^c = (1/Z) Σ ∂y_c/∂A_k(x, y) and keeps the
positive part, ReLU(Σ_k α_k^c A_k). For a pooling + linear head α_k^c = w_k^c / Z, so Grad-CAM
is CAM up to a positive factor (§3.1), and after the shared post-processing the two are equal.

Both functions return (N, H, W) maps at the input's resolution, post-processed the same way:
ReLU, bilinear upsampling to the input size, division by each image's maximum (an all-zero map
stays zero).

What they do with input they cannot use as given: a batch in another float dtype than
the model's (float64, float16, bfloat16 for a float32 model) is cast to the model's dtype with a
UserWarning saying so; a meta tensor, or a batch on another device than the model, is refused
with a ValueError naming ``x``; and where the feature map the maps are made from is 1×1 (an input
no larger than the network's total stride, 32 px for MobileNetV1) the constant map comes back
with a UserWarning that it carries no spatial information.
"""
from __future__ import annotations

import math
import warnings
from typing import Optional, Sequence, Union

import numpy as np
import torch
from torch import nn

from lightnets._checks import check_float, check_has_values, check_int, describe
from lightnets._torch import evaluating

Target = Union[None, int, Sequence[int], torch.Tensor]
# Layers that may sit between the pooling and the linear layer without changing the CAM algebra:
# at inference dropout is the identity, and flattening only reshapes.
_HARMLESS = (nn.Dropout, nn.Identity, nn.Flatten)


def _describe(module: nn.Module) -> str:
    layers = list(module) if isinstance(module, nn.Sequential) else [module]
    return " → ".join(type(layer).__name__ for layer in layers)


def cam_linear_layer(model: nn.Module) -> nn.Linear:
    """The single linear layer whose weights make a CAM, or a ValueError saying why there is none.

    The model must show lightnets' face (``features``, ``avgpool``, ``classifier``) with a global
    pooling and a ``classifier`` that is one ``nn.Linear``, optionally with dropout around it.
    """
    for part in ("features", "avgpool", "classifier"):
        if not isinstance(getattr(model, part, None), nn.Module):
            raise ValueError(
                "CAM needs a model with `features`, `avgpool` and `classifier` modules "
                f"(lightnets' Network); {type(model).__name__} has no `{part}`. Use "
                "lightnets.cam.grad_cam(model, x, layer=...) instead."
            )
    pool = model.avgpool
    if not (isinstance(pool, nn.AdaptiveAvgPool2d) and pool.output_size in (1, (1, 1))):
        raise ValueError(
            "CAM needs global average pooling before the classifier (Zhou et al. 2016, §2); this "
            f"model's avgpool is {pool}. Use lightnets.cam.grad_cam(model, x) instead."
        )
    layers = (
        list(model.classifier)
        if isinstance(model.classifier, nn.Sequential)
        else [model.classifier]
    )
    linears = [layer for layer in layers if isinstance(layer, nn.Linear)]
    others = [layer for layer in layers if not isinstance(layer, (nn.Linear, *_HARMLESS))]
    if len(linears) != 1 or others:
        raise ValueError(
            "CAM is defined only for networks whose pooled features go through exactly one linear "
            "layer (Zhou et al. 2016, §2): then each class score is a weighted sum of the pooled "
            "feature maps and the weights say where the class is. This model's classifier is "
            f"{_describe(model.classifier)}: with a non-linearity between two linear layers (as in "
            "MobileNetV3's Linear → Hardswish → Dropout → Linear head) no per-channel class "
            "weights exist. Use lightnets.cam.grad_cam(model, x), which weights the feature maps "
            "by gradients instead (Selvaraju et al. 2017)."
        )
    return linears[0]


def _check_images(model: nn.Module, x: torch.Tensor) -> None:
    """The arguments every map starts from: a module, and a finite (N, C, H, W) float batch."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor of images, got {type(x).__name__}")
    if x.dim() != 4 or not x.is_floating_point() or x.numel() == 0:
        raise ValueError(f"x must be a non-empty (N, C, H, W) float tensor, got {x.dtype} "
                         f"of shape {tuple(x.shape)}")
    _check_devices(model, x)
    _check_finite("x", x)
    channels, smallest = getattr(model, "in_channels", None), getattr(model, "min_resolution", None)
    if isinstance(channels, int) and x.shape[1] != channels:
        raise ValueError(f"x must have {channels} channels for {type(model).__name__}, "
                         f"got shape {tuple(x.shape)}")
    if isinstance(smallest, int) and min(x.shape[2:]) < smallest:
        raise ValueError(f"x's height and width must be >= {smallest} px for "
                         f"{type(model).__name__}, got shape {tuple(x.shape)}")


def _model_tensor(model: nn.Module) -> Optional[torch.Tensor]:
    # The first floating-point parameter or buffer: where and in what dtype the model computes.
    tensors = [*model.parameters(), *model.buffers()]
    return next((t for t in tensors if t.is_floating_point()), tensors[0] if tensors else None)


def _check_devices(model: nn.Module, x: torch.Tensor) -> None:
    """A map needs real values on the model's device: a meta tensor (shapes only) has none."""
    weight = _model_tensor(model)
    if x.is_meta:
        raise ValueError("x is a meta tensor (a shape without values); a class activation map "
                         "needs real pixel values: make x on the cpu or a cuda device")
    if weight is not None and weight.is_meta:
        raise ValueError(f"model ({type(model).__name__}) has meta weights (shapes without "
                         "values), so its maps would mean nothing: build or load it on the cpu "
                         "or a cuda device")
    if weight is not None and weight.device != x.device:
        raise ValueError(f"x is on {x.device} but model's weights are on {weight.device}; "
                         f"move x there first: x.to({str(weight.device)!r})")


def _as_model_dtype(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``x`` in the model's floating-point dtype, with a warning when it had another one.

    A float64, float16 or bfloat16 batch is cast rather than refused (it is a batch of images
    either way), but the warning says so: the maps are the model's at its own precision."""
    weight = _model_tensor(model)
    if weight is None or not weight.is_floating_point() or x.dtype == weight.dtype:
        return x
    warnings.warn(f"x is {x.dtype} but model computes in {weight.dtype}: cast x to "
                  f"{weight.dtype} for the maps (x.to({weight.dtype}) beforehand silences this "
                  "warning)", UserWarning, stacklevel=3)
    return x.to(weight.dtype)


def _warn_if_not_spatial(model: nn.Module, features: torch.Tensor, x: torch.Tensor) -> None:
    """Warn when the maps are made from a 1×1 feature map: upsampled, such a map is one constant
    value, the same whatever the image shows, so it says nothing about where the network looked.

    Not an error: the constant map is what CAM's formula gives, and a caller checking shapes or
    class scores on small inputs may want it; but a learner reading a heat map must be told."""
    if features.shape[-2:] == (1, 1):
        height, width = x.shape[-2:]
        warnings.warn(
            f"x's {height}×{width} px images give {type(model).__name__} a 1×1 feature map, so "
            "the map is one constant value and carries no spatial information; use larger "
            "images (a network of total stride 32 needs more than 32 px for a 2×2 map) or "
            "grad_cam(..., layer=...) at an earlier layer with a larger map",
            UserWarning, stacklevel=3)


def _check_finite(name: str, tensor: torch.Tensor) -> None:
    # A NaN or infinity spreads through every later layer: a map made from it means nothing.
    check_has_values(name, tensor)
    if not torch.isfinite(tensor).all():
        bad = int((~torch.isfinite(tensor)).sum())
        raise ValueError(f"{name} must be finite, got {bad} NaN or infinite value(s)")


def _check_scores(model: nn.Module, logits) -> None:
    if not isinstance(logits, torch.Tensor) or logits.dim() != 2:
        raise ValueError(
            f"model must return (N, classes) scores, got {type(logits).__name__}"
            + (f" of shape {tuple(logits.shape)}" if isinstance(logits, torch.Tensor) else "")
        )
    if not torch.isfinite(logits).all():
        raise ValueError(f"model ({type(model).__name__}) gave non-finite class scores for x: its "
                         "weights or x hold NaN/inf or overflow; maps of them would mean nothing")


def _targets(target: Target, logits: torch.Tensor) -> torch.Tensor:
    count, classes = logits.shape
    if target is None:
        return logits.argmax(1)
    if isinstance(target, int) and not isinstance(target, bool):
        check_int("target", target, low=0, high=classes - 1)
        chosen = torch.full((count,), target, dtype=torch.long)
    elif isinstance(target, torch.Tensor):
        if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
            raise TypeError(f"target must hold integer class indices, got a {target.dtype} tensor")
        chosen = target.long().flatten().cpu()
    elif isinstance(target, (list, tuple, range)):
        if not all(isinstance(t, (int, np.integer)) and not isinstance(t, bool) for t in target):
            raise TypeError(f"target must be None, a class index or a list of them, got {target!r}")
        for t in target:
            check_int("target", int(t), low=0, high=classes - 1)
        chosen = torch.tensor([int(t) for t in target], dtype=torch.long)
    else:
        raise TypeError(f"target must be None, a class index or a list of them, "
                        f"got {type(target).__name__}")
    if len(chosen) != count:
        raise ValueError(f"target must give one class per image ({count}), got {len(chosen)}")
    if (chosen < 0).any() or (chosen >= classes).any():
        raise ValueError(
            f"target must be class indices in [0, {classes - 1}], got {chosen.tolist()}"
        )
    return chosen.to(logits.device)


def _check_maps(maps) -> None:
    if not isinstance(maps, torch.Tensor):
        raise TypeError(f"maps must be a torch.Tensor, got {type(maps).__name__}")
    if maps.dim() != 3 or maps.numel() == 0 or maps.is_complex() or maps.dtype == torch.bool:
        raise ValueError(f"maps must be a non-empty real (N, H, W) tensor, got {maps.dtype} "
                         f"of shape {tuple(maps.shape)}")
    _check_finite("maps", maps)


def postprocess(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """ReLU, bilinear upsampling of (N, h, w) maps to ``size``, then division by each map's maximum.

    float64 maps stay float64 (a score computed from them then does not hinge on float32's last
    bits); any other dtype becomes float32."""
    _check_maps(maps)
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        raise ValueError(f"size must be (height, width), got {describe(size)}")
    size = tuple(check_int("size", side, low=1, high=8192) for side in size)
    maps = torch.relu(maps if maps.dtype == torch.float64 else maps.float())
    maps = nn.functional.interpolate(
        maps[:, None], size=size, mode="bilinear", align_corners=False
    )[:, 0]
    peak = maps.flatten(1).amax(1).clamp_min(torch.finfo(maps.dtype).tiny)
    return maps / peak[:, None, None]


class _Capture:
    """Forward hooks that record what enters the pooling and what leaves ``layer``."""

    def __init__(self, model: nn.Module, layer: Optional[nn.Module]):
        self.pooled_input = self.layer_output = None
        self.handles = []
        if isinstance(getattr(model, "avgpool", None), nn.Module):
            self.handles.append(model.avgpool.register_forward_hook(self._pool_hook))
        if layer is not None:
            self.handles.append(layer.register_forward_hook(self._layer_hook))

    def _pool_hook(self, module, inputs, output):
        self.pooled_input = inputs[0]

    def _layer_hook(self, module, inputs, output):
        self.layer_output = output

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for handle in self.handles:
            handle.remove()


def cam(model: nn.Module, x: torch.Tensor, target: Target = None) -> torch.Tensor:
    """Class activation maps of ``target`` (a class, one per image, or None: the predicted class).

    Returns (N, H, W) maps in [0, 1] at the resolution of ``x``. Raises ValueError for a model
    whose head is not global average pooling followed by one linear layer (see
    :func:`cam_linear_layer`); :func:`grad_cam` works for those.
    """
    _check_images(model, x)
    linear = cam_linear_layer(model)
    x = _as_model_dtype(model, x)
    with torch.no_grad(), evaluating(model), _Capture(model, None) as captured:
        logits = model(x)
        _check_scores(model, logits)
        features = captured.pooled_input
        if features is None:
            raise ValueError(
                f"{type(model).__name__}.avgpool was not called in forward, so its input is not "
                "the map that the classifier pools; CAM is undefined here. Use "
                "lightnets.cam.grad_cam(model, x, layer=...)."
            )
        # The head must really be pool → linear: check the recomputed scores against the model's.
        pooled = features.mean((2, 3))
        if not torch.allclose(
            linear(pooled), logits, rtol=1e-3, atol=1e-4 * float(logits.abs().max() + 1)
        ):
            raise ValueError(
                f"{type(model).__name__}'s scores are not the linear layer applied to the pooled "
                "features (its forward_head does more than pool → linear), so CAM is undefined; "
                "use lightnets.cam.grad_cam."
            )
        _warn_if_not_spatial(model, features, x)
        chosen = _targets(target, logits)
        weights = linear.weight[chosen]  # (N, K): w_k^c for each image's class
        maps = torch.einsum("nk,nkhw->nhw", weights, features)
    return postprocess(maps, tuple(x.shape[-2:]))


def grad_cam(model: nn.Module, x: torch.Tensor, target: Target = None,
             layer: Union[None, str, nn.Module] = None) -> torch.Tensor:
    """Grad-CAM maps of ``target`` at ``layer``'s output, post-processed like :func:`cam`.

    ``layer`` is a module of ``model`` or its name (e.g. ``"features.10"``); by default the maps
    that enter the global pooling (the last feature maps, as in Selvaraju et al. §3), or the
    output of ``model.features`` when the model has no pooling that is called.
    """
    _check_images(model, x)
    x = _as_model_dtype(model, x)
    if isinstance(layer, str):
        try:
            layer = model.get_submodule(layer)
        except AttributeError as error:
            raise ValueError(
                f"layer {layer!r} is not a submodule of {type(model).__name__}"
            ) from error
    if layer is not None and not isinstance(layer, nn.Module):
        raise ValueError(f"layer must be None, a submodule or its name, got {type(layer).__name__}")
    fallback = layer if layer is not None else getattr(model, "features", None)
    if layer is None and not isinstance(fallback, nn.Module):
        raise ValueError(f"{type(model).__name__} has no `features`; pass layer=... to grad_cam")
    with torch.enable_grad(), evaluating(model), _Capture(model, fallback) as captured:
        logits = model(x)
        _check_scores(model, logits)
        activations = captured.layer_output if layer is not None else (
            captured.pooled_input if captured.pooled_input is not None else captured.layer_output)
        if not isinstance(activations, torch.Tensor) or activations.dim() != 4:
            raise ValueError("grad_cam needs a layer whose output is a (N, C, h, w) feature map")
        _warn_if_not_spatial(model, activations, x)
        chosen = _targets(target, logits)
        # Images in a batch are independent at inference, so one backward pass gives every image's
        # gradient of its own class score.
        score = logits.gather(1, chosen[:, None]).sum()
        (gradients,) = torch.autograd.grad(score, activations)
        alpha = gradients.mean((2, 3), keepdim=True)  # Eq. 1: global-average-pooled gradients
        maps = (alpha * activations).sum(1).detach()  # Eq. 2, before the ReLU of postprocess
        if not torch.isfinite(maps).all():
            raise ValueError(f"grad_cam: the gradients or activations of {type(model).__name__} at "
                             "this layer overflowed to NaN/inf for x; choose another layer")
    return postprocess(maps, tuple(x.shape[-2:]))


# --- using the maps ------------------------------------------------------------------------------


# Pixels within this fraction of a map's maximum count as tied for it. Far above the rounding of
# the upsampling itself (a few float32 ulps, ~1e-7: a border cell's plateau comes out as
# (1-λ)·a + λ·a, which need not round back to a, and CPUs differ there), far below the differences
# between neighbouring pixels of a trained network's map.
TIE_TOLERANCE = 1e-6


def peaks(maps: torch.Tensor) -> torch.Tensor:
    """The (row, column) each (N, H, W) map points at: its maximum, as an (N, 2) long tensor.

    Tie rule: every pixel within ``TIE_TOLERANCE`` × the maximum of it is tied, and the map points
    at the tied pixel nearest to the ties' centroid (of equally near ones, the first in row-major
    order). Upsampled maps need it: bilinear upsampling (``align_corners=False``) holds a border
    cell's value constant out to the image edge, so a border cell's maximum is a plateau; taking
    the first maximum would move the peak to the image's edge, or, where rounding leaves the
    plateau a few ulps uneven, to a pixel that changes from one CPU to the next. Computed in
    float64, so the rule itself adds no rounding of its own.
    """
    _check_maps(maps)
    width = maps.shape[-1]
    flat = maps.detach().flatten(1).double()
    top = flat.amax(1, keepdim=True)
    ties = flat >= top - TIE_TOLERANCE * top.abs()
    index = torch.arange(flat.shape[1], device=maps.device)
    rows, cols = (index // width).double(), (index % width).double()
    count = ties.sum(1)
    centre_row = (ties * rows).sum(1) / count
    centre_col = (ties * cols).sum(1) / count
    distance = (rows - centre_row[:, None]) ** 2 + (cols - centre_col[:, None]) ** 2
    chosen = torch.where(ties, distance, torch.inf).argmin(1)
    return torch.stack([chosen // width, chosen % width], 1)


# The pointing game's tolerance (Zhang et al., ECCV 2016, arXiv:1608.00507v1): a peak up to 15 px
# off the object counts, on PASCAL VOC and COCO images of about 500 px a side (3 % of the side).
POINTING_TOLERANCE_PX, POINTING_IMAGE_SIDE_PX = 15, 500


def pointing_tolerance(resolution: int) -> int:
    """Zhang et al.'s tolerance scaled to images of ``resolution`` px: the same share of the
    side (:data:`POINTING_TOLERANCE_PX` of :data:`POINTING_IMAGE_SIDE_PX`), rounded."""
    check_int("resolution", resolution, low=1)
    return round(POINTING_TOLERANCE_PX * resolution / POINTING_IMAGE_SIDE_PX)


def pointing_game(maps: torch.Tensor, masks: torch.Tensor, tolerance: int = 0) -> torch.Tensor:
    """For each image, does the map's peak (see :func:`peaks`) fall on the object? Returns an (N,)
    bool tensor. This is the pointing game of Zhang et al. 2016, "Top-down Neural Attention by
    Excitation Backprop".

    ``tolerance`` (pixels) counts a peak within that distance of the mask (a square neighbourhood)
    as a hit, as the paper's 15 px on its ~500 px images do (:func:`pointing_tolerance`).
    """
    _check_maps(maps)
    if not isinstance(masks, torch.Tensor):
        raise TypeError(f"masks must be a torch.Tensor, got {type(masks).__name__}")
    if maps.shape != masks.shape or maps.dim() != 3:
        raise ValueError(
            f"maps and masks must both be (N, H, W), got {tuple(maps.shape)} and "
            f"{tuple(masks.shape)}"
        )
    check_has_values("masks", masks)
    check_int("tolerance", tolerance, low=0)
    # A neighbourhood wider than the image covers all of it: no larger pooling window is needed.
    tolerance = min(tolerance, max(maps.shape[1:]))
    region = masks.bool()
    if tolerance:
        size = 2 * tolerance + 1
        region = nn.functional.max_pool2d(region[:, None].float(), size, 1, tolerance)[:, 0].bool()
    where = peaks(maps).to(region.device)
    return region[torch.arange(len(region), device=region.device), where[:, 0], where[:, 1]]


def random_maps(shape: Sequence[int], seed: int = 0) -> torch.Tensor:
    """Uniform random maps of ``shape`` (N, H, W): the baseline whose peak is a random pixel, so its
    expected pointing-game score is the mean fraction of the image the object covers."""
    if not isinstance(shape, (tuple, list, torch.Size)) or len(shape) != 3:
        raise ValueError(f"shape must be (N, H, W), got {describe(shape)}")
    for side in shape:
        check_int("shape", side, low=1, high=2**16)
    if math.prod(shape) > 2**28:
        raise ValueError(
            f"shape {tuple(shape)} holds more than 2**28 values (1 GiB); ask for fewer"
        )
    check_int("seed", seed, low=0)
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(tuple(shape), generator=generator)


def overlay(image: torch.Tensor, heatmap: torch.Tensor, alpha: float = 0.5,
            colormap: str = "inferno") -> np.ndarray:
    """Blend a (H, W) map in [0, 1] over an image ((3, H, W) or (H, W, 3), values in [0, 1]).

    The default colormap is perceptually uniform (equal steps in the map look like equal steps
    in colour, and it reads in grey), unlike the rainbow "jet" many CAM figures use.

    Returns an (H, W, 3) float array in [0, 1] ready for ``imshow``: ``(1-alpha)·image +
    alpha·colormap(heatmap)``.
    """
    import matplotlib

    check_float("alpha", alpha, 0.0, 1.0)
    if not isinstance(colormap, str) or colormap not in matplotlib.colormaps:
        raise ValueError(f"colormap must be a name in matplotlib.colormaps, got {colormap!r}")
    for name, value in (("image", image), ("heatmap", heatmap)):
        if not isinstance(value, (torch.Tensor, np.ndarray)) or value.dtype == bool:
            raise TypeError(f"{name} must be a real torch.Tensor or numpy array, "
                            f"got {type(value).__name__}")
        check_has_values(name, value)
    picture = torch.as_tensor(image).detach().float().cpu()
    if picture.dim() == 3 and picture.shape[0] == 3 and picture.shape[-1] != 3:
        picture = picture.permute(1, 2, 0)
    heat = torch.as_tensor(heatmap).detach().float().cpu()
    if picture.dim() != 3 or picture.shape[:2] != heat.shape:
        raise ValueError(
            f"image (H, W, 3) and heatmap (H, W) must match, got {tuple(picture.shape)} and "
            f"{tuple(heat.shape)}"
        )
    _check_finite("image", picture)
    _check_finite("heatmap", heat)
    coloured = matplotlib.colormaps[colormap](heat.clamp(0, 1).numpy())[..., :3]
    return np.clip((1 - alpha) * picture.numpy() + alpha * coloured, 0.0, 1.0)
