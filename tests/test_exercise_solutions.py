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


_ANSWERS: dict = {}


def _answer(lesson: str, question: Question):
    """The answer the question's solution code computes (once per session: some build models)."""
    if question.name not in _ANSWERS:
        namespace = {"lightnets": lightnets, "cost": cost, "create_model": create_model,
                     "profile": profile, "exercises": exercises, "torch": torch, "math": math,
                     "np": np}
        module = importlib.import_module(f"lightnets.exercises.{lesson}")
        exec(getattr(module, "NOTEBOOK_CONTEXT", ""), namespace)
        exec(question.solution_code, namespace)
        _ANSWERS[question.name] = namespace["answer"]
    return _ANSWERS[question.name]


@pytest.mark.parametrize("lesson, name, question", QUESTIONS, ids=[f"{lesson}.{n}" for lesson, n, _ in QUESTIONS])
def test_solution_passes_and_blank_is_unanswered(lesson, name, question):
    answer = _answer(lesson, question)
    assert question.check(answer), question.check(answer)
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


# --- exercises that make you think (issue 34) ---------------------------------------------------

@pytest.mark.parametrize("lesson", LESSONS)
def test_every_lesson_asks_to_predict_then_check(lesson):
    prompts = [q.prompt for owner, _, q in QUESTIONS if owner == lesson]
    assert any(p.startswith("Predict, then check:") for p in prompts), \
        f"{lesson} has no question whose prompt starts 'Predict, then check:'"


QUESTION_CELL = re.compile(r"^(q\d+) = (?:exercises\.)?(lesson\d\d)\.(q\d+)\b", re.M)
NUMBER = re.compile(r"(?<![\w.])[-−]?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _text_above(lesson: str, name: str) -> str:
    """The prose and the outputs a learner has read when question ``name`` is asked: every
    markdown cell and every cell's output above it, and the question cell's own output (its
    prompt)."""
    path, = glob.glob(os.path.join(NOTEBOOKS, f"{lesson[len('lesson'):]}_*.ipynb"))
    with open(path, encoding="utf-8") as file:
        cells = json.load(file)["cells"]
    shown = []
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            shown.append(source)
            continue
        for output in cell.get("outputs", []):
            shown.append("".join(output.get("text", "")))
            for kind in ("text/plain", "text/markdown", "text/html"):
                shown.append("".join(output.get("data", {}).get(kind, "")))
        if any(match.group(3) == name for match in QUESTION_CELL.finditer(source)):
            return "\n".join(shown)
    raise AssertionError(f"{lesson}'s notebook never asks {name} (no cell `{name} = "
                         f"{lesson}.{name}`)")


def _printed(answer: float, text: str) -> bool:
    """Whether a number a learner reads in ``text`` is ``answer`` (or 100 × it, a percentage) at
    the precision it is printed with."""
    for match in NUMBER.finditer(text):
        shown = match.group(0).replace(",", "").replace("−", "-")
        try:
            value = float(shown)
        except ValueError:
            continue
        decimals = len(shown.split(".")[1].split("e")[0].split("E")[0]) if "." in shown else 0
        for candidate in (answer, 100 * answer):
            if round(candidate, decimals) == value and value != 0:
                return True
    return False


def _answer_was_not_shown(lesson: str, name: str, question: Question) -> bool:
    """A question whose answer the lesson has not printed: a number (at least two digits, so
    that it can be told apart from the numbers every page holds) found nowhere above it, or a
    choice among explanations, whose options are shown but not which one is right."""
    answer = _answer(lesson, question)
    if isinstance(answer, torch.Tensor) and answer.numel() == 1:
        answer = answer.item()
    if isinstance(answer, bool):
        return False
    if isinstance(answer, (int, float, np.integer, np.floating)):
        answer = float(answer)
        if not math.isfinite(answer) or (answer == int(answer) and abs(answer) < 10):
            return False
        return not _printed(answer, _text_above(lesson, name))
    return isinstance(answer, (str, tuple, list))


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_lesson_asks_something_it_has_not_printed(lesson):
    unseen = [name for owner, name, q in QUESTIONS
              if owner == lesson and _answer_was_not_shown(owner, name, q)]
    assert unseen, (f"every answer of {lesson}'s questions is printed above the question: ask "
                    "one whose answer the learner computes or chooses")


def test_printed_finds_an_answer_in_its_printed_forms():
    assert _printed(87.0, "| 12 | 87 |") and _printed(2664.0, "costs 2,664 MACs")
    assert _printed(0.4137, "tiger cat 0.41") and _printed(0.4137, "41.4 %")
    assert not _printed(288.0, "2880 and 28.8") and not _printed(0.4137, "0.42")
