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


class Accepted(str):
    """What a checker returns for a right answer given in another form than asked (a percentage
    for a fraction, say): the answer counts as correct, and the text says how it was read."""


# A checker takes the learner's answer and returns None when it is right, an :class:`Accepted`
# note when it is right in another form, or the reason it is wrong.
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
        if isinstance(problem, Accepted):
            return Feedback("correct", f"{self.name}: correct ({problem})")
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
    percent: bool = False,
) -> Checker:
    """A checker for a number: ``expected()`` computes the answer when checked.

    ``mistakes`` pairs ``(wrong_value_fn, explanation)``: an answer equal to a known wrong value
    gets that explanation. Anything else gets how far off it is.

    A fraction's answer (|right| <= 1) also counts when given as a percentage (96.4 for 0.964),
    and, with ``percent=True`` (the question asks for a percentage), a percentage's answer counts
    when given as a fraction; the feedback says how the answer was read. A one-element tensor or
    array counts as its number.
    """

    def check(answer: Any) -> Optional[str]:
        if isinstance(answer, str):
            return _check_text(answer, check, percent, unit)
        answer = _as_number(answer)
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
        if not percent and 0 < abs(right) <= 1 and _close(answer, 100 * right, rel_tol):
            return Accepted(f"read as a percentage: {answer:g} % = {answer / 100:g}; the question "
                            "asks for the fraction")
        if percent and _close(answer, right / 100, rel_tol):
            return Accepted(f"read as a fraction: {answer:g} = {100 * answer:g} %; the question "
                            "asks for the percentage")
        ratio = answer / right if right else 0.0
        if not percent and 0 < abs(right) <= 1 and 90 < ratio < 110:
            return (f"{answer:g} looks like a percentage: {answer:g} % = {answer / 100:g}, but "
                    + _how_far(answer / 100, right, rel_tol))
        if percent and 0.009 < ratio < 0.011:
            return (f"{answer:g} looks like a fraction: {answer:g} = {100 * answer:g} %, but "
                    + _how_far(100 * answer, right, rel_tol))
        return _how_far(answer, right, rel_tol)

    return check


def _number_in_text(text: str) -> Optional[tuple]:
    """A number written as text, as a learner might: '2,664', '1.2e6', '3/13', '23%' or '23 %'.
    Returns (value, written_as_percentage), or None when the text is no number."""
    written = text.strip().replace(",", "").replace("_", "").replace(" ", "")
    as_percentage = written.endswith("%")
    written = written.rstrip("%")
    try:
        if written.count("/") == 1:
            numerator, denominator = (float(part) for part in written.split("/"))
            value = numerator / denominator
        else:
            value = float(written)
    except (ValueError, ZeroDivisionError):
        return None
    return value, as_percentage


def _check_text(text: str, check: Checker, percent: bool, unit: str) -> Optional[str]:
    """Check a number given as text ('23%', '2,664', '3/13') as the number it writes."""
    parsed = _number_in_text(text)
    if parsed is None:
        return f"expected a number{_unit(unit)}, got the text {text!r}: write the number itself"
    value, as_percentage = parsed
    if as_percentage and not percent:
        value = value / 100  # '23%' answers a question that asks for the fraction 0.23
    problem = check(value)
    if problem is None or isinstance(problem, Accepted):
        note = f"read {text.strip()!r} as {value:g}"
        return Accepted(note if problem is None else f"{note}; {problem}")
    return problem


def _as_number(answer: Any) -> Any:
    # A one-element tensor or array (what `x.sum()` or `np.mean(x)` return) is the number it holds.
    shape = None if isinstance(answer, (Real, str, bytes)) else getattr(answer, "shape", None)
    if shape is not None and math.prod(shape) == 1 and hasattr(answer, "item"):
        value = answer.item()
        return value if isinstance(value, Real) else answer
    return answer


def _how_far(answer: float, right: float, rel_tol: float) -> str:
    if right != 0 and answer != 0 and (answer > 0) == (right > 0):
        ratio = answer / right
        if abs(ratio - 1) < 0.01:  # "1× the right value" would say nothing: say how close
            return (f"{answer:g} is {abs(ratio - 1):.2%} off the right value, more than the "
                    f"{rel_tol:g} relative error allowed: compute it rather than round it")
        return f"{answer:g} is {ratio:.3g}× the right value" + (
            "; check for a missing or extra factor" if abs(math.log10(abs(ratio))) > 0.2 else ""
        )
    return f"{answer:g} is not the right value"


def choice(expected: Callable[[], Any], explanations: Optional[dict] = None) -> Checker:
    """A checker for one of several options (a string, a name, True/False, a tuple).

    Answers are compared in a reasonable form: a word in any case and without surrounding spaces
    ('Outputs' for 'outputs'), a sequence as a list, tuple, array or tensor ([0, 2, 4] for
    (0, 2, 4)), True/False also as the words 'true'/'false'. ``explanations`` maps known wrong
    options to why they are wrong, and is read in the same form."""
    explanations = explanations or {}

    def check(answer: Any) -> Optional[str]:
        right = _option(expected())
        given = _option(answer, like=right)
        if isinstance(right, str) and isinstance(given, tuple) and len(given) == 1:
            given = given[0]  # ['outputs'] for 'outputs'
        if _same(given, right):
            return None
        for option, explanation in explanations.items():
            if _same(given, _option(option)):
                return explanation
        kind = _KINDS.get(type(right))
        if kind and not isinstance(given, type(right)):
            return f"expected {kind}, got {type(answer).__name__} {_short(answer)}"
        return f"{_short(answer)} is not the answer"

    return check


# What a choice's answer should be, by the type of the right option after _option.
_KINDS = {str: "a word or name (a str)", tuple: "a sequence (a tuple or list)",
          bool: "True or False"}


def _option(value: Any, like: Any = None) -> Any:
    """``value`` in the form options are compared in: words stripped and lower-cased, sequences
    as tuples (of options), numpy/torch scalars as Python numbers, 'true'/'false' as bools when
    the right option is a bool. Always hashable, so any answer can be looked up."""
    if isinstance(value, str):
        word = value.strip().lower()
        if isinstance(like, bool) and word in ("true", "false"):
            return word == "true"
        return word
    if hasattr(value, "tolist") and not isinstance(value, (bool, int, float)):
        value = value.tolist()  # numpy arrays and scalars, torch tensors
    if isinstance(value, (list, tuple, range)):
        return tuple(_option(item) for item in value)
    try:
        hash(value)
    except TypeError:  # a dict, a set …: compared by its text
        return repr(value)
    return value


def _same(given: Any, option: Any) -> bool:
    # 1 == True in Python, but 1 is no answer to a True/False question.
    return given == option and isinstance(given, bool) == isinstance(option, bool)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _close(a: float, b: float, rel_tol: float) -> bool:
    return math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-12)


def _unit(unit: str) -> str:
    return f" ({unit})" if unit else ""
