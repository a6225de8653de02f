"""TabTransformer (Huang et al. 2020): the column embedding of §2, the paper's sizes (§3, Setup),
parameter counts by formula, the credit_data loader, and bad input."""
import json

import numpy as np
import pytest
import torch

import lightnets
from lightnets import tabular
from lightnets.models import tab_transformer as tt

CATEGORIES = (3, 5, 2)


def _batch(n=4, categories=CATEGORIES, c=2):
    generator = torch.Generator().manual_seed(0)
    columns = [torch.randint(0, d + 1, (n,), generator=generator) for d in categories]
    x_categ = torch.stack(columns, 1)
    return x_categ, torch.randn(n, c, generator=generator)


def test_tab_transformer_is_registered_as_its_own_family():
    assert lightnets.list_models("tab_transformer") == ["tab_mlp", "tab_transformer"]
    model = lightnets.create_model("tab_transformer", categories=CATEGORIES, num_continuous=2)
    assert model.model_name == "tab_transformer"


def test_forward_gives_one_logit_per_class_and_row():
    model = lightnets.create_model("tab_transformer", categories=CATEGORIES, num_continuous=2,
                                   num_classes=3)
    x_categ, x_cont = _batch(5)
    assert model(x_categ, x_cont).shape == (5, 3)
    h = model.contextual_embeddings(x_categ)
    assert len(h) == 1 + 6  # E_φ(x_cat), then one output per layer: N = 6 (§3, Setup)
    assert all(layer.shape == (5, len(CATEGORIES), 32) for layer in h)


