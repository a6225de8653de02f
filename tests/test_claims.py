"""lightnets.claims: a lesson's check prints a ✓ line a learner reads, or fails with measured
vs expected."""
import math

import numpy as np
import pytest

from lightnets import claims


def test_equal_claim_prints_a_tick_line_with_the_measured_value(capsys):
    claims.show(("MobileNetV1 Mult-Adds = Table 8's 569 M", 569, 569))
    assert capsys.readouterr().out == "✓ MobileNetV1 Mult-Adds = Table 8's 569 M: 569\n"


def test_true_claim_prints_only_its_description(capsys):
    claims.show(("the top-1 is a cat class", True, True))
    assert capsys.readouterr().out == "✓ the top-1 is a cat class\n"


def test_tolerance_is_relative_and_printed_as_percent(capsys):
    claims.show(("ours within 5% of the paper's", 386.2, 390, 0.05))
    assert capsys.readouterr().out == "✓ ours within 5% of the paper's: 386.2 ≈ 390 (within 5%)\n"


def test_false_claim_fails_loudly_with_measured_and_expected(capsys):
    with pytest.raises(AssertionError, match=r"✗ labels: measured \['cat'\], expected \['dog'\]"):
        claims.show(("labels", ["cat"], ["dog"]))


def test_claim_outside_its_tolerance_says_how_far_off():
    with pytest.raises(claims.ClaimError, match=r"measured 385.2, expected 407 within 5%, off by "
                                                r"5.36%"):
        claims.show(("Lite0's MACs", 385.2, 407, 0.05))


def test_claims_before_a_false_one_are_printed(capsys):
    with pytest.raises(claims.ClaimError):
        claims.show(("one", 1, 1), ("two", 2, 3))
    assert capsys.readouterr().out == "✓ one: 1\n"


def test_nan_never_satisfies_a_tolerance():
    with pytest.raises(claims.ClaimError):
        claims.check("nan", math.nan, 1.0, 0.5)


def test_floats_print_to_four_significant_digits():
    assert claims.check("ratio", 0.1160000123, 0.1160000123) == "✓ ratio: 0.116"


def test_long_lists_print_their_length():
    assert claims.check("rows", list(range(28)), list(range(28))) == "✓ rows: 28 items"


@pytest.mark.parametrize("claim, error", [
    (("x", 1), TypeError), (["x", 1, 1], TypeError), (("", 1, 1), TypeError),
    (("x", 1, 1, -0.1), ValueError), (("x", 1, 1, math.inf), ValueError),
    (("x", "a", "a", 0.1), TypeError), (("x", np.ones(2), np.ones(2)), TypeError),
])
def test_malformed_claims_are_refused_by_name(claim, error):
    with pytest.raises(error):
        claims.show(claim)


def test_show_needs_a_claim():
    with pytest.raises(ValueError, match="at least one claim"):
        claims.show()


def test_numpy_scalars_compare_as_one_truth_value(capsys):
    claims.show(("numpy scalar", np.float64(2.0), 2.0), ("numpy bool", np.bool_(True), True))
    assert capsys.readouterr().out == "✓ numpy scalar: 2\n✓ numpy bool\n"
