"""Checked exercises, one module per lesson: ``q = exercises.lesson01.q2; q.check(answer)``.

Each question offers ``check(answer)``, ``hint()`` and ``solution()``; the placeholder ``____``
marks an unanswered exercise. Lesson modules load on first use (``exercises.lesson01``).
"""
from __future__ import annotations

import importlib

from lightnets.exercises._question import ____, Accepted, Feedback, Question, choice, numeric

__all__ = ["____", "Accepted", "Feedback", "Question", "choice", "numeric"]


def __getattr__(name: str):
    # ``exercises.lessonNN`` imports lightnets/exercises/lessonNN.py the first time it is asked for.
    if name.startswith("lesson"):
        try:
            return importlib.import_module(f"lightnets.exercises.{name}")
        except ModuleNotFoundError as err:
            if err.name == f"lightnets.exercises.{name}":
                raise AttributeError(f"lightnets.exercises has no lesson module {name!r}") from None
            raise
    raise AttributeError(f"module 'lightnets.exercises' has no attribute {name!r}")
