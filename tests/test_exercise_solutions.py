"""Every lesson's exercises: the stored solution passes its own checker, and the placeholder does not.

The notebooks run the same solutions in their collapsed cells; this checks them without a kernel,
so a change in lightnets that moves an answer fails here too.
"""
import glob
import importlib
import json
import math
import os
import pkgutil
import re

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


# --- each solution is written once: the notebook's solution cell is the module's solution -------

NOTEBOOKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "notebooks")
SOLUTION_IDS = [f"{lesson}.{name}" for lesson, name, _ in QUESTIONS]
SOLUTION_CELL = re.compile(r"^assert (\w+)\.check\(answer\)", re.M)


def _notebook_solutions(lesson: str) -> dict:
    """question name -> the code of its solution cell in the lesson's notebook (the lines before
    ``assert qN.check(answer)``, without a leading ``# Solution`` line)."""
    path, = glob.glob(os.path.join(NOTEBOOKS, f"{lesson[len('lesson'):]}_*.ipynb"))
    with open(path, encoding="utf-8") as file:
        cells = json.load(file)["cells"]
    solutions = {}
    for cell in cells:
        source = "".join(cell["source"])
        match = SOLUTION_CELL.search(source) if cell["cell_type"] == "code" else None
        if match:
            code = source[:match.start()].rstrip("\n")
            solutions[match.group(1)] = re.sub(r"\A# Solution[^\n]*\n", "", code)
    return solutions


@pytest.mark.parametrize("lesson, name, question", QUESTIONS, ids=SOLUTION_IDS)
def test_notebook_solution_cell_is_the_modules_solution(lesson, name, question):
    solutions = _notebook_solutions(lesson)
    assert name in solutions, f"{lesson}'s notebook has no cell asserting {name}.check(answer)"
    assert solutions[name] == question.solution_code.rstrip("\n")
