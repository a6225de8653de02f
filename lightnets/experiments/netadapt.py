"""Searching in miniature: random samples of MnasNet's search space, and a toy NetAdapt run.

Two measurements, both saved as JSON with the command, seed, versions and CPU that made them:

* ``space.json``: architectures drawn from :data:`lightnets.search.SEARCH_SPACE` and the
  references (MnasNet-A1 and -B1, MobileNetV2, MobileNetV3-Large), each with parameters, MACs
  (``lightnets.profile``, exact) and latency on this CPU at 224 px, batch 1 (median and
  interquartile range over repeated runs).
* ``netadapt.json``: NetAdapt (Yang et al. 2018) on a small inverted-residual network trained on
  ``lightnets.data.Shapes`` at 32 px. Latency comes from a per-layer look-up table measured once
  at the start (NetAdapt's own device), so the search itself is a function of the table and the
  seed: re-running with ``--table`` and the same ``--seed`` repeats it step for step. Each step
  proposes, for every prunable inverted residual, the widest expansion layer that lowers the table
  latency by at least δ, keeps the filters of largest ℓ2 norm, fine-tunes briefly and scores on a
  holdout set; the proposal with the largest ΔAccuracy / |ΔLatency| wins (MobileNetV3 §4.2). The
  loop stops at the latency target; the result is then fine-tuned longer and tested, beside a
  network shrunk uniformly to the same table latency and trained alike.

Run ``python -m lightnets.experiments.netadapt`` (a few minutes on one core).
"""
from __future__ import annotations

import argparse
import copy
import json
import platform
import sys
from pathlib import Path
from typing import Optional, Sequence

import torch

from lightnets import search
from lightnets._checks import check_int
from lightnets._io import atomic_write
from lightnets.experiments import RESULTS_DIRECTORY, versions

DEFAULT_DIRECTORY = RESULTS_DIRECTORY / "search"
FORMAT = "lightnets.experiments.netadapt/1"

# The seed network: MobileNetV2's layout, shrunk to train on a CPU in seconds.
SEED_BLOCKS = [
    search.BlockChoice("mbconv6", 3, 0.0, "identity", 16, 2, 1),
    search.BlockChoice("mbconv6", 3, 0.0, "identity", 24, 2, 2),
    search.BlockChoice("mbconv6", 3, 0.0, "identity", 32, 2, 2),
    search.BlockChoice("mbconv6", 3, 0.0, "identity", 48, 2, 2),
]
SEED_NETWORK = {"stem_channels": 16, "head_channels": 128}
RESOLUTION, BATCH = 32, 32  # latency is timed for a batch of 32 images at 32 px
DATA = {"train": 1200, "holdout": 400, "test": 1000}
TRAINING = {"seed_epochs": 8, "short_epochs": 1, "long_epochs": 4, "batch_size": 64, "lr": 5e-3,
            "short_lr": 1e-3}
SEARCH = {"step_fraction": 0.08, "target_fraction": 0.6, "width_step": 8}
SPACE = {"samples": 24, "runs": 15, "warmup": 3}


def _versions() -> dict:
    return {**versions(), "cpu": platform.processor() or platform.machine(),
            "threads": torch.get_num_threads()}


def _write(path: Path, payload: dict) -> None:
    atomic_write(path, lambda f: f.write(json.dumps(payload, indent=1) + "\n"), binary=False)


def _spread(measured) -> dict:
    return {"median_ms": measured.median_ms, "iqr_ms": measured.spread_ms, "runs": measured.runs}


# --- the search space on a MACs/latency plane -----------------------------------------------------


def space_points(samples: int, seed: int, runs: int, warmup: int) -> list:
    """Params, MACs and CPU latency (224 px, batch 1) of sampled and reference networks."""
    from lightnets import create_model, profile
    from lightnets.cost import latency

    entries = [(f"sample {i}", "sample", search.build_network(search.sample_architecture(seed + i)))
               for i in range(samples)]
    entries.append(("MnasNet-A1", "reference", search.build_network(search.MNASNET_A1)))
    for name in ("mnasnet1_0", "mobilenet_v2", "mobilenet_v3_large"):
        entries.append((name, "reference", create_model(name)))
    points = []
    for name, kind, model in entries:
        cost = profile(model)
        measured = latency(model, (1, 3, 224, 224), runs=runs, warmup=warmup, device="cpu")
        points.append({"name": name, "kind": kind, "params": cost.params, "macs": cost.macs,
                       **_spread(measured)})
    return points


# --- NetAdapt ------------------------------------------------------------------------------------


def seed_network(num_classes: int) -> search.SearchedNetwork:
    return search.SearchedNetwork(SEED_BLOCKS, num_classes, **SEED_NETWORK)


def datasets(seed: int):
    from lightnets.data import Shapes

    # Disjoint seeds: training, holdout (for choosing proposals) and test images never overlap.
    return (Shapes(DATA["train"], RESOLUTION, seed=3 * seed),
            Shapes(DATA["holdout"], RESOLUTION, seed=3 * seed + 1),
            Shapes(DATA["test"], RESOLUTION, seed=3 * seed + 2))


