"""Image sets small enough to train on a laptop, each image with a mask of its object.

Class activation maps (lesson 05) ask *where* a network looked; answering needs to know where the
object is. Both sets here are torch Datasets of ``(image, label)`` pairs, with ``images``
(N, 3, H, W, uint8), ``labels`` (N,) and ``masks`` (N, H, W, bool) tensors alongside:

* :class:`Shapes` draws one of several shapes (circle, square, triangle, cross, ring) at a random
  position, scale, rotation and colour over a cluttered background, at any resolution. Image ``i``
  of ``seed`` s depends only on (s, i), so a set is the same on every machine and different seeds
  give independent sets (train on seed 0, validate on seed 1).
* :class:`Digits` places scikit-learn's 8×8 handwritten digits (real handwriting, UCI optdigits)
  on a larger cluttered canvas. scikit-learn is optional; it is imported only here.
"""
from __future__ import annotations

import functools
import math
import os
from typing import Callable, NamedTuple, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from lightnets._checks import check_choice, check_float, check_int, describe

SHAPE_CLASSES = ("circle", "square", "triangle", "cross", "ring")
STRIPE_CLASSES = ("0°", "45°", "90°",
                  "135°")  # the stripes' orientation, counter-clockwise from horizontal
DIGIT_CLASSES = tuple(str(d) for d in range(10))


