"""Compound scaling (Tan & Le 2019, "EfficientNet: Rethinking Model Scaling for Convolutional Neural
Networks", arXiv:1905.11946, §3.3): grow depth, width and resolution together by one coefficient φ.

§3.3, eq. 3: depth d = α^φ, width w = β^φ, resolution r = γ^φ, with α·β²·γ² ≈ 2 and α, β, γ ≥ 1.
A convolution's FLOPs grow as d·w²·r² (width multiplies both the input and the output channels,
resolution both sides of the map), so a network's FLOPs grow by (α·β²·γ²)^φ ≈ 2^φ. The paper's
grid search for B0 found α = 1.2, β = 1.1, γ = 1.15 (§4, "STEP 1").

A multiplier is a real number, a network has whole channels and whole layers. The official
EfficientNet code rounds the two differently: channels to the nearest multiple of 8 (never losing
more than 10%), repeats always up, so that a deeper network never has fewer layers than asked for.
:func:`compound_cost` costs the resulting whole-number network from its plan, without building it.
"""
from __future__ import annotations

import functools
import math
from typing import NamedTuple

from lightnets._checks import check_choice, check_float, check_int
from lightnets.cost import cost_plan, mbconv_network_plan, profile
# The official rounding lives with the builder that uses it; re-exported here, where lesson 04
# reads it beside eq. 3.
from lightnets.models.efficientnet import (  # noqa: F401
    VARIANTS, efficientnet_plan, round_filters, round_repeats)
from lightnets.registry import create_model

# EfficientNet §4, STEP 1: the grid search's result for B0 (depth, width, resolution per unit of φ).
ALPHA, BETA, GAMMA = 1.2, 1.1, 1.15
BASE_RESOLUTION = 224  # B0's input side (Table 1)


def _check_coefficients(alpha: float, beta: float, gamma: float, above_one: bool = False) -> None:
    # §3.3: α, β, γ ≥ 1, so that growing φ never shrinks a dimension. The upper bound 4 keeps
    # (α·β²·γ²)^φ a finite float for every φ that _check_phi allows.
    check_float("alpha", alpha, 1.0, 4.0, low_inclusive=not above_one)
    check_float("beta", beta, 1.0, 4.0, low_inclusive=not above_one)
    check_float("gamma", gamma, 1.0, 4.0, low_inclusive=not above_one)


def _check_phi(phi: float) -> float:
    # φ = 7 is already past B7; 50 steps of doubling FLOPs is far beyond any real network.
    return check_float("phi", phi, 0.0, 50.0)


def multipliers(phi: float, alpha: float = ALPHA, beta: float = BETA,
                gamma: float = GAMMA) -> tuple:
    """(depth, width, resolution) multipliers ``(α^φ, β^φ, γ^φ)`` of eq. 3, as real numbers.

    φ = 1 with the paper's coefficients gives (1.2, 1.1, 1.15); the rounded network comes from
    :func:`round_filters`, :func:`round_repeats` and :func:`scaled_resolution`.
    """
    _check_phi(phi)
    _check_coefficients(alpha, beta, gamma)
    return alpha ** phi, beta ** phi, gamma ** phi


def constraint(alpha: float = ALPHA, beta: float = BETA, gamma: float = GAMMA) -> float:
    """α·β²·γ², the FLOPs factor of one step of φ (eq. 3 asks for ≈ 2); 1.2·1.1²·1.15² = 1.920."""
    _check_coefficients(alpha, beta, gamma)
    return alpha * beta ** 2 * gamma ** 2


def predicted_flops_ratio(phi: float, alpha: float = ALPHA, beta: float = BETA,
                          gamma: float = GAMMA) -> float:
    """(α·β²·γ²)^φ: how many times B0's FLOPs eq. 3 predicts at φ (before any rounding)."""
    _check_phi(phi)
    return constraint(alpha, beta, gamma) ** phi


def scaled_resolution(resolution_mult: float, base_resolution: int = BASE_RESOLUTION) -> int:
    """The input side for a resolution multiplier: ``base × r`` rounded to the nearest pixel."""
    check_float("resolution_mult", resolution_mult, 0.0, 100.0, low_inclusive=False)
    check_int("base_resolution", base_resolution, low=1, high=10**4)
    return max(1, int(round(base_resolution * resolution_mult)))


class CompoundCost(NamedTuple):
    """A scaled EfficientNet's multipliers, its whole-number resolution, and its cost from the
    plan."""

    phi: float
    depth_mult: float
    width_mult: float
    resolution: int
    macs: int
    params: int
    predicted_macs: float  # base MACs × (α·β²·γ²)^φ, eq. 3's prediction
    base_macs: int


