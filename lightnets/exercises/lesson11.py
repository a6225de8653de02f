"""Exercises for lesson 11: TabTransformer's column embedding, its MLP head, missing values."""
from __future__ import annotations

from typing import Any, Optional

from lightnets.exercises._question import Question, numeric

# The credit data's class counts d_i (Home, Marital, Records, Job) and its continuous columns.
NOTEBOOK_CONTEXT = (
    "from lightnets.models import tab_transformer as tt\n"
    "from lightnets.experiments import tab_transformer as experiment\n"
    "import os\n"
    "saved, state = experiment.load_weights(\n"
    "    os.path.join(experiment.RESULTS_DIR, experiment.WEIGHTS_FILE))\n"
    "categories = tt.CREDIT_CATEGORIES"
)


def _embedding_params(d: int = 32, shared: float = 1 / 4, missing_row: bool = True,
                      column_ids: bool = True, own_width: Optional[int] = None) -> int:
    from lightnets.models import tab_transformer as tt
    length = tt.shared_length(d, shared)
    own = d - length if own_width is None else own_width
    rows = sum(d_i + (1 if missing_row else 0) for d_i in tt.CREDIT_CATEGORIES)
    return rows * own + (len(tt.CREDIT_CATEGORIES) * length if column_ids else 0)


def _module_params() -> int:
    from lightnets.models import tab_transformer as tt
    module = tt.ColumnEmbedding(tt.CREDIT_CATEGORIES, 32, 1 / 4)
    return sum(p.numel() for p in module.parameters())


def _hidden_sizes(categorical: int = 10, continuous: int = 5) -> tuple:
    """The two hidden widths of g_ψ, read from a built model (not from the formula)."""
    from torch import nn

    from lightnets import create_model
    model = create_model("tab_transformer", categories=(3,) * categorical,
                         num_continuous=continuous, num_layers=1)
    linears = [m for m in model.mlp if isinstance(m, nn.Linear)]
    return tuple(layer.out_features for layer in linears[:-1])