def test_paper_defaults_section_3_setup():
    assert tt.PAPER_DEFAULTS.embedding_dim == 32 and tt.PAPER_DEFAULTS.num_layers == 6
    assert tt.PAPER_DEFAULTS.num_heads == 8 and tt.PAPER_DEFAULTS.mlp_hidden_mults == (4, 2)
    model = lightnets.create_model("tab_transformer", categories=CATEGORIES, num_continuous=2)
    width = 32 * len(CATEGORIES) + 2  # l = d·m + c
    linears = [m for m in model.mlp if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [
        (width, 4 * width), (4 * width, 2 * width), (2 * width, 2)]
    layer = model.transformer[0]
    assert layer.self_attn.num_heads == 8 and layer.linear1.out_features == 4 * 32


def test_column_embedding_table_has_d_i_plus_one_rows_with_missing_first():
    embedding = tt.ColumnEmbedding(CATEGORIES, 32, shared=1 / 8)
    assert [e.num_embeddings for e in embedding.classes] == [d + 1 for d in CATEGORIES]
    x = torch.zeros(1, len(CATEGORIES), dtype=torch.long)  # every value missing
    out = embedding(x)
    for i in range(len(CATEGORIES)):
        expected = torch.cat([embedding.column_ids[i], embedding.classes[i].weight[0]])
        assert torch.equal(out[0, i], expected)


def test_missing_mean_is_the_average_class_embedding():
    embedding = tt.ColumnEmbedding(CATEGORIES, 16, shared=1 / 4, missing="mean")
    out = embedding(torch.zeros(1, len(CATEGORIES), dtype=torch.long))
    for i in range(len(CATEGORIES)):
        average = embedding.classes[i].weight[1:].mean(0)
        assert torch.allclose(out[0, i, 4:], average)
        assert torch.equal(out[0, i, :4], embedding.column_ids[i])


@pytest.mark.parametrize("shared, length",
                         [(0, 0), (1 / 8, 4), (1 / 4, 8), (1 / 2, 16), ("add", 32)])
def test_each_shared_variant_of_the_appendix_ablation(shared, length):
    embedding = tt.ColumnEmbedding(CATEGORIES, 32, shared=shared)
    assert embedding.column_ids.shape == (len(CATEGORIES), length)
    x = torch.tensor([[1, 2, 1], [3, 5, 2]])
    out = embedding(x)
    assert out.shape == (2, 3, 32)
    if shared == "add":
        expected = embedding.classes[1].weight[5] + embedding.column_ids[1]
    else:
        expected = torch.cat([embedding.column_ids[1], embedding.classes[1].weight[5]])
    assert torch.equal(out[1, 1], expected)
    if length and shared != "add":
        # Every class of one column carries the same identifier c_φi.
        assert torch.equal(out[0, 0, :length], out[1, 0, :length])


@pytest.mark.parametrize("name, layers", [("tab_transformer", 6), ("tab_mlp", 0)])
@pytest.mark.parametrize("shared", tt.SHARED_CHOICES)
def test_parameter_count_equals_the_formula(name, layers, shared):
    model = lightnets.create_model(name, categories=CATEGORIES, num_continuous=2, shared=shared)
    counted = sum(p.numel() for p in model.parameters())
    assert counted == tt.tab_transformer_params(CATEGORIES, 2, 2, 32, layers, shared)


def test_transformer_layer_formula_is_12_d_squared_plus_13_d():
    d = 32
    assert tt.transformer_layer_params(d) == 12 * d * d + 13 * d == 12_704


def test_macs_by_formula_for_the_credit_model():
    m, d, c = 4, 32, 9
    width = d * m + c
    layer = 4 * m * d * d + 2 * m * m * d + 2 * m * d * 4 * d
    mlp = width * 4 * width + 4 * width * 2 * width + 2 * width * 2
    assert tt.tab_transformer_macs(tt.CREDIT_CATEGORIES, c) == 6 * layer + mlp


def test_tab_mlp_has_no_transformer_and_the_same_input_handling():
    mlp = lightnets.create_model("tab_mlp", categories=CATEGORIES, num_continuous=2)
    assert len(mlp.transformer) == 0
    x_categ, x_cont = _batch(3)
    assert mlp(x_categ, x_cont).shape == (3, 2)
    assert torch.equal(mlp.contextual_embeddings(x_categ)[-1], mlp.embedding(x_categ))


def test_no_positional_encoding_the_layers_treat_columns_as_a_set():
    # §2: no positional encoding, so reordering the m embeddings only reorders the outputs.
    model = lightnets.create_model("tab_transformer", categories=(4, 4, 4), num_continuous=0).eval()
    e = model.embedding(torch.tensor([[1, 2, 3], [4, 0, 2]]))
    order = [2, 0, 1]

    def layers(x):
        for layer in model.transformer:
            x = layer(x)
        return x

    assert torch.allclose(layers(e)[:, order], layers(e[:, order]), atol=1e-5)


@pytest.mark.parametrize("config, message", [
    ({"categories": ()}, "categories"),
    ({"categories": (3, 0)}, r"categories\[1\]"),
    ({"categories": "abc"}, "categories"),
    ({"num_continuous": -1}, "num_continuous"),
    ({"embedding_dim": 30}, "num_heads"),
    ({"shared": 0.3}, "shared"),
    ({"embedding_dim": 8, "num_heads": 1, "shared": 1 / 16}, "shared"),
    ({"embedding_dim": 4, "num_heads": 2, "shared": 1 / 8}, "shared"),
    ({"dropout": 1.0}, "dropout"),
    ({"missing": "zero"}, "missing"),
    ({"num_layers": -1}, "num_layers"),
])
def test_bad_configuration_names_the_argument(config, message):
    with pytest.raises(ValueError, match=message):
        lightnets.create_model("tab_transformer", **config)


def test_bad_input_is_rejected_before_torch():
    model = lightnets.create_model("tab_transformer", categories=CATEGORIES, num_continuous=2)
    x_categ, x_cont = _batch(2)
    with pytest.raises(ValueError, match=r"x_categ column 0 .*\[0, 3\]"):
        model(torch.tensor([[4, 1, 1], [1, 1, 1]]), x_cont)
    with pytest.raises(ValueError, match="x_categ must be a 2-D tensor"):
        model(x_categ[:, :2], x_cont)
    with pytest.raises(ValueError, match="integer"):
        model(x_categ.float(), x_cont)
    with pytest.raises(ValueError, match="x_cont must be a 2-D tensor"):
        model(x_categ, x_cont[:, :1])
    with pytest.raises(ValueError, match="floating"):
        model(x_categ, x_cont.long())
    with pytest.raises(ValueError, match=r"x_categ column 1"):
        model(torch.tensor([[1, -1, 1], [1, 1, 1]]), x_cont)


def test_table_1_gains_are_the_differences_of_its_columns():
    for row in tt.TABLE_1:
        assert round(row.tab_transformer_auc - row.baseline_mlp_auc, 1) == row.gain
    assert len(tt.TABLE_1) == 15  # "15 publicly available binary classification datasets" (§3)


# --- the loader ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def credit():
    return tabular.credit_data(0)


def test_credit_data_shapes_classes_and_missing_values(credit):
    train, val, test = credit
    assert len(train) + len(val) + len(test) == 4454
    assert train.categories == tt.CREDIT_CATEGORIES
    assert len(train.continuous_names) == tt.CREDIT_CONTINUOUS
    assert train.class_names[train.categorical_names.index("Records")] == ("no", "yes")
    assert train.target_names == ("good", "bad")
    every = torch.cat([d.x_categ for d in credit])
    assert int((every == 0).sum()) == 6 + 1 + 2  # Home, Marital, Job: the table's missing values
    assert all(torch.isfinite(d.x_cont).all() for d in credit)


def test_split_is_stratified_and_about_65_15_20(credit):
    sizes = [len(d) for d in credit]
    assert abs(sizes[0] / 4454 - 0.65) < 0.01 and abs(sizes[2] / 4454 - 0.20) < 0.01
    rates = [float(d.y.float().mean()) for d in credit]
    assert max(rates) - min(rates) < 0.01  # 1254 bad of 4454 in every part


def test_standardisation_uses_training_rows_only(credit):
    train, val, _ = credit
    raw_train, raw_val, _ = tabular.credit_data(0, raw=True)
    column = train.continuous_names.index("Age")  # no missing values
    mean = raw_train.x_cont[:, column].double().mean()
    std = raw_train.x_cont[:, column].double().std()
    expected = ((raw_val.x_cont[:, column].double() - mean) / std).float()
    assert torch.allclose(val.x_cont[:, column], expected, atol=1e-6)
    assert abs(float(train.x_cont[:, column].double().mean())) < 1e-6


def test_loader_is_reproducible_by_seed():
    first, again, other = tabular.credit_data(3), tabular.credit_data(3), tabular.credit_data(4)
    for a, b in zip(first, again):
        assert torch.equal(a.x_categ, b.x_categ) and torch.equal(a.x_cont, b.x_cont)
        assert torch.equal(a.y, b.y)
    assert not torch.equal(first[2].x_cont, other[2].x_cont)


def test_split_indices_cover_every_row_once():
    y = torch.tensor([0] * 70 + [1] * 30)
    parts = tabular.split_indices(y, seed=0)
    assert sorted(np.concatenate(parts).tolist()) == list(range(100))
    # Each class is split on its own (70 → 46/10/14 after rounding, 30 → 20/4/6).
    assert [len(p) for p in parts] == [66, 14, 20]


def test_remove_categories_sets_the_share_to_missing():
    x = torch.ones(100, 4, dtype=torch.long)
    holes = tabular.remove_categories(x, 0.25, seed=1)
    assert int((holes == 0).sum()) == 100 and int((x == 0).sum()) == 0
    assert torch.equal(holes, tabular.remove_categories(x, 0.25, seed=1))
    assert torch.equal(tabular.remove_categories(x, 0.0), x)


@pytest.mark.parametrize("call, message", [
    (lambda: tabular.credit_data(-1), "seed"),
    (lambda: tabular.remove_categories(torch.ones(2, 2, dtype=torch.long), 1.5), "share"),
    (lambda: tabular.split_indices(torch.zeros(4), 0, (0.5, 0.5)), "fractions"),
])
def test_loader_bad_input_names_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_encode_rejects_unknown_columns_and_targets():
    frame = tabular.credit_frame()
    with pytest.raises(ValueError, match="'Colour'"):
        tabular.encode(frame, ("Colour",), (), "Status", "bad")
    with pytest.raises(ValueError, match="positive"):
        tabular.encode(frame, ("Home",), (), "Status", "ugly")


# --- training end to end -------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_trains_end_to_end_and_saves_weights_that_load_safely(tmp_path, capsys):
    from lightnets.experiments import tab_transformer as experiment

    path = tmp_path / "w.pt"
    result = experiment.main(["train", "--model", "tab_transformer", "--model-arg", "num_layers=1",
                              "--model-arg", "shared='add'", "--epochs", "2", "--save", str(path)])
    assert 0.5 < result["test_auc"] <= 1.0
    assert "test AUC" in capsys.readouterr().out
    model, state = experiment.load_weights(str(path))
    assert state["config"]["categories"] == list(tt.CREDIT_CATEGORIES)
    test = tabular.credit_data(0)[2]
    again = experiment.auc(test.y, experiment.predict(model, test))
    assert again == pytest.approx(result["test_auc"])


def test_interval_is_mean_plus_minus_t_times_standard_error():
    from lightnets.experiments.tab_transformer import interval

    out = interval([0.80, 0.82, 0.84])
    assert out["mean"] == pytest.approx(0.82)
    assert out["half_width"] == pytest.approx(4.302652729911275 * 0.02 / 3 ** 0.5)
    with pytest.raises(ValueError, match="at least 2"):
        interval([0.8])


def test_saved_results_hold_every_part_of_the_experiment():
    import os

    from lightnets.experiments import tab_transformer as experiment

    path = os.path.join(experiment.RESULTS_DIR, experiment.RESULTS_FILE)  # committed; lesson 11 loads it
    with open(path) as f:
        result = json.load(f)
    assert set(result["comparison"]) == {"tab_transformer", "tab_mlp", "hist_gradient_boosting"}
    assert set(result["ablation"]) == {"none", "d/8", "d/4", "d/2", "add"}
    assert len(result["seeds"]) >= 3
    for entry in result["comparison"].values():
        assert len(entry["values"]) == len(result["seeds"]) and 0.5 < entry["mean"] < 1
    assert result["ablation"]["d/8"]["values"] == result["comparison"]["tab_transformer"]["values"]


# --- the lesson's figures ----------------------------------------------------------------


def test_plots_return_the_data_they_drew():
    import matplotlib

    matplotlib.use("Agg")
    from lightnets import plots

    results = {
        "seeds": [0, 1],
        "comparison": {"tab_transformer": {"mean": 0.8, "half_width": 0.01,
                                           "values": [0.79, 0.81]}},
        "ablation": {"d/8": {"mean": 0.8, "half_width": 0.01, "values": [0.79, 0.81]}},
        "missing_shares": [0.0, 0.5],
        "robustness": {"tab_mlp/mean": {"0.0": {"mean": 0.8, "half_width": 0.0},
                                        "0.5": {"mean": 0.7, "half_width": 0.1}}},
    }
    _, data = plots.plot_auc_comparison(results)
    assert data["tab_transformer"]["values"] == [0.79, 0.81]
    _, data = plots.plot_ablation(results)
    assert data["d/8"]["mean"] == 0.8
    _, data = plots.plot_robustness(results, curves=("tab_mlp/mean",))
    assert data["tab_mlp/mean"]["mean"] == [0.8, 0.7]


def test_embedding_points_and_their_plot():
    import matplotlib

    matplotlib.use("Agg")
    from lightnets import plots

    model = lightnets.create_model("tab_transformer", categories=CATEGORIES, num_continuous=2)
    x_categ, _ = _batch(20)
    points = plots.embedding_points(model, x_categ, layer=0)
    assert points["coords"].shape == (20 * 3, 2)
    assert points["column"].tolist()[:3] == [0, 1, 2]
    names = (("a", "b", "c"), ("p", "q", "r", "s", "t"), ("no", "yes"))
    _, centres = plots.plot_embeddings({"E": points}, ("A", "B", "C"), names)
    # Before the Transformer every occurrence of a class is one point: its centre is that point.
    assert len(centres["E"]) == len({(i, int(k)) for row in x_categ for i, k in enumerate(row)})


def test_fit_is_the_loop_the_committed_results_were_trained_with(credit):
    """The committed experiment was trained by a loop of its own, before lightnets.train ran it;
    that loop, written out here, and experiment.fit give the same losses and weights."""
    from torch.utils.data import DataLoader

    from lightnets.experiments import tab_transformer as experiment

    train, val, _ = credit

    def fresh():
        lightnets.seed_everything(0)
        return lightnets.create_model("tab_mlp", categories=train.categories, num_classes=2,
                                      num_continuous=len(train.continuous_names))

    model = fresh()
    lightnets.seed_everything(0)
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    loader = DataLoader(train, batch_size=128, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    losses = []
    for _ in range(2):
        total = 0.0
        for x_categ, x_cont, y in loader:
            loss = torch.nn.functional.cross_entropy(model(x_categ, x_cont), y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item() * len(y)
        losses.append(total / len(train))
    ours = fresh()
    history = experiment.fit(ours, train, val, seed=0, epochs=2, patience=5)
    assert [row["train_loss"] for row in history] == losses
    assert history[1]["val_auc"] > history[0]["val_auc"]  # so the last epoch's weights are kept
    assert all(torch.equal(a, b) for a, b in zip(ours.state_dict().values(),
                                                 model.state_dict().values()))
