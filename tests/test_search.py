"""lightnets.search: MnasNet's reward and search space, NetAdapt's proposal step, and the toy
NetAdapt loop's reproducibility from its seed (given the latency table)."""
import copy

import pytest
import torch

import lightnets
from lightnets import search
from lightnets.experiments import netadapt


def test_mnasnet_a1_from_the_search_space_matches_table_1():
    # MnasNet Table 1: MnasNet-A1 has 3.9 M parameters and 312 M multiply-adds.
    cost = lightnets.profile(search.build_network(search.MNASNET_A1))
    assert round(cost.params / 1e6, 1) == 3.9
    assert round(cost.macs / 1e6) == 312


def test_soft_reward_equals_accuracy_at_the_target_and_falls_beyond_it():
    assert search.reward(0.7, 75.0, 75.0) == pytest.approx(0.7)
    assert search.reward(0.7, 90.0, 75.0) < 0.7 < search.reward(0.7, 60.0, 75.0)


def test_hard_reward_ignores_latency_below_the_target():
    alpha, beta = search.HARD_CONSTRAINT
    assert search.reward(0.7, 40.0, 75.0, alpha, beta) == 0.7
    assert search.reward(0.7, 150.0, 75.0, alpha, beta) == pytest.approx(0.35)


def test_doubling_latency_costs_about_five_percent_relative_accuracy():
    # MnasNet §3: w = −0.07 because doubling the latency brings about 5% relative accuracy.
    assert search.equal_reward_accuracy(1.0, 2.0, -0.07) == pytest.approx(1.05, abs=0.001)


@pytest.mark.parametrize("call, argument", [
    (lambda: search.reward(1.5, 10.0, 10.0), "accuracy"),
    (lambda: search.reward(0.5, -1.0, 10.0), "latency"),
    (lambda: search.reward(0.5, 1.0, 0.0), "target"),
    (lambda: search.sample_architecture(-1), "seed"),
    (lambda: search.best_ratio([]), "proposals"),
])
def test_bad_input_names_the_argument(call, argument):
    with pytest.raises(ValueError, match=argument):
        call()


def test_sampled_architectures_repeat_from_their_seed_and_stay_in_the_space():
    first, again = search.sample_architecture(3), search.sample_architecture(3)
    assert first == again and first != search.sample_architecture(4)
    for block, reference in zip(first, search.MOBILENET_V2_BLOCKS):
        assert block.conv_op in search.SEARCH_SPACE["conv_op"]
        assert block.layers - reference.layers in search.SEARCH_SPACE["layers_delta"] or block.layers == 1
    logits = search.build_network(first, num_classes=7).eval()(torch.randn(2, 3, 64, 64))
    assert logits.shape == (2, 7)


def test_pruned_block_equals_the_original_when_the_cut_channels_were_unused():
    torch.manual_seed(0)
    block = search.InvertedResidual(16, 16, 96).eval()
    pruned = search.prune_expansion(block, 40)  # keeps the 40 filters of largest norm
    norms = block.block[0][0].weight.detach().flatten(1).norm(dim=1)
    keep = sorted(range(96), key=lambda i: (-float(norms[i]), i))[:40]
    with torch.no_grad():
        mask = torch.zeros(96)
        mask[keep] = 1
        block.block[2][0].weight.mul_(mask[None, :, None, None])
    x = torch.randn(2, 16, 8, 8)
    torch.testing.assert_close(pruned.eval()(x), block(x))
    assert search.expansion_width(pruned) == 40


def test_proposal_width_is_the_widest_that_saves_the_budget():
    column = {8: 1.0, 16: 2.0, 24: 3.0, 32: 4.0}
    assert search.proposal_width(column, 32, 4.0, 1.5) == 16
    assert search.proposal_width(column, 16, 2.0, 5.0) is None


def test_best_ratio_maximises_accuracy_lost_per_latency_saved():
    proposals = [{"delta_accuracy": -0.01, "delta_latency": -1.0},
                 {"delta_accuracy": -0.03, "delta_latency": -9.0}]
    assert search.best_ratio(proposals) is proposals[1]


@pytest.mark.slow
def test_netadapt_repeats_step_for_step_from_its_seed(monkeypatch):
    monkeypatch.setattr(netadapt, "DATA", {"train": 60, "holdout": 30, "test": 30})
    monkeypatch.setattr(netadapt, "TRAINING", {**netadapt.TRAINING, "short_epochs": 1})
    monkeypatch.setattr(netadapt, "SEARCH", {**netadapt.SEARCH, "target_fraction": 0.85})
    train_set, holdout, _ = netadapt.datasets(0)
    model = netadapt.seed_network(len(train_set.class_names))
    # A synthetic table (latency proportional to width) stands in for the measured one.
    widths = netadapt._widths(model)
    table = {"rest_ms": 1.0, "blocks": {
        name: {str(w): {"median_ms": w / 100} for w in range(8, full + 1, 8)
               if w != model.get_submodule(name).in_channels}
        for name, full in widths.items()}}
    runs = [netadapt.netadapt(copy.deepcopy(model), table, train_set, holdout, seed=0,
                              progress=False) for _ in range(2)]
    paths = [[(s["chosen"], s["widths"], s["holdout_accuracy"]) for s in r["path"]] for r in runs]
    assert paths[0] == paths[1] and len(paths[0]) > 1
    assert runs[0]["path"][-1]["latency_ms"] <= runs[0]["target_ms"]
    for before, after in zip(runs[0]["path"], runs[0]["path"][1:]):
        assert before["latency_ms"] - after["latency_ms"] >= runs[0]["delta_ms"] - 1e-9


def test_lesson_09_figures_draw_the_data_they_return():
    from lightnets import plots

    _, curves = plots.reward_curves(accuracy=0.6, target_ms=50.0, latencies_ms=(25.0, 50.0))
    assert all(values[1] == pytest.approx(0.6) for values in curves["reward"].values())
    points = [{"name": "a", "kind": "sample", "macs": 2e6, "median_ms": 1.0, "iqr_ms": 0.1},
              {"name": "b", "kind": "reference", "macs": 3e6, "median_ms": 2.0, "iqr_ms": 0.2}]
    _, plane = plots.search_plane(points)
    assert plane["name"] == ["a", "b"] and plane["macs_millions"] == [2.0, 3.0]
