import pytest

from lightnets import scaling, widgets

PNG = b"\x89PNG"


def test_render_spiral_shows_the_chosen_n_and_seed():
    png, html = widgets.render_spiral(15, 3)
    assert png.startswith(PNG)
    assert "n = 15, seed = 3" in html and "share of points lost 0.0%" in html


def test_render_spiral_reports_collapse_at_n2():
    _png, html = widgets.render_spiral(2, 0)
    lost = float(html.split("share of points lost ")[1].rstrip("%")) / 100
    assert lost > 0.4


def test_render_width_resolution_full_model_matches_table6_569m():
    html = widgets.render_width_resolution(1.0, 224)
    assert "<td>568.7</td>" in html  # MobileNetV1 Table 6: 569 M Mult-Adds at α = 1, 224 px
    assert "paper Table 6, α = 0.5</td><td>149" in html


def test_render_width_resolution_half_width_is_about_a_quarter_of_the_cost():
    macs, params = scaling.mobilenet_v1_cost(0.5, 224)
    full, _ = scaling.mobilenet_v1_cost(1.0, 224)
    assert macs / full == pytest.approx(0.25, abs=0.02)  # α²
    assert "<td>149.5</td>" in widgets.render_width_resolution(0.5, 224)  # Table 6: 149 M


def test_render_width_resolution_160px_matches_table7_290m():
    assert "<td>290.7</td>" in widgets.render_width_resolution(1.0, 160)  # Table 7: 290 M


def test_render_width_resolution_shows_the_papers_top1_where_it_prints_one():
    assert "<td>63.7% (Table 6)</td>" in widgets.render_width_resolution(0.5, 224)
    assert "<td>67.2% (Table 7)</td>" in widgets.render_width_resolution(1.0, 160)
    assert "<td>60.2% (Table 9)</td>" in widgets.render_width_resolution(0.5, 160)


def test_render_width_resolution_says_not_in_the_paper_elsewhere():
    html = widgets.render_width_resolution(0.75, 192)  # only a point on Fig. 4's graph
    assert "<td>not in the paper</td>" in html and "%" not in html.split("</tr>")[1]


def test_render_width_resolution_plot_is_a_png():
    assert widgets.render_width_resolution_plot(0.75, 192).startswith(PNG)
