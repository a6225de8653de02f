"""TabTransformer (Huang, Khetan, Cvitkovic and Karnin 2020, "TabTransformer: Tabular Data Modeling
Using Contextual Embeddings", arXiv:2012.06678), and the MLP it is compared with.

A row of a table has m categorical features x_1 … x_m and c continuous ones x_cont. §2 of the paper:

1. *Column embedding*: column i has its own lookup table of d_i + 1 rows (d_i classes and one for a
   missing value), each row a d-vector e_φi(x_i). Part of every row is shared by the whole column,
   a column identifier c_φi of length ℓ, so that the Transformer can tell the columns apart without
   positional encodings; the other d − ℓ entries are the class's own w_φij. The appendix also tries
   ℓ = 0 (no identifier), other lengths, and *adding* c_φi (length d) to w_φij instead of
   concatenating.
2. *N Transformer layers* (multi-head self-attention, then a feed-forward layer that expands to
   4·d and projects back) turn the m parametric embeddings into contextual ones h_1 … h_m. Tabular
   columns have no order, so there is no positional encoding (§2).
3. The h_i are flattened and concatenated with the layer-normalised x_cont (d·m + c numbers) and an
   MLP g_ψ with hidden sizes {4·l, 2·l}, l = d·m + c, predicts the target (§3, "Setup").

The baseline MLP of Table 1 handles its input the same way without the Transformer layers; here it
is ``tab_mlp``, the same class with N = 0.

The forward pass takes two tensors, ``(x_categ, x_cont)``: ``x_categ`` (batch, m) integer class
indices where **0 means missing** and classes are 1 … d_i, ``x_cont`` (batch, c) floats.
``lightnets.tabular`` produces both from a table.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence, Union

import torch
from torch import nn

from lightnets._checks import check_choice, check_float, check_int
from lightnets.models._spec import register

PAPER = "Huang et al. 2020, TabTransformer, arXiv:2012.06678"


class Defaults(NamedTuple):
    embedding_dim: int  # d
    num_layers: int  # N
    num_heads: int  # h
    mlp_hidden_mults: tuple  # hidden sizes of g_ψ as multiples of its input size l
    feedforward_mult: int  # the Transformer's feed-forward width as a multiple of d


# §3 "Setup": "the hidden (embedding) dimension, the number of layers and the number of attention
# heads are fixed to 32, 6, and 8 respectively. The MLP layer sizes are set to {4 × l, 2 × l}, where
# l is the size of its input." §2: the feed-forward layer "expands the embedding to four times its
# size and the second layer projects it back to its original size".
PAPER_DEFAULTS = Defaults(embedding_dim=32, num_layers=6, num_heads=8, mlp_hidden_mults=(4, 2),
                          feedforward_mult=4)

# The column-embedding variants of the appendix's ablation: the share of d given to the column
# identifier c_φi (concatenated), or "add" (c_φi of length d added to w_φij). ℓ = d/8 is the
# default of the widely used implementation (lucidrains/tab-transformer-pytorch) and ours.
SHARED_CHOICES = (0, 1 / 8, 1 / 4, 1 / 2, "add")
DEFAULT_SHARED = 1 / 8


class Table1Row(NamedTuple):
    dataset: str
    baseline_mlp_auc: float  # percent
    tab_transformer_auc: float  # percent
    gain: float  # percentage points


# Table 1, "Comparison between TabTransformers and the baseline MLP. The evaluation metric is AUC in
# percentage", in the paper's row order.
TABLE_1 = (
    Table1Row("albert", 74.0, 75.7, 1.7),
    Table1Row("1995_income", 90.5, 90.6, 0.1),
    Table1Row("dota2games", 63.1, 63.3, 0.2),
    Table1Row("hcdr_main", 74.3, 75.1, 0.8),
    Table1Row("adult", 72.5, 73.7, 1.2),
    Table1Row("bank_marketing", 92.9, 93.4, 0.5),
    Table1Row("blastchar", 83.9, 83.5, -0.4),
    Table1Row("insurance_co", 69.7, 74.4, 4.7),
    Table1Row("jasmine", 85.1, 85.3, 0.2),
    Table1Row("online_shoppers", 91.9, 92.7, 0.8),
    Table1Row("philippine", 82.1, 83.4, 1.3),
    Table1Row("qsar_bio", 91.0, 91.8, 0.8),
    Table1Row("seismicbumps", 73.5, 75.1, 1.6),
    Table1Row("shrutime", 84.6, 85.6, 1.0),
    Table1Row("spambase", 98.4, 98.5, 0.1),
)

# The credit_data table of lesson 11 (lightnets.tabular.credit_data): classes of Home, Marital,
# Records and Job, and 9 continuous columns. They are the builders' defaults so that
# create_model("tab_transformer") alone builds the lesson's model.
CREDIT_CATEGORIES = (6, 5, 2, 4)
CREDIT_CONTINUOUS = 9

Shared = Union[int, float, str]


def shared_length(embedding_dim: int, shared: Shared) -> int:
    """ℓ, the length of the column identifier c_φi: ``shared`` · d, or d if additive."""
    check_choice("shared", shared, SHARED_CHOICES)
    if shared == "add":
        return embedding_dim
    length = embedding_dim * shared
    if length != int(length) or (shared > 0 and length < 1):
        raise ValueError(f"shared={shared} needs embedding_dim * shared to be a whole number >= 1, "
                         f"got embedding_dim={embedding_dim}")
    return int(length)


class ColumnEmbedding(nn.Module):
    """e_φi(x_i) for every categorical column: (batch, m) class indices → (batch, m, d).

    Column i owns ``classes[i]`` = nn.Embedding(d_i + 1, d − ℓ): row 0 is the missing value, rows
    1 … d_i the classes. ``column_ids`` (m, ℓ) holds the shared c_φi, concatenated in front of the
    class's part (or, for ``shared="add"``, of length d and added to it).

    ``missing`` chooses what a 0 (missing) becomes: "row", the learned missing-value row of §2, or
    "mean", the average of the column's class embeddings, the imputation the paper uses in its
    missing-data experiment (§3, p. 5 of arXiv v1: option (1)). It may be changed after training.
    """

    def __init__(self, categories: Sequence[int], embedding_dim: int,
                 shared: Shared = DEFAULT_SHARED, missing: str = "row") -> None:
        super().__init__()
        self.categories = tuple(categories)
        self.embedding_dim = embedding_dim
        self.shared = shared
        self.additive = shared == "add"
        self.shared_dim = shared_length(embedding_dim, shared)
        self.missing = check_choice("missing", missing, ("row", "mean"))
        own = embedding_dim if self.additive else embedding_dim - self.shared_dim
        self.classes = nn.ModuleList(nn.Embedding(d_i + 1, own) for d_i in self.categories)
        self.column_ids = nn.Parameter(torch.empty(len(self.categories), self.shared_dim))
        # Embeddings start as N(0, 1) (torch's default for nn.Embedding); so does c_φi.
        nn.init.normal_(self.column_ids)

    def class_part(self, column: int) -> torch.Tensor:
        """The (d_i + 1, ·) per-class table w_φi of ``column``, the missing row first."""
        table = self.classes[column].weight
        if self.missing == "mean":
            table = torch.cat([table[1:].mean(0, keepdim=True), table[1:]])
        return table

    def forward(self, x_categ: torch.Tensor) -> torch.Tensor:
        parts = []
        for i in range(len(self.categories)):
            w = self.class_part(i)[x_categ[:, i]]  # (batch, own)
            c = self.column_ids[i].expand(len(x_categ), -1)
            parts.append(w + c if self.additive else torch.cat([c, w], dim=1))
        return torch.stack(parts, dim=1)


class TabTransformer(nn.Module):
    """Column embedding → N Transformer layers → [flatten(h), LayerNorm(x_cont)] → MLP g_ψ."""

    def __init__(self, categories: Sequence[int], num_continuous: int, num_classes: int = 2,
                 embedding_dim: int = 32, num_layers: int = 6, num_heads: int = 8,
                 dropout: float = 0.1, shared: Shared = DEFAULT_SHARED,
                 missing: str = "row") -> None:
        super().__init__()
        self.embedding = ColumnEmbedding(categories, embedding_dim, shared, missing)
        # Post-norm layers as in Vaswani et al. 2017, which §2 builds on; ReLU in the feed-forward.
        self.transformer = nn.ModuleList(
            nn.TransformerEncoderLayer(embedding_dim, num_heads,
                                       PAPER_DEFAULTS.feedforward_mult * embedding_dim,
                                       dropout=dropout, batch_first=True)
            for _ in range(num_layers)
        )
        self.num_continuous = num_continuous
        self.continuous_norm = nn.LayerNorm(num_continuous) if num_continuous else None
        width = embedding_dim * len(self.embedding.categories) + num_continuous  # l = d·m + c
        hidden = [mult * width for mult in PAPER_DEFAULTS.mlp_hidden_mults]
        layers: list[nn.Module] = []
        for size_in, size_out in zip([width] + hidden[:-1], hidden):
            layers += [nn.Linear(size_in, size_out), nn.ReLU(), nn.Dropout(dropout)]
        layers.append(nn.Linear(hidden[-1], num_classes))
        self.mlp = nn.Sequential(*layers)

    def contextual_embeddings(self, x_categ: torch.Tensor) -> list:
        """[E_φ(x_cat), after layer 1, …, after layer N]: each (batch, m, d); the last is h."""
        check_categorical(x_categ, self.embedding.categories)
        outputs = [self.embedding(x_categ)]
        for layer in self.transformer:
            outputs.append(layer(outputs[-1]))
        return outputs

    def forward(self, x_categ: torch.Tensor, x_cont: torch.Tensor) -> torch.Tensor:
        h = self.contextual_embeddings(x_categ)[-1]
        check_continuous(x_cont, self.num_continuous, len(x_categ))
        features = [h.flatten(1)]
        if self.continuous_norm is not None:
            features.append(self.continuous_norm(x_cont))
        return self.mlp(torch.cat(features, dim=1))


def check_categorical(x_categ, categories: Sequence[int]) -> None:
    """``x_categ`` must be an integer (batch, m) tensor with column i in [0, d_i] (0 = missing)."""
    m = len(categories)
    if not isinstance(x_categ, torch.Tensor) or x_categ.dim() != 2 or x_categ.shape[1] != m:
        shape = (tuple(x_categ.shape) if isinstance(x_categ, torch.Tensor)
                 else type(x_categ).__name__)
        raise ValueError(f"x_categ must be a 2-D tensor (batch, {m}), got {shape}")
    if x_categ.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        raise ValueError(
            f"x_categ must hold integer class indices (torch.long), got {x_categ.dtype}")
    if len(x_categ):
        high = torch.as_tensor(categories, device=x_categ.device)
        bad = (x_categ < 0) | (x_categ > high)
        if bad.any():
            column = int(bad.any(0).nonzero()[0])
            value = int(x_categ[bad.any(1)][0, column])
            raise ValueError(f"x_categ column {column} must hold indices in "
                             f"[0, {categories[column]}] (0 = missing), got {value}")


def check_continuous(x_cont, num_continuous: int, batch: int) -> None:
    """``x_cont`` must be a floating (batch, c) tensor."""
    if not isinstance(x_cont, torch.Tensor) or x_cont.shape != (batch, num_continuous):
        shape = (tuple(x_cont.shape) if isinstance(x_cont, torch.Tensor)
                 else type(x_cont).__name__)
        raise ValueError(f"x_cont must be a 2-D tensor ({batch}, {num_continuous}), got {shape}")
    if not x_cont.is_floating_point():
        raise ValueError(f"x_cont must be a floating-point tensor, got {x_cont.dtype}")


def _check_config(categories, num_continuous, embedding_dim, num_layers, num_heads, dropout, shared,
                  missing) -> tuple:
    if (isinstance(categories, (str, bytes)) or not isinstance(categories, Sequence)
            or not categories):
        raise ValueError(
            f"categories must be a non-empty sequence of class counts d_i, got {categories!r}")
    for i, d_i in enumerate(categories):
        check_int(f"categories[{i}]", d_i, low=1)
    check_int("num_continuous", num_continuous, low=0)
    check_int("embedding_dim", embedding_dim, low=1)
    check_int("num_layers", num_layers, low=0)
    check_int("num_heads", num_heads, low=1)
    if embedding_dim % num_heads:
        raise ValueError(
            f"embedding_dim must be a multiple of num_heads ({num_heads}), got {embedding_dim}")
    check_float("dropout", dropout, 0.0, 1.0, high_inclusive=False)
    shared_length(embedding_dim, shared)
    check_choice("missing", missing, ("row", "mean"))
    return tuple(categories)


@register("tab_transformer", family="tab_transformer", resolution=0, paper=PAPER)
def tab_transformer(categories: Sequence[int] = CREDIT_CATEGORIES,
                    num_continuous: int = CREDIT_CONTINUOUS, num_classes: int = 2,
                    embedding_dim: int = PAPER_DEFAULTS.embedding_dim,
                    num_layers: int = PAPER_DEFAULTS.num_layers,
                    num_heads: int = PAPER_DEFAULTS.num_heads, dropout: float = 0.1,
                    shared: Shared = DEFAULT_SHARED, missing: str = "row") -> TabTransformer:
    """TabTransformer with the paper's d = 32, N = 6, h = 8 (§3) unless told otherwise.

    ``categories`` are the class counts d_i of the m categorical columns, ``num_continuous`` is c.
    ``shared`` is ℓ/d (0, 1/8, 1/4, 1/2) or "add"; ``missing`` is "row" or "mean" (see
    :class:`ColumnEmbedding`). ``dropout`` (ours: the paper tunes it) acts in the Transformer
    layers and between the MLP's layers.
    """
    categories = _check_config(categories, num_continuous, embedding_dim, num_layers, num_heads,
                               dropout, shared, missing)
    return TabTransformer(categories, num_continuous, num_classes, embedding_dim, num_layers,
                          num_heads, dropout, shared, missing)


@register("tab_mlp", family="tab_transformer", resolution=0,
          paper=PAPER + " (baseline MLP, Table 1)")
def tab_mlp(categories: Sequence[int] = CREDIT_CATEGORIES, num_continuous: int = CREDIT_CONTINUOUS,
            num_classes: int = 2, embedding_dim: int = PAPER_DEFAULTS.embedding_dim,
            dropout: float = 0.1, shared: Shared = DEFAULT_SHARED,
            missing: str = "row") -> TabTransformer:
    """The baseline MLP: the same column embedding, LayerNorm and MLP {4·l, 2·l}, no Transformer."""
    categories = _check_config(categories, num_continuous, embedding_dim, 0, 1, dropout, shared,
                               missing)
    return TabTransformer(categories, num_continuous, num_classes, embedding_dim, 0, 1, dropout,
                          shared, missing)


# --- counting by formula -------------------------------------------------------------------


def column_embedding_params(categories: Sequence[int], embedding_dim: int, shared: Shared) -> int:
    """Σ_i (d_i + 1)(d − ℓ) + m·ℓ, or Σ_i (d_i + 1)·d + m·d for the additive variant."""
    length = shared_length(embedding_dim, shared)
    own = embedding_dim if shared == "add" else embedding_dim - length
    return sum((d_i + 1) * own for d_i in categories) + len(categories) * length


def transformer_layer_params(embedding_dim: int, feedforward_mult: int = 4) -> int:
    """One layer: Q, K, V and output projections (4·(d² + d)), the feed-forward d → f·d → d, and
    two LayerNorms (2·2d)."""
    d, f = embedding_dim, feedforward_mult * embedding_dim
    return 4 * (d * d + d) + (d * f + f) + (f * d + d) + 4 * d


def mlp_params(width: int, num_classes: int,
               mults: Sequence[int] = PAPER_DEFAULTS.mlp_hidden_mults) -> int:
    """g_ψ: l → 4l → 2l → classes, weights and biases."""
    sizes = [width] + [m * width for m in mults] + [num_classes]
    return sum(a * b + b for a, b in zip(sizes, sizes[1:]))


def tab_transformer_params(categories: Sequence[int], num_continuous: int, num_classes: int = 2,
                           embedding_dim: int = 32, num_layers: int = 6,
                           shared: Shared = DEFAULT_SHARED) -> int:
    """Every parameter of :func:`tab_transformer` (``num_layers=0`` for :func:`tab_mlp`)."""
    width = embedding_dim * len(categories) + num_continuous
    return (column_embedding_params(categories, embedding_dim, shared)
            + num_layers * transformer_layer_params(embedding_dim)
            + 2 * num_continuous  # LayerNorm(x_cont): a scale and a shift per column
            + mlp_params(width, num_classes))


def tab_transformer_macs(categories: Sequence[int], num_continuous: int, num_classes: int = 2,
                         embedding_dim: int = 32, num_layers: int = 6) -> int:
    """Multiply-accumulates of one row: the linear layers plus attention's two matrix products.

    A layer on m tokens: Q, K, V and output projections 4·m·d², scores QKᵀ and their weighted sum
    of V 2·m²·d (over all heads together), feed-forward 2·m·d·f. Embedding lookups and LayerNorms
    are not multiply-accumulates of weights and are left out, as the CNN convention leaves out
    BatchNorm.
    """
    m, d = len(categories), embedding_dim
    f = PAPER_DEFAULTS.feedforward_mult * d
    layer = 4 * m * d * d + 2 * m * m * d + 2 * m * d * f
    width = d * m + num_continuous
    sizes = [width] + [k * width for k in PAPER_DEFAULTS.mlp_hidden_mults] + [num_classes]
    return num_layers * layer + sum(a * b for a, b in zip(sizes, sizes[1:]))