def network_cost(width_mult: float, depth_mult: float, resolution: int, num_classes: int = 1000):
    """:class:`lightnets.cost.PlanCost` of ``create_model("efficientnet", width_mult=,
    depth_mult=)``
    at ``resolution`` px, by the closed-form formulas on :func:`efficientnet_plan`: no module is
    built,
    yet MACs and parameters equal ``lightnets.profile`` of the built model."""
    plan = efficientnet_plan(width_mult, depth_mult)
    # The rule the built network and lightnets.profile apply: every stride must see a pixel.
    smallest = 2 * math.prod(block.stride for block in plan.blocks)
    check_int("resolution", resolution, low=smallest, high=10**5)
    check_int("num_classes", num_classes, low=1, high=10**8)
    layers = mbconv_network_plan(plan.stem_channels, plan.blocks, plan.head_channels, num_classes)
    return cost_plan(layers, resolution)


def compound_cost(phi: float, alpha: float = ALPHA, beta: float = BETA, gamma: float = GAMMA,
                  base_width: float = 1.0, base_depth: float = 1.0,
                  base_resolution: int = BASE_RESOLUTION,
                  num_classes: int = 1000) -> CompoundCost:
    """Cost of the base network (B0 by default) compound-scaled by φ: actual MACs and parameters of
    the rounded network next to eq. 3's prediction base MACs × (α·β²·γ²)^φ.

    The gap between the two is the rounding: channels to multiples of 8, repeats up, pixels to the
    nearest, and layers that do not scale at all (the classifier's input grows with width only).
    """
    depth, width, resolution_mult = multipliers(phi, alpha, beta, gamma)
    check_float("base_width", base_width, 0.0, None, low_inclusive=False)
    check_float("base_depth", base_depth, 0.0, None, low_inclusive=False)
    resolution = scaled_resolution(resolution_mult, base_resolution)
    actual = network_cost(base_width * width, base_depth * depth, resolution, num_classes)
    base = network_cost(base_width, base_depth, base_resolution, num_classes)
    return CompoundCost(phi, base_depth * depth, base_width * width, resolution, actual.macs,
                        actual.params,
                        base.macs * predicted_flops_ratio(phi, alpha, beta, gamma), base.macs)


def official_phi(variant: str, alpha: float = ALPHA, beta: float = BETA,
                 gamma: float = GAMMA) -> dict:
    """For an official variant, the φ each of its three multipliers implies (log d / log α, ...):
    the released (width, depth, resolution) are hand-rounded, so the three disagree."""
    check_choice("variant", variant, VARIANTS)
    config = VARIANTS[variant]
    _check_coefficients(alpha, beta, gamma, above_one=True)  # log 1 = 0 would divide by zero
    return {
        "depth": math.log(config.depth_mult) / math.log(alpha),
        "width": math.log(config.width_mult) / math.log(beta),
        "resolution": math.log(config.resolution / BASE_RESOLUTION) / math.log(gamma),
    }


# The three ways of scaling one dimension alone (Fig. 3), and all three at once, as coefficients.
KIND_COEFFICIENTS = {
    "depth": lambda alpha, beta, gamma: (alpha, 1.0, 1.0),
    "width": lambda alpha, beta, gamma: (1.0, beta, 1.0),
    "resolution": lambda alpha, beta, gamma: (1.0, 1.0, gamma),
    "compound": lambda alpha, beta, gamma: (alpha, beta, gamma),
}


def kind_costs(phis, alpha: float = ALPHA, beta: float = BETA, gamma: float = GAMMA) -> dict:
    """kind → [:class:`CompoundCost` per φ] for B0 scaled by depth only (α^φ), width only (β^φ),
    resolution only (γ^φ) and all three (compound). The compound FLOPs are the product of the three
    factors (α^φ · β^{2φ} · γ^{2φ}): in log scale the compound line is the sum of the other
    three."""
    if isinstance(phis, (str, bytes)) or not hasattr(phis, "__iter__"):
        raise TypeError(f"phis must be a sequence of numbers, got {type(phis).__name__}")
    phis = [_check_phi(phi) for phi in phis]
    if len(phis) > 100:
        raise ValueError(f"phis must hold at most 100 values, got {len(phis)}")
    return {kind: [compound_cost(phi, *coefficients(alpha, beta, gamma)) for phi in phis]
            for kind, coefficients in KIND_COEFFICIENTS.items()}


class VariantRow(NamedTuple):
    """An official EfficientNet next to what eq. 3 gives at the φ that fits it best."""

    variant: str
    phi: float  # mean of the φ its depth, width and resolution each imply
    depth_official: float
    depth_rule: float
    width_official: float
    width_rule: float
    resolution_official: int
    resolution_rule: int
    blocks_official: int  # MBConv blocks after round_repeats
    blocks_rule: int
    macs_official: int
    macs_rule: int


def official_vs_rule(alpha: float = ALPHA, beta: float = BETA, gamma: float = GAMMA) -> list:
    """B0–B7's released (depth, width, resolution) against (α^φ, β^φ, 224·γ^φ) at each variant's
    fitted φ, with the whole-number networks each gives (blocks, MACs)."""
    rows = []
    for variant, config in VARIANTS.items():
        phi = sum(official_phi(variant, alpha, beta,
                               gamma).values()) / 3 if variant != "b0" else 0.0
        rule = compound_cost(phi, alpha, beta, gamma)
        official = network_cost(config.width_mult, config.depth_mult, config.resolution)
        rows.append(VariantRow(
            variant, phi, config.depth_mult, rule.depth_mult, config.width_mult, rule.width_mult,
            config.resolution, rule.resolution,
            len(efficientnet_plan(config.width_mult, config.depth_mult).blocks),
            len(efficientnet_plan(rule.width_mult,
                                  rule.depth_mult).blocks), official.macs, rule.macs))
    return rows


