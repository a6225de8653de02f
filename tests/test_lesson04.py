"""What lesson 04 (compound scaling) relies on beyond its own claims: the live experiment's knobs,
the figure that sets it beside the saved run, and the plan costing that stands in for building
EfficientNet-Lite models in the notebook."""
import pytest

import lightnets
import lightnets.plots
from lightnets.cost import cost_plan, mbconv_network_plan
from lightnets.experiments import scaling as experiment
from lightnets.models.efficientnet import LITE_VARIANTS, efficientnet_lite_plan
from lightnets.plots.scaling import live_beside_saved

TINY = {"train_size": 8, "val_size": 8, "epochs": 1, "batch_size": 8}


def test_run_live_trains_the_base_and_only_the_kinds_asked_for(tmp_path):
    rows = experiment.run_live(tmp_path, phi=1, training=TINY, kinds=("resolution",))
    assert [row["name"] for row in rows] == ["base", "resolution_phi1"]
    assert [row["resolution"] for row in rows] == [32, 45]


def test_run_live_networks_are_the_saved_runs_networks(tmp_path):
    saved = {row["name"]: row for row in experiment.load_results()["runs"]}
    rows = experiment.run_live(tmp_path, phi=1, training=TINY, kinds=("width", "compound"),
                               coefficients=tuple(experiment.load_results()["best"]))
    assert [row["name"] for row in rows] == ["base", "width_phi1", "compound_phi1"]
    for row in rows:
        assert (row["macs"], row["params"], row["resolution"]) == (
            saved[row["name"]]["macs"], saved[row["name"]]["params"],
            saved[row["name"]]["resolution"])


def test_run_live_coarse_task_draws_coarse_stripes(tmp_path, monkeypatch):
    seen = []
    original = experiment.Datasets.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        seen.append(self.task)

    monkeypatch.setattr(experiment.Datasets, "__init__", spy)
    experiment.run_live(tmp_path, training=TINY, kinds=(), task="coarse")
    assert seen == ["coarse"]


@pytest.mark.parametrize("kinds, task", [(("height",), "stripes"), (("depth",), "fine")])
def test_run_live_names_a_bad_kind_or_task(tmp_path, kinds, task):
    with pytest.raises(ValueError, match="kinds|task"):
        experiment.run_live(tmp_path, training=TINY, kinds=kinds, task=task)


def test_live_beside_saved_draws_one_pair_of_bars_per_live_run_and_names_a_missing_one():
    import matplotlib.pyplot as plt

    live = [{"name": "base", "val_accuracy": 0.3}, {"name": "width_phi1", "val_accuracy": 0.4}]
    saved = [{"name": "base", "val_accuracy": 0.45}, {"name": "width_phi1", "val_accuracy": 0.66},
             {"name": "depth_phi1", "val_accuracy": 0.55}]
    fig, data = live_beside_saved(live, saved, chance=0.25)
    assert data == {"name": ["base", "width_phi1"], "live": [0.3, 0.4], "saved": [0.45, 0.66]}
    assert len(fig.axes[0].patches) == 4
    plt.close(fig)
    with pytest.raises(ValueError, match="compound_phi1"):
        live_beside_saved([{"name": "compound_phi1", "val_accuracy": 0.5}], saved)


@pytest.mark.parametrize("name", ["lite0", "lite4"])
def test_lite_plan_cost_equals_profile_of_the_built_model(name):
    # Lesson 04 costs Lite0-Lite4 from their plans instead of building them: the two must agree.
    v = LITE_VARIANTS[name]
    plan = efficientnet_lite_plan(v.width_mult, v.depth_mult)
    planned = cost_plan(mbconv_network_plan(plan.stem_channels, plan.blocks, plan.head_channels,
                                            1000), v.resolution)
    built = lightnets.profile(lightnets.create_model(f"efficientnet_{name}"),
                              (1, 3, v.resolution, v.resolution))
    assert (planned.macs, planned.params) == (built.macs, built.params)


def test_live_beside_saved_reads_at_its_size_with_a_title_and_no_overlapping_text():
    # The checks tests/test_figures.py applies to every lesson figure, on the figure lesson 04
    # draws for its live run (the saved run's own rows beside a live run of the same names).
    import matplotlib.pyplot as plt
    from test_figures import overlaps

    saved = experiment.load_results()["runs"]
    live = [{**row, "val_accuracy": 0.25} for row in saved if row["name"] in
            ("base", "depth_phi1", "width_phi1", "resolution_phi1", "compound_phi1")]
    fig, _ = lightnets.plots.live_beside_saved(live, saved, chance=0.25)
    try:
        width, height = fig.get_size_inches() * fig.dpi
        assert 300 <= width <= 1200 and 150 <= height <= 1200, (width, height)
        assert fig.axes[0].get_title().strip()
        assert not overlaps(fig)
    finally:
        plt.close(fig)
