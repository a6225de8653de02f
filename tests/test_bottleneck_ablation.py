import json

import pytest
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from lightnets import profile
from lightnets.experiments import bottleneck_ablation as ablation


def test_gratings_are_seeded_and_labelled_in_range():
    x1, y1 = ablation.gratings(16, torch.Generator().manual_seed(3))
    x2, y2 = ablation.gratings(16, torch.Generator().manual_seed(3))
    assert x1.shape == (16, 3, 12, 12) and torch.equal(x1, x2) and torch.equal(y1, y2)
    assert 0 <= int(y1.min()) and int(y1.max()) < ablation.NUM_CLASSES


def test_fig6a_relu6_variant_adds_an_activation_after_each_projection():
    linear, relu6 = ablation.TinyMobileNetV2("linear"), ablation.TinyMobileNetV2("relu6")
    count = lambda model: sum(isinstance(m, nn.ReLU6) for m in model.modules())  # noqa: E731
    assert count(relu6) - count(linear) == 7
    assert all(isinstance(block.block[-1][-1], nn.ReLU6) for block in relu6.blocks)


def _added_tensors(model, x):
    """The channel count of both operands of every residual add in one forward pass."""
    seen = []

    class Watch(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func is torch.ops.aten.add.Tensor and all(
                    isinstance(a, torch.Tensor) and a.dim() == 4 for a in args[:2]):
                seen.append((args[0].shape[1], args[1].shape[1]))
            return func(*args, **(kwargs or {}))

    with torch.no_grad(), Watch():
        model(x)
    return seen


@pytest.mark.parametrize("shortcut, channels", [("bottleneck", [8] * 4 + [16] * 2),
                                                ("expansion", [48] * 4 + [96] * 2), ("none", [])])
def test_fig6b_shortcuts_join_the_narrow_or_the_wide_tensors(shortcut, channels):
    model = ablation.TinyMobileNetV2(shortcut=shortcut).eval()
    adds = _added_tensors(model, torch.randn(2, 3, 12, 12))
    assert [a for a, _ in adds] == [b for _, b in adds] == channels


def test_the_three_shortcut_variants_share_layers_and_cost():
    models = {s: ablation.TinyMobileNetV2(shortcut=s) for s in ablation.SHORTCUTS}
    shapes = {s: [p.shape for p in m.parameters()] for s, m in models.items()}
    assert shapes["bottleneck"] == shapes["expansion"] == shapes["none"]
    macs = {s: profile(m, (1, 3, 12, 12)).macs for s, m in models.items()}
    assert len(set(macs.values())) == 1


def test_without_shortcuts_the_two_framings_compute_the_same_function():
    torch.manual_seed(0)
    bottleneck = ablation.TinyMobileNetV2(shortcut="bottleneck").eval()
    none = ablation.TinyMobileNetV2(shortcut="none").eval()
    none.load_state_dict(bottleneck.state_dict())
    bottleneck.residual = [False] * len(bottleneck.residual)
    x = torch.randn(3, 3, 12, 12)
    torch.testing.assert_close(bottleneck(x), none(x))


@pytest.mark.parametrize("argument, value", [("bottleneck", "gelu"), ("shortcut", "both"),
                                             ("width", 0)])
def test_tiny_model_names_a_bad_argument(argument, value):
    with pytest.raises(ValueError, match=argument):
        ablation.TinyMobileNetV2(**{argument: value})


def test_stored_result_has_every_variant_and_its_provenance():
    with open(ablation.DEFAULT_PATH) as f:
        result = json.load(f)
    assert set(result["test_accuracy"]) == set(ablation.VARIANTS)
    assert all(len(curves) == len(result["seeds"]) for curves in result["test_accuracy"].values())
    assert result["command"].startswith("python -m lightnets.experiments.bottleneck_ablation")
    assert "torch" in result["versions"] and result["seconds"] > 0
    assert len(result["seeds"]) >= 2  # an interval over seeds needs two


@pytest.mark.slow
def test_run_returns_one_curve_per_variant_and_seed_whatever_the_jobs():
    one = ablation.run(seeds=(0, 1), steps=2, eval_every=1, test_size=32)
    two = ablation.run(seeds=(0, 1), steps=2, eval_every=1, test_size=32, jobs=2)
    assert one == two and one["steps"] == [1, 2]
    for curves in one["test_accuracy"].values():
        assert len(curves) == 2 and all(len(c) == 2 for c in curves)
        assert all(0.0 <= a <= 1.0 for c in curves for a in c)


def test_final_accuracy_is_the_mean_of_the_last_evaluations():
    result = {"final_evaluations": 2, "test_accuracy": {"v": [[0.1, 0.5, 0.7], [0.2, 0.4, 0.6]]}}
    assert ablation.final_accuracies(result) == {"v": [pytest.approx(0.6), pytest.approx(0.5)]}


def test_main_refuses_a_bad_flag_before_training(capsys):
    with pytest.raises(SystemExit):
        ablation.main(["--steps", "3"])
    assert "--steps" in capsys.readouterr().err


def test_train_variant_is_the_loop_the_committed_results_were_trained_with():
    """The committed curves were trained by a loop of their own, before lightnets.train ran it;
    that loop, written out here, and train_variant give the same accuracies."""
    from lightnets.utils import seed_everything

    test = ablation.gratings(200, torch.Generator().manual_seed(1))
    seed_everything(3)
    model = ablation.TinyMobileNetV2("relu6", "expansion")
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    data = torch.Generator().manual_seed(10_003)
    curve = []
    for step in range(1, 31):
        x, y = ablation.gratings(64, data)
        model.train()
        loss = nn.functional.cross_entropy(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % 10 == 0:
            model.eval()
            with torch.no_grad():
                predicted = torch.cat([model(chunk).argmax(1) for chunk in test[0].split(256)])
            curve.append(float((predicted == test[1]).float().mean()))
    ours = ablation.train_variant("relu6", "expansion", 3, steps=30, eval_every=10, test=test)
    # The old loop took the mean in float32: equal to the float64 ratio to float32's precision.
    assert ours == pytest.approx(curve, abs=1e-7)