def _check_hidden(answer: Any) -> Optional[str]:
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return f"expected a tuple of two widths, got {answer!r}"
    right = _hidden_sizes()
    if tuple(answer) == right:
        return None
    if tuple(answer) == (4 * 32 * 10, 2 * 32 * 10):
        return "the MLP's input also holds the c = 5 normalised continuous columns: l = d·m + c"
    if tuple(answer) == (4 * 32, 2 * 32):
        return "the input is the flattened h of all m columns, l = d·m + c, not one column's d"
    if tuple(answer) == (2 * right[0] // 4, 4 * right[1] // 2):
        return "the order is {4l, 2l}: the first hidden layer is the wider one"
    return f"{tuple(answer)} are not the widths; l = d·m + c, then 4l and 2l"


def _missing_vector() -> tuple:
    """The saved model's vector for a missing Home value under 'mean', and ℓ."""
    import os

    import torch

    from lightnets.experiments import tab_transformer as experiment
    path = os.path.join(experiment.RESULTS_DIR, experiment.WEIGHTS_FILE)
    model, _ = experiment.load_weights(path)
    model.embedding.missing = "mean"
    with torch.no_grad():
        vector = model.embedding(torch.tensor([[0, 1, 1, 1]]))[0, 0]
    return vector, model.embedding.shared_dim


def _check_missing(answer: Any) -> Optional[str]:
    import torch

    if not isinstance(answer, torch.Tensor):
        return f"expected a tensor, got {type(answer).__name__}"
    right, length = _missing_vector()
    if answer.shape != right.shape:
        return (f"expected {tuple(right.shape)} values (c_φ0 then the class part), "
                f"got {tuple(answer.shape)}")
    if torch.allclose(answer.double(), right.double(), atol=1e-6):
        return None
    if torch.allclose(answer[length:].double(), right[length:].double(), atol=1e-6):
        return "the class part is right; the first ℓ values are the column identifier c_φ0"
    if torch.allclose(answer[:length].double(), right[:length].double(), atol=1e-6):
        return ("c_φ0 is right; the class part averages rows 1 … d_0 only — row 0 is the "
                "learned missing row, which 'mean' replaces")
    return "build it as torch.cat([c_φ0, mean of rows 1 … d_0 of w_φ0])"


q1 = Question(
    name="lesson11.q1",
    prompt="How many parameters has the credit model's column embedding with d = 32 and ℓ = d/4? "
           "Write it with §3's formula (no model allowed); the class counts d_i are "
           "`tt.CREDIT_CATEGORIES`.",
    checker=numeric(_module_params, mistakes=[
        (lambda: _embedding_params(missing_row=False),
         "each column also has a row for a missing value: d_i + 1 rows, not d_i"),
        (lambda: _embedding_params(column_ids=False),
         "add the column identifiers c_φi: m vectors of length ℓ, shared by a column's classes"),
        (lambda: _embedding_params(own_width=32),
         "the class part is d − ℓ wide: the first ℓ of the d values are the column's "
         "identifier")]),
    hints=["Column i has a (d_i + 1) × (d − ℓ) table and one identifier of length ℓ.",
           "sum over columns of (d_i + 1)(d − ℓ), plus m·ℓ, with d − ℓ = 24, ℓ = 8"],
    solution_code=(
        'categories = tt.CREDIT_CATEGORIES\n'
        'answer = sum((d_i + 1) * (32 - 8) for d_i in categories) + len(categories) * 8'
    ),
)

q2 = Question(
    name="lesson11.q2",
    prompt="A table has m = 10 categorical and c = 5 continuous columns. What are the MLP's two "
           "hidden sizes with the paper's d = 32? Answer as a tuple (first, second).",
    checker=_check_hidden,
    hints=["The MLP reads the flattened contextual embeddings and the continuous columns.",
           "l = d·m + c; the hidden sizes are {4l, 2l}"],
    solution_code="l = 32 * 10 + 5\nanswer = (4 * l, 2 * l)",
)

q3 = Question(
    name="lesson11.q3",
    prompt="With `missing='mean'`, what vector does the saved model give a missing Home value "
           "(column 0)? Build it by hand from `saved.embedding.column_ids` and "
           "`saved.embedding.classes[0].weight`.",
    checker=_check_missing,
    hints=["The first ℓ values are the column's identifier, the rest its class part.",
           "torch.cat([c_φ0, mean of rows 1 … d_0 of w_φ0])"],
    solution_code="with torch.no_grad():\n"
                  "    w = saved.embedding.classes[0].weight\n"
                  "    answer = torch.cat([saved.embedding.column_ids[0], w[1:].mean(0)])",
)


def _layer_params(d: int = 32, biases: bool = True, feed_forward: int = 4) -> int:
    """One Transformer layer of the credit model, counted on a built one (not by formula)."""
    from lightnets import create_model
    if biases and feed_forward == 4:
        layer = create_model("tab_transformer", embedding_dim=d).transformer[0]
        return sum(p.numel() for p in layer.parameters())
    # the usual slips, by formula: weights only, or a feed-forward as wide as d
    weights = 4 * d * d + 2 * feed_forward * d * d
    return weights if not biases else weights + 4 * d + feed_forward * d + d + 4 * d


def _live_params(num_layers: int = 2) -> int:
    from lightnets import create_model
    model = create_model("tab_transformer", num_layers=num_layers)
    return sum(p.numel() for p in model.parameters())


q4 = Question(
    name="lesson11.q4",
    prompt="Predict, then check: how many parameters has one of the credit model's Transformer "
           "layers (d = 32, h = 8, feed-forward 4d)? Predict it with this lesson's formula, "
           "12d² + 13d, then count the parameters of `model.transformer[0]`.",
    checker=numeric(_layer_params, mistakes=[
        (lambda: _layer_params(biases=False),
         "that counts the weight matrices only: the projections, the feed-forward layers and the "
         "two LayerNorms carry 13d more values (biases, γ and β)"),
        (lambda: _layer_params(feed_forward=1),
         "the feed-forward layer widens to 4d and back: 8d² weights, not 2d²"),
        (lambda: 8 * _layer_params(),
         "the h = 8 heads split d among them (d/h each): h does not multiply the count")]),
    hints=["Q, K, V and the output projection are four d × d matrices with biases; the "
           "feed-forward is d → 4d → d; two LayerNorms have γ and β of length d.",
           "12·32² + 13·32, or sum(p.numel() for p in model.transformer[0].parameters())"],
    solution_code="layer = lightnets.create_model('tab_transformer').transformer[0]\n"
                  "answer = sum(p.numel() for p in layer.parameters())",
)

q5 = Question(
    name="lesson11.q5",
    prompt="The live run's TabTransformer keeps N = 2 of the paper's 6 Transformer layers "
           "(credit data, d = 32, ℓ = d/8). How many parameters does it have in all?",
    checker=numeric(_live_params, mistakes=[
        (lambda: _live_params(6), "that is the paper's N = 6 model: the live one has N = 2"),
        (lambda: _live_params(4),
         "that removes two layers from six; the live model keeps two, so four go"),
        (lambda: _live_params(6) - _live_params(2),
         "that is what the four removed layers hold, not what is left")]),
    hints=["Start from the N = 6 count printed in §3 and take away four layers of 12d² + 13d.",
           "Or build it: lightnets.create_model('tab_transformer', num_layers=2)."],
    solution_code="model = lightnets.create_model('tab_transformer', num_layers=2)\n"
                  "answer = sum(p.numel() for p in model.parameters())",
)
