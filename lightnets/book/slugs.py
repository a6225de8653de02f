"""Heading anchors that are the same in JupyterLab and in the book.

JupyterLab names a rendered heading's anchor after its text, spaces turned into hyphens and
nothing else changed ("## Appendix A · Timing" → ``#Appendix-A-·-Timing``). The book's MyST
parser takes this function for its anchors (``myst_heading_slug_func``), so a lesson's link to
its own section (``[Appendix A](#Appendix-A-·-Timing)``) works in both places.
"""
from __future__ import annotations


def jupyter_slug(title: str) -> str:
    """A heading's anchor as JupyterLab writes it: the text with each space a hyphen."""
    return title.strip().replace(" ", "-")
