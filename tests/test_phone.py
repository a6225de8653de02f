"""lightnets.phone: the measurements of lesson 12 (graph operators, int8 weight and activation
errors, pre-activations, crops, claims)."""
import numpy as np
import pytest
import torch
from torch import nn

import lightnets
from lightnets import phone


def test_fake_quantize_per_channel_is_exact_on_a_grid_of_its_own_scale():
    # channel c holds multiples of its own step; per-tensor must use the largest channel's step
    steps = torch.tensor([2.0 ** -10, 1.0], dtype=torch.float64).view(2, 1)
    codes = torch.tensor([[-127.0, -5, 0, 3, 127]], dtype=torch.float64).repeat(2, 1)
    weight = codes * steps
    assert phone.relative_error(phone.fake_quantize(weight, per_channel=True), weight) == 0
    per_tensor = phone.fake_quantize(weight, per_channel=False)
    assert torch.equal(per_tensor[0], torch.zeros(5, dtype=torch.float64))  # small channel lost
    assert phone.relative_error(per_tensor, weight) > 0


def test_fake_quantize_error_is_at_most_half_a_step():
    x = torch.randn(1000, dtype=torch.float64)
    step = x.abs().max() / 127
    assert (phone.fake_quantize(x) - x).abs().max() <= step / 2 + 1e-12


def test_conv_weight_errors_kinds_and_per_channel_never_worse():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Conv2d(8, 8, 3, groups=8), nn.Conv2d(8, 4, 1),
                          nn.Flatten(), nn.Linear(4, 2))
    rows = phone.conv_weight_errors(model)
    assert [r[1] for r in rows] == ["stem", "depthwise", "1×1", "linear"]
    assert all(r[3] <= r[2] + 1e-12 for r in rows)


def test_preactivations_see_the_input_of_an_inplace_activation():
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.ReLU6(inplace=True))
    pre, = phone.preactivations(model, torch.randn(2, 3, 8, 8), samples=50)
    assert pre.numel() == 50 and (pre < 0).any() and model.training


def test_activation_errors_relu6_bounded_by_half_a_step_and_swish_range():
    x = torch.tensor([-3.0, -0.5, 0.0, 1.0, 2.5, 7.0, 30.0])
    relu6, swish, swish_max = phone.activation_errors([x])[0]
    assert swish_max == pytest.approx(30.0 * torch.sigmoid(torch.tensor(30.0)).item())
    y = x.double().clamp(0, 6)
    assert relu6 <= (3 / 255) * len(x) ** 0.5 / y.norm().item()
    assert swish > relu6  # an outlier at 30 coarsens swish's codes


def test_graph_ops_extended_fuses_the_activation_into_the_convolution(tmp_path):
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU6())
    deployed = lightnets.deploy(model.eval(), runtime="onnxruntime",
                                input_size=(1, 3, 16, 16), path=tmp_path / "m.onnx")
    before = phone.graph_ops(deployed.path, "none")
    after = phone.graph_ops(deployed.path, "extended")
    assert before["Clip"] == 1 and before["Conv"] == 1  # BN already folded by the export
    assert "Clip" not in after and sum(after.values()) < sum(before.values())


def test_photo_crops_are_square_windows_of_the_photos():
    image = np.zeros((100, 60, 3), np.uint8)
    crops = phone.photo_crops([image], 5, seed=1)
    assert len(crops) == 5 and all(c.shape[0] == c.shape[1] <= 60 for c in crops)
    assert all(c.shape[0] >= 24 for c in crops)


def test_time_ratio_of_a_function_with_itself_brackets_its_median():
    median, low, high = phone.time_ratio(lambda x: x + 1, lambda x: x + 1, torch.zeros(10),
                                         repeats=3, runs=2)
    assert low <= median <= high and median > 0


@pytest.mark.parametrize("call, message", [
    (lambda: phone.graph_ops("missing.onnx"), "path"),
    (lambda: phone.graph_ops(__file__, level="max"), "level"),
    (lambda: phone.fake_quantize(torch.ones(3), per_channel=True), "per_channel"),
    (lambda: phone.fake_quantize(torch.ones(3), bits=1), "bits"),
    (lambda: phone.photo_crops([], 2), "photos"),
    (lambda: phone.photo_crops([np.zeros((4, 4))], 0), "count"),
    (lambda: phone.conv_weight_errors(nn.ReLU()), "model"),
])
def test_bad_input_names_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()
