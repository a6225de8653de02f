"""Lesson 09's data and its live search: MnasNet's Table 1 row and §4.1 example as data, and
``lightnets.tiny_search`` (the search the notebook runs)."""
import math
import random

import matplotlib
import pytest

from lightnets import profile, search, tiny_search
from lightnets.models import mnasnet

matplotlib.use("Agg")


def test_mnasnet_table1_a1_row_is_what_our_a1_counts():
    row = mnasnet.TABLE_1["MnasNet-A1"]
    a1 = profile(search.build_network(search.MNASNET_A1))
    assert (row.params_millions, row.mult_adds_millions) == (3.9, 312)
    assert round(a1.params / 1e6, 1) == row.params_millions
    assert round(a1.macs / 1e6) == row.mult_adds_millions


def test_mnasnet_section_4_1_example_gives_about_1e13_against_1e39():
    s, b, n = (search.SPACE_SIZE_EXAMPLE[k]
               for k in ("choices_per_block", "blocks", "layers_per_block"))
    assert (s, b, n) == (432, 5, 3)
    assert int(math.log10(s ** b)) == 13 and int(math.log10(s ** (b * n))) == 39


def test_block_of_clamps_a_one_layer_reference_and_rejects_unknown_choices():
    one_layer = tiny_search.TINY_REFERENCE[0]
    assert one_layer.layers == 1
    minus, zero = (tiny_search.block_of(("mbconv6", 3, 1.0, d), one_layer) for d in (-1, 0))
    assert minus == zero and minus.layers == 1
    with pytest.raises(ValueError, match="conv_op"):
        tiny_search.block_of(("conv", 3, 1.0, 0), one_layer)
    with pytest.raises(ValueError, match="genes"):
        tiny_search.block_of(("mbconv6", 3, 1.0), one_layer)
    with pytest.raises(ValueError, match="blocks"):
        tiny_search.blocks_of([("mbconv6", 3, 1.0, 0)])


def test_mutate_changes_exactly_one_choice_to_another_allowed_value():
    rng = random.Random(0)
    for _ in range(50):
        parent = tiny_search.random_genotype(rng)
        child = tiny_search.mutate(parent, rng)
        changed = [(b, k) for b in range(len(parent)) for k in range(len(parent[b]))
                   if parent[b][k] != child[b][k]]
        assert len(changed) == 1
        tiny_search.blocks_of(child)  # every value still in TINY_SPACE


def _candidate(index, macs, accuracy, w=-0.07, target=1.0):
    return tiny_search.Candidate(index, None, (), (), macs, 0, accuracy,
                                 search.reward(accuracy, macs, target, w, w))


def test_pareto_front_keeps_only_candidates_no_other_beats_on_both_counts():
    candidates = [_candidate(0, 1.0, 0.5), _candidate(1, 2.0, 0.7), _candidate(2, 2.0, 0.6),
                  _candidate(3, 3.0, 0.7), _candidate(4, 0.5, 0.4)]
    assert [c.index for c in tiny_search.pareto_front(candidates)] == [4, 0, 1]
    best = max(candidates, key=lambda c: c.reward)
    assert best in tiny_search.pareto_front(candidates)


def test_evolve_trains_distinct_networks_and_scores_each_with_the_reward():
    candidates = tiny_search.evolve(budget=3, target_macs=0.3e6, w=-0.07, seed=1, population=2,
                                    sample_size=1, steps=2)
    assert [c.index for c in candidates] == [0, 1, 2]
    assert len({c.blocks for c in candidates}) == 3
    assert [c.parent is None for c in candidates] == [True, True, False]
    for c in candidates:
        assert c.blocks == tiny_search.blocks_of(c.genotype)
        assert c.macs == profile(tiny_search.build(c.genotype), (1, 3, 16, 16)).macs
        assert 0.0 <= c.accuracy <= 1.0
        assert c.reward == search.reward(c.accuracy, c.macs, 0.3e6, -0.07, -0.07)


@pytest.mark.parametrize("kwargs, name", [
    ({"budget": 0}, "budget"), ({"target_macs": 0.0}, "target_macs"), ({"w": 0.5}, "w"),
    ({"population": 20}, "population"), ({"sample_size": 9}, "sample_size"),
    ({"steps": 0}, "steps"), ({"seed": -1}, "seed"),
])
def test_evolve_rejects_bad_knobs_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        tiny_search.evolve(**kwargs)


def test_search_candidates_figure_draws_every_candidate_and_the_front():
    from lightnets.plots import search_candidates

    candidates = [_candidate(0, 1e5, 0.5), _candidate(1, 2e5, 0.7), _candidate(2, 3e5, 0.6)]
    fig, data = search_candidates(candidates, target_macs=2e5, w=-0.07)
    assert data["macs_millions"] == [0.1, 0.2, 0.3]
    assert data["front"] == [0, 1] and data["best"] == 1
    matplotlib.pyplot.close(fig)
