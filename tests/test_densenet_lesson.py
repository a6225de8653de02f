"""Lesson 07: DenseNet's closed-form cost, the memory-efficient option, activation memory, feature
reuse, early exits and their experiment script, plots, explorer and exercises."""

import json
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import lightnets
from lightnets import early_exit, plots, widgets
from lightnets.cost.densenet import (
    TABLE_2_BC,
    channels_into_layer,
    dense_layer_cost,
    densenet_bc_cost,
    densenet_cost,
)
from lightnets.exercises import ____, lesson07
from lightnets.experiments import early_exit as experiment
from lightnets import train
from lightnets.feature_reuse import feature_reuse
from lightnets.memory import training_activation_memory
from lightnets.models.densenet import _table_1_blocks


@pytest.mark.parametrize("depth", [16, 40, 100])
@pytest.mark.parametrize("growth_rate", [4, 12, 24])
def test_densenet_bc_closed_form_equals_profile(depth, growth_rate):
    model = lightnets.create_model("densenet_bc", depth=depth, growth_rate=growth_rate)
    measured = lightnets.profile(model, (1, 3, 32, 32))
    cost = densenet_bc_cost(depth, growth_rate)
    assert (cost.params, cost.macs) == (measured.params, measured.macs)


@pytest.mark.parametrize("compression", [0.5, 1.0])
def test_densenet_bc_closed_form_compression(compression):
    model = lightnets.create_model("densenet_bc", compression=compression)
    measured = lightnets.profile(model, (1, 3, 32, 32))
    assert densenet_bc_cost(100, 12, compression).params == measured.params
    assert densenet_bc_cost(100, 12, compression).macs == measured.macs


def test_densenet121_table_1_closed_form_equals_profile():
    measured = lightnets.profile(lightnets.create_model("densenet121"))
    cost = densenet_cost(
        _table_1_blocks("densenet121"), 32, num_classes=1000, resolution=224, imagenet_stem=True
    )
    assert (
        (cost.params, cost.macs) == (measured.params, measured.macs) == (7_978_856, 2_834_161_664)
    )


def test_table_2_densenet_bc_parameters_round_to_the_paper():
    for (depth, k), millions in TABLE_2_BC.items():
        assert round(densenet_bc_cost(depth, k).params / 1e6, 1) == millions


def test_channels_into_layer_is_eq_2_in_the_built_model():
    model = lightnets.create_model("densenet_bc", depth=40, growth_rate=12)
    for block in (
        model.features.denseblock1,
        model.features.denseblock2,
        model.features.denseblock3,
    ):
        for ell, layer in enumerate(block.children(), start=1):
            assert layer.conv1.in_channels == channels_into_layer(block.in_channels, 12, ell)


def test_bottleneck_pays_above_7_2_k():
    k = 12
    for c in (86, 87):
        cheaper = dense_layer_cost(c, k, 1)[1] < dense_layer_cost(c, k, 1, bottleneck=False)[1]
        assert cheaper == (c > 7.2 * k)


def test_dense_layer_cost_equals_profile_of_a_hand_built_basic_layer():
    c, k = 40, 12
    basic = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, k, 3, padding=1, bias=False))
    measured = lightnets.profile(basic, (1, c, 8, 8))
    assert (measured.params, measured.macs) == dense_layer_cost(c, k, 8, bottleneck=False)


def test_closed_form_rejects_bad_depth():
    with pytest.raises(ValueError, match="depth"):
        densenet_bc_cost(41, 12)


# --- memory ------------------------------------------------------------------------------------


def _pair(**config):
    torch.manual_seed(0)
    plain = lightnets.create_model("densenet_bc", depth=22, growth_rate=6, **config)
    efficient = lightnets.create_model(
        "densenet_bc", depth=22, growth_rate=6, memory_efficient=True, **config
    )
    efficient.load_state_dict(plain.state_dict())
    return plain.train(), efficient.train()


def test_memory_efficient_outputs_gradients_and_running_stats_equal_the_plain_model():
    plain, efficient = _pair()
    x = torch.randn(3, 3, 32, 32)
    out_plain, out_efficient = plain(x), efficient(x)
    assert torch.equal(out_plain, out_efficient)
    out_plain.square().sum().backward()
    out_efficient.square().sum().backward()
    for p, q in zip(plain.parameters(), efficient.parameters()):
        assert torch.allclose(p.grad, q.grad, rtol=1e-5, atol=1e-7)
    # The recomputation must not move BatchNorm's running averages a second time.
    for a, b in zip(plain.buffers(), efficient.buffers()):
        assert torch.equal(a, b)


