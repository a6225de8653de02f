"""Lesson 08's machinery: connectivity, SqueezeNet's design space, the ShuffleNet V2 guideline
networks, saved results with provenance, the Pareto front, the latency benchmark, the exercises."""
import importlib.util
import os

import matplotlib
import pytest

matplotlib.use("Agg")

import lightnets  # noqa: E402
from lightnets import plots  # noqa: E402
from lightnets.exercises import lesson08  # noqa: E402
from lightnets.experiments import shufflenet_guidelines as guidelines  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_shufflenet_v1_fig1_groups_stay_walled_off_without_shuffle():
    walled = plots.connectivity(12, 3, shuffle=False)
    assert walled.sum() == 3 * 4 * 4  # three 4×4 diagonal blocks
    assert walled[:4, :4].all() and not walled[:4, 4:].any()


def test_shufflenet_v1_fig1_shuffle_connects_every_input_to_every_output():
    assert plots.connectivity(12, 3, shuffle=True).all()


def test_squeezenet_variant_at_table_1_metaparameters_is_squeezenet1_0():
    variant = plots.squeezenet_variant(0.125, 0.5)
    assert sum(p.numel() for p in variant.parameters()) == 1_248_424  # Table 1 total


@pytest.mark.slow
def test_squeezenet_design_space_costs_grow_with_both_ratios():
    _, data = plots.squeezenet_sweeps((0.125, 0.25), (0.25, 0.5))
    assert data["sr_params_m"][0] < data["sr_params_m"][1]
    assert data["pct_macs_m"][0] < data["pct_macs_m"][1]


def test_squeezenet1_0_spends_most_macs_before_the_last_pool():
    blocks = plots.macs_by_block(lightnets.create_model("squeezenet1_0"))
    total = sum(b["macs"] for b in blocks.values())
    assert 0.8e9 < total < 0.83e9  # ~0.82 G MACs at 224 px with 1.25 M parameters
    assert sum(b["macs"] for b in blocks.values() if b["side"] >= 27) > 0.8 * total


@pytest.mark.parametrize("guideline", ["G1", "G2", "G3", "G4"])
def test_each_guidelines_variants_have_equal_macs_within_6_percent(guideline):
    macs = guidelines.exact_costs()["macs"][guideline]
    assert max(macs.values()) / min(macs.values()) < 1.06
    assert list(macs) == guidelines.PAPER[guideline]["variants"]


def test_g1_memory_access_cost_is_smallest_at_equal_widths_and_g2_grows_with_groups():
    cost = guidelines.exact_costs()["memory_access_cost"]
    assert cost["G1"] == sorted(cost["G1"])  # 1:1, 1:2, 1:6, 1:12
    assert cost["G2"] == sorted(cost["G2"])  # g = 1, 2, 4, 8
    # Ma et al. eq. (1): MAC = hw(c1 + c2) + c1·c2 for a 1×1 conv
    assert guidelines.memory_access_cost(56, 56, 128, 128) == 56 * 56 * 256 + 128 * 128


def test_guideline_timing_runs_interleaved_rounds_and_summarises_them():
    out = guidelines.run("cpu", 1, repeats=2, runs=1, warmup=0, guidelines=("G4",))
    times = out["G4"]["times_ms"]
    assert all(len(t) == 2 for t in times.values())
    assert out["G4"]["summary"]["ReLU + shortcut"]["relative"] == (1.0, 0.0)


def test_saved_guideline_results_carry_their_provenance():
    result = plots.load_result("shufflenet_guidelines")
    for key in ("command", "versions", "cpu", "threads", "repeats", "runs", "paper"):
        assert key in result
    assert "gpu_batch8" in result or result["gpu_skipped"].startswith("no CUDA device")
    _, data = plots.guideline_panels(result)
    assert data["G1"]["ours"][0] == 1.0 and data["G1"]["paper_gpu"][0] == 1.0


def test_saved_latency_benchmark_has_all_five_models_at_batch_1_and_8():
    bench = plots.load_result("latency_benchmark")
    assert {(r["model"], r["batch"]) for r in bench["rows"]} == {
        (m, b) for m in ("mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0",
                         "shufflenet_v2_x1_0", "squeezenet1_1") for b in (1, 8)}
    assert bench["versions"]["torch"] and bench["cpu"] and bench["command"]


def test_pareto_front_keeps_only_undominated_points():
    points = [(1, 60), (2, 70), (3, 65), (4, 80), (2, 70)]
    assert plots.pareto_front(points) == [0, 1, 3, 4]  # (3, 65) loses to (2, 70)


def test_latency_benchmark_runs_without_torchvision_columns_when_absent():
    spec = importlib.util.spec_from_file_location("latency", os.path.join(ROOT, "benchmarks",
                                                                          "latency.py"))
    latency = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(latency)
    rows = latency.run(("squeezenet1_1",), (1,), resolution=32, repeats=2, runs=1, warmup=0)
    assert rows[0]["time"]["ours eager"][0] > 0
    assert "ours deployed" in rows[0]["time"]


@pytest.mark.parametrize("name", ["q1", "q2", "q3", "q4", "q5", "q6"])
def test_lesson08_exercises_reject_the_placeholder_and_name_a_known_mistake(name):
    question = getattr(lesson08, name)
    assert question.check(lightnets.exercises.____).status == "unanswered"
    assert not question.check(-1)


def test_lesson08_known_mistakes_get_their_explanation():
    assert "divide by g" in lesson08.q1.check(480 * 120 * 14 * 14).message
    assert "bias" in lesson08.q2.check(11_920 - 144).message
    assert "g = 2" in lesson08.q3.check((0, 3, 1, 4, 2, 5)).message
    assert "not its own inverse" in lesson08.q4.check(2).message
    assert lesson08.q4.check(5.0)  # a float is a reasonable form of the count
    assert "bias" in lesson08.q5.check(2 * sum(
        m.num_features for m in lightnets.create_model("mobilenet_v3_small").modules()
        if m.__class__.__name__ == "BatchNorm2d")).message
    assert "64 channels" in lesson08.q6.check(341_248).message  # SqueezeNet 1.0's bypasses
    assert "bias" in lesson08.q6.check(335_872).message


def test_guideline_run_takes_smaller_sizes_and_keeps_equal_macs_across_variants():
    built = guidelines.networks(blocks=2)
    for variants in built.values():
        macs = [lightnets.profile(net, (1, c, 16, 16)).macs for net, c in variants.values()]
        assert max(macs) / min(macs) < 1.06
    out = guidelines.run("cpu", 1, repeats=1, runs=1, warmup=0, guidelines=("G2",), side=8,
                         blocks=1)
    assert set(out) == {"G2"} and len(out["G2"]["times_ms"]["g=8"]) == 1


@pytest.mark.parametrize("kwargs, match", [({"side": 0}, "side"), ({"blocks": 0}, "blocks"),
                                           ({"guidelines": ("G5",)}, "guidelines")])
def test_guideline_run_rejects_bad_knobs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        guidelines.run("cpu", 1, repeats=1, runs=1, warmup=0, **kwargs)


def test_lesson08_xception_tables_are_data_and_match_our_count():
    from lightnets.models.xception import TABLE_1, TABLE_3_PARAMETERS
    assert TABLE_1["Xception"][0] > TABLE_1["Inception V3"][0]  # 0.790 > 0.782, Table 1
    assert sum(p.numel() for p in lightnets.create_model("xception").parameters()) \
        == TABLE_3_PARAMETERS["Xception"] == 22_855_952  # Table 3, arXiv:1610.02357v3
