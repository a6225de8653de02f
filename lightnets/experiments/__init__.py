"""Experiments too long for a notebook cell: ``python -m lightnets.experiments.NAME`` runs one and
writes a small JSON result (with the command, seed and versions) that a notebook reads."""
