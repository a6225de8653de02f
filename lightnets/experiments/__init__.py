"""Experiments too long for a notebook cell: ``python -m lightnets.experiments.NAME`` writes a small
results file (with the command, seed and versions that made it) that the notebooks read."""
