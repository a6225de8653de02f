"""ImageNet, the parts a learner needs to ask a trained network what it sees in a photo.

* :data:`CLASSES` (and :data:`WNIDS`): the 1000 ImageNet-1k (ILSVRC2012) classes in output order,
  from ``imagenet.json`` beside this file: WordNet ids from timm's ``imagenet_synsets.txt``,
  readable names from torchvision's ``_IMAGENET_CATEGORIES`` (the file records the command,
  date and versions that wrote it: ``tests/references/make_imagenet.py classes``).
* :func:`preprocessing`: each model's official evaluation transform, a :class:`Preprocessing`
  (centre crop, resize, mean and std).
* :func:`predict`: the top-k labels and probabilities for one photo or many.

Photos may be numpy ``H×W×C`` arrays (uint8 0–255, or floats in [0, 1]), PIL images or tensors
(``C×H×W``, uint8 or floats in [0, 1]). A grayscale photo (``H×W``, ``H×W×1`` or one channel) is
repeated into three equal channels, as PIL's ``convert("RGB")`` does; an RGBA photo's alpha
channel is dropped (the colours are kept as stored, not blended onto a background); a photo of
any size works, a smaller one than the network's input being enlarged by the same interpolation.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import NamedTuple, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lightnets._checks import check_choice, check_float, check_int
from lightnets._torch import evaluating

__all__ = ["CLASSES", "WNIDS", "Preprocessing", "preprocessing", "to_rgb", "Prediction",
           "predict"]

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "imagenet.json")) as _f:
    _DATA = json.load(_f)

WNIDS = tuple(wnid for wnid, _ in _DATA["classes"])
CLASSES = tuple(name for _, name in _DATA["classes"])

INTERPOLATIONS = ("bilinear", "bicubic")


@dataclass(frozen=True)
class Preprocessing:
    """An evaluation transform: take the central square of side ``crop_fraction`` × the shorter
    side, resize it to ``resolution`` × ``resolution`` by ``interpolation`` (antialiased when it
    shrinks), then ``(x − mean) / std`` per channel, on pixel values 0–255.

    This is TensorFlow's order (crop, then resize; ``preprocessing.py`` of tensorflow/tpu);
    torchvision and timm resize the shorter side to ``resolution / crop_fraction`` and then crop,
    which takes the same window and resamples it once the other way round.
    """

    resolution: int
    crop_fraction: float
    interpolation: str
    mean: tuple  # per channel, on 0–255 pixels
    std: tuple
    source: str = ""

    def __post_init__(self) -> None:
        check_int("resolution", self.resolution, low=1, high=4096)
        check_float("crop_fraction", self.crop_fraction, 0.0, 1.0, low_inclusive=False)
        check_choice("interpolation", self.interpolation, INTERPOLATIONS)
        for name in ("mean", "std"):
            value = getattr(self, name)
            if not (isinstance(value, tuple) and len(value) == 3):
                raise ValueError(f"{name} must be a tuple of 3 numbers, got {value!r}")
        if min(self.std) <= 0:
            raise ValueError(f"std must be positive, got {self.std}")

    def __call__(self, images) -> torch.Tensor:
        """One photo or a list of photos (see the module's docstring) → an (N, 3, resolution,
        resolution) float32 batch."""
        photos = [images] if _is_single(images) else list(images)
        if not photos:
            raise ValueError("images must hold at least one photo, got an empty sequence")
        return torch.stack([self._one(to_rgb(photo)) for photo in photos])

    def seen(self, images) -> torch.Tensor:
        """What the network sees of each photo, to draw: the cropped and resized (N, 3,
        resolution, resolution) batch before normalisation, as floats in [0, 1]."""
        mean = torch.tensor(self.mean).view(1, 3, 1, 1)
        std = torch.tensor(self.std).view(1, 3, 1, 1)
        # bicubic resampling overshoots a little at sharp edges: clamp to valid pixels
        return (self(images) * std + mean).div(255).clamp(0, 1)

    def _one(self, rgb: torch.Tensor) -> torch.Tensor:
        _, height, width = rgb.shape
        # preprocessing.py: int(fraction × shorter side), offset ((side − crop) + 1) // 2.
        side = max(1, int(self.crop_fraction * min(height, width)))
        top, left = (height - side + 1) // 2, (width - side + 1) // 2
        window = rgb[:, top:top + side, left:left + side].float().unsqueeze(0)
        resized = F.interpolate(window, size=(self.resolution, self.resolution),
                                mode=self.interpolation, align_corners=False,
                                antialias=side > self.resolution)[0]
        mean = torch.tensor(self.mean).view(3, 1, 1)
        std = torch.tensor(self.std).view(3, 1, 1)
        return (resized - mean) / std


def _lite(resolution: int) -> Preprocessing:
    # tensorflow/tpu: preprocessing.py's eval crop (crop_padding = round(S · (1/0.875 − 1)),
    # bicubic resize) and efficientnet_lite_builder.py's MEAN_RGB 127, STDDEV_RGB 128 ("Edge
    # models use inception-style MEAN and STDDEV for better post-quantization"), which
    # eval_ckpt_main.py subtracts and divides by. timm's tf_efficientnet_lite* use nearly the same
    # (mean = std = 0.5 of 255, crop 0.875, bicubic); the reference port (efficientnet-lite-pytorch)
    # ships no transform, and its README's ImageNet mean/std are inherited from
    # lukemelas/EfficientNet-PyTorch, not the Lite checkpoints'.
    padding = round(resolution * (1 / 0.875 - 1))
    return Preprocessing(resolution, resolution / (resolution + padding), "bicubic",
                         (127.0, 127.0, 127.0), (128.0, 128.0, 128.0),
                         "tensorflow/tpu efficientnet preprocessing.py + lite builder")


def _published(name: str) -> Preprocessing:
    row = _DATA["eval_transforms"][name]
    return Preprocessing(row["crop"], row["crop"] / row["resize"], row["interpolation"],
                         tuple(255 * m for m in row["mean"]), tuple(255 * s for s in row["std"]),
                         row["source"])


def preprocessing(model) -> Preprocessing:
    """The official evaluation transform of a model (a registered name, or a model made by
    ``create_model``): EfficientNet-Lite's from tensorflow/tpu, the others' from the library
    whose weights share the name (torchvision, timm). ValueError for a model that has none."""
    name = model if isinstance(model, str) else getattr(model, "model_name", None)
    if not isinstance(name, str):
        raise TypeError("model must be a registered name or a model from lightnets.create_model, "
                        f"got {type(model).__name__}")
    from lightnets.models.efficientnet import LITE_VARIANTS

    if name.startswith("efficientnet_lite") and name[len("efficientnet_"):] in LITE_VARIANTS:
        return _lite(LITE_VARIANTS[name[len("efficientnet_"):]].resolution)
    if name in _DATA["eval_transforms"]:
        return _published(name)
    known = sorted(list(_DATA["eval_transforms"]) + [f"efficientnet_{v}" for v in LITE_VARIANTS])
    raise ValueError(f"no official ImageNet evaluation transform for {name!r}; known: "
                     f"{', '.join(known)}; or pass preprocess=Preprocessing(...)")


def _is_single(images) -> bool:
    if isinstance(images, (list, tuple)):
        return False
    if isinstance(images, torch.Tensor) and images.dim() == 4:
        return False
    return True


def to_rgb(image) -> torch.Tensor:
    """A photo as a (3, H, W) float32 tensor of 0–255 pixel values.

    numpy arrays are ``H×W`` or ``H×W×C``, tensors ``H×W`` or ``C×H×W``; uint8 holds 0–255,
    floats 0–1. One channel (grayscale) is repeated into three; a fourth channel (alpha) is
    dropped; any other channel count is a ValueError, as is an empty or non-finite image.
    """
    if hasattr(image, "mode") and hasattr(image, "convert"):  # a PIL image, without importing PIL
        # PIL's own conversion: "L"/"P"/"CMYK"... → RGB; "RGBA"/"LA" lose their alpha.
        image = np.asarray(image.convert("RGB"))
    if isinstance(image, np.ndarray):
        if image.ndim == 3:
            image = np.moveaxis(image, -1, 0)
        elif image.ndim != 2:
            raise ValueError(f"a numpy photo must be H×W or H×W×C, got shape {image.shape}")
        tensor = torch.from_numpy(np.array(image))  # a copy: photos may be read-only
    elif isinstance(image, torch.Tensor):
        tensor = image.detach().cpu()
        if tensor.dim() not in (2, 3):
            raise ValueError(f"a tensor photo must be H×W or C×H×W, got shape "
                             f"{tuple(tensor.shape)}")
    else:
        raise TypeError(f"a photo must be a numpy array, a PIL image or a torch.Tensor, got "
                        f"{type(image).__name__}")
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0)
    channels = tensor.shape[0]
    if channels not in (1, 3, 4):
        raise ValueError(f"a photo must have 1 (grayscale), 3 (RGB) or 4 (RGBA) channels, got "
                         f"{channels} (shape {tuple(tensor.shape)}; numpy photos are H×W×C)")
    if tensor.shape[1] == 0 or tensor.shape[2] == 0:
        raise ValueError(f"the photo is empty: shape {tuple(tensor.shape)}")
    if tensor.dtype == torch.uint8:
        tensor = tensor.float()
    elif tensor.dtype.is_floating_point:
        tensor = tensor.float()
        if not torch.isfinite(tensor).all() or tensor.min() < 0 or tensor.max() > 1:
            raise ValueError("a float photo must hold values in [0, 1] (uint8 photos hold 0–255), "
                             f"got [{tensor.min().item():.3g}, {tensor.max().item():.3g}]")
        tensor = tensor * 255
    else:
        raise TypeError(f"a photo must be uint8 or floating point, got {tensor.dtype}")
    if channels == 4:
        tensor = tensor[:3]
    elif channels == 1:
        tensor = tensor.expand(3, -1, -1)
    return tensor


class Prediction(NamedTuple):
    """The top-k classes of one photo, most probable first."""

    labels: tuple  # class names (CLASSES)
    probabilities: tuple  # softmax probabilities, floats
    indices: tuple  # class indices into CLASSES

    def text(self, decimals: int = 2) -> str:
        """One line per class, e.g. ``1. espresso  0.95``, probabilities to ``decimals``."""
        check_int("decimals", decimals, low=0, high=6)
        width = max(len(label) for label in self.labels)
        return "\n".join(f"{rank}. {label:<{width}}  {p:.{decimals}f}" for rank, (label, p)
                         in enumerate(zip(self.labels, self.probabilities), start=1))


def predict(model: nn.Module, images, k: int = 5,
            preprocess: Optional[Preprocessing] = None):
    """The ``k`` most probable ImageNet classes of each photo, by ``model`` in eval mode.

    ``images`` is one photo (→ one :class:`Prediction`) or a list of photos or an (N, C, H, W)
    tensor (→ a list of them); see the module's docstring for the kinds of photo. ``preprocess``
    defaults to the model's official transform (:func:`preprocessing`). The model's mode is
    restored afterwards.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    check_int("k", k, low=1, high=len(CLASSES))
    if preprocess is None:
        preprocess = preprocessing(model)
    elif not isinstance(preprocess, Preprocessing):
        raise TypeError(f"preprocess must be a Preprocessing, got {type(preprocess).__name__}")
    batch = preprocess(images)
    parameter = next(model.parameters(), None)
    if parameter is not None:
        batch = batch.to(parameter.device)
    with evaluating(model), torch.no_grad():
        logits = model(batch)
    if logits.dim() != 2 or logits.shape[1] != len(CLASSES):
        raise ValueError(f"model must output (N, {len(CLASSES)}) ImageNet logits, got "
                         f"{tuple(logits.shape)}")
    top = logits.double().softmax(1).topk(k)
    predictions = [Prediction(tuple(CLASSES[i] for i in idx.tolist()), tuple(p.tolist()),
                              tuple(idx.tolist())) for p, idx in zip(top.values, top.indices)]
    return predictions[0] if _is_single(images) else predictions