def block_inputs(model: torch.nn.Module) -> dict:
    """The input shape (batch ``BATCH``) of every prunable block, from one meta-free forward."""
    shapes, hooks = {}, []
    for name in search.prunable_blocks(model):
        module = model.get_submodule(name)
        hooks.append(module.register_forward_hook(
            lambda m, args, out, name=name: shapes.__setitem__(name, tuple(args[0].shape))))
    with torch.no_grad():
        model.eval()(torch.zeros(BATCH, 3, RESOLUTION, RESOLUTION))
    for hook in hooks:
        hook.remove()
    return shapes


def latency_table(model: torch.nn.Module, runs: int, warmup: int) -> dict:
    """NetAdapt's per-layer look-up table: each prunable block's latency at every width."""
    from lightnets.cost import latency

    table = {}
    shapes = block_inputs(model)
    for name in search.prunable_blocks(model):
        block = model.get_submodule(name)
        full = search.expansion_width(block)
        widths = [w for w in range(SEARCH["width_step"], full + 1, SEARCH["width_step"])
                  if w != block.in_channels]  # at its input width the block has no expansion
        table[name] = {str(w): _spread(latency(search.prune_expansion(block, w), shapes[name],
                                               runs=runs, warmup=warmup, device="cpu"))
                       for w in widths}
    whole = latency(model, (BATCH, 3, RESOLUTION, RESOLUTION), runs=runs, warmup=warmup,
                    device="cpu")
    blocks_at_full = sum(table[n][str(search.expansion_width(model.get_submodule(n)))]["median_ms"]
                         for n in table)
    return {"blocks": table, "rest_ms": whole.median_ms - blocks_at_full, "whole": _spread(whole)}


def table_latency(table: dict, widths: dict) -> float:
    """A network's latency from the table: the fixed rest plus each block at its width."""
    return table["rest_ms"] + sum(
        table["blocks"][n][str(w)]["median_ms"] for n, w in widths.items()
    )


def _train(model, train_set, val_set, epochs, lr, seed) -> float:
    from lightnets.train import TrainConfig, evaluate, fit

    config = TrainConfig(epochs=epochs, batch_size=TRAINING["batch_size"], lr=lr, seed=seed)
    fit(model, train_set, None, config, progress=False, device="cpu")
    return evaluate(model, val_set, device="cpu")["accuracy"]


def _widths(model) -> dict:
    return {
        n: search.expansion_width(model.get_submodule(n)) for n in search.prunable_blocks(model)
    }


def netadapt(model, table: dict, train_set, holdout, seed: int, progress: bool = True) -> dict:
    """The NetAdapt loop on a trained ``model``; returns the path and the final model."""
    widths = _widths(model)
    start = table_latency(table, widths)
    delta = SEARCH["step_fraction"] * start
    target = SEARCH["target_fraction"] * start
    accuracy = _evaluate(model, holdout)
    path = [{"step": 0, "latency_ms": start, "holdout_accuracy": accuracy, "widths": dict(widths),
             "proposals": [], "chosen": None}]
    current, step = model, 0
    while table_latency(table, widths) > target:
        step += 1
        proposals, models = [], {}
        for name in widths:
            column = {int(w): v["median_ms"] for w, v in table["blocks"][name].items()}
            width = search.proposal_width(column, widths[name], column[widths[name]], delta)
            if width is None:
                continue
            candidate = copy.deepcopy(current)
            search.replace_module(candidate, name,
                                  search.prune_expansion(candidate.get_submodule(name), width))
            score = _train(candidate, train_set, holdout, TRAINING["short_epochs"],
                           TRAINING["short_lr"], seed * 1000 + step)
            new_latency = table_latency(table, {**widths, name: width})
            proposals.append({"block": name, "width": width, "holdout_accuracy": score,
                              "delta_accuracy": score - accuracy,
                              "delta_latency": new_latency - table_latency(table, widths)})
            models[name] = candidate
        if not proposals:
            break
        chosen = search.best_ratio(proposals)
        current, accuracy = models[chosen["block"]], chosen["holdout_accuracy"]
        widths[chosen["block"]] = chosen["width"]
        path.append({"step": step, "latency_ms": table_latency(table, widths),
                     "holdout_accuracy": accuracy, "widths": dict(widths),
                     "proposals": proposals, "chosen": chosen["block"]})
        if progress:
            print(f"step {step}: {chosen['block']} -> {chosen['width']} channels, "
                  f"{path[-1]['latency_ms']:.2f} ms (table), holdout {accuracy:.3f}", flush=True)
    return {"path": path, "delta_ms": delta, "target_ms": target, "model": current}


def _evaluate(model, dataset) -> float:
    from lightnets.train import evaluate
    return evaluate(model, dataset, device="cpu")["accuracy"]


