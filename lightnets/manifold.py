"""MobileNetV2 Fig. 1: what a ReLU does to a low-dimensional manifold in a wider space.

The paper (Sandler et al. 2018, §3.2, Fig. 1) takes a 2-D spiral, embeds it in n dimensions with a
random matrix T, applies ReLU, and projects back with T's pseudo-inverse T⁺. For small n the
spiral collapses; for n ≥ 15 it survives almost intact. Everything here is a pure NumPy function of
its arguments (the seed included), so the notebook, the widget and the tests see the same numbers.

Two collapse measures, both zero for the linear control T⁺(T x) = x:

* ``shape_error``: the share of the spiral's variance that no affine map can bring back from
  T⁺ ReLU(T x). (T⁺ ReLU(T x) of a centred spiral comes back about half its size for large n; an
  affine fit forgives that rescaling, which is not information loss.)
* ``lost_fraction``: the share of points that ReLU made impossible to recover by *any* means, the
  condition of §3.2 made exact: x is determined by ReLU(T x) only if the rows of T that stay
  positive at x span the plane. With fewer than two independent positive rows a whole line (or the
  whole plane) of inputs maps to the same output.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from lightnets._checks import check_float, check_int


def spiral(n_points: int = 400, turns: float = 2.0) -> np.ndarray:
    """An Archimedean spiral around the origin, ``(n_points, 2)``, radius growing from 0.1 to 1."""
    check_int("n_points", n_points, low=2, high=10**6)
    check_float("turns", turns, 0.0, 20.0, low_inclusive=False)
    angle = np.linspace(0.0, 2 * np.pi * turns, n_points)
    radius = np.linspace(0.1, 1.0, n_points)
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)


def random_embedding(n: int, seed: int = 0, in_dim: int = 2) -> np.ndarray:
    """The random matrix T (``n × in_dim``, standard normal entries) of Fig. 1, fixed by
    ``seed``."""
    check_int("n", n, low=1, high=10**4)
    check_int("seed", seed, low=0)
    check_int("in_dim", in_dim, low=1, high=10**3)
    return np.random.default_rng(seed).standard_normal((n, in_dim))


def _check_matrix(name: str, value, columns: int | None = None) -> np.ndarray:
    """A finite 2-D real array (with ``columns`` columns when given)."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a 2-D array of real numbers, got {type(value).__name__}"
        ) from None
    if array.ndim != 2 or array.size == 0 or (columns is not None and array.shape[1] != columns):
        shape = f"(rows, {columns})" if columns is not None else "(rows, columns)"
        raise ValueError(f"{name} must be a non-empty {shape} array, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite")
    return array


def relu_roundtrip(points: np.ndarray, embedding: np.ndarray, nonlinear: bool = True) -> np.ndarray:
    """T⁺ ReLU(T x) for every row x of ``points`` (or T⁺ T x, the identity, when
    ``nonlinear=False``)."""
    points = _check_matrix("points", points)
    embedding = _check_matrix("embedding", embedding, columns=points.shape[1])
    lifted = points @ embedding.T
    if nonlinear:
        lifted = np.maximum(lifted, 0.0)
    return lifted @ np.linalg.pinv(embedding).T


def shape_error(points: np.ndarray, recovered: np.ndarray) -> float:
    """Share of the variance of ``points`` left unexplained by the best affine map of ``recovered``.

    0 means the spiral came back up to an affine change of coordinates; 1 means nothing of it did.
    """
    points = _check_matrix("points", points)
    recovered = _check_matrix("recovered", recovered)
    if len(recovered) != len(points):
        raise ValueError(
            f"recovered must have one row per point ({len(points)}), got {len(recovered)}"
        )
    if not (points - points.mean(axis=0)).any():
        raise ValueError("points must not all be equal: a single point has no shape to lose")
    design = np.hstack([recovered, np.ones((len(recovered), 1))])
    coeffs, *_ = np.linalg.lstsq(design, points, rcond=None)
    residual = points - design @ coeffs
    centred = points - points.mean(axis=0)
    return float((residual ** 2).sum() / (centred ** 2).sum())


def lost_fraction(points: np.ndarray, embedding: np.ndarray, tol: float = 1e-9) -> float:
    """Share of ``points`` whose positive rows of T do not span the input space (§3.2).

    Such a point shares its ReLU output with a line or more of other inputs, so no decoder, linear
    or not, can tell them apart.
    """
    points = _check_matrix("points", points)
    embedding = _check_matrix("embedding", embedding, columns=points.shape[1])
    check_float("tol", tol, 0.0, None)
    positive = (points @ embedding.T) > tol
    in_dim = embedding.shape[1]
    lost = [np.linalg.matrix_rank(embedding[mask]) < in_dim if mask.sum() >= in_dim else True
            for mask in positive]
    return float(np.mean(lost))


def collapse_curve(
    dims: Sequence[int], seeds: Iterable[int], points: np.ndarray | None = None
) -> dict:
    """Both collapse measures, ReLU and linear control, averaged over ``seeds`` for each n in
    ``dims``.

    Returns lists aligned with ``dims``: ``shape_error_relu``, ``shape_error_linear``,
    ``lost_fraction_relu`` (means over seeds) and ``shape_error_relu_std`` (their spread).
    """
    points = spiral() if points is None else _check_matrix("points", points, columns=2)
    if isinstance(dims, (str, bytes)) or not hasattr(dims, "__iter__"):
        raise TypeError(f"dims must be a sequence of integers, got {type(dims).__name__}")
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise TypeError(f"seeds must be a sequence of integers, got {type(seeds).__name__}")
    dims = [check_int("dims", n, low=1, high=10**4) for n in dims]
    seeds = [check_int("seeds", seed, low=0) for seed in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    out = {"n": list(dims), "shape_error_relu": [], "shape_error_relu_std": [],
           "shape_error_linear": [], "lost_fraction_relu": []}
    for n in dims:
        relu_err, lin_err, lost = [], [], []
        for seed in seeds:
            embedding = random_embedding(n, seed)
            relu_err.append(shape_error(points, relu_roundtrip(points, embedding)))
            lin_err.append(shape_error(points, relu_roundtrip(points, embedding, nonlinear=False)))
            lost.append(lost_fraction(points, embedding))
        out["shape_error_relu"].append(float(np.mean(relu_err)))
        out["shape_error_relu_std"].append(float(np.std(relu_err)))
        out["shape_error_linear"].append(float(np.mean(lin_err)))
        out["lost_fraction_relu"].append(float(np.mean(lost)))
    return out
