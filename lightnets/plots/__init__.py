"""Figure builders for the notebooks, one module per lesson or topic; this file is only their face.

Each builder returns ``(figure, data)``: the figure for the learner, and the numbers it drew, so
that tests check the data and nbval checks the printed text. Every builder is importable here by
its short name (``plots.cam_grid``); the modules hold the code:

============================  ===========================================================
module                        figures
============================  ===========================================================
:mod:`~.plots.zoo`            lesson 00: every model's parameters against its MACs
:mod:`~.plots.multipliers`    lesson 01: MobileNetV1's width α and resolution ρ
:mod:`~.plots.filters`        lesson 01: MobileNetV1 Fig. 2, the separable filters
:mod:`~.plots.bottlenecks`    lesson 02: MobileNetV2 Fig. 1 (manifold collapse), Fig. 6
:mod:`~.plots.activations`    lesson 03: swish and h-swish with their derivatives
:mod:`~.plots.diagrams`       lessons 02–05: block diagrams drawn by code
:mod:`~.plots.scaling`        lesson 04: compound scaling (EfficientNet §3.3, Fig. 3)
:mod:`~.plots.tradeoff`       lessons 01–04, 08: accuracy against cost, the Pareto front
:mod:`~.plots.cam`            lesson 05: class activation maps, the pointing game
:mod:`~.plots.imagenet`       lessons 00, 05: a trained network's top classes on photos
:mod:`~.plots.cost`           lessons 01, 06: MAC shares, what each tool counts, time
:mod:`~.plots.densenet`       lesson 07: DenseNet's cost, memory, feature reuse, early exits
:mod:`~.plots.speed`          lesson 08: ShuffleNet, SqueezeNet, Xception and speed
:mod:`~.plots.search`         lesson 09: MnasNet's reward, sampled networks, NetAdapt
:mod:`~.plots.tabular`        lesson 11: TabTransformer against the MLP and the trees
============================  ===========================================================

``_finish`` (the last lines of every figure) and ``_labels`` (point labels that never collide)
are the helpers the modules share.
"""
from lightnets.plots.activations import activation_curves
from lightnets.plots.bottlenecks import (accuracy_curves, collapse_vs_dimension,
                                         spiral_roundtrip_panels)
from lightnets.plots.cam import cam_grid, pointing_game_bars
from lightnets.plots.cost import cost_shares, macs_vs_time, tool_counts_chart
from lightnets.plots.densenet import (cost_vs_growth_depth, early_exit_curves, exit_examples,
                                      feature_reuse_heatmap, memory_bars)
from lightnets.plots.diagrams import (block_layers, cam_diagram, last_stage_diagram,
                                      residual_diagram, scaling_diagram, se_block_diagram)
from lightnets.plots.filters import separable_filters
from lightnets.plots.imagenet import photo_predictions
from lightnets.plots.multipliers import cost_vs_multipliers
from lightnets.plots.scaling import (accuracy_vs_macs, compound_curve, images_by_resolution,
                                     live_beside_saved, macs_by_scaling_kind)
from lightnets.plots.search import netadapt_path, reward_curves, search_candidates, search_plane
from lightnets.plots.speed import (connectivity, connectivity_panels, deploy_bars,
                                   guideline_panels, load_result, macs_by_block,
                                   macs_by_block_bars, pareto_panels, squeezenet_sweeps,
                                   squeezenet_variant)
from lightnets.plots.tabular import (embedding_points, plot_ablation, plot_auc_comparison,
                                     plot_embeddings, plot_robustness)
from lightnets.plots.tradeoff import accuracy_vs_cost, pareto_front
from lightnets.plots.zoo import params_vs_macs


__all__ = [
    "params_vs_macs",  # zoo
    "cost_vs_multipliers", "separable_filters",  # lesson 01
    "spiral_roundtrip_panels", "collapse_vs_dimension", "accuracy_curves",  # lesson 02
    "activation_curves",  # lesson 03
    "se_block_diagram", "last_stage_diagram", "scaling_diagram", "block_layers",
    "residual_diagram", "cam_diagram",  # diagrams
    "compound_curve", "macs_by_scaling_kind", "accuracy_vs_macs", "images_by_resolution",
    "live_beside_saved",  # lesson 04's live run
    "accuracy_vs_cost", "pareto_front",  # tradeoff
    "cam_grid", "pointing_game_bars",  # lesson 05
    "photo_predictions",  # lessons 00, 05: real photos
    "cost_shares", "tool_counts_chart", "macs_vs_time",  # cost
    "feature_reuse_heatmap", "early_exit_curves", "exit_examples", "memory_bars",
    "cost_vs_growth_depth",  # lesson 07
    "connectivity", "connectivity_panels", "squeezenet_variant", "squeezenet_sweeps",
    "macs_by_block", "macs_by_block_bars", "guideline_panels", "deploy_bars", "pareto_panels",
    "load_result",  # lesson 08
    "reward_curves", "search_plane", "netadapt_path", "search_candidates",  # lesson 09
    "plot_auc_comparison", "plot_ablation", "plot_robustness", "embedding_points",
    "plot_embeddings",  # lesson 11
]
