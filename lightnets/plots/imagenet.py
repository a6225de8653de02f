"""Figures of a trained ImageNet network on real photos (lessons 00 and 05)."""
from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = ["photo_predictions"]


def photo_predictions(pictures, predictions, titles=None, cell: float = 2.4):
    """One row per photo: what the network saw, and its top-k classes as horizontal bars.

    ``pictures`` is (N, 3, H, W) in [0, 1] (e.g. ``preprocessing(model).seen(photos)``);
    ``predictions`` the :class:`lightnets.imagenet.Prediction` of each (one or a list). Each bar
    is labelled with its probability to two decimals. Returns ``(fig, data)`` with, per photo,
    its ``labels`` and ``probabilities`` in rank order.
    """
    predictions = list(predictions) if isinstance(predictions, (list, tuple)) and not hasattr(
        predictions, "labels") else [predictions]
    if len(pictures) != len(predictions):
        raise ValueError(f"pictures and predictions must match one to one, got {len(pictures)} "
                         f"pictures and {len(predictions)} predictions")
    if titles is not None and len(titles) != len(predictions):
        raise ValueError(f"titles must give one title per photo ({len(predictions)}), got "
                         f"{len(titles)}")
    data = {"labels": [list(p.labels) for p in predictions],
            "probabilities": [list(p.probabilities) for p in predictions]}
    fig, axes = plt.subplots(len(predictions), 2, squeeze=False,
                             figsize=(2.6 * cell, cell * len(predictions)),
                             gridspec_kw={"width_ratios": [1, 1.6]})
    for row, (picture, prediction) in enumerate(zip(pictures, predictions)):
        left, right = axes[row]
        left.imshow(picture.permute(1, 2, 0).cpu().numpy())
        left.set_xticks([])
        left.set_yticks([])
        left.set_title("what the network sees" if titles is None else titles[row], fontsize=9)
        right.set_title(f"its top {len(prediction.labels)} of 1000 classes", fontsize=9)
        ranks = range(len(prediction.labels))
        right.barh(ranks, prediction.probabilities, color=plt.cm.tab10(0))
        right.set_yticks(list(ranks), [f"{r + 1}. {label}" for r, label
                                       in zip(ranks, prediction.labels)], fontsize=8)
        right.invert_yaxis()  # rank 1 on top
        right.set_xlim(0, 1.15)
        for r, p in zip(ranks, prediction.probabilities):
            right.text(p + 0.02, r, f"{p:.2f}", va="center", fontsize=8)
        right.set_xlabel("probability" if row == len(predictions) - 1 else "", fontsize=8)
        right.tick_params(axis="x", labelsize=7)
    fig.tight_layout()
    return fig, data
