"""The scaling experiment's machinery on a tiny budget (seconds): the real run is
``python -m lightnets.experiments.scaling``; its results live in lightnets/experiments/results/scaling."""

import pytest
import torch

from lightnets import scaling
from lightnets.experiments import scaling as experiment
from lightnets.experiments import scaling_cams

TINY = {"train_size": 8, "val_size": 8, "epochs": 1, "batch_size": 8}


def test_experiment_every_kind_doubles_predicted_flops_per_step():
    for alpha, beta, gamma in list(experiment.SINGLE.values()) + list(experiment.GRID[1:]):
        assert scaling.constraint(alpha, beta, gamma) == pytest.approx(2.0)
    assert scaling.constraint(*experiment.GRID[0]) == pytest.approx(1.92, abs=1e-3)  # the paper's own


def test_experiment_single_dimension_runs_scale_one_dimension_each():
    runs = {run.name: run for run in experiment.single_dimension_runs((1, 2))}
    base = runs["base"]
    assert (base.width_mult, base.depth_mult, base.resolution) == (0.25, 0.25, 32)
    depth = runs["depth_phi2"]
    assert (depth.depth_mult, depth.width_mult, depth.resolution) == (1.0, 0.25, 32)
    assert runs["width_phi2"].width_mult == pytest.approx(0.5) and runs["width_phi2"].resolution == 32
    assert runs["resolution_phi1"].resolution == 45 and runs["resolution_phi2"].resolution == 64


@pytest.fixture(scope="module")
def tiny_results(tmp_path_factory):
    directory = tmp_path_factory.mktemp("scaling")
    results = experiment.run_experiment(directory, training=TINY, phis=(1,), grid=experiment.GRID[:2],
                                        search_phi=1, progress=False)
    return directory, results


@pytest.mark.slow
def test_experiment_writes_command_seed_versions_and_one_row_per_run(tiny_results):
    directory, results = tiny_results
    stored = experiment.load_results(directory)
    assert stored["command"].startswith("python -m lightnets.experiments.scaling")
    assert stored["seed"] == 0 and stored["versions"]["torch"] == str(torch.__version__)
    names = [row["name"] for row in stored["runs"]]
    assert names == ["base", "depth_phi1", "width_phi1", "resolution_phi1", "grid0_phi1", "grid1_phi1",
                     "compound_phi1"]
    best = max(stored["runs"][4:6], key=lambda row: row["val_accuracy"])
    assert stored["best"] == [best["alpha"], best["beta"], best["gamma"]]
    for row in stored["runs"]:
        assert 0 <= row["val_accuracy"] <= 1 and row["macs"] > 0
        assert (directory / row["checkpoint"]).exists()
    assert not list(directory.glob("checkpoints/*.partial.pt"))


@pytest.mark.slow
def test_experiment_checkpoints_hold_no_optimizer_and_load_weights_only(tiny_results):
    directory, _ = tiny_results
    state = torch.load(directory / "checkpoints" / "base.pt", weights_only=True)
    assert "optimizer" not in state and state["model_name"] == "efficientnet"
    assert all(t.dtype in (torch.float16, torch.int64) for t in state["model"].values())


@pytest.mark.slow
def test_experiment_resumes_without_retraining_finished_runs(tiny_results):
    directory, first = tiny_results
    stamps = {p.name: p.stat().st_mtime_ns for p in directory.glob("checkpoints/*.pt")}
    again = experiment.run_experiment(directory, training=TINY, phis=(1,), grid=experiment.GRID[:2],
                                      search_phi=1, progress=False)
    assert {p.name: p.stat().st_mtime_ns for p in directory.glob("checkpoints/*.pt")} == stamps
    assert [r["val_accuracy"] for r in again["runs"]] == [r["val_accuracy"] for r in first["runs"]]


@pytest.mark.slow
def test_experiment_macs_in_results_equal_profile_of_the_loaded_models(tiny_results):
    import lightnets

    directory, _ = tiny_results
    models = scaling_cams.load_scaled_models(directory)
    assert set(models) == {"depth", "width", "resolution", "compound"}
    for kind, (model, row) in models.items():
        assert not model.training and row["kind"] == kind and row["phi"] == 1
        side = row["resolution"]
        assert lightnets.profile(model, (1, 3, side, side)).macs == row["macs"]


@pytest.mark.slow
def test_experiment_curves_start_at_the_base(tiny_results):
    _, results = tiny_results
    for kind, rows in experiment.curves(results).items():
        assert rows[0]["kind"] == "base" and rows[-1]["kind"] == kind


@pytest.mark.slow
def test_experiment_run_live_subset_trains_base_and_each_kind(tmp_path):
    rows = experiment.run_live(tmp_path, phi=1, training=TINY)
    assert [row["kind"] for row in rows] == ["base", "depth", "width", "resolution", "compound"]
    assert all(0 <= row["val_accuracy"] <= 1 for row in rows)


