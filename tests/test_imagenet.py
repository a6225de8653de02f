"""lightnets.imagenet (class names, official evaluation transforms, predict) and
lightnets.data.photos() (the real photographs installed packages ship)."""
import socket

import numpy as np
import pytest
import torch
from torch import nn

import lightnets
from lightnets import data, imagenet
from lightnets.imagenet import Preprocessing


# --- class names ---------------------------------------------------------------------------

def test_1000_classes_in_the_sorted_wordnet_order_of_ilsvrc2012():
    assert len(imagenet.CLASSES) == len(imagenet.WNIDS) == 1000
    assert list(imagenet.WNIDS) == sorted(set(imagenet.WNIDS))
    assert imagenet.WNIDS[0] == "n01440764" and imagenet.CLASSES[0] == "tench"


@pytest.mark.parametrize("index, name", [(281, "tabby"), (285, "Egyptian cat"),
                                         (967, "espresso"), (872, "tripod")])
def test_class_names_at_their_imagenet_indices(index, name):
    assert imagenet.CLASSES[index] == name


# --- evaluation transforms -----------------------------------------------------------------

def test_lite_preprocessing_is_tensorflows_crop_bicubic_and_127_128():
    lite0 = imagenet.preprocessing("efficientnet_lite0")
    assert (lite0.resolution, lite0.crop_fraction, lite0.interpolation) == (224, 0.875, "bicubic")
    assert lite0.mean == (127.0,) * 3 and lite0.std == (128.0,) * 3
    # crop_padding = round(S · (1/0.875 − 1)): 300 px → 43
    assert imagenet.preprocessing("efficientnet_lite4").crop_fraction == 300 / 343


def test_torchvision_models_use_their_weights_published_transform():
    b0 = imagenet.preprocessing("efficientnet_b0")  # resize 256 bicubic, crop 224
    assert (b0.resolution, b0.crop_fraction, b0.interpolation) == (224, 224 / 256, "bicubic")
    assert b0.mean == pytest.approx((123.675, 116.28, 103.53))
    assert imagenet.preprocessing(lightnets.create_model("mobilenet_v2")).crop_fraction == 224 / 232


def test_a_model_without_an_official_transform_is_refused():
    with pytest.raises(ValueError, match="no official ImageNet evaluation transform for "
                                         "'densenet_bc'"):
        imagenet.preprocessing("densenet_bc")
    with pytest.raises(TypeError, match="registered name"):
        imagenet.preprocessing(nn.Linear(2, 2))


def test_preprocessing_crops_the_centre_then_resizes():
    # A 100×200 photo, left half black and right half white: the central 87.5 px square straddles
    # the edge, so the 8 px output is black on its left half and white on its right.
    image = np.zeros((100, 200, 3), np.uint8)
    image[:, 100:] = 255
    out = Preprocessing(8, 0.875, "bilinear", (0.0,) * 3, (1.0,) * 3)(image)
    assert out.shape == (1, 3, 8, 8)
    assert out[0, :, :, :3].max() < 1 and out[0, :, :, 5:].min() > 254


def test_seen_is_the_crop_before_normalisation_in_0_1():
    # The same half-black, half-white photo: what the network sees is 0 on the left, 1 on the
    # right, whatever the mean and std.
    image = np.zeros((100, 200, 3), np.uint8)
    image[:, 100:] = 255
    transform = Preprocessing(8, 0.875, "bilinear", (127.0,) * 3, (128.0,) * 3)
    seen = transform.seen([image, image])
    assert seen.shape == (2, 3, 8, 8) and seen.min() >= 0 and seen.max() <= 1
    assert seen[:, :, :, :3].max() < 1e-6 and seen[:, :, :, 5:].min() > 1 - 1e-6
    assert torch.allclose((seen * 255 - 127) / 128, transform([image, image]), atol=1e-5)


