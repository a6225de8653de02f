"""The exercises on EfficientNet-Lite and real photos (lessons 00, 04, 05) name their known
mistakes."""
from lightnets.exercises import lesson00, lesson04, lesson05


def test_gray_chelsea_answer_taken_from_the_colour_photo_is_named():
    colour = lesson00._gray_chelsea_top1()[1]
    feedback = lesson00.q4.check(colour.upper())
    assert feedback.status == "incorrect" and "colour photo's top-1" in feedback.message


def test_gray_chelsea_accepts_any_case_and_refuses_a_non_class():
    gray = lesson00._gray_chelsea_top1()[0]
    assert lesson00.q4.check(f"  {gray.title()} ")
    assert "not one of the 1000" in lesson00.q4.check("astronaut").message


def test_lite4_head_answer_by_b0s_rule_is_named():
    assert "fix_head_stem" in lesson04.q4.check(1792).message
    assert lesson04.q4.check(1280)


def test_grad_cam_grid_mistakes_are_named():
    assert "7×7" in lesson05.q4.check(49).message
    assert "features.4 halves" in lesson05.q4.check(784).message
    assert "side of the grid" in lesson05.q4.check(14).message
    assert lesson05.q4.check(196)
