"""Experiments too long for a notebook cell: ``python -m lightnets.experiments.NAME`` runs one and
writes a small JSON result (with the command, seed and versions) that a notebook reads."""
from pathlib import Path

# Saved results and small checkpoints ship inside the package, so notebooks find them from anywhere.
RESULTS_DIRECTORY = Path(__file__).resolve().parent / "results"


def versions(*packages: str) -> dict:
    """What a result was made with, for its file: Python, torch, NumPy and lightnets, plus each
    of ``packages`` (distribution names such as ``"scikit-learn"``; "not installed" if absent)."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    import numpy
    import torch

    import lightnets

    found = {"python": platform.python_version(), "torch": str(torch.__version__),
             "numpy": numpy.__version__, "lightnets": lightnets.__version__}
    for package in packages:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found
