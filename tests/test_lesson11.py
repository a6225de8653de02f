"""Lesson 11's live run and exercises: the small TabTransformer experiment takes named knobs and
goes through the saved experiment's own fit and scoring; the new exercises name their mistakes."""
import pytest

import lightnets
from lightnets.exercises import lesson11
from lightnets.experiments import tab_transformer as experiment


def test_quick_run_trains_both_models_with_the_experiments_fit_and_scores_test_auc():
    out = experiment.quick_run(seed=0, epochs=1, num_layers=1, train_rows=200, embedding_dim=8)
    assert set(out) == {"tab_transformer", "tab_mlp"}
    for run in out.values():
        assert len(run["history"]) == 1 and set(run["history"][0]) == {"epoch", "train_loss",
                                                                        "val_auc"}
        assert 0.0 <= run["test_auc"] <= 1.0


@pytest.mark.parametrize("kwargs, match", [({"num_layers": 0}, "num_layers"),
                                           ({"train_rows": 1}, "train_rows"),
                                           ({"models": ("xgboost",)}, "models"),
                                           ({"epochs": 0}, "epochs")])
def test_quick_run_rejects_bad_knobs_naming_them(kwargs, match):
    with pytest.raises(ValueError, match=match):
        experiment.quick_run(**kwargs)


def test_lesson11_q4_counts_one_transformer_layer_as_12d2_plus_13d():
    d = 32
    assert lesson11.q4.check(12 * d * d + 13 * d)
    assert "13d" in lesson11.q4.check(12 * d * d).message
    assert "4d" in lesson11.q4.check(lesson11._layer_params(feed_forward=1)).message


def test_lesson11_q5_is_the_live_models_count_and_names_the_usual_slips():
    live = lightnets.create_model("tab_transformer", num_layers=2)
    assert lesson11.q5.check(sum(p.numel() for p in live.parameters()))
    six = sum(p.numel() for p in lightnets.create_model("tab_transformer").parameters())
    assert "N = 6" in lesson11.q5.check(six).message
    assert "four go" in lesson11.q5.check(six - 2 * lesson11._layer_params()).message
