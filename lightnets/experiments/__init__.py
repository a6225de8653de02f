"""Experiments too long for a notebook cell: ``python -m lightnets.experiments.NAME`` runs one and
writes a small JSON result (with the command, seed and versions) that a notebook reads."""
from pathlib import Path

# Saved results and small checkpoints ship inside the package, so notebooks find them from anywhere.
RESULTS_DIRECTORY = Path(__file__).resolve().parent / "results"