class MaskedImages(Dataset):
    """Images, labels and object masks held as tensors; ``dataset[i]`` is ``(image, label)``.

    The image comes back as float32 in [0, 1]; ``masks[i]`` is True on the object's pixels.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, masks: torch.Tensor,
                 class_names: Sequence[str]) -> None:
        if isinstance(class_names, str) or not isinstance(class_names, (list, tuple)) \
                or not all(isinstance(n, str) for n in class_names):
            raise TypeError(f"class_names must be a sequence of str, got {class_names!r}")
        class_names = tuple(class_names)
        if not class_names or len(set(class_names)) != len(class_names):
            raise ValueError(f"class_names must be one or more distinct names, got {class_names!r}")
        for name, tensor in (("images", images), ("labels", labels), ("masks", masks)):
            if not isinstance(tensor, torch.Tensor):
                raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError(f"images must be an (N, C, H, W) uint8 tensor, got {images.dtype} "
                             f"of shape {tuple(images.shape)}")
        if labels.dim() != 1 or labels.dtype.is_floating_point or labels.dtype == torch.bool:
            raise ValueError(f"labels must be an (N,) integer tensor, got {labels.dtype} "
                             f"of shape {tuple(labels.shape)}")
        if masks.dtype != torch.bool or masks.dim() != 3 or masks.shape[1:] != images.shape[2:]:
            raise ValueError(f"masks must be an (N, H, W) bool tensor matching images' H and W "
                             f"{tuple(images.shape[2:])}, got {masks.dtype} of shape "
                             f"{tuple(masks.shape)}")
        if not (len(images) == len(labels) == len(masks)):
            raise ValueError(
                "images, labels and masks must have the same length, "
                f"got {len(images)}, {len(labels)}, {len(masks)}"
            )
        if len(labels) and (labels.min() < 0 or labels.max() >= len(class_names)):
            raise ValueError(f"labels must be class indices in [0, {len(class_names) - 1}] "
                             f"(one per class name), got values from {labels.min()} to "
                             f"{labels.max()}")
        self.images, self.labels, self.masks = images, labels, masks
        self.class_names = class_names

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int):
        return self.images[index].float() / 255.0, int(self.labels[index])

    @property
    def resolution(self) -> int:
        return self.images.shape[-1]

    def batch(self, indices: Sequence[int]):
        """``(images, labels, masks)`` of several items at once, images as float in [0, 1]."""
        indices = list(indices)
        for index in indices:
            check_int("indices", index, low=-len(self), high=len(self) - 1)
        indices = torch.as_tensor(indices, dtype=torch.long)
        return self.images[indices].float() / 255.0, self.labels[indices], self.masks[indices]


def _check_pair(name: str, value, low: float, high: float, high_inclusive: bool) -> tuple:
    """``value`` must be (a, b), two numbers with low < a <= b < high (or <= high)."""
    bound = "<=" if high_inclusive else "<"
    rule = f"(low, high) with {low} < low <= high {bound} {high}"
    try:
        a, b = value
        a, b = float(a), float(b)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be {rule}, got {value!r}") from None
    if not (low < a <= b and (b <= high if high_inclusive else b < high)):
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return a, b


def _check_size(num_images: int, resolution: int) -> None:
    # Images (3 bytes a pixel) and masks (1) are held in memory; refuse a set that cannot fit.
    from lightnets.registry import memory_bytes

    needed, available = 4 * num_images * resolution ** 2, memory_bytes()
    if available is not None and 2 * needed > available:
        raise ValueError(
            f"num_images={num_images} at resolution={resolution} needs {needed / 2**30:.1f} GiB "
            f"for images and masks, more than half this machine's {available / 2**30:.1f} GiB; ask "
            "for fewer or smaller images"
        )


# --- drawing -------------------------------------------------------------------------------------
# Shapes are signed distance functions (negative inside) of coordinates in units of the image side,
# so one definition serves every resolution; edges are anti-aliased over one pixel.


def _box(x: np.ndarray, y: np.ndarray, half_width: float, half_height: float) -> np.ndarray:
    qx, qy = np.abs(x) - half_width, np.abs(y) - half_height
    outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))
    return outside + np.minimum(np.maximum(qx, qy), 0)


def _triangle(x: np.ndarray, y: np.ndarray, radius: float) -> np.ndarray:
    # Equilateral triangle with circumradius ``radius`` (Quilez's exact distance, vectorised).
    k = math.sqrt(3.0)
    side = radius * k / 2  # half the side length
    px, py = np.abs(x) - side, -y + side / k
    fold = px + k * py > 0
    px, py = np.where(fold, (px - k * py) / 2, px), np.where(fold, (-k * px - py) / 2, py)
    px = px - np.clip(px, -2 * side, 0)
    return -np.hypot(px, py) * np.sign(py)


SHAPE_DISTANCES: dict[str, Callable[[np.ndarray, np.ndarray, float], np.ndarray]] = {
    # Every shape fits in the circle of ``radius``, so placing that circle inside the image
    # keeps the whole shape visible whatever its rotation.
    "circle": lambda x, y, r: np.hypot(x, y) - r,
    "square": lambda x, y, r: _box(x, y, r / math.sqrt(2), r / math.sqrt(2)),
    "triangle": _triangle,
    "cross": lambda x, y, r: np.minimum(_box(x, y, 0.95 * r, 0.3 * r), _box(x, y, 0.3 * r,
                                                                            0.95 * r)),
    "ring": lambda x, y, r: np.abs(np.hypot(x, y) - 0.75 * r) - 0.25 * r,
}


def _grid(resolution: int):
    centres = (np.arange(resolution) + 0.5) / resolution
    return np.meshgrid(centres, centres, indexing="xy")  # x grows to the right, y downwards


def _segment_distance(x, y, a, b) -> np.ndarray:
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    t = np.clip(((x - ax) * dx + (y - ay) * dy) / max(dx * dx + dy * dy, 1e-12), 0, 1)
    return np.hypot(x - ax - t * dx, y - ay - t * dy)


def _coverage(distance: np.ndarray, resolution: int) -> np.ndarray:
    """Fraction of a pixel covered by the region ``distance <= 0``, linear over one pixel."""
    return np.clip(0.5 - distance * resolution, 0.0, 1.0)


def cluttered_background(rng: np.random.Generator, resolution: int, clutter: float) -> np.ndarray:
    """A (H, W, 3) float background: a smooth colour gradient, ``round(6·clutter)`` random line
    segments and as many blurred blobs, and pixel noise — texture the network must learn to
    ignore."""
    x, y = _grid(resolution)
    corners = rng.uniform(0.2, 0.8, size=(4, 3))
    image = ((1 - x)[..., None] * (1 - y)[..., None] * corners[0]
             + x[..., None] * (1 - y)[..., None] * corners[1]
             + (1 - x)[..., None] * y[..., None] * corners[2]
             + x[..., None] * y[..., None] * corners[3])
    count = int(round(6 * clutter))
    for _ in range(count):
        a, b = rng.uniform(0, 1, 2), rng.uniform(0, 1, 2)
        width = rng.uniform(0.005, 0.02)
        alpha = _coverage(_segment_distance(x, y, a, b) - width, resolution)[..., None]
        image = image * (1 - alpha) + alpha * rng.uniform(0, 1, 3)
    for _ in range(count):
        cx, cy, sigma = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.02, 0.08)
        alpha = 0.6 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma**2))[..., None]
        image = image * (1 - alpha) + alpha * rng.uniform(0, 1, 3)
    image = image + rng.normal(0, 0.04 * clutter, image.shape)
    return np.clip(image, 0, 1)


def _object_colour(rng: np.random.Generator, background: np.ndarray) -> np.ndarray:
    # A colour that stands out from the background under the object (mean absolute difference
    # of at least 0.3 per channel), so the label is always recoverable from the pixels.
    for _ in range(100):
        colour = rng.uniform(0, 1, 3)
        if np.abs(colour - background).mean() >= 0.3:
            return colour
    return 1.0 - np.round(background)


def _to_uint8(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.round(image * 255).astype(np.uint8)).permute(2, 0, 1).contiguous()


def draw_shape(rng: np.random.Generator, name: str, resolution: int, clutter: float,
               scale: tuple[float, float]):
    """One image of shape ``name``: returns ``(image (H, W, 3) float, mask (H, W) bool)``."""
    background = cluttered_background(rng, resolution, clutter)
    radius = rng.uniform(*scale)
    cx, cy = rng.uniform(radius, 1 - radius, 2)
    angle = rng.uniform(0, 2 * math.pi)
    x, y = _grid(resolution)
    c, s = math.cos(angle), math.sin(angle)
    u, v = c * (x - cx) + s * (y - cy), -s * (x - cx) + c * (y - cy)
    distance = SHAPE_DISTANCES[name](u, v, radius)
    row, col = min(int(cy * resolution), resolution - 1), min(int(cx * resolution), resolution - 1)
    colour = _object_colour(rng, background[row, col])
    alpha = _coverage(distance, resolution)[..., None]
    return background * (1 - alpha) + alpha * colour, distance <= 0


class Shapes(MaskedImages):
    """``num_images`` generated images of :data:`SHAPE_CLASSES`, balanced, at ``resolution`` px.

    Image ``i`` shows shape ``i % num_classes`` drawn from a generator seeded with ``(seed, i)``.
    ``scale`` is the range of the shape's circumradius as a fraction of the image side;
    ``clutter`` in [0, 1] sets how busy the background is (0: a plain gradient).
    """

    def __init__(self, num_images: int = 1000, resolution: int = 64, seed: int = 0,
                 clutter: float = 0.5, scale: tuple[float, float] = (0.12, 0.3),
                 classes: Sequence[str] = SHAPE_CLASSES) -> None:
        check_int("num_images", num_images, low=1)
        check_int("resolution", resolution, low=8, high=1024)
        check_int("seed", seed, low=0)
        check_float("clutter", clutter, 0.0, 1.0)
        scale = _check_pair("scale", scale, 0.0, 0.5, high_inclusive=False)
        if not isinstance(classes, (list, tuple)):
            raise TypeError(f"classes must be a sequence of names from {SHAPE_CLASSES}, "
                            f"got {classes!r}")
        classes = tuple(classes)
        for name in classes:
            check_choice("classes", name, SHAPE_CLASSES)
        if not classes or len(set(classes)) != len(classes):
            raise ValueError(f"classes must be one or more distinct names from {SHAPE_CLASSES}, "
                             f"got {classes!r}")
        _check_size(num_images, resolution)
        images, masks = [], []
        for i in range(num_images):
            rng = np.random.default_rng([seed, i])
            image, mask = draw_shape(rng, classes[i % len(classes)], resolution, clutter,
                                     tuple(scale))
            images.append(_to_uint8(image))
            masks.append(torch.from_numpy(mask))
        labels = torch.arange(num_images) % len(classes)
        super().__init__(torch.stack(images), labels, torch.stack(masks), classes)


def draw_stripes(rng: np.random.Generator, orientation_degrees: float, resolution: int,
                 clutter: float,
                 scale: tuple[float, float], period: tuple[float, float], supersample: int = 4):
    """A disc of fine stripes at ``orientation_degrees`` (± 8° of jitter) on a cluttered background.

    The stripes' period is drawn from ``period`` (a fraction of the image side) and each pixel is
    the *average* over ``supersample``² sub-pixels, as a camera's sensor averages light: stripes
    finer than two pixels blur towards their mean colour instead of aliasing into coarse false
    stripes, so a low-resolution image genuinely loses the detail that names the class.
    Returns ``(image (H, W, 3) float, mask (H, W) bool)``.
    """
    background = cluttered_background(rng, resolution, clutter)
    radius = rng.uniform(*scale)
    cx, cy = rng.uniform(radius, 1 - radius, 2)
    angle = math.radians(orientation_degrees + rng.uniform(-8, 8))
    wavelength, phase = rng.uniform(*period), rng.uniform(0, 2 * math.pi)
    fine = resolution * supersample
    x, y = _grid(fine)
    across = (x - cx) * -math.sin(angle) + (y - cy) * math.cos(angle)  # distance across the stripes
    stripes = 0.5 + 0.5 * np.sin(2 * math.pi * across / wavelength + phase)
    alpha = _coverage(np.hypot(x - cx, y - cy) - radius, fine)
    row, col = min(int(cy * resolution), resolution - 1), min(int(cx * resolution), resolution - 1)
    light = _object_colour(rng, background[row, col])
    dark = 1.0 - light
    texture = stripes[..., None] * light + (1 - stripes[..., None]) * dark

    def pool(values: np.ndarray) -> np.ndarray:  # mean over each supersample × supersample cell
        shape = (resolution, supersample, resolution, supersample) + values.shape[2:]
        return values.reshape(shape).mean(axis=(1, 3))

    coverage = pool(alpha)
    colour = pool(alpha[..., None] * texture) / np.maximum(coverage, 1e-12)[..., None]
    image = background * (1 - coverage[..., None]) + coverage[..., None] * colour
    return image, np.hypot(*(np.array(_grid(resolution)) - np.array([cx, cy])[:, None,
                                                                              None])) <= radius


class Stripes(MaskedImages):
    """``num_images`` generated discs of fine stripes whose *orientation* is the class
    (:data:`STRIPE_CLASSES`: 0°, 45°, 90°, 135°), balanced, at ``resolution`` px.

    The task for which resolution matters (EfficientNet lesson 04): with ``period`` a fraction of
    the side, a 32 px image shows stripes of period 0.04 as 1.3 px, below the two pixels a period
    needs, and they blur to a flat disc (see :func:`draw_stripes`); at 64 px they are 2.6 px and
    visible. Image ``i`` shows class ``i % 4``, drawn from a generator seeded with ``(seed, i)``.
    """

    def __init__(self, num_images: int = 1000, resolution: int = 64, seed: int = 0,
                 clutter: float = 0.5, scale: tuple[float, float] = (0.15, 0.3),
                 period: tuple[float, float] = (0.04, 0.08),
                 supersample: int = 4) -> None:
        check_int("num_images", num_images, low=1)
        check_int("resolution", resolution, low=8, high=1024)
        check_int("seed", seed, low=0)
        check_float("clutter", clutter, 0.0, 1.0)
        # Each image is drawn at resolution × supersample px, then averaged: 8 × 8 sub-pixels
        # already blur sub-pixel stripes smoothly, and past 4096 px one image takes many seconds.
        check_int("supersample", supersample, low=1, high=max(1, min(8, 4096 // resolution)))
        scale = _check_pair("scale", scale, 0.0, 0.5, high_inclusive=False)
        period = _check_pair("period", period, 0.0, 1.0, high_inclusive=True)
        _check_size(num_images, resolution)
        images, masks = [], []
        for i in range(num_images):
            rng = np.random.default_rng([seed, i])
            orientation = 45.0 * (i % len(STRIPE_CLASSES))
            image, mask = draw_stripes(rng, orientation, resolution, clutter, tuple(scale),
                                       tuple(period), supersample)
            images.append(_to_uint8(image))
            masks.append(torch.from_numpy(mask))
        labels = torch.arange(num_images) % len(STRIPE_CLASSES)
        super().__init__(torch.stack(images), labels, torch.stack(masks), STRIPE_CLASSES)


def load_sklearn_digits():
    """scikit-learn's digits as ``(images (1797, 8, 8) float in [0, 1], labels (1797,))``.

    The data ship inside scikit-learn (no download). scikit-learn is not a lightnets dependency;
    without it this raises ImportError saying what to install.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise ImportError(
            "lightnets.data.Digits needs the scikit-learn package (it ships the digits data); "
            "install it with `pip install scikit-learn`"
        ) from error
    digits = load_digits()
    return digits.images.astype(np.float32) / 16.0, digits.target.astype(np.int64)


