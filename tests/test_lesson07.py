"""Lesson 07's live pieces: the k/L explorer draws its figure, and the early-exit experiment runs
small with the lesson's knobs (the same code path as the saved full run)."""
from __future__ import annotations

import pytest

from lightnets import widgets
from lightnets.experiments import early_exit as experiment
from lightnets.widgets._wire import png_size
from lightnets.widgets.densenet import render_growth_depth_plot


def test_growth_depth_explorer_draws_the_cost_curves_and_redraws_on_a_move():
    box = widgets.growth_depth_widget(12, 100)
    image = box.children[2]
    assert image.value == render_growth_depth_plot(12, 100)
    assert png_size(image.value) == (760, 290)
    box.children[0].children[0].value = 40
    assert image.value == render_growth_depth_plot(40, 100) != render_growth_depth_plot(12, 100)


def test_early_exit_experiment_runs_small_on_other_data_with_the_multi_exit_model_only(tmp_path):
    results = experiment.run_experiment(
        tmp_path, seeds=(0,), training={"train_size": 8, "test_size": 6, "epochs": 1},
        model={"block_layers": (1, 1, 1), "growth_rate": 4},
        data={"resolution": 16, "clutter": 0.2}, names=("multi",), progress=False)
    assert [(r["seed"], r["name"]) for r in results["runs"]] == [(0, "multi")]
    assert results["data"]["resolution"] == 16 and results["data"]["clutter"] == 0.2
    run = results["runs"][0]
    assert len(run["exit_macs"]) == 3 and len(run["confidence"][0]) == 6
    # a 16 px input costs about a quarter of a 32 px one
    full = experiment.run_experiment(
        tmp_path / "32", seeds=(0,), training={"train_size": 8, "test_size": 6, "epochs": 1},
        model={"block_layers": (1, 1, 1), "growth_rate": 4}, names=("multi",), progress=False)
    assert 3.5 < full["runs"][0]["exit_macs"][-1] / run["exit_macs"][-1] < 4.5


@pytest.mark.parametrize("names", [(), ("multi", "single9"), ("all",)])
def test_early_exit_experiment_rejects_unknown_model_names(tmp_path, names):
    with pytest.raises(ValueError, match="names must be"):
        experiment.run_experiment(tmp_path, names=names, progress=False)
