import pytest
import torch
from torch import nn

import lightnets
from lightnets.cam import cam, cam_linear_layer, grad_cam, overlay, peaks, pointing_game, random_maps
from lightnets.models.base import Network


class Tiny(Network):
    """Two convs, global pooling, dropout + one linear layer: the head CAM was made for."""

    min_resolution = 8

    def __init__(self, num_classes=3, head=None):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 6, 3, 2, 1), nn.ReLU())
        self.classifier = head if head is not None else nn.Sequential(nn.Dropout(0.2), nn.Linear(6, num_classes))


def test_cam_is_the_classifier_weights_times_the_last_feature_maps():
    """Zhou et al. 2016 §2: M_c(x, y) = Σ_k w_k^c f_k(x, y), then ReLU, upsample, divide by the max."""
    model, x = Tiny().eval(), torch.randn(2, 3, 16, 16)
    features = model.features(x)  # (2, 6, 8, 8)
    weights = model.classifier[1].weight
    expected = torch.relu(torch.einsum("k,nkhw->nhw", weights[1], features))
    expected = nn.functional.interpolate(expected[:, None], size=(16, 16), mode="bilinear")[:, 0]
    expected = expected / expected.flatten(1).amax(1)[:, None, None]
    assert torch.allclose(cam(model, x, target=1), expected, atol=1e-6)


def test_cam_returns_maps_at_input_resolution_scaled_to_peak_one():
    maps = cam(Tiny(), torch.randn(4, 3, 20, 28))
    assert maps.shape == (4, 20, 28)
    assert maps.min() >= 0 and torch.allclose(maps.flatten(1).amax(1), torch.ones(4))


def test_cam_targets_default_to_the_prediction_and_accept_a_list():
    model, x = Tiny().eval(), torch.randn(3, 3, 16, 16)
    predicted = model(x).argmax(1).tolist()
    assert torch.equal(cam(model, x), cam(model, x, target=predicted))
    with pytest.raises(ValueError, match="target"):
        cam(model, x, target=[0, 1])
    with pytest.raises(ValueError, match="target"):
        cam(model, x, target=3)


def test_cam_of_an_all_negative_map_stays_zero():
    model = Tiny().eval()
    with torch.no_grad():
        model.classifier[1].weight.fill_(-1.0)  # features are post-ReLU (>= 0), so every M_c <= 0
    assert torch.equal(cam(model, torch.randn(2, 3, 16, 16)), torch.zeros(2, 16, 16))


@pytest.mark.parametrize(
    "name, config", [("mobilenet_v1", {"width_mult": 0.25}), ("mobilenet_v2", {"width_mult": 0.35})]
)
def test_grad_cam_equals_cam_for_a_pooling_plus_linear_head(name, config):
    """Selvaraju et al. 2017 §3.1: with global pooling and one linear layer, α_k^c = w_k^c / Z."""
    model = lightnets.create_model(name, num_classes=4, **config)
    x = torch.randn(3, 3, 96, 96)
    for target in (None, 2):
        assert torch.allclose(grad_cam(model, x, target), cam(model, x, target), atol=1e-5)


def test_grad_cam_equals_cam_on_a_tiny_model_with_layer_given_by_name():
    model, x = Tiny(), torch.randn(2, 3, 16, 16)
    assert torch.allclose(grad_cam(model, x, layer="features"), cam(model, x), atol=1e-6)
    assert grad_cam(model, x, layer="features.1").shape == (2, 16, 16)  # an earlier, finer layer
    with pytest.raises(ValueError, match="layer"):
        grad_cam(model, x, layer="nope")


def test_cam_refuses_a_two_layer_head_and_points_to_grad_cam():
    """MobileNetV3's head is Linear → Hardswish → Dropout → Linear: no per-channel class weights."""
    head = nn.Sequential(nn.Linear(6, 16), nn.Hardswish(), nn.Dropout(0.2), nn.Linear(16, 3))
    model, x = Tiny(head=head), torch.randn(2, 3, 16, 16)
    expected = "exactly one linear layer.*Linear → Hardswish → Dropout → Linear.*grad_cam"
    with pytest.raises(ValueError, match=expected):
        cam(model, x)
    assert grad_cam(model, x).shape == (2, 16, 16)


def test_cam_refuses_a_head_that_does_more_than_pool_and_project():
    class ExtraHead(Tiny):
        def forward_head(self, x):
            return self.classifier(torch.flatten(self.avgpool(x), 1)) * 2 + 1

    with pytest.raises(ValueError, match="forward_head"):
        cam(ExtraHead(), torch.randn(2, 3, 16, 16))


def test_cam_and_grad_cam_restore_train_mode_and_leave_no_gradients():
    model = Tiny().train()
    cam(model, torch.randn(2, 3, 16, 16))
    grad_cam(model, torch.randn(2, 3, 16, 16))
    assert model.training and all(p.grad is None for p in model.parameters())
    assert cam_linear_layer(model) is model.classifier[1]