@pytest.mark.parametrize("kwargs, message", [
    (dict(resolution=0), "resolution"), (dict(crop_fraction=1.5), "crop_fraction"),
    (dict(interpolation="nearest"), "interpolation"), (dict(std=(1.0, 0.0, 1.0)), "std"),
    (dict(mean=(1.0, 2.0)), "mean"),
])
def test_preprocessing_refuses_bad_settings(kwargs, message):
    settings = dict(resolution=8, crop_fraction=1.0, interpolation="bilinear", mean=(0.0,) * 3,
                    std=(1.0,) * 3)
    with pytest.raises(ValueError, match=message):
        Preprocessing(**{**settings, **kwargs})


# --- kinds of photo ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def chelsea():
    return data.photo("chelsea").image


def test_grayscale_photo_becomes_three_equal_channels():
    gray = data.photo("camera").image
    assert gray.ndim == 2
    rgb = imagenet.to_rgb(gray)
    assert rgb.shape == (3, 512, 512) and torch.equal(rgb[0], rgb[2])
    assert torch.equal(imagenet.to_rgb(gray[:, :, None]), rgb)


def test_rgba_photo_loses_its_alpha_channel(chelsea):
    alpha = np.full(chelsea.shape[:2] + (1,), 7, np.uint8)
    rgba = np.concatenate([chelsea, alpha], axis=2)
    assert torch.equal(imagenet.to_rgb(rgba), imagenet.to_rgb(chelsea))


def test_pil_images_in_any_mode_convert_to_rgb(chelsea):
    from PIL import Image

    rgb = imagenet.to_rgb(chelsea)
    assert torch.equal(imagenet.to_rgb(Image.fromarray(chelsea)), rgb)
    assert torch.equal(imagenet.to_rgb(Image.fromarray(chelsea).convert("RGBA")), rgb)
    gray = imagenet.to_rgb(Image.fromarray(chelsea).convert("L"))
    assert gray.shape == rgb.shape and torch.equal(gray[0], gray[1])


def test_float_tensors_in_0_1_equal_uint8_photos(chelsea):
    as_float = torch.from_numpy(np.array(chelsea)).permute(2, 0, 1).float() / 255
    assert torch.allclose(imagenet.to_rgb(as_float), imagenet.to_rgb(chelsea), atol=1e-4)


@pytest.mark.parametrize("image, error, message", [
    (np.zeros((8, 8, 2), np.uint8), ValueError, "1 \\(grayscale\\), 3 \\(RGB\\) or 4 \\(RGBA\\)"),
    (np.zeros((3, 8, 8), np.uint8), ValueError, "numpy photos are H×W×C"),
    (np.full((8, 8, 3), 2.0), ValueError, "values in \\[0, 1\\]"),
    (np.full((8, 8, 3), np.nan), ValueError, "values in \\[0, 1\\]"),
    (np.zeros((0, 8, 3), np.uint8), ValueError, "empty"),
    (np.zeros((8, 8, 3), np.int32), TypeError, "uint8 or floating point"),
    (np.zeros((2, 8, 8, 3), np.uint8), ValueError, "H×W or H×W×C"),
    ("chelsea.png", TypeError, "numpy array, a PIL image or a torch.Tensor"),
])
def test_photos_that_cannot_be_read_get_a_clear_error(image, error, message):
    with pytest.raises(error, match=message):
        imagenet.to_rgb(image)


def test_a_photo_smaller_than_the_crop_is_enlarged(chelsea):
    small = chelsea[::10, ::10]  # 30 × 46 px, far below 224
    batch = imagenet.preprocessing("efficientnet_lite0")(small)
    assert batch.shape == (1, 3, 224, 224) and torch.isfinite(batch).all()
    one_pixel = imagenet.preprocessing("efficientnet_lite0")(np.full((1, 1, 3), 127, np.uint8))
    assert one_pixel.abs().max() < 1e-5  # (127 − 127) / 128 everywhere, up to bicubic rounding


