import statistics
import sys

import pytest
import torch

from lightnets.data import SHAPE_CLASSES, Digits, Shapes


def test_shapes_are_repeatable_per_seed_and_independent_across_seeds():
    first, again, other = Shapes(10, 32, seed=3), Shapes(10, 32, seed=3), Shapes(10, 32, seed=4)
    assert torch.equal(first.images, again.images) and torch.equal(first.masks, again.masks)
    assert not torch.equal(first.images, other.images)


def test_shapes_image_i_does_not_depend_on_the_set_size():
    assert torch.equal(Shapes(3, 32, seed=1).images, Shapes(7, 32, seed=1).images[:3])


def test_shapes_items_are_float_images_in_unit_range_with_balanced_labels():
    shapes = Shapes(20, 48, seed=0)
    image, label = shapes[7]
    assert image.shape == (3, 48, 48) and image.dtype == torch.float32
    assert 0.0 <= image.min() and image.max() <= 1.0
    assert label == 7 % len(SHAPE_CLASSES)
    assert torch.bincount(shapes.labels).tolist() == [4] * len(SHAPE_CLASSES)
    assert shapes.class_names == SHAPE_CLASSES


@pytest.mark.parametrize("resolution", [16, 64, 100])
def test_shapes_every_mask_is_a_visible_object_away_from_the_border(resolution):
    shapes = Shapes(25, resolution, seed=2)
    assert shapes.masks.shape == (25, resolution, resolution)
    area = shapes.masks.float().mean((1, 2))
    assert (area > 0.005).all() and (area < 0.4).all()  # circumradius 0.12–0.3 of the side


def test_shapes_object_differs_from_the_background_under_it():
    shapes = Shapes(50, 64, seed=0, clutter=0.0)
    for image, mask in zip(shapes.images.float() / 255, shapes.masks):
        inside = image[:, mask].mean(1)
        ring = torch.nn.functional.max_pool2d(mask[None, None].float(), 7, 1, 3)[0, 0].bool() & ~mask
        outside = image[:, ring].mean(1)
        assert (inside - outside).abs().mean() > 0.15


def test_shapes_reject_bad_arguments_naming_them():
    with pytest.raises(ValueError, match="resolution"):
        Shapes(4, resolution=4)
    with pytest.raises(ValueError, match="clutter"):
        Shapes(4, clutter=2.0)
    with pytest.raises(ValueError, match="classes"):
        Shapes(4, classes=("circle", "hexagon"))
    with pytest.raises(ValueError, match="scale"):
        Shapes(4, scale=(0.3, 0.6))


def test_digits_without_scikit_learn_name_the_missing_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="scikit-learn"):
        Digits("test", 32)


@pytest.mark.slow
def test_digits_split_all_1797_uci_digits_75_25_with_masks():
    train, test = Digits("train", 32), Digits("test", 32)
    assert len(train) + len(test) == 1797 and len(test) == 449  # load_digits: 1797 8×8 images
    assert torch.bincount(test.labels, minlength=10).min() > 20  # every digit present in the test split
    assert test.images.shape == (449, 3, 32, 32) and test.masks.shape == (449, 32, 32)
    assert (test.masks.float().mean((1, 2)) > 0.01).all()
    assert torch.equal(test.images, Digits("test", 32).images)


def test_stripes_are_balanced_repeatable_and_masked():
    from lightnets.data import STRIPE_CLASSES, Stripes

    first, again = Stripes(8, 32, seed=3), Stripes(8, 32, seed=3)
    assert torch.equal(first.images, again.images) and torch.equal(first.masks, again.masks)
    assert first.labels.tolist() == [0, 1, 2, 3, 0, 1, 2, 3] and first.class_names == STRIPE_CLASSES
    assert first.images.shape == (8, 3, 32, 32) and first.images.dtype == torch.uint8
    area = first.masks.float().mean((1, 2))
    assert ((area > 0.05) & (area < 0.35)).all()  # a disc of radius 0.15–0.3 of the side


def test_stripes_finer_than_two_pixels_blur_away_at_low_resolution():
    """Period 0.04 of the side: 1.3 px at 32 px (unresolvable, averaged out), 2.6 px at 64 px."""
    from lightnets.data import Stripes

    def contrast(resolution):
        data = Stripes(16, resolution, seed=0, clutter=0.0, period=(0.04, 0.04))
        images = data.images.float() / 255
        return statistics.mean(images[i][:, data.masks[i]].std(1).mean().item() for i in range(16))

    assert contrast(32) < 0.6 * contrast(64)


def test_stripes_reject_bad_period():
    from lightnets.data import Stripes

    with pytest.raises(ValueError, match="period"):
        Stripes(4, 32, period=(0.1, 0.05))
