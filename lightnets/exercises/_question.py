"""Checked exercises in the style of Kaggle Learn: ``q.check(answer)``, ``q.hint()``,
``q.solution()``.

A lesson's module (``lightnets.exercises.lesson01`` …) defines its questions as :class:`Question`
objects. The right answer is never typed in: a question's checker computes it from lightnets (or
from the paper's formula) when the learner checks, so an exercise cannot drift from the code.

``check`` returns a :class:`Feedback` whose text is what the notebook shows: "Correct", the reason
an answer is wrong (a known mistake is named, e.g. "you counted the pointwise layer without α"),
or, for the placeholder ``____``, "not answered yet". A Feedback is truthy only when correct, so a
solution cell can ``assert q.check(answer)`` and CI proves that every solution passes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, Callable, Optional, Sequence


class _Blank:
    """The placeholder a learner replaces with an answer (Kaggle Learn spells it ``____``)."""

    def __repr__(self) -> str:
        return "____"


____ = _Blank()  # noqa: E305 - the placeholder's name is the point


@dataclass(frozen=True)
class Feedback:
    """The outcome of one check: its text is what the notebook displays."""

    status: str  # "correct", "incorrect" or "unanswered"
    message: str

    def __bool__(self) -> bool:
        return self.status == "correct"

    def __repr__(self) -> str:
        return self.message


# A checker takes the learner's answer and returns None when it is right, or the reason it is wrong.
Checker = Callable[[Any], Optional[str]]


@dataclass
class Question:
    """One exercise: its prompt, a checker, hints in increasing detail, and the solution's code."""

    name: str  # e.g. "lesson01.q2"
    prompt: str
    checker: Checker
    hints: Sequence[str]
    solution_code: str
    _hints_shown: int = field(default=0, repr=False)

    def check(self, answer: Any) -> Feedback:
        """Check ``answer``; the feedback says what is wrong, not only that it is."""
        if isinstance(answer, _Blank):
            return Feedback("unanswered", f"{self.name}: not answered yet — try {self._ref}.hint()")
        try:
            problem = self.checker(answer)
        except (TypeError, ValueError) as err:
            problem = f"that answer cannot be checked: {err}"
        if problem is None:
            return Feedback("correct", f"{self.name}: correct")
        return Feedback("incorrect", f"{self.name}: not quite — {problem}")

    def hint(self) -> Feedback:
        """The next hint (they grow more specific; the last one repeats)."""
        index = min(self._hints_shown, len(self.hints) - 1)
        self._hints_shown += 1
        return Feedback("hint", f"Hint {index + 1}/{len(self.hints)}: {self.hints[index]}")

    def solution(self) -> Feedback:
        """The solution's code, to read (the notebook's collapsed solution cell runs it)."""
        return Feedback("solution", f"Solution to {self.name}:\n{self.solution_code}")

    @property
    def _ref(self) -> str:
        return self.name.split(".")[-1]


def numeric(
    expected: Callable[[], float],
    mistakes: Sequence[tuple] = (),
    rel_tol: float = 1e-6,
    unit: str = "",
) -> Checker:
    """A checker for a number: ``expected()`` computes the answer when checked.

    ``mistakes`` pairs ``(wrong_value_fn, explanation)``: an answer equal to a known wrong value
    gets that explanation. Anything else gets how far off it is.
    """

    def check(answer: Any) -> Optional[str]:
        if isinstance(answer, bool) or not isinstance(answer, Real):
            return f"expected a number{_unit(unit)}, got {type(answer).__name__} {answer!r}"
        if not math.isfinite(answer):
            return f"expected a finite number{_unit(unit)}, got {answer!r}"
        right = expected()
        if _close(answer, right, rel_tol):
            return None
        for wrong, explanation in mistakes:
            if _close(answer, wrong(), rel_tol):
                return explanation
        if right != 0 and answer != 0 and (answer > 0) == (right > 0):
            ratio = answer / right
            return f"{answer:g} is {ratio:.3g}× the right value" + (
                "; check for a missing or extra factor" if abs(math.log10(abs(ratio))) > 0.2 else ""
            )
        return f"{answer:g} is not the right value"

    return check


def choice(expected: Callable[[], Any], explanations: Optional[dict] = None) -> Checker:
    """A checker for one of several options (a string, a name, True/False)."""
    explanations = explanations or {}

    def check(answer: Any) -> Optional[str]:
        right = expected()
        if answer == right:
            return None
        return explanations.get(answer, f"{answer!r} is not the answer")

    return check


def _close(a: float, b: float, rel_tol: float) -> bool:
    return math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-12)


def _unit(unit: str) -> str:
    return f" ({unit})" if unit else ""
