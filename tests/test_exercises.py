"""The exercise mechanics: unanswered, correct, a named mistake, hints, and the solution text."""
import pytest

from lightnets import exercises
from lightnets.exercises import ____, Question, choice, numeric


def _question():
    return Question(
        name="lesson99.q1",
        prompt="Mult-Adds of a 3×3 depthwise conv, 8 channels, 4×4 map?",
        checker=numeric(lambda: 3 * 3 * 8 * 4 * 4,
                        mistakes=[(lambda: 3 * 3 * 8 * 8 * 4 * 4, "that is a standard conv: depthwise "
                                   "filters see one channel each")]),
        hints=["Each output value needs D_K² multiply-adds.", "D_K·D_K·M·D_F·D_F"],
        solution_code="answer = 3 * 3 * 8 * 4 * 4",
    )


def test_unanswered_placeholder_says_try_a_hint():
    feedback = _question().check(____)
    assert not feedback and feedback.status == "unanswered"
    assert repr(feedback) == "lesson99.q1: not answered yet — try q1.hint()"


def test_correct_answer_is_truthy():
    assert _question().check(1152)


def test_known_mistake_is_explained():
    feedback = _question().check(9216)
    assert not feedback and "standard conv" in repr(feedback)


def test_unknown_wrong_number_reports_the_ratio():
    assert "2× the right value" in repr(_question().check(2304))


def test_wrong_type_is_explained_not_raised():
    assert "expected a number" in repr(_question().check([1152]))
    assert "expected a number" in repr(_question().check("eleven hundred"))


def test_a_number_written_as_text_is_read_as_that_number():
    feedback = _question().check("1,152")
    assert feedback and "read '1,152' as 1152" in repr(feedback)
    assert "standard conv" in repr(_question().check("9216"))  # a known mistake, as text too
    fraction = Question(name="lesson99.q2", prompt="share?", checker=numeric(lambda: 3 / 13),
                        hints=["."], solution_code="answer = 3 / 13")
    assert fraction.check("3/13") and fraction.check(f"{300 / 13:.6f}%")
    assert fraction.check(f"{300 / 13:.6f} %") and not fraction.check("23%")
    percentage = Question(name="lesson99.q3", prompt="percent?", checker=numeric(
        lambda: 25.0, percent=True), hints=["."], solution_code="answer = 25.0")
    assert percentage.check("25%") and percentage.check("25") and percentage.check("1/4")


def test_hints_grow_then_repeat_the_last():
    q = _question()
    assert [repr(q.hint()) for _ in range(3)] == [
        "Hint 1/2: Each output value needs D_K² multiply-adds.", "Hint 2/2: D_K·D_K·M·D_F·D_F",
        "Hint 2/2: D_K·D_K·M·D_F·D_F"]


def test_solution_shows_code():
    assert "answer = 3 * 3 * 8 * 4 * 4" in repr(_question().solution())


def test_choice_checker_explains_a_named_wrong_option():
    check = choice(lambda: "narrow-wide-narrow", {"wide-narrow-wide": "that is ResNet's bottleneck"})
    assert check("narrow-wide-narrow") is None
    assert check("wide-narrow-wide") == "that is ResNet's bottleneck"


def test_unknown_lesson_module_is_a_clear_attribute_error():
    with pytest.raises(AttributeError, match="lesson99"):
        exercises.lesson99