class Digits(MaskedImages):
    """scikit-learn's handwritten digits (8×8, 1797 images) placed on a ``resolution`` px canvas.

    Each digit is enlarged (bilinear) to a random size in ``scale`` (fraction of the side), put at
    a random position in a random colour over a cluttered background; its mask is where the
    enlarged stroke intensity exceeds one quarter. ``split`` picks a fixed 75/25 split of the 1797
    digits ("train" or "test"; the split does not depend on ``seed``); ``seed`` drives placement.
    """

    def __init__(self, split: str = "train", resolution: int = 64, seed: int = 0,
                 clutter: float = 0.5, scale: tuple[float, float] = (0.35, 0.6)) -> None:
        check_choice("split", split, ("train", "test"))
        # 1797 8×8 digits: past 128 px the canvas shows only enlarged blur, and drawing the set
        # takes minutes.
        check_int("resolution", resolution, low=16, high=128)
        check_int("seed", seed, low=0)
        check_float("clutter", clutter, 0.0, 1.0)
        scale = _check_pair("scale", scale, 0.0, 1.0, high_inclusive=True)
        strokes, targets = load_sklearn_digits()
        order = np.random.default_rng(0).permutation(len(targets))
        cut = int(round(0.75 * len(targets)))
        chosen = order[:cut] if split == "train" else order[cut:]
        images, masks = [], []
        for i, index in enumerate(chosen):
            rng = np.random.default_rng([seed, int(index)])
            image, mask = _place_digit(rng, strokes[index], resolution, clutter, scale)
            images.append(_to_uint8(image))
            masks.append(torch.from_numpy(mask))
        labels = torch.from_numpy(targets[chosen])
        super().__init__(torch.stack(images), labels, torch.stack(masks), DIGIT_CLASSES)


