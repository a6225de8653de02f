"""What every MBConv family's plan shares: the rounding rule and the plan's one check.

A network is its paper table plus its rules (timm passes ``round_chs_fn`` the same way): the
rounding rule is an argument of every ``*_plan`` function and constructor, so a variant (a blog
that rounds to multiples of 4, a phone's fixed stem) is another argument, never a patch of a
module-level function. The rule takes a width already multiplied by the width multiplier (a
float) and returns whole channels; the default, :func:`lightnets.layers.make_divisible`, is the
official rounding of the MobileNet and EfficientNet code (multiples of 8, never more than 10%
down).
"""
from __future__ import annotations

from typing import Callable

from lightnets.layers import NetworkPlan, make_divisible

RoundingRule = Callable[[float], int]
ROUND_TO_8: RoundingRule = make_divisible  # the papers' official code: multiples of 8


def check_rounding(round_channels) -> RoundingRule:
    """``round_channels`` must be callable; its results are checked with the plan it makes."""
    if not callable(round_channels):
        raise TypeError("round_channels must be a function from a width (float) to whole "
                        f"channels (int), e.g. lightnets.layers.make_divisible; got "
                        f"{type(round_channels).__name__}")
    return round_channels


def checked_plan(plan: NetworkPlan) -> NetworkPlan:
    """The plan, once every width in it is a whole positive number of channels (a rounding rule
    that returns 0 or 12.5 fails here, where the plan is made, not deep inside a convolution)."""
    widths = [("stem", plan.stem_channels), ("head", plan.head_channels)]
    for i, block in enumerate(plan.blocks):
        widths += [(f"block {i} {name}", getattr(block, name)) for name in
                   ("in_channels", "out_channels", "expanded_channels", "squeeze_channels")]
    for where, channels in widths:
        if channels is None and (where == "head" or where.endswith("squeeze_channels")):
            continue
        if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
            raise ValueError(f"round_channels must give whole positive channels; the plan's "
                             f"{where} has {channels!r}")
    return plan