def test_memory_efficient_eval_and_no_grad_are_unchanged():
    plain, efficient = _pair()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(plain.eval()(x), efficient.eval()(x))


def test_memory_efficient_keeps_less_for_backward():
    plain, efficient = _pair()
    assert (
        training_activation_memory(efficient, (2, 3, 32, 32)).kept
        < 0.75 * training_activation_memory(plain, (2, 3, 32, 32)).kept
    )


def test_memory_efficient_rejects_non_bool():
    with pytest.raises(ValueError, match="memory_efficient"):
        lightnets.create_model("densenet_bc", memory_efficient="yes")


def test_training_memory_equals_saved_tensors_minus_weights_buffers_and_input():
    model = lightnets.create_model("densenet_bc", depth=16, growth_rate=4).train()
    x = torch.randn(2, 3, 32, 32)
    saved = {}
    weights = {t.untyped_storage()._cdata for t in [*model.parameters(), *model.buffers(), x]}

    def pack(t):
        if t.untyped_storage()._cdata not in weights:
            saved[t.untyped_storage()._cdata] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(x)
    # What autograd saves on the CPU is what the meta pass keeps, up to a few per-channel vectors
    # that the meta BatchNorm decomposition holds in addition (under 0.1%).
    kept = training_activation_memory(model, (2, 3, 32, 32)).kept
    assert abs(kept - sum(saved.values())) < 1e-3 * sum(saved.values())
    assert out.numel() > 0


# --- feature reuse -------------------------------------------------------------------------------


def test_feature_reuse_reads_the_right_slices():
    model = lightnets.create_model("densenet_bc", depth=16, growth_rate=4)  # n = 2 layers per block
    reuse = feature_reuse(model, 1)
    block = model.features.denseblock1
    assert reuse.shape == (3, 3) and np.isnan(reuse[1, 0]) and np.isnan(reuse[2, 1])
    w = block.denselayer2.conv1.weight.detach().double().abs()
    assert reuse[1, 1] == pytest.approx(w[:, 8:12].mean().item())
    last = feature_reuse(model, 3)
    assert last[0, 2] == pytest.approx(
        model.classifier.weight.detach()
        .double()
        .abs()[:, : model.features.denseblock3.in_channels]
        .mean()
        .item()
    )
    with pytest.raises(ValueError, match="block"):
        feature_reuse(model, 4)


# --- early exits ---------------------------------------------------------------------------------


def test_exit_rule_first_confident_exit_else_last():
    conf = np.array([[0.95, 0.5, 0.5], [0.99, 0.92, 0.5], [0.1, 0.1, 0.1]])
    assert early_exit.exit_points(conf, 0.9).tolist() == [0, 1, 2]
    assert early_exit.exit_points(conf, 0.0).tolist() == [0, 0, 0]
    assert early_exit.exit_points(conf, 1.01).tolist() == [2, 2, 2]


def test_sweep_average_macs_and_accuracy():
    conf = np.array([[0.95, 0.5], [0.99, 0.92], [0.1, 0.1]])
    pred = np.array([[1, 0], [1, 1], [1, 1]])
    rows = early_exit.sweep(
        conf, pred, [1, 0], [10, 20, 30], [0.9]
    )  # image 0 leaves at exit 1, image 1 at 2
    assert (
        rows[0]["mean_macs"] == 15
        and rows[0]["accuracy"] == 0.5
        and rows[0]["share"] == [0.5, 0.5, 0.0]
    )


def test_exit_macs_are_the_single_networks_plus_earlier_heads():
    multi = early_exit.MultiExitDenseNet((2, 2, 2), 4, num_classes=5)
    macs = early_exit.exit_macs(multi)
    heads = [head[-1].in_features * 5 for head in multi.exits]
    for b in (1, 2, 3):
        single = early_exit.MultiExitDenseNet((2, 2, 2)[:b], 4, num_classes=5, early_exits=False)
        assert macs[b - 1] == early_exit.exit_macs(single)[0] + sum(heads[: b - 1])
    plain = lightnets.create_model("densenet_bc", depth=16, growth_rate=4, num_classes=5)
    assert (
        early_exit.exit_macs(early_exit.MultiExitDenseNet((2, 2, 2), 4, 5, early_exits=False))[0]
        == lightnets.profile(plain, (1, 3, 32, 32)).macs
    )


