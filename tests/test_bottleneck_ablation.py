import json

import pytest
import torch
from torch import nn

from lightnets.experiments import bottleneck_ablation as ablation


def test_gratings_are_seeded_and_labelled_in_range():
    x1, y1 = ablation.gratings(16, torch.Generator().manual_seed(3))
    x2, y2 = ablation.gratings(16, torch.Generator().manual_seed(3))
    assert x1.shape == (16, 3, 12, 12) and torch.equal(x1, x2) and torch.equal(y1, y2)
    assert 0 <= int(y1.min()) and int(y1.max()) < ablation.NUM_CLASSES


def test_fig6a_relu6_variant_adds_an_activation_after_each_projection():
    linear, relu6 = ablation.tiny_mobilenet_v2("linear"), ablation.tiny_mobilenet_v2("relu6")
    count = lambda model: sum(isinstance(m, nn.ReLU6) for m in model.modules())  # noqa: E731
    assert count(relu6) - count(linear) == 7
    assert isinstance(relu6[1].block[-1][-1], nn.ReLU6)


def test_fig6b_no_shortcut_variant_has_no_residual_connections():
    with_shortcut = [m.use_shortcut for m in ablation.tiny_mobilenet_v2(shortcut=True) if hasattr(m, "use_shortcut")]
    without = [m.use_shortcut for m in ablation.tiny_mobilenet_v2(shortcut=False) if hasattr(m, "use_shortcut")]
    assert sum(with_shortcut) == 6 and sum(without) == 0


def test_tiny_model_rejects_an_unknown_bottleneck():
    with pytest.raises(ValueError, match="bottleneck"):
        ablation.tiny_mobilenet_v2("gelu")


def test_stored_result_has_every_variant_and_its_provenance():
    with open(ablation.DEFAULT_PATH) as f:
        result = json.load(f)
    assert set(result["test_accuracy"]) == set(ablation.VARIANTS)
    assert all(len(curves) == len(result["seeds"]) for curves in result["test_accuracy"].values())
    assert result["command"].startswith("python -m lightnets.experiments.bottleneck_ablation")
    assert "torch" in result["versions"]


def test_run_returns_one_curve_per_variant_and_seed():
    result = ablation.run(seeds=(0,), steps=2, eval_every=1, test_size=32)
    assert result["steps"] == [1, 2]
    for curves in result["test_accuracy"].values():
        assert len(curves) == 1 and len(curves[0]) == 2
        assert all(0.0 <= a <= 1.0 for a in curves[0])
