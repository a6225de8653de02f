import math

import pytest

from lightnets.stats import binomial_interval, t_interval


def test_t_interval_uses_the_sample_std_and_students_t():
    result = t_interval([1.0, 2.0, 3.0])
    # sample std 1 (ddof = 1), t(0.975, 2) = 4.3027
    assert result["mean"] == 2.0
    assert result["half_width"] == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)


@pytest.mark.parametrize("values", [[1.0], [], [1.0, float("nan")]])
def test_t_interval_refuses_what_it_cannot_summarise(values):
    with pytest.raises(ValueError):
        t_interval(values)


def test_wilson_interval_matches_the_formula_and_stays_in_range():
    low, high = binomial_interval(950, 1000)
    assert low == pytest.approx(0.93469, abs=1e-4) and high == pytest.approx(0.96187, abs=1e-4)
    assert binomial_interval(0, 10)[0] == 0.0
    assert binomial_interval(10, 10)[1] == pytest.approx(1.0) and binomial_interval(10, 10)[1] <= 1
    assert isinstance(low, float)


@pytest.mark.parametrize("correct, n", [(11, 10), (-1, 10), (1, 0)])
def test_wilson_interval_names_a_bad_count(correct, n):
    with pytest.raises(ValueError, match="correct|n"):
        binomial_interval(correct, n)