def test_pointing_game_counts_a_peak_inside_the_mask():
    masks = torch.zeros(2, 8, 8, dtype=torch.bool)
    masks[:, 2:4, 2:4] = True
    maps = torch.zeros(2, 8, 8)
    maps[0, 3, 3] = 1.0  # on the object
    maps[1, 6, 6] = 1.0  # two pixels off each way
    assert pointing_game(maps, masks).tolist() == [True, False]
    assert pointing_game(maps, masks, tolerance=3).tolist() == [True, True]


def test_peak_of_an_upsampled_corner_cell_is_the_middle_of_its_plateau_not_the_image_edge():
    coarse = torch.zeros(1, 4, 4)
    coarse[0, 0, 3] = 1.0  # top-right cell of a 4×4 map
    maps = nn.functional.interpolate(coarse[:, None], size=(32, 32), mode="bilinear")[:, 0]
    assert (maps[0] == 1).sum() == 16  # bilinear upsampling holds the corner value over a 4×4 block
    row, col = peaks(maps)[0].tolist()
    assert row in (1, 2) and col in (29, 30)  # the middle of rows 0–3, columns 28–31; not (0, 28)


def test_peak_of_a_plateau_left_a_few_ulps_uneven_by_rounding_is_the_same_pixel():
    # Some CPUs' kernels round a border plateau to values an ulp or two apart; the tie rule
    # (within TIE_TOLERANCE of the maximum) must not let those last bits pick the peak.
    maps = torch.zeros(1, 32, 32, dtype=torch.float64)
    maps[0, 28:, 28:] = 1.0
    uneven = maps.clone()
    uneven[0, 31, 31] = 1.0 + 2e-16
    uneven[0, 28, 30] = 1.0 - 3e-16
    uneven32 = maps.float()
    uneven32[0, 29, 31] = torch.nextafter(torch.tensor(1.0), torch.tensor(2.0))
    assert peaks(maps).tolist() == peaks(uneven).tolist() == peaks(uneven32).tolist() == [[29, 29]]


def test_peak_ignores_pixels_clearly_below_the_maximum():
    maps = torch.zeros(1, 8, 8)
    maps[0, 2, 2], maps[0, 6, 6] = 1.0, 1.0 - 1e-4  # 100 × the tie tolerance below the maximum
    assert peaks(maps).tolist() == [[2, 2]]


def test_random_maps_score_the_object_area_fraction_on_average():
    masks = torch.zeros(4000, 10, 10, dtype=torch.bool)
    masks[:, :, :3] = True  # 30% of every image
    score = pointing_game(random_maps(masks.shape, seed=0), masks).float().mean().item()
    assert score == pytest.approx(0.3, abs=0.03)


def test_overlay_blends_a_colour_map_over_the_image():
    image, heat = torch.zeros(3, 4, 5), torch.ones(4, 5)
    blended = overlay(image, heat, alpha=0.5)
    assert blended.shape == (4, 5, 3) and 0 <= blended.min() and blended.max() <= 0.5
    assert (overlay(image, heat, alpha=0.0) == 0).all()
    with pytest.raises(ValueError, match="alpha"):
        overlay(image, heat, alpha=2)


def test_cam_grid_draws_each_method_and_reports_the_peaks():
    import matplotlib

    matplotlib.use("Agg")
    from lightnets import plots

    images, maps = torch.rand(2, 3, 8, 8), torch.zeros(2, 8, 8)
    maps[0, 1, 6], maps[1, 7, 0] = 1.0, 1.0
    fig, data = plots.cam_grid(images, {"CAM": maps, "Grad-CAM": maps}, row_titles=["a", "b"])
    assert data["titles"] == ["CAM", "Grad-CAM"] and len(fig.axes) == 6 + 1  # and the colorbar
    assert data["peaks"]["CAM"] == [(1, 6), (7, 0)]


def test_pointing_game_bars_returns_the_scores_it_draws():
    import matplotlib

    matplotlib.use("Agg")
    from lightnets import plots

    fig, data = plots.pointing_game_bars({"CAM": 0.8, "random": 0.1}, chance=0.1)
    assert data == {"method": ["CAM", "random"], "score": [0.8, 0.1], "chance": 0.1}


def test_non_finite_input_or_scores_are_refused_not_turned_into_maps():
    import lightnets
    from lightnets import cam

    model = lightnets.create_model("mobilenet_v1", num_classes=3, width_mult=0.25)
    x = torch.rand(2, 3, 32, 32)
    x[1, 0, 5, 5] = float("nan")
    for function in (cam.cam, cam.grad_cam):
        with pytest.raises(ValueError, match=r"x must be finite, got 1 NaN"):
            function(model, x)
    with torch.no_grad():
        model.classifier[-1].weight.fill_(float("nan"))
    with pytest.raises(ValueError, match="non-finite class scores"):
        cam.grad_cam(model, torch.rand(1, 3, 32, 32))