@pytest.mark.slow
def test_experiment_load_scaled_models_names_a_missing_phi(tiny_results):
    directory, _ = tiny_results
    with pytest.raises(ValueError, match="phi"):
        scaling_cams.load_scaled_models(directory, phi=3)


def test_experiment_committed_results_hold_all_runs_and_load_scaled_models_at_phi_2():
    results = experiment.load_results()
    names = {row["name"] for row in results["runs"]}
    assert {"base", "compound_phi1", "compound_phi2"} <= names
    assert {f"{kind}_phi{phi}" for kind in ("depth", "width", "resolution") for phi in (1, 2)} <= names
    models = scaling_cams.load_scaled_models()
    assert set(models) == {"depth", "width", "resolution", "compound"}
    for kind, (model, row) in models.items():
        assert row["phi"] == 2 and model.resolution == row["resolution"]
        assert sum(p.numel() for p in model.parameters()) == row["params"]
        side = row["resolution"]
        assert model(torch.zeros(1, 3, side, side)).shape == (1, 4)


def test_plots_accuracy_vs_macs_draws_each_curve_from_the_results():
    import matplotlib.pyplot as plt

    from lightnets import plots

    results = experiment.load_results()
    fig, data = plots.accuracy_vs_macs(experiment.curves(results))
    plt.close(fig)
    for kind, series in data.items():
        assert series["name"][0] == "base" and series["macs"] == sorted(series["macs"])


@pytest.mark.slow
def test_experiment_fig7_scaled_cams_share_scenes_and_score_the_pointing_game():
    import matplotlib.pyplot as plt

    from lightnets import plots

    cams = scaling_cams.scaled_cams(scaling_cams.load_scaled_models(), num_images=8)
    assert cams["images"].shape == (8, 3, 64, 64) and cams["masks"].shape == (8, 64, 64)
    for kind in experiment.KINDS:
        assert cams[kind]["maps"].shape == (8, 64, 64)
        assert float(cams[kind]["maps"].amax()) == pytest.approx(1.0)
        assert 0 <= cams[kind]["pointing"] <= 1
    fig, data = plots.cam_grid(cams["images"][:2], {kind: cams[kind]["maps"][:2] for kind in experiment.KINDS})
    plt.close(fig)
    assert data["titles"] == list(experiment.KINDS)


def test_experiment_coarse_task_draws_stripes_that_32_px_resolve():
    datasets = experiment.Datasets(4, 4, seed=0, task="coarse")
    assert datasets.data == experiment.COARSE_DATA and min(datasets.data["period"]) * 32 >= 4
    train, val = datasets(32)
    assert len(train) == 4 and len(val) == 4 and train.class_names == val.class_names
    with pytest.raises(ValueError, match="task"):
        experiment.Datasets(4, 4, seed=0, task="imagenet")


def test_experiment_cli_rejects_an_unknown_task():
    with pytest.raises(SystemExit):
        experiment.main(["--task", "imagenet"])


def test_experiment_seed_summary_means_each_run_over_the_coarse_seeds_with_an_interval():
    import statistics

    import matplotlib.pyplot as plt

    from lightnets import plots

    seeds = [experiment.load_results(experiment.DEFAULT_DIRECTORY.parent / f"scaling_coarse_seed{s}")
             for s in (0, 1, 2)]
    summary = experiment.seed_summary(seeds)
    assert summary["seeds"] == [0, 1, 2] and summary["task"] == "coarse"
    base = summary["runs"][0]
    values = [s["runs"][0]["val_accuracy"] for s in seeds]
    assert base["val_accuracy"] == pytest.approx(statistics.mean(values))
    assert base["half_width"] == pytest.approx(4.302653 * statistics.stdev(values) / 3 ** 0.5, rel=1e-5)
    fig, data = plots.accuracy_vs_macs(experiment.curves(summary), title="coarse")
    plt.close(fig)
    assert all(h is not None for h in data["resolution"]["half_width"])
    with pytest.raises(ValueError, match="2 seeds"):
        experiment.seed_summary(seeds[:1])


def test_layer_at_grid_finds_the_deepest_block_of_that_side_and_names_a_missing_one():
    from lightnets import create_model
    from lightnets.experiments.scaling_cams import layer_at_grid

    model = create_model("efficientnet", width_mult=0.25, depth_mult=0.25, resolution=64,
                         num_classes=4)
    assert layer_at_grid(model, 64, 4) == "features.5"  # stride 16: 64 px → 4×4
    assert layer_at_grid(model, 32, 4) == "features.3"  # stride 8: 32 px → 4×4
    with pytest.raises(ValueError, match="no block .* 3×3"):
        layer_at_grid(model, 64, 3)
    with pytest.raises(ValueError, match="grid"):
        layer_at_grid(model, 64, 0)
