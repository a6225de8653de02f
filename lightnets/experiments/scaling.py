"""EfficientNet's scaling experiments in miniature (Tan & Le 2019, arXiv:1905.11946):

* STEP 1 (§4): a small grid search for (α, β, γ) under α·β²·γ² ≈ 2 on a proxy task;
* Fig. 3 / Table 3: accuracy against MACs when a base network is scaled by depth only, width only,
  resolution only, or by all three at once (compound scaling).

Every way of scaling is written as coefficients (α, β, γ) with α·β²·γ² = 2 and a step count φ, so
each step doubles the FLOPs eq. 3 predicts: depth only is (2, 1, 1), width only (1, √2, 1),
resolution only (1, 1, √2), compound the grid search's winner.

The proxy task is :class:`lightnets.data.Stripes`: a disc of fine stripes on a cluttered
background, the class is the stripes' orientation (0°, 45°, 90°, 135°). Their period is 5–10% of
the side: 1.6–3.2 px at the base's 32 px, where the finest blur away, 3.2–6.4 px at 64 px, so
resolution genuinely matters; the background's line segments are stripes too, so telling the
disc's orientation from theirs takes filters (width) and context (depth).

``--task coarse`` keeps everything but the data (:data:`COARSE_DATA`): stripes three times coarser,
resolved at 32 px, and twice the clutter, a task on which extra pixels add no detail.

Run ``python -m lightnets.experiments.scaling --threads 1`` (about five minutes on one core: the
saved results hold 4.9 minutes of training for the Stripes task; ``results["seconds"]`` records
each newer run's wall-clock time, 3.8–4.6 minutes per seed of the coarse task). It is
resumable: finished runs are read from their checkpoints, an interrupted run resumes after its
last finished epoch (``lightnets.train.fit``). Results go to ``results.json`` in ``--directory``
together with one small weights-only checkpoint per model (``checkpoints/NAME.pt``, loadable by
``lightnets.train.load_model``), which lesson 05 compares the class activation maps of
(:mod:`lightnets.experiments.scaling_cams`).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import NamedTuple, Optional, Sequence

import torch

from lightnets._io import atomic_write, read_results
from lightnets.experiments import RESULTS_DIRECTORY, versions

DEFAULT_DIRECTORY = RESULTS_DIRECTORY / "scaling"
RESULTS_FILE = "results.json"
RESULTS_FORMAT = "lightnets.experiments.scaling/1"

# The base network: EfficientNet-B0's Table 1 shrunk far enough to train on a CPU in seconds.
BASE = {"width_mult": 0.25, "depth_mult": 0.25, "resolution": 32}
DATA = {"clutter": 0.5, "scale": (0.15, 0.3), "period": (0.05, 0.1)}
# The second task, where the premise of the first fails: the same discs with stripes three times
# coarser (period 15–30 % of the side: 4.8–9.6 px at the base's 32 px, resolved at every size we
# train), so extra pixels add no detail that names the class; twice the clutter (12 background
# segments, stripes themselves) so that telling the disc from the background takes filters
# (width) and context (depth).
COARSE_DATA = {"clutter": 1.0, "scale": (0.15, 0.3), "period": (0.15, 0.3)}
TASKS = {"stripes": ("lightnets.data.Stripes", DATA),
         "coarse": ("lightnets.data.Stripes", COARSE_DATA)}
TRAINING = {"train_size": 1500, "val_size": 500, "epochs": 6, "batch_size": 64, "lr": 5e-3}
# Stochastic depth and heavy dropout regularise long ImageNet runs; five short epochs need neither.
MODEL_OPTIONS = {"dropout": 0.1, "stochastic_depth_prob": 0.0}

# One step of φ doubles eq. 3's FLOPs for every kind: α·β²·γ² = 2.
SINGLE = {"depth": (2.0, 1.0, 1.0), "width": (1.0, math.sqrt(2.0), 1.0),
          "resolution": (1.0, 1.0, math.sqrt(2.0))}


def _solve_gamma(alpha: float, beta: float) -> float:
    """γ that makes α·β²·γ² = 2 exactly."""
    return math.sqrt(2.0 / (alpha * beta * beta))


# STEP 1's grid, in miniature: a few (α, β), γ solved from the constraint; the paper's own
# (1.2, 1.1, 1.15) is the first (its product is 1.92, not exactly 2).
GRID = (
    (1.2, 1.1, 1.15),
    (1.4, 1.1, _solve_gamma(1.4, 1.1)),
    (1.1, 1.2, _solve_gamma(1.1, 1.2)),
    (1.1, 1.05, _solve_gamma(1.1, 1.05)),
)
# STEP 1 in the paper searches at φ = 1 on B0. On our base, one step rounds away: width 0.25 × 1.1
# keeps every channel count at its multiple of 8, depth 0.25 × 1.2 adds a single block. So the
# search compares candidates at φ = 2 (four times the FLOPs), where their shapes differ.
SEARCH_PHI = 2
PHIS = (1, 2)
KINDS = ("depth", "width", "resolution", "compound")


class Run(NamedTuple):
    name: str
    kind: str  # "base", "depth", "width", "resolution", "compound" or "grid"
    phi: float
    alpha: float
    beta: float
    gamma: float
    width_mult: float
    depth_mult: float
    resolution: int


def make_run(name: str, kind: str, phi: float, alpha: float, beta: float, gamma: float,
             base: Optional[dict] = None) -> Run:
    """The network ``base`` scaled by (α^φ, β^φ, γ^φ), rounded as :mod:`lightnets.scaling`
    rounds."""
    from lightnets import scaling

    base = dict(BASE if base is None else base)
    depth, width, resolution = scaling.multipliers(phi, alpha, beta, gamma)
    return Run(name, kind, phi, alpha, beta, gamma, base["width_mult"] * width,
               base["depth_mult"] * depth,
               scaling.scaled_resolution(resolution, base["resolution"]))


def single_dimension_runs(phis: Sequence[float] = PHIS, base: Optional[dict] = None) -> list:
    """The base, then depth-only, width-only and resolution-only networks at each φ."""
    runs = [make_run("base", "base", 0, 1.0, 1.0, 1.0, base)]
    for kind, (alpha, beta, gamma) in SINGLE.items():
        runs += [make_run(f"{kind}_phi{phi}", kind, phi, alpha, beta, gamma, base) for phi in phis]
    return runs


def grid_runs(grid: Sequence[tuple] = GRID, phi: float = SEARCH_PHI,
              base: Optional[dict] = None) -> list:
    return [make_run(f"grid{i}_phi{phi}", "grid", phi, *coefficients, base) for i,
            coefficients in enumerate(grid)]


def compound_runs(best: tuple, phis: Sequence[float] = PHIS, base: Optional[dict] = None) -> list:
    return [make_run(f"compound_phi{phi}", "compound", phi, *best, base) for phi in phis]


# --- one run -----------------------------------------------------------------------------------


def _atomic_json(path: Path, payload: dict) -> None:
    def write(file) -> None:
        json.dump(payload, file, indent=1, sort_keys=False)
        file.write("\n")

    atomic_write(path, write, binary=False)


class Datasets:
    """Train and validation :class:`~lightnets.data.Stripes` per resolution, made once and kept,
    drawn with ``data`` (default: the parameters of ``task``, a key of :data:`TASKS`)."""

    def __init__(self, train_size: int, val_size: int, seed: int, data: Optional[dict] = None,
                 task: str = "stripes") -> None:
        from lightnets._checks import check_choice

        check_choice("task", task, tuple(TASKS))
        self.train_size, self.val_size, self.seed, self.task = train_size, val_size, seed, task
        self.data, self.cache = dict(TASKS[task][1] if data is None else data), {}

    def __call__(self, resolution: int):
        from lightnets.data import Stripes

        if resolution not in self.cache:
            # Independent seeds: validation images are never training images.
            self.cache[resolution] = (
                Stripes(self.train_size, resolution, seed=2 * self.seed, **self.data),
                Stripes(self.val_size, resolution, seed=2 * self.seed + 1, **self.data),
            )
        return self.cache[resolution]


def compact_needed(path: Path) -> bool:
    from lightnets.train import load_checkpoint

    state = load_checkpoint(path)
    return "optimizer" in state or any(t.dtype == torch.float32 for t in state["model"].values())


def model_config(run: Run, num_classes: int) -> dict:
    return {"num_classes": num_classes, "width_mult": run.width_mult, "depth_mult": run.depth_mult,
            "resolution": run.resolution, **MODEL_OPTIONS}


def train_run(run: Run, directory: Path, datasets: Datasets, training: dict, seed: int,
              progress: bool = True) -> dict:
    """Train (or resume, or just re-read) one run; return its results row.

    While training, ``checkpoints/NAME.partial.pt`` holds the full state (optimizer included) so
    that ``fit`` can resume; when done, ``checkpoints/NAME.pt`` keeps the model alone in half
    precision (:func:`lightnets.checkpoint.compact`, small enough to commit) and the partial file
    is removed.
    """
    from lightnets import create_model, scaling, seed_everything
    from lightnets.checkpoint import compact
    from lightnets.train import (TrainConfig, evaluate, fit, load_checkpoint, load_model,
                                 save_checkpoint)

    train_set, val_set = datasets(run.resolution)
    config = model_config(run, len(train_set.class_names))
    final = directory / "checkpoints" / f"{run.name}.pt"
    partial = final.with_suffix(".partial.pt")
    if not final.exists():
        seed_everything(seed)  # every run starts from the same random state
        model = create_model("efficientnet", **config)
        settings = TrainConfig(epochs=training["epochs"], batch_size=training["batch_size"],
                               lr=training["lr"], seed=seed)
        fit(model, train_set, None, settings, device="cpu", checkpoint=partial,
            progress=progress, model_config=config)
        save_checkpoint(final, compact(load_checkpoint(partial)))
        partial.unlink()
    elif compact_needed(final):
        save_checkpoint(final, compact(load_checkpoint(final)))
    # Scored as stored: the half-precision weights the notebooks load are the ones measured.
    model, history = load_model(final), load_checkpoint(final)["history"]
    scores = evaluate(model, val_set, device="cpu")
    cost = scaling.network_cost(run.width_mult, run.depth_mult, run.resolution,
                                config["num_classes"])
    return {
        **run._asdict(), "constraint": run.alpha * run.beta ** 2 * run.gamma ** 2,
        "params": cost.params, "macs": cost.macs,
        "val_accuracy": scores["accuracy"], "val_loss": scores["loss"],
        "train_accuracy": history[-1]["train_accuracy"],
        "train_seconds": sum(row["seconds"] for row in history),
        "checkpoint": f"checkpoints/{run.name}.pt",
    }


# --- the whole experiment ----------------------------------------------------------------------


def run_experiment(directory=DEFAULT_DIRECTORY, seed: int = 0, training: Optional[dict] = None,
                   phis: Sequence[float] = PHIS, grid: Sequence[tuple] = GRID,
                   search_phi: float = SEARCH_PHI, base: Optional[dict] = None,
                   progress: bool = True, command: Optional[str] = None,
                   threads: Optional[int] = None, task: str = "stripes") -> dict:
    """Run the grid search and the four scaling curves; write and return the results.

    Order: the base and the single-dimension runs, the grid of (α, β, γ) at ``search_phi``, then
    compound scaling with the grid's best coefficients at every φ in ``phis`` (the grid's own run
    is reused where φ = ``search_phi``). Results are written after each run, so an interrupted
    experiment keeps what it finished; running it again resumes. ``task`` is "stripes" (fine
    stripes: resolution carries the signal) or "coarse" (:data:`COARSE_DATA`: it does not).
    ``results["seconds"]`` is this call's wall-clock time, data included
    (a resumed call counts only its own work).
    """
    import time

    from tqdm.auto import tqdm

    start = time.perf_counter()
    directory = Path(directory)
    training = {**TRAINING, **(training or {})}
    base = dict(BASE if base is None else base)
    datasets = Datasets(training["train_size"], training["val_size"], seed, task=task)
    dataset_name, data = TASKS[task]
    results = {
        "format": RESULTS_FORMAT,
        "command": command or "python -m lightnets.experiments.scaling",
        "seed": seed, "versions": versions(), "task": task, "base": base,
        "data": {**data, "dataset": dataset_name},
        "training": training, "model_options": MODEL_OPTIONS, "search_phi": search_phi,
        "grid": [list(c) for c in grid], "best": None, "runs": [],
    }
    path = directory / RESULTS_FILE
    if threads is not None:
        # On a shared CPU, one thread per process avoids the spinning of oversubscribed OpenMP
        # pools.
        torch.set_num_threads(threads)

    results["threads"] = torch.get_num_threads()

    def record(run: Run) -> dict:
        row = train_run(run, directory, datasets, training, seed, progress)
        results["runs"].append(row)
        results["seconds"] = time.perf_counter() - start
        _atomic_json(path, results)
        return row

    planned = single_dimension_runs(phis, base) + grid_runs(grid, search_phi, base)
    bar = tqdm(total=len(planned) + len(phis), desc="scaling runs", disable=not progress)
    grid_rows = []
    for run in planned:
        bar.set_postfix_str(run.name)
        row = record(run)
        if run.kind == "grid":
            grid_rows.append(row)
        bar.update()
    best_row = max(grid_rows, key=lambda row: row["val_accuracy"])
    best = (best_row["alpha"], best_row["beta"], best_row["gamma"])
    results["best"] = list(best)
    for run in compound_runs(best, phis, base):
        bar.set_postfix_str(run.name)
        if run.phi == search_phi:
            # The winner was trained already: same network, same seed, so the same run.
            row = {**best_row, "name": run.name, "kind": "compound"}
            results["runs"].append(row)
            results["seconds"] = time.perf_counter() - start
            _atomic_json(path, results)
        else:
            record(run)
        bar.update()
    bar.close()
    return results


def load_results(directory=DEFAULT_DIRECTORY) -> dict:
    """The results file the experiment wrote in ``directory``."""
    return read_results(Path(directory) / RESULTS_FILE, RESULTS_FORMAT, "a scaling results file")


def curves(results: dict) -> dict:
    """kind → rows sorted by MACs, each curve starting at the shared base (Fig. 3's lines)."""
    rows = results["runs"]
    base = [row for row in rows if row["kind"] == "base"]
    return {kind: sorted(base + [row for row in rows if row["kind"] == kind],
                         key=lambda row: row["macs"])
            for kind in KINDS}


def seed_summary(results_list: Sequence[dict]) -> dict:
    """The same experiment over several seeds: a results dict like one seed's, whose rows carry
    the mean validation accuracy over the seeds (``val_accuracy``), the half-width of its 95%
    Student-t interval (``half_width``, sample std with ddof = 1) and the seeds' ``values``.
    Rows are the runs every seed finished, in the first seed's order."""
    from lightnets.stats import t_interval as interval

    if len(results_list) < 2:
        raise ValueError("seed_summary needs the results of at least 2 seeds, "
                         f"got {len(results_list)}")
    by_seed = [{row["name"]: row for row in results["runs"]} for results in results_list]
    rows = []
    for row in results_list[0]["runs"]:
        if all(row["name"] in runs for runs in by_seed):
            spread = interval([runs[row["name"]]["val_accuracy"] for runs in by_seed])
            rows.append({**row, "val_accuracy": spread["mean"], "half_width": spread["half_width"],
                         "values": spread["values"]})
    return {**results_list[0], "seeds": [results["seed"] for results in results_list], "runs": rows}


def run_live(directory, phi: float = 1, training: Optional[dict] = None,
             coefficients: tuple = GRID[0], seed: int = 0, progress: bool = False,
             kinds: Sequence[str] = KINDS, task: str = "stripes",
             base: Optional[dict] = None) -> list:
    """A small subset re-run live (lesson 04's live experiment): the base, then each of ``kinds``
    at one φ (compound with ``coefficients``), on ``task``'s data, under ``training`` (defaults:
    the experiment's). The same :func:`train_run` as the full experiment, so a row here and a row
    of the saved results describe the same network. Returns the rows."""
    from lightnets._checks import check_choice

    kinds = tuple(kinds)
    for kind in kinds:
        check_choice("kinds", kind, KINDS)
    directory = Path(directory)
    training = {**TRAINING, **(training or {})}
    datasets = Datasets(training["train_size"], training["val_size"], seed, task=task)
    runs = [run for run in single_dimension_runs((phi,), base)
            if run.kind == "base" or run.kind in kinds]
    if "compound" in kinds:
        runs += compound_runs(coefficients, (phi,), base)
    return [train_run(run, directory, datasets, training, seed, progress) for run in runs]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lightnets.experiments.scaling",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--directory", default=str(DEFAULT_DIRECTORY),
                        help="results and checkpoints go here")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--task", choices=tuple(TASKS), default="stripes",
                        help="stripes: fine stripes, resolution carries the signal; "
                             "coarse: it does not")
    parser.add_argument("--epochs", type=int, default=TRAINING["epochs"])
    parser.add_argument("--train-size", type=int, default=TRAINING["train_size"])
    parser.add_argument("--val-size", type=int, default=TRAINING["val_size"])
    parser.add_argument("--phis", type=float, nargs="+", default=list(PHIS))
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> dict:
    from lightnets._checks import check_float, check_int

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:  # checked before the first run, not after minutes of training
        check_int("--seed", args.seed, low=0, high=2**32 - 1)
        check_int("--epochs", args.epochs, low=1, high=1000)
        check_int("--train-size", args.train_size, low=1, high=10**6)
        check_int("--val-size", args.val_size, low=1, high=10**6)
        for phi in args.phis:
            check_float("--phis", phi, 0.0, 4.0)
        if args.threads is not None:
            check_int("--threads", args.threads, low=1, high=1024)
    except ValueError as error:
        parser.error(str(error))
    phis = [int(p) if float(p).is_integer() else p for p in args.phis]
    training = {"epochs": args.epochs, "train_size": args.train_size, "val_size": args.val_size}
    command = " ".join(["python -m lightnets.experiments.scaling", *argv])
    results = run_experiment(args.directory, args.seed, training, phis,
                             progress=not args.no_progress,
                             command=command, threads=args.threads, task=args.task)
    for row in results["runs"]:
        print(f"{row['name']:>16}  {row['macs'] / 1e6:6.2f} M MACs  "
              f"{row['params'] / 1e3:6.1f} k params  {row['resolution']:3d} px  "
              f"val acc {row['val_accuracy']:.3f}")
    return results


if __name__ == "__main__":
    main()