# --- predict ---------------------------------------------------------------------------------

class Constant(nn.Module):
    """A stand-in network whose logits favour class 967 (espresso), then 281 (tabby)."""

    model_name = "efficientnet_lite0"

    def __init__(self, classes=1000):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(classes))
        with torch.no_grad():
            self.bias[967 % classes], self.bias[281 % classes] = 5.0, 4.0

    def forward(self, x):
        return self.bias.expand(x.shape[0], -1)


def test_predict_one_photo_gives_one_prediction_with_k_labels(chelsea):
    result = imagenet.predict(Constant(), chelsea, k=3)
    assert isinstance(result, imagenet.Prediction)
    assert result.labels[:2] == ("espresso", "tabby") and result.indices[:2] == (967, 281)
    assert len(result.probabilities) == 3 and result.probabilities[0] > result.probabilities[1]
    # softmax over 1000 logits: e^5 / (e^5 + e^4 + 998)
    assert result.probabilities[0] == pytest.approx(np.exp(5) / (np.exp(5) + np.exp(4) + 998))


def test_prediction_text_is_one_ranked_line_per_class(chelsea):
    text = imagenet.predict(Constant(), chelsea, k=2).text(decimals=2)
    assert text.splitlines() == ["1. espresso  0.12", "2. tabby     0.05"]  # e⁵/Z, e⁴/Z


def test_predict_a_list_gives_a_list_and_restores_the_mode(chelsea):
    model = Constant().train()
    results = imagenet.predict(model, [chelsea, data.photo("camera").image])
    assert isinstance(results, list) and len(results) == 2 and model.training


@pytest.mark.parametrize("k", [0, 1001, 2.5])
def test_predict_refuses_a_bad_k(chelsea, k):
    with pytest.raises((ValueError, TypeError), match="k"):
        imagenet.predict(Constant(), chelsea, k=k)


def test_predict_refuses_a_model_that_is_not_an_imagenet_classifier(chelsea):
    with pytest.raises(ValueError, match=r"\(N, 1000\) ImageNet logits"):
        imagenet.predict(Constant(classes=10), chelsea)
    with pytest.raises(ValueError, match="images must hold at least one photo"):
        imagenet.predict(Constant(), [])


# --- photos ----------------------------------------------------------------------------------

def test_photos_come_with_name_package_source_and_licence():
    photos = data.photos()
    assert [p.name for p in photos] == list(data.PHOTO_NAMES)
    assert set(data.PHOTO_NAMES) >= {"chelsea", "coffee", "astronaut", "rocket", "camera",
                                      "china", "flower"}
    for photo in photos:
        assert photo.image.dtype == np.uint8 and photo.image.ndim in (2, 3)
        assert photo.package.startswith(("scikit-image ", "scikit-learn "))
        assert photo.source and photo.licence
        assert not photo.image.flags.writeable  # shared between calls
    licences = {p.name: p.licence for p in photos}
    assert licences["chelsea"].startswith("CC0") and licences["china"] == "CC BY 2.0"


def test_photos_are_the_files_the_packages_ship():
    import skimage.data
    from sklearn.datasets import load_sample_images

    assert np.array_equal(data.photo("chelsea").image, skimage.data.chelsea())
    assert np.array_equal(data.photo("camera").image, skimage.data.camera())
    assert np.array_equal(data.photo("flower").image, load_sample_images().images[1])


def test_photos_need_no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("no network in this test")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    data._all_photos.cache_clear()
    try:
        assert len(data.photos()) == len(data.PHOTO_NAMES)
    finally:
        data._all_photos.cache_clear()


def test_an_unknown_photo_name_is_refused():
    with pytest.raises(ValueError, match="names must be one of"):
        data.photos(["chelsea", "mona_lisa"])
    with pytest.raises(TypeError, match="list or tuple of photo names"):
        data.photos("chelsea")
