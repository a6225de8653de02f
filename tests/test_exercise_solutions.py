"""Every lesson's exercises: the stored solution passes its own checker, and the placeholder does not.

The notebooks run the same solutions in their collapsed cells; this checks them without a kernel,
so a change in lightnets that moves an answer fails here too.
"""
import importlib
import math
import pkgutil

import numpy as np

import pytest
import torch

import lightnets
from lightnets import cost, create_model, exercises, profile
from lightnets.exercises import ____, Question

LESSONS = sorted(m.name for m in pkgutil.iter_modules(exercises.__path__) if m.name.startswith("lesson"))
QUESTIONS = [(lesson, name, q) for lesson in LESSONS
             for name, q in vars(importlib.import_module(f"lightnets.exercises.{lesson}")).items()
             if isinstance(q, Question)]


@pytest.mark.parametrize("lesson, name, question", QUESTIONS, ids=[f"{lesson}.{n}" for lesson, n, _ in QUESTIONS])
def test_solution_passes_and_blank_is_unanswered(lesson, name, question):
    namespace = {"lightnets": lightnets, "cost": cost, "create_model": create_model,
                 "profile": profile, "exercises": exercises, "torch": torch, "math": math, "np": np}
    module = importlib.import_module(f"lightnets.exercises.{lesson}")
    exec(getattr(module, "NOTEBOOK_CONTEXT", ""), namespace)
    exec(question.solution_code, namespace)
    assert question.check(namespace["answer"]), question.check(namespace["answer"])
    assert question.check(____).status == "unanswered"
    assert question.name == f"{lesson}.{name}"
    assert len(question.hints) >= 1 and question.prompt


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_lesson_has_at_least_three_questions(lesson):
    assert sum(1 for owner, _, _ in QUESTIONS if owner == lesson) >= 3
