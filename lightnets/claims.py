"""A lesson's checks as claims a learner reads: one "✓ ..." line each, or a loud failure.

    claims.show(
        ("MobileNetV1 Mult-Adds = Table 8's 569 M", round(macs / 1e6), 569),
        ("Lite0's top-1 on chelsea is a cat", label in CAT_CLASSES, True),
        ("our MACs within 5% of Table 2's", ours, paper, 0.05),
    )
    # ✓ MobileNetV1 Mult-Adds = Table 8's 569 M: 569
    # ✓ Lite0's top-1 on chelsea is a cat
    # ✓ our MACs within 5% of Table 2's: 386.2 ≈ 390 (within 5%)

A claim is ``(description, measured, expected)`` or ``(description, measured, expected,
tolerance)``. Without a tolerance the measured value must equal the expected one; with one, both
are numbers and ``|measured − expected| <= tolerance × |expected|``. When a claim is false,
:func:`show` raises :class:`ClaimError` (an AssertionError) naming the claim, the measured and the
expected value, after printing the claims before it.

Printed values must hold on any CPU, so floats print to 4 significant digits: round a measured
value yourself to the precision its computation supports before you claim it.
"""
from __future__ import annotations

import math
from numbers import Real

__all__ = ["ClaimError", "check", "show"]


class ClaimError(AssertionError):
    """A lesson's claim that did not hold: what was claimed, what was measured, what was
    expected."""


def _text(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)) and len(value) > 6:
        return f"{len(value)} items"
    return str(value)


def _is_number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def check(description: str, measured, expected, tolerance=None) -> str:
    """The "✓ ..." line of one claim; ClaimError with measured and expected if it is false."""
    if not isinstance(description, str) or not description:
        raise TypeError(f"description must be a non-empty str, got {description!r}")
    if tolerance is None:
        holds = measured == expected
        if tuple(getattr(holds, "shape", ())) == ():  # bool, numpy's bool_, a 0-d tensor
            holds = bool(holds)
        else:  # numpy arrays or tensors of many values: compare them yourself
            raise TypeError(f"claim {description!r}: measured and expected must compare to one "
                            f"True or False, got {type(holds).__name__}; compare arrays with "
                            "torch.equal or numpy.array_equal and claim the result")
        if not holds:
            raise ClaimError(f"✗ {description}: measured {_text(measured)!s}, expected "
                             f"{_text(expected)!s}")
        if expected is True:
            return f"✓ {description}"
        return f"✓ {description}: {_text(measured)}"
    if not (_is_number(tolerance) and 0 <= tolerance and math.isfinite(tolerance)):
        raise ValueError(f"tolerance must be a finite number >= 0 (relative), got {tolerance!r}")
    if not (_is_number(measured) and _is_number(expected)):
        raise TypeError(f"claim {description!r}: a tolerance needs two numbers, got "
                        f"{type(measured).__name__} and {type(expected).__name__}")
    off = abs(measured - expected)
    if not off <= tolerance * abs(expected):  # `not <=` so that NaN fails
        relative = off / abs(expected) if expected else math.inf
        raise ClaimError(f"✗ {description}: measured {_text(float(measured))}, expected "
                         f"{_text(float(expected))} within {100 * tolerance:g}%, off by "
                         f"{100 * relative:.3g}%")
    return (f"✓ {description}: {_text(float(measured))} ≈ {_text(float(expected))} "
            f"(within {100 * tolerance:g}%)")


def show(*claims) -> None:
    """Print one "✓ ..." line per claim (see the module's docstring); the first false claim
    raises :class:`ClaimError` with its measured and expected values."""
    if not claims:
        raise ValueError("show needs at least one claim: (description, measured, expected"
                         "[, tolerance])")
    for claim in claims:
        if not isinstance(claim, tuple) or len(claim) not in (3, 4):
            raise TypeError("each claim must be a tuple (description, measured, expected"
                            f"[, tolerance]), got {claim!r}")
        print(check(*claim))