def test_multi_exit_forward_returns_one_logits_per_exit():
    multi = early_exit.MultiExitDenseNet((2, 2, 2), 4, num_classes=5).eval()
    outs = multi(torch.randn(2, 3, 32, 32))
    assert [tuple(o.shape) for o in outs] == [(2, 5)] * 3
    assert torch.allclose(multi(torch.randn(1, 3, 32, 32), up_to=1)[0].sum() * 0, torch.tensor(0.0))
    with pytest.raises(ValueError, match="up_to"):
        multi(torch.randn(1, 3, 32, 32), up_to=4)


@pytest.mark.slow
def test_experiment_script_tiny_budget_writes_provenance_and_resumes(tmp_path):
    argv = [
        "--directory",
        str(tmp_path),
        "--seeds",
        "0",
        "--epochs",
        "1",
        "--train-size",
        "16",
        "--test-size",
        "10",
        "--threads",
        "1",
        "--quiet",
    ]
    results = experiment.main(argv)
    stored = json.loads((tmp_path / "results.json").read_text())
    assert stored["format"] == experiment.RESULTS_FORMAT and stored["command"].endswith("--quiet")
    assert {"torch", "numpy", "python"} <= set(stored["versions"])
    assert [r["name"] for r in stored["runs"]] == list(experiment.NAMES)
    multi = stored["runs"][0]
    assert np.asarray(multi["confidence"]).shape == (3, 10) and len(stored["labels"]) == 10
    path = tmp_path / multi["checkpoint"]
    state = torch.load(path, weights_only=True)
    assert state["format"] == train.CHECKPOINT_FORMAT  # the one checkpoint format
    assert "optimizer" not in state and all(
        v.dtype == torch.float16 for v in state["model"].values() if v.is_floating_point()
    )
    assert not list(tmp_path.glob("checkpoints/*.partial.pt"))
    before = path.stat().st_mtime_ns
    again = experiment.main(argv)  # resumes: finished models are read back, not retrained
    assert path.stat().st_mtime_ns == before
    assert again["runs"][0]["confidence"] == results["runs"][0]["confidence"]


def test_experiment_script_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="--epochs"):
        experiment.main(["--directory", str(tmp_path), "--epochs", "0"])
    with pytest.raises(ValueError, match="name"):
        experiment.build("single4", 5)


def test_saved_results_hold_two_seeds_of_every_model():
    results = experiment.load_results()
    assert len(results["seeds"]) >= 2
    assert {(r["seed"], r["name"]) for r in results["runs"]} == {
        (s, n) for s in results["seeds"] for n in experiment.NAMES
    }


def test_saved_checkpoints_load_in_the_one_checkpoint_format_and_match_the_results():
    results = experiment.load_results()
    for run in results["runs"]:
        path = experiment.DEFAULT_DIRECTORY / run["checkpoint"]
        state = train.load_checkpoint(path)  # the content hash is checked on the way
        assert state["history"][-1]["train_loss"] == run["final_train_loss"], path
        model = experiment.load_trained(path)
        assert sum(p.numel() for p in model.parameters()) == run["params"], path


# --- plots, explorer, exercises ------------------------------------------------------------------


def test_plots_return_what_they_drew():
    import matplotlib.pyplot as plt

    fig, data = plots.feature_reuse_heatmap(
        {"block 1": np.array([[1.0, 2.0], [np.nan, 3.0]])}
    )
    assert data["range"] == (1.0, 3.0)
    sweeps = {0: [{"mean_macs": 2e6, "accuracy": 0.5}, {"mean_macs": 1e6, "accuracy": 0.4}]}
    fig2, drawn = plots.early_exit_curves(sweeps, {0: [(1e6, 0.3)]})
    assert drawn[0]["macs"] == [1.0, 2.0] and drawn[0]["single_accuracy"] == [0.3]
    fig3, shown = plots.exit_examples(
        np.zeros((4, 3, 8, 8)), np.array([0, 1, 0, 1]), [0, 1, 0, 1], ["a", "b"], per_exit=2
    )
    assert shown == {0: [0, 2], 1: [1, 3]}
    fig4, values = plots.memory_bars({"a": 2**20, "b": 2**21})
    assert values == {"a": 1.0, "b": 2.0}
    fig5, curves = plots.cost_vs_growth_depth(
        densenet_bc_cost, (12,), (40, 100), current=(12, 100)
    )
    assert curves["current"][2] == densenet_bc_cost(100, 12).params
    for f in (fig, fig2, fig3, fig4, fig5):
        plt.close(f)