# --- lesson 04's explorer: the state of its four sliders (widgets only wires them) ----------

# 0, 1, ..., 8: enough for a smooth log plot, and cheap
CURVE_PHIS = tuple(float(x) for x in range(9))


class CompoundState(NamedTuple):
    """What the compound-scaling explorer shows for one position of its four sliders."""

    alpha: float
    beta: float
    gamma: float
    phi: float
    constraint: float  # α·β²·γ²
    depth_mult: float
    width_mult: float
    resolution: int
    predicted_macs: float  # B0's MACs × (α·β²·γ²)^φ
    macs: int  # the rounded network, costed from its plan (None when outside the plan's range)
    params: int
    curve: list  # (φ, predicted MACs, actual MACs or None) along φ = 0 … 8
    variants: list  # (name, MACs, φ at which the predicted curve reaches them, or None)


@functools.lru_cache(maxsize=None)
def _official_macs() -> tuple:
    """B0's MACs and (name, MACs) of B0–B7: fixed, so computed once."""
    rows = tuple((name.upper(), network_cost(c.width_mult, c.depth_mult, c.resolution).macs)
                 for name, c in VARIANTS.items())
    return rows[0][1], rows


@functools.lru_cache(maxsize=4096)
def _cached_network_cost(width_mult: float, depth_mult: float, resolution: int):
    return network_cost(width_mult, depth_mult, resolution)


def phi_reaching(macs: float, base_macs: float, constraint_value: float):
    """The inverse of eq. 3: the φ at which B0's MACs × (α·β²·γ²)^φ reach ``macs``, or None when
    α·β²·γ² = 1 (the prediction never grows)."""
    if constraint_value <= 1:
        return None
    return math.log(macs / base_macs) / math.log(constraint_value)


def nearest_variant(macs: float) -> tuple:
    """The released B-variant whose MACs (counted from its plan) are nearest to ``macs`` on a log
    scale (ties: the smaller variant), with the paper's top-1 for it: ``(name, its MACs, Table 2's
    top-1 %)``. The accuracy is the paper's ImageNet number for that variant, not a prediction
    for a network of ``macs``."""
    from lightnets.models.efficientnet import TABLE_2_TOP1

    check_float("macs", macs, 0.0, None, low_inclusive=False)
    _, official = _official_macs()
    name, variant_macs = min(official, key=lambda row: abs(math.log(row[1] / macs)))
    return name, variant_macs, TABLE_2_TOP1[name.lower()]


def compound_state(alpha: float, beta: float, gamma: float, phi: float) -> CompoundState:
    """Everything lesson 04's explorer displays for one slider position, computed from the plan
    (no model is built). Multipliers beyond what the plan accepts (width or depth above 8) leave
    ``macs`` None.
    """

    def actual(p: float):
        depth, width, resolution = multipliers(p, alpha, beta, gamma)
        if depth > 8 or width > 8:
            return None
        return _cached_network_cost(width, depth, scaled_resolution(resolution))

    here = actual(phi)
    depth, width, resolution = multipliers(phi, alpha, beta, gamma)
    base, official = _official_macs()
    c = constraint(alpha, beta, gamma)
    curve = []
    for p in CURVE_PHIS:
        point = here if p == phi else actual(p)
        curve.append((p, base * c ** p, point.macs if point else None))
    variants = [(name, macs, phi_reaching(macs, base, c)) for name, macs in official]
    return CompoundState(alpha, beta, gamma, phi, c, depth, width, scaled_resolution(resolution),
                         base * c ** phi, here.macs if here else None,
                         here.params if here else None, curve, variants)


# --- MobileNetV1's two multipliers (§3.3 width α, eq. 6; §3.4 resolution ρ, eq. 7) -------------


def width_resolution_prediction(macs: float, params: float, width_mult: float,
                                resolution_mult: float) -> tuple:
    """(MACs, parameters) the full model's cost predicts at width α and resolution ρ: MobileNetV1
    §3.3–3.4 (eqs. 6–7), the cost falls "roughly by α² and ρ²", the parameters by α² (ρ leaves
    them alone)."""
    check_float("width_mult", width_mult, 0.0, None, low_inclusive=False)
    check_float("resolution_mult", resolution_mult, 0.0, None, low_inclusive=False)
    return macs * width_mult ** 2 * resolution_mult ** 2, params * width_mult ** 2


@functools.lru_cache(maxsize=256)
def mobilenet_v1_cost(width_mult: float, resolution: int) -> tuple:
    """(MACs, parameters) of MobileNetV1 at width ``width_mult`` and input side ``resolution``,
    from :func:`lightnets.cost.profile` of the built model."""
    model = create_model("mobilenet_v1", width_mult=width_mult)
    cost = profile(model, (1, 3, resolution, resolution))
    return cost.macs, cost.params
