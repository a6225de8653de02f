"""The zoo at a glance: every registered model's measured cost beside what its paper reports."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from lightnets.cost import profile
from lightnets.registry import create_model, list_models, model_spec


@dataclass(frozen=True)
class ZooRow:
    name: str
    family: str
    resolution: int
    params: int
    macs: int
    reported_params_millions: Optional[float]
    reported_mult_adds_millions: Optional[float]
    source: str
    # What the model is built for: "ImageNet" (1000 classes) or "CIFAR" (DenseNet-BC's 32 px,
    # 10 classes). A scatter mixes only one, since a 32-px network's cost is not comparable.
    dataset: str = "ImageNet"


def _dataset(model) -> str:
    # What the built model's default head predicts: ImageNet's 1000 classes or CIFAR's 10.
    head = model.get_classifier()
    classes = head.out_features if hasattr(head, "out_features") else head.out_channels
    return {1000: "ImageNet", 10: "CIFAR"}.get(classes, f"{classes} classes")


def zoo_rows(names: Optional[Iterable[str]] = None) -> list:
    """Params and MACs of each image model at its native resolution, with the published figures.

    Models that take a table rather than an image (TabTransformer, lesson 11) are left out.
    """
    from lightnets.models.base import Network

    rows = []
    for name in list_models() if names is None else names:
        spec = model_spec(name)
        model = create_model(name)
        if not isinstance(model, Network):
            continue
        cost = profile(model, (1, 3, spec.resolution, spec.resolution))
        reported = spec.reported
        rows.append(ZooRow(
            name, spec.family, spec.resolution, cost.params, cost.macs,
            reported.params_millions if reported else None,
            reported.mult_adds_millions if reported else None,
            reported.source if reported else "", _dataset(model),
        ))
    return rows


def format_zoo_table(rows: Iterable[ZooRow]) -> str:
    """A fixed-width text table of :func:`zoo_rows`, millions at one decimal."""
    def millions(value: Optional[float]) -> str:
        return "—" if value is None else f"{value:,.1f}"

    header = (f"{'model':<22}{'px':>5}{'params M':>10}{'paper':>8}{'MACs M':>10}{'paper':>9}"
              f"{'gap':>7}  source")
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r.name:<22}{r.resolution:>5}{r.params / 1e6:>10.2f}"
            f"{millions(r.reported_params_millions):>8}{r.macs / 1e6:>10.1f}"
            f"{millions(r.reported_mult_adds_millions):>9}{_gap(r):>7}  {r.source}"
        )
    return "\n".join(lines)


def macs_gap(row: ZooRow) -> Optional[float]:
    """Relative difference of our MACs from the reported Mult-Adds (0.01 = 1% more), or None."""
    if row.reported_mult_adds_millions is None:
        return None
    return row.macs / 1e6 / row.reported_mult_adds_millions - 1


def _gap(row: ZooRow) -> str:
    gap = macs_gap(row)
    return "" if gap is None else f"{gap:+.1%}"