def test_growth_depth_explorer_renders_the_closed_form():
    text = widgets.render_growth_depth(12, 100)
    assert f"{densenet_bc_cost(100, 12).params / 1e6:.3f} M" in text and "Table 2" in text
    box = widgets.growth_depth_widget(12, 100)
    k_slider, depth_slider = box.children[0].children
    depth_slider.value = 40
    assert f"{densenet_bc_cost(40, 12).params / 1e6:.3f} M" in box.children[1].value


def test_lesson07_exercises_accept_their_solutions_and_explain_mistakes():
    assert not lesson07.q1.check(____)
    assert lesson07.q1.check(96)
    assert "k₀" in lesson07.q1.check(72).message
    assert lesson07.q3.check(231) and "230.4" in lesson07.q3.check(230).message
    assert "k = 12" in lesson07.q3.check(87).message
    assert lesson07.q2.check(lesson07._compression_ratio())
    assert "θ" in lesson07.q2.check(0.5).message
    assert lesson07.q4.check(lesson07._exit1_share())
    assert "τ = 0.9" in lesson07.q4.check(lesson07._exit1_share(0.9)).message
    assert math.isclose(lesson07._bottleneck_break_even(), 87)


@pytest.mark.slow
def test_experiment_interrupted_mid_model_resumes_to_the_same_weights(tmp_path, monkeypatch):
    training = {**experiment.TRAINING, "train_size": 16, "epochs": 2}
    train_set, _ = experiment.datasets(0, {**training, "test_size": 4})
    experiment.train_model("single1", 0, tmp_path / "whole", train_set, training, experiment.MODEL)
    saves = []
    real_save = train.save_checkpoint

    def interrupted(path, state):
        real_save(path, state)
        saves.append(path)
        raise KeyboardInterrupt  # killed right after the first epoch was saved

    monkeypatch.setattr(train, "save_checkpoint", interrupted)
    with pytest.raises(KeyboardInterrupt):
        experiment.train_model("single1", 0, tmp_path / "cut", train_set, training, experiment.MODEL)
    assert saves[0].name.endswith(".partial.pt")
    monkeypatch.setattr(train, "save_checkpoint", real_save)
    experiment.train_model("single1", 0, tmp_path / "cut", train_set, training, experiment.MODEL)
    whole = experiment.load_state(tmp_path / "whole" / "checkpoints" / "seed0_single1.pt")
    resumed = experiment.load_state(tmp_path / "cut" / "checkpoints" / "seed0_single1.pt")
    assert all(torch.equal(whole["model"][k], resumed["model"][k]) for k in whole["model"])
    with pytest.raises(ValueError, match="--epochs"):
        experiment.train_model(
            "single1", 0, tmp_path / "cut", train_set, {**training, "epochs": 3}, experiment.MODEL
        )


def test_train_model_is_the_loop_the_committed_results_were_trained_with():
    """The committed early-exit run was trained by a loop of its own, before lightnets.train ran
    it; that loop, written out here, and train_model give the same losses and weights."""
    from lightnets.train import learning_rate

    training = {**experiment.TRAINING, "train_size": 100, "epochs": 2}  # 64 + a short batch of 36
    train_set, _ = experiment.datasets(1, {**training, "test_size": 4})
    lightnets.seed_everything(1)
    model = experiment.build("multi", len(train_set.class_names))
    opt = torch.optim.AdamW(model.parameters(), lr=training["lr"],
                            weight_decay=training["weight_decay"])
    batch, steps = training["batch_size"], math.ceil(100 / training["batch_size"])
    total, warmup = 2 * steps, round(training["warmup_epochs"] * steps)
    images, labels = train_set.batch(range(100))[:2]
    losses = []
    for epoch in range(2):
        order = torch.randperm(100, generator=torch.Generator().manual_seed(1 * 1009 + epoch))
        loss_sum = 0.0
        for step, start in enumerate(range(0, 100, batch), start=epoch * steps):
            for group in opt.param_groups:
                group["lr"] = learning_rate(step, total, training["lr"], warmup)
            index = order[start:start + batch]
            loss = experiment.exit_loss(model(images[index]), labels[index])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(index)
        losses.append(loss_sum / 100)
    with tempfile.TemporaryDirectory() as directory:
        history = experiment.train_model("multi", 1, Path(directory), train_set, training,
                                         experiment.MODEL)
        trained = experiment.load_state(Path(directory) / "checkpoints" / "seed1_multi.pt")
    assert [row["train_loss"] for row in history] == losses
    assert all(torch.equal(trained["model"][k], v.half() if v.is_floating_point() else v)
               for k, v in model.state_dict().items())
