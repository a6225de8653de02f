import pytest

from lightnets import scaling, widgets


def test_compound_state_at_the_papers_sliders_matches_scaling():
    state = scaling.compound_state(1.2, 1.1, 1.15, 1.0)
    assert round(state.constraint, 3) == 1.920
    assert (state.depth_mult, state.width_mult, state.resolution) == pytest.approx((1.2, 1.1, 258))
    expected = scaling.compound_cost(1.0)
    assert (state.macs, state.params) == (expected.macs, expected.params)
    assert state.predicted_macs == pytest.approx(expected.predicted_macs)
    assert [name for name, _, _ in state.variants] == [f"B{i}" for i in range(8)]


def test_compound_state_places_b7_near_phi_7_on_the_papers_curve():
    # B7 costs 37.7 G MACs = 97.8 × B0; log(97.8) / log(1.92) = 7.02
    phis = {name: phi for name, _, phi in scaling.compound_state(1.2, 1.1, 1.15, 1.0).variants}
    assert phis["B0"] == 0
    assert 6.5 < phis["B7"] < 7.5


def test_widgets_render_compound_shows_constraint_macs_params_resolution():
    text = widgets.render_compound(1.2, 1.1, 1.15, 1.0)
    assert "1.920" in text and "258 px" in text
    assert f"{scaling.compound_cost(1.0).macs / 1e6:,.0f} M" in text


def test_widgets_render_compound_reports_multipliers_outside_the_plan():
    text = widgets.render_compound(1.5, 1.5, 1.5, 8.0)  # depth 1.5^8 = 25.6 > 8
    assert "outside the plan" in text


def test_widgets_render_compound_with_all_coefficients_1_predicts_no_growth():
    state = scaling.compound_state(1.0, 1.0, 1.0, 5.0)
    assert state.constraint == 1.0 and state.macs == state.predicted_macs
    assert all(phi is None for _, _, phi in state.variants)


def test_widgets_compound_widget_moves_refill_the_view():
    box = widgets.compound_widget()
    *sliders, views = box.children
    table, image = views.children
    assert table.value == widgets.render_compound(1.2, 1.1, 1.15, 1.0)
    assert bytes(image.value).startswith(b"\x89PNG")
    before = image.value
    sliders[3].value = 3.0  # φ
    assert table.value == widgets.render_compound(1.2, 1.1, 1.15, 3.0)
    assert f"{scaling.compound_cost(3.0).resolution} px" in table.value
    assert bytes(image.value) != bytes(before)  # the curve marks the new φ


def test_widgets_render_compound_plot_draws_the_state_through_plots():
    assert widgets.render_compound_plot(1.2, 1.1, 1.15, 1.0).startswith(b"\x89PNG")


def test_plots_compound_curve_takes_plain_data():
    import matplotlib.pyplot as plt

    from lightnets import plots

    state = scaling.compound_state(1.2, 1.1, 1.15, 2.0)
    fig, data = plots.compound_curve(state.curve, state.variants, state.constraint,
                                     (1.2, 1.1, 1.15), (2.0, state.macs))
    plt.close(fig)
    assert data["actual_macs"][2] == state.macs and data["phi"][2] == 2.0


def test_scaling_phi_reaching_inverts_eq_3():
    assert scaling.phi_reaching(4.0, 1.0, 2.0) == pytest.approx(2.0)
    assert scaling.phi_reaching(4.0, 1.0, 1.0) is None


def test_plots_compound_curve_and_macs_by_kind_return_what_they_drew():
    import matplotlib.pyplot as plt

    from lightnets import plots

    fig, data = plots.compound_curve(scaling.compound_state(1.2, 1.1, 1.15, 1.0))
    plt.close(fig)
    assert data["actual_macs"][0] == data["predicted_macs"][0] == 385_814_752  # B0
    assert 6.5 < data["variants"]["B7"][0] < 7.5
    fig, data = plots.macs_by_scaling_kind(scaling.kind_costs([0, 1, 2]))
    plt.close(fig)
    # eq. 3 in log scale: compound's predicted growth is the product of the three single ones
    growth = {kind: series["predicted_macs"][2] / series["predicted_macs"][0] for kind, series in data.items()}
    assert growth["compound"] == pytest.approx(growth["depth"] * growth["width"] * growth["resolution"])


def test_widgets_render_compound_names_the_papers_top1_of_the_nearest_variant():
    from lightnets.models.efficientnet import TABLE_2_TOP1

    text = widgets.render_compound(1.2, 1.1, 1.15, 1.0)  # ≈ B2's cost
    assert "B2" in text and f"top-1, {TABLE_2_TOP1['b2']:.1f}% (Table 2)" in text
    assert scaling.nearest_variant(scaling.compound_cost(0).macs)[::2] == ("B0", 77.1)
    assert scaling.nearest_variant(1e12)[0] == "B7"
    with pytest.raises(ValueError, match="macs"):
        scaling.nearest_variant(0)
