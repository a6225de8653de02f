import math

import pytest

import lightnets
from lightnets import scaling
from lightnets.models.efficientnet import TABLE_2, VARIANTS


def test_scaling_eq3_multipliers_at_phi_1_are_alpha_beta_gamma():
    assert scaling.multipliers(1) == (1.2, 1.1, 1.15)
    assert scaling.multipliers(0) == (1.0, 1.0, 1.0)
    depth, width, resolution = scaling.multipliers(2, alpha=1.3, beta=1.05, gamma=1.1)
    assert (depth, width, resolution) == pytest.approx((1.69, 1.1025, 1.21))


def test_scaling_eq3_constraint_of_the_papers_coefficients_is_about_2():
    # §3.3: α·β²·γ² ≈ 2; 1.2 · 1.1² · 1.15² = 1.9203
    assert scaling.constraint() == pytest.approx(1.2 * 1.21 * 1.3225)
    assert round(scaling.constraint(), 3) == 1.920


def test_scaling_eq3_predicted_flops_grow_as_constraint_to_the_phi():
    assert scaling.predicted_flops_ratio(3) == pytest.approx(scaling.constraint() ** 3)
    assert scaling.predicted_flops_ratio(4, 2.0, 1.0, 1.0) == pytest.approx(16.0)
    assert scaling.predicted_flops_ratio(0) == 1.0


@pytest.mark.parametrize("argument, kwargs", [
    ("phi", dict(phi=-1)), ("alpha", dict(phi=1, alpha=0.9)), ("beta", dict(phi=1, beta=0.5)),
    ("gamma", dict(phi=1, gamma=-1.0)),
])
def test_scaling_multipliers_reject_shrinking_coefficients(argument, kwargs):
    with pytest.raises(ValueError, match=argument):
        scaling.multipliers(**kwargs)


def test_scaling_official_rounding_filters_to_multiples_of_8_repeats_up():
    assert scaling.round_filters(40, 1.1) == 48  # B2: 44 → 48
    assert scaling.round_filters(16, 1.1) == 16  # 17.6 → 16 (within 10%)
    assert scaling.round_filters(1280, 2.0) == 2560  # B7's head
    assert scaling.round_repeats(3, 3.1) == 10  # B7: 9.3 → 10
    assert scaling.round_repeats(1, 1.1) == 2  # B1: 1.1 → 2, never fewer layers than asked


def test_scaling_scaled_resolution_rounds_to_the_nearest_pixel():
    assert scaling.scaled_resolution(1.15) == 258  # 257.6
    assert scaling.scaled_resolution(math.sqrt(2), 32) == 45  # 45.25


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_scaling_network_cost_equals_profile_of_built_model_table2(variant):
    """The plan costs exactly what lightnets.profile measures on the built B0–B7 (Table 2's networks)."""
    config = VARIANTS[variant]
    planned = scaling.network_cost(config.width_mult, config.depth_mult, config.resolution)
    model = lightnets.create_model(f"efficientnet_{variant}")
    measured = lightnets.profile(model, (1, 3, config.resolution, config.resolution))
    assert (planned.macs, planned.params) == (measured.macs, measured.params)
    assert planned.macs / 1e9 == pytest.approx(TABLE_2[variant][1], rel=0.05)


def test_scaling_network_cost_equals_profile_for_a_tiny_base_with_5_classes():
    planned = scaling.network_cost(0.25, 0.25, 32, num_classes=5)
    model = lightnets.create_model("efficientnet", num_classes=5, width_mult=0.25, depth_mult=0.25)
    measured = lightnets.profile(model, (1, 3, 32, 32))
    assert (planned.macs, planned.params) == (measured.macs, measured.params)


def test_scaling_compound_cost_phi_0_is_b0_and_prediction_is_base_times_constraint_power():
    b0 = scaling.compound_cost(0)
    assert (b0.resolution, b0.macs, b0.params) == (224, 385_814_752, 5_288_548)
    assert b0.predicted_macs == b0.macs
    phi3 = scaling.compound_cost(3)
    assert phi3.predicted_macs == pytest.approx(b0.macs * scaling.constraint() ** 3)
    assert phi3.resolution == round(224 * 1.15 ** 3)
    # rounding (channels to 8, repeats up) only ever adds: the actual network costs more.
    assert phi3.macs > phi3.predicted_macs


def test_scaling_official_phi_b2_is_about_1_and_b7_about_7():
    assert scaling.official_phi("b2")["width"] == pytest.approx(1.0)
    assert scaling.official_phi("b2")["depth"] == pytest.approx(1.0)
    assert 6 < scaling.official_phi("b7")["resolution"] < 7.5