def uniform_widths(table: dict, full: dict, target: float) -> dict:
    """Every expansion layer cut by the same fraction (a width multiplier), the widest that meets
    ``target`` in the table: the hand-made baseline NetAdapt's per-layer choices are compared to."""
    step = SEARCH["width_step"]
    for fraction in [i / 100 for i in range(100, 0, -1)]:
        widths = {n: _allowed(table, n, int(w * fraction)) for n, w in full.items()}
        if table_latency(table, widths) <= target:
            return widths
    return {n: _allowed(table, n, step) for n in full}


def _allowed(table: dict, name: str, width: int) -> int:
    """The widest width in ``name``'s table column that is at most ``width`` (or the narrowest)."""
    column = sorted(int(w) for w in table["blocks"][name])
    return max([w for w in column if w <= width] or column[:1])


def shrink(model, widths: dict):
    shrunk = copy.deepcopy(model)
    for name, width in widths.items():
        search.replace_module(
            shrunk, name, search.prune_expansion(shrunk.get_submodule(name), width)
        )
    return shrunk


def run_netadapt(seed: int, table: Optional[dict], runs: int, warmup: int,
                 progress: bool = True) -> dict:
    from lightnets import profile
    from lightnets.cost import latency
    from lightnets.utils import seed_everything

    train_set, holdout, test = datasets(seed)
    seed_everything(seed)
    model = seed_network(len(train_set.class_names))
    _train(model, train_set, holdout, TRAINING["seed_epochs"], TRAINING["lr"], seed)
    if table is None:
        table = latency_table(model, runs, warmup)
    result = netadapt(model, table, train_set, holdout, seed, progress)
    adapted = result.pop("model")
    final_widths = result["path"][-1]["widths"]
    uniform = uniform_widths(table, _widths(model), result["target_ms"])
    finals = {}
    for name, network in (
        ("seed", model),
        ("netadapt", adapted),
        ("uniform", shrink(model, uniform)),
    ):
        if name != "seed":
            _train(network, train_set, holdout, TRAINING["long_epochs"], TRAINING["short_lr"], seed)
        cost = profile(network, (1, 3, RESOLUTION, RESOLUTION))
        measured = latency(network, (BATCH, 3, RESOLUTION, RESOLUTION), runs=runs, warmup=warmup,
                           device="cpu")
        finals[name] = {"test_accuracy": _evaluate(network, test), "params": cost.params,
                        "macs": cost.macs, "widths": _widths(network),
                        "table_latency_ms": table_latency(table, _widths(network)),
                        "measured": _spread(measured)}
    assert finals["netadapt"]["widths"] == final_widths
    return {"table": table, **result, "uniform_widths": uniform, "final": finals}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lightnets.experiments.netadapt",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--directory", default=str(DEFAULT_DIRECTORY))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--table", default=None,
                        help="a netadapt.json whose latency table to reuse (repeats the search)")
    parser.add_argument("--samples", type=int, default=SPACE["samples"],
                        help="architectures drawn from the search space (0: skip the plane)")
    parser.add_argument("--runs", type=int, default=SPACE["runs"], help="timed runs per latency")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--no-progress", action="store_true")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    check_int("seed", args.seed, low=0)
    check_int("samples", args.samples, low=0, high=1000)
    check_int("runs", args.runs, low=2, high=1000)
    check_int("threads", args.threads, low=1, high=256)
    torch.set_num_threads(args.threads)
    directory = Path(args.directory)
    provenance = {"command": " ".join(["python -m lightnets.experiments.netadapt", *argv]),
                  "seed": args.seed, "versions": _versions()}
    table = None
    if args.table is not None:
        with open(args.table) as file:
            table = json.load(file)["table"]
    out = {}
    if args.samples:
        points = space_points(args.samples, args.seed, args.runs, SPACE["warmup"])
        out["space"] = {"format": FORMAT, **provenance, "points": points}
        _write(directory / "space.json", out["space"])
    result = run_netadapt(args.seed, table, args.runs, SPACE["warmup"], not args.no_progress)
    out["netadapt"] = {"format": FORMAT, **provenance, "settings": {
        "data": DATA, "training": TRAINING, "search": SEARCH, "resolution": RESOLUTION,
        "batch": BATCH, "seed_network": {"blocks": [b._asdict() for b in SEED_BLOCKS],
                                         **SEED_NETWORK}}, **result}
    _write(directory / "netadapt.json", out["netadapt"])
    return out


def load_results(directory=DEFAULT_DIRECTORY) -> dict:
    """The saved ``space.json`` and ``netadapt.json``, checked for their format."""
    directory = Path(directory)
    results = {}
    for name in ("space", "netadapt"):
        path = directory / f"{name}.json"
        try:
            with open(path) as file:
                results[name] = json.load(file)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"{path} is missing: run python -m lightnets.experiments.netadapt") from None
        if results[name].get("format") != FORMAT:
            raise ValueError(f"{path} is not a {FORMAT} result file")
    return results


if __name__ == "__main__":
    main()
