"""EfficientNet Fig. 7 in miniature (Tan & Le 2019, arXiv:1905.11946): the class activation maps
of the depth-, width-, resolution- and compound-scaled models that
:mod:`lightnets.experiments.scaling` trained, drawn on the same scenes and scored by the pointing
game. Lesson 05 reads this module; the training lives in :mod:`lightnets.experiments.scaling`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import torch

from lightnets._checks import check_int
from lightnets.experiments.scaling import DATA, DEFAULT_DIRECTORY, KINDS, load_results

__all__ = ["KINDS", "load_scaled_models", "layer_at_grid", "scaled_cams"]


def load_scaled_models(directory=DEFAULT_DIRECTORY, phi: Optional[float] = None) -> dict:
    """kind → (model in eval mode, its results row) for the depth-, width-, resolution- and
    compound-scaled models at one φ (the largest trained by default), i.e. at a matching cost
    (each ≈ 2^φ × the base's FLOPs): what EfficientNet Fig. 7 compares the class activation maps of.
    ``row["resolution"]`` is the input side each model was trained at."""
    from lightnets.train import load_model

    directory = Path(directory)
    results = load_results(directory)
    rows = [row for row in results["runs"] if row["kind"] in KINDS]
    if phi is None:
        phi = max(row["phi"] for row in rows)
    chosen = {row["kind"]: row for row in rows if row["phi"] == phi}
    missing = [kind for kind in KINDS if kind not in chosen]
    if missing:
        raise ValueError(f"phi={phi} has no finished run for {missing} in {directory}")
    return {
        kind: (load_model(directory / chosen[kind]["checkpoint"]), chosen[kind]) for kind in KINDS
    }


def layer_at_grid(model: torch.nn.Module, resolution: int, grid: int) -> str:
    """The deepest ``features.i`` of ``model`` whose output is ``grid``×``grid`` for a
    ``resolution``-px input (found by a meta-tensor pass): where to take maps that every model
    draws on the same grid."""
    from lightnets._torch import meta_forward

    check_int("grid", grid, low=1, high=resolution)
    sides = {}
    hooks = [block.register_forward_hook(
        lambda module, args, out, name=f"features.{i}": sides.__setitem__(name, out.shape[-1]))
        for i, block in enumerate(model.features)]
    try:
        meta_forward(model, (1, 3, resolution, resolution))
    finally:
        for hook in hooks:
            hook.remove()
    matching = [name for name, side in sides.items() if side == grid]
    if not matching:
        raise ValueError(f"no block of this model outputs a {grid}×{grid} map at {resolution} px; "
                         f"its sides are {sorted(set(sides.values()), reverse=True)}")
    return matching[-1]


def scaled_cams(models: dict, num_images: int = 200, display_resolution: int = 64, seed: int = 1,
                layer: Optional[str] = "features.3", data: Optional[dict] = None,
                grid: Optional[int] = None) -> dict:
    """EfficientNet Fig. 7 in miniature: class activation maps of the same scenes under the depth-,
    width-, resolution- and compound-scaled models (``models``: :func:`load_scaled_models`' output).

    Each scene is drawn once at ``display_resolution`` px (validation seed ``seed``: images the
    models never trained on) and shrunk with area averaging to each model's own resolution, as a
    camera with fewer pixels would see it; the maps come back upsampled to ``display_resolution``
    so they can be compared pixel by pixel and scored by the pointing game against the scene's mask.

    EfficientNet's last map is the input shrunk 32 times: 1×1 at our base's 32 px, where CAM is a
    constant. So by default the maps are Grad-CAM at ``layer="features.3"``, the end of Table 1's
    stage 4 (stride 8: 4×4 at 32 px, 8×8 at 64 px); ``layer=None`` gives plain CAM on the last map,
    as the paper's Fig. 7 draws it for 224–600 px inputs.
    Returns {"images", "masks", "labels", "class_names", and per kind: {"maps", "predictions",
    "accuracy", "pointing"}} (pointing: the fraction of images whose map peaks on the disc).

    Predictions and maps are computed in float64, on a copy of each model. In float32, the CPU's
    kernels (AVX-512 against ``ATEN_CPU_CAPABILITY=default``) moved these models' logits by up to
    1.5e-4 and their maps by up to 2e-5, while some images' top two scores are 4e-4 apart and some
    maps' two highest pixels 3e-6 apart: the scores changed from one CPU to the next. In float64
    the logits agree to 1e-13, and the scores are the same on every machine.
    """
    import copy

    from lightnets import cam
    from lightnets.data import Stripes

    scenes = Stripes(
        num_images, display_resolution, seed=seed, **dict(DATA if data is None else data)
    )
    images, labels, masks = scenes.batch(range(num_images))
    out = {"images": images, "masks": masks, "labels": labels, "class_names": scenes.class_names}
    for kind, (model, row) in models.items():
        side = row["resolution"]
        model, wide = copy.deepcopy(model).double(), images.double()
        seen = torch.nn.functional.interpolate(wide, size=(side, side), mode="area") \
            if side != display_resolution else wide
        with torch.no_grad():
            predictions = model.eval()(seen).argmax(1)
        used = layer if grid is None else layer_at_grid(model, side, grid)
        maps = cam.cam(model, seen, target=labels) if used is None else \
            cam.grad_cam(model, seen, target=labels, layer=used)
        maps = cam.postprocess(maps, (display_resolution, display_resolution))
        out[kind] = {"maps": maps, "predictions": predictions, "layer": used,
                     "accuracy": (predictions == labels).float().mean().item(),
                     "pointing": cam.pointing_game(maps, masks).float().mean().item()}
    return out