def _place_digit(rng, stroke: np.ndarray, resolution: int, clutter: float, scale):
    background = cluttered_background(rng, resolution, clutter)
    size = max(8, int(round(rng.uniform(*scale) * resolution)))
    enlarged = torch.nn.functional.interpolate(
        torch.from_numpy(stroke)[None, None], size=(size, size), mode="bilinear",
        align_corners=False)[0, 0].numpy()
    top, left = rng.integers(0, resolution - size + 1, 2)
    alpha = np.zeros((resolution, resolution))
    alpha[top:top + size, left:left + size] = np.clip(enlarged, 0, 1)
    centre = background[top + size // 2, left + size // 2]
    colour = _object_colour(rng, centre)
    image = background * (1 - alpha[..., None]) + alpha[..., None] * colour
    return image, alpha > 0.25


class Photo(NamedTuple):
    """A real photograph that an installed package ships, with where it came from."""

    name: str
    image: np.ndarray  # H×W×3 uint8 (RGB), or H×W uint8 for a grayscale photo
    package: str  # the package (and version) that ships the file
    source: str  # what and who, as the package's documentation says
    licence: str


# Each photo's file, what it shows and its licence, as the shipping package documents them:
# scikit-image's docstrings (skimage/data/_fetchers.py), scikit-learn's
# sklearn/datasets/images/README.txt. Only files inside the wheels are listed: no download.
_SKIMAGE_PHOTOS = {
    "chelsea": ("chelsea.png", "Chelsea the cat, photographed by Stefan van der Walt",
                "CC0 (no copyright restrictions)"),
    "coffee": ("coffee.png", "a coffee cup, courtesy of Pikolo Espresso Bar, photographed by "
               "Rachel Michetti", "CC0 (no copyright restrictions)"),
    "astronaut": ("astronaut.png", "the astronaut Eileen Collins, NASA Great Images database",
                  "public domain (no known copyright restrictions)"),
    "rocket": ("rocket.jpg", "the launch of DSCOVR on a Falcon 9, by SpaceX",
               "public domain (released by SpaceX)"),
    "camera": ("camera.png", "a man with a camera (grayscale), photographed by Lav Varshney",
               "CC0 (no copyright restrictions)"),
}
_SKLEARN_PHOTOS = {
    "china": ("china.jpg", "a Chinese temple, by flickr user danielbuechele, retrieved 2011 by "
              "Robert Layton", "CC BY 2.0"),
    # The README's attribution line for flower.jpg repeats danielbuechele; its links name the
    # flickr user vultilion as the photographer.
    "flower": ("flower.jpg", "a flower, by flickr user vultilion (photos/vultilion/6056698931), "
               "retrieved 2011 by Robert Layton", "CC BY 2.0"),
}
PHOTO_NAMES = tuple(_SKIMAGE_PHOTOS) + tuple(_SKLEARN_PHOTOS)


def _version(package: str) -> str:
    import importlib.metadata

    return f"{package} {importlib.metadata.version(package)}"


def photos(names=None) -> list:
    """The real photographs scikit-image and scikit-learn ship, as :class:`Photo` records (all of
    :data:`PHOTO_NAMES`, or those named, in that order); nothing is downloaded.

    ``camera`` is grayscale (an H×W array); the others are H×W×3 RGB. ImportError naming the
    ``pip install`` when a package is missing.
    """
    if names is None:
        names = PHOTO_NAMES
    if isinstance(names, str) or not isinstance(names, (list, tuple)) or not all(
            isinstance(n, str) for n in names):
        raise TypeError(f"names must be a list or tuple of photo names from {PHOTO_NAMES}, "
                        f"got {describe(names)}")
    for name in names:
        check_choice("names", name, PHOTO_NAMES)
    found = _all_photos()
    return [found[name] for name in names]


@functools.lru_cache(maxsize=1)
def _all_photos() -> dict:
    """Every photo, read once; the arrays are made read-only, since each call shares them."""
    try:
        import skimage.data
        from PIL import Image
        from sklearn.datasets import load_sample_images
    except ImportError as error:
        raise ImportError("lightnets.data.photos() reads the photos scikit-image and scikit-learn "
                          "ship: pip install scikit-image scikit-learn") from error
    found = {}
    # The files bundled in scikit-image's wheel, read directly: skimage.data's functions may
    # fetch other files from the internet.
    directory = os.path.dirname(skimage.data.__file__)
    for name, (file, source, licence) in _SKIMAGE_PHOTOS.items():
        with Image.open(os.path.join(directory, file)) as image:
            pixels = np.array(image.convert("L" if image.mode == "L" else "RGB"))
        found[name] = Photo(name, pixels, _version("scikit-image"), source, licence)
    bunch = load_sample_images()
    by_file = {os.path.basename(path): image for path, image in zip(bunch.filenames,
                                                                   bunch.images)}
    for name, (file, source, licence) in _SKLEARN_PHOTOS.items():
        found[name] = Photo(name, np.array(by_file[file]), _version("scikit-learn"), source,
                            licence)
    for record in found.values():
        record.image.flags.writeable = False
    return found


def photo(name: str) -> Photo:
    """One of :func:`photos`, by name (e.g. ``photo("chelsea").image``)."""
    return photos([name])[0]
