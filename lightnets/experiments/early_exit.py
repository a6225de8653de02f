"""Early exits in miniature (MSDNet's idea, Huang et al. 2018, arXiv:1703.09844, on a DenseNet-BC).

For each seed the script trains, on :class:`lightnets.data.Shapes` at 32 px (five shapes over a
cluttered background; a large shape is easy, a small one in clutter is hard):

* ``multi``: a DenseNet-BC (three dense blocks) with a classifier after every block, trained on the
  mean of the exits' cross-entropy losses (MSDNet weights every classifier's loss equally);
* ``single1``, ``single2``, ``single3``: ordinary one-exit networks of the same family, the same
  trunk cut after block 1, 2 and 3, each costing what the matching exit costs.

Each model is scored on one fixed test set with the half-precision weights as stored; the results
keep, per test image and exit, the softmax confidence and the prediction, so a notebook can sweep
the exit threshold τ exactly, on any machine, without running a network.

Run ``python -m lightnets.experiments.early_exit --threads 1`` (10–15 minutes on one CPU core;
the committed results took 15 minutes of training on one thread of a shared machine).
It is resumable: finished models are read back from ``checkpoints/seedS_NAME.pt``; a model being
trained by :func:`lightnets.train.fit` is saved after every epoch (``.partial.pt``, with its
optimizer) and continues from there. Checkpoints have ``lightnets.checkpoint``'s one format.
``results.json`` records the command, seeds and versions and is rewritten (atomically) after each
model.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Optional, Sequence

import torch
from torch import nn

from lightnets._io import atomic_write, read_results
from lightnets.experiments import RESULTS_DIRECTORY, versions

DEFAULT_DIRECTORY = RESULTS_DIRECTORY / "early_exit"
RESULTS_FILE = "results.json"
RESULTS_FORMAT = "lightnets.experiments.early_exit/1"

# DenseNet-BC with L = 6n + 4 = 28 (n = 4 layers per block) and k = 8: small enough for a CPU.
MODEL = {"block_layers": (4, 4, 4), "growth_rate": 8}
DATA = {
    "dataset": "lightnets.data.Shapes",
    "resolution": 32,
    "clutter": 0.5,
    "scale": (0.12, 0.3),
    "train_seed_offset": 10,
    "test_seed": 1,
}
TRAINING = {
    "train_size": 2000,
    "test_size": 500,
    "epochs": 12,
    "batch_size": 64,
    "lr": 5e-3,
    "weight_decay": 0.05,
    "warmup_epochs": 0.5,
}
SEEDS = (0, 1)
NAMES = ("multi", "single1", "single2", "single3")


def build(name: str, num_classes: int, model: Optional[dict] = None) -> nn.Module:
    """``multi`` (all exits) or ``singleB`` (the trunk's first B blocks, one exit)."""
    from lightnets.early_exit import MultiExitDenseNet

    model = dict(MODEL if model is None else model)
    blocks = tuple(model["block_layers"])
    if name == "multi":
        return MultiExitDenseNet(blocks, model["growth_rate"], num_classes)
    if name.startswith("single") and name[6:].isdigit() and 1 <= int(name[6:]) <= len(blocks):
        return MultiExitDenseNet(
            blocks[: int(name[6:])], model["growth_rate"], num_classes, early_exits=False
        )
    raise ValueError(f"name must be 'multi' or 'single1'…'single{len(blocks)}', got {name!r}")


def datasets(seed: int, training: dict, data: Optional[dict] = None) -> tuple:
    """(train set for this seed, the test set every seed shares)."""
    from lightnets.data import Shapes

    data = dict(DATA if data is None else data)
    shape = {"clutter": data["clutter"], "scale": tuple(data["scale"])}
    train = Shapes(
        training["train_size"], data["resolution"], seed=data["train_seed_offset"] + seed, **shape
    )
    test = Shapes(training["test_size"], data["resolution"], seed=data["test_seed"], **shape)
    return train, test


def load_state(path) -> dict:
    """A checkpoint of this experiment (``lightnets.checkpoint``'s one format, read with
    ``torch.load(weights_only=True)`` and its content hash checked)."""
    from lightnets.checkpoint import load_checkpoint

    state = load_checkpoint(Path(path))
    if not isinstance(state.get("model_config"), dict) or "exit_model" not in state["model_config"]:
        raise ValueError(f"{path} is not an early-exit checkpoint (it records no exit_model)")
    return state


def load_trained(path) -> nn.Module:
    """The model a finished checkpoint holds, in float32 and eval mode."""
    state = load_state(path)
    config = dict(state["model_config"])
    model = build(config.pop("exit_model"), config.pop("num_classes"), config)
    model.load_state_dict(
        {k: v.float() if v.is_floating_point() else v for k, v in state["model"].items()})
    return model.eval()


def exit_loss(outputs: Sequence[torch.Tensor], labels: torch.Tensor) -> torch.Tensor:
    """As in MSDNet: every classifier's loss counts equally (here: their mean)."""
    return sum(nn.functional.cross_entropy(z, labels) for z in outputs) / len(outputs)


def train_model(
    name: str,
    seed: int,
    directory: Path,
    train_set,
    training: dict,
    model_config: dict,
    progress: bool = False,
) -> list:
    """Train one model with :func:`lightnets.train.fit` (or resume it), then store it compact:
    weights in float16, no optimizer."""
    from lightnets.checkpoint import compact, load_checkpoint, save_checkpoint
    from lightnets.train import TrainConfig, fit
    from lightnets.utils import seed_everything

    final = directory / "checkpoints" / f"seed{seed}_{name}.pt"
    partial = final.with_suffix(".partial.pt")
    if final.exists():
        history = load_state(final)["history"]
        if len(history) != training["epochs"]:  # another budget would mix two experiments
            raise ValueError(f"{final} was trained for {len(history)} epochs, not --epochs "
                             f"{training['epochs']}; use another --directory")
        return history
    seed_everything(seed)
    num_classes = len(train_set.class_names)
    model = build(name, num_classes, model_config)
    # The committed run's batches: the last, short batch kept, the order seeded by seed * 1009.
    config = TrainConfig(epochs=training["epochs"], batch_size=training["batch_size"],
                         lr=training["lr"], weight_decay=training["weight_decay"],
                         warmup_epochs=training["warmup_epochs"], seed=seed,
                         order_seed=seed * 1009, keep_last_batch=True)
    fit(model, train_set, None, config, loss=exit_loss, device="cpu", checkpoint=partial,
        progress=progress, model_config={"exit_model": name, "num_classes": num_classes,
                                         **model_config})
    save_checkpoint(final, compact(load_checkpoint(partial)))
    partial.unlink()
    return load_state(final)["history"]


@torch.no_grad()
def score(model: nn.Module, test_set, resolution: int) -> dict:
    """Per exit and image: confidence (max softmax, 6 decimals) and prediction; the exits' MACs."""
    from lightnets.early_exit import confidences, exit_macs

    images, labels = test_set.batch(range(len(test_set)))[:2]
    logits = [
        torch.cat(parts)
        for parts in zip(*(model(images[i : i + 250]) for i in range(0, len(labels), 250)))
    ]
    conf, pred = confidences(logits)
    return {
        "exit_macs": exit_macs(model, resolution),
        "params": sum(p.numel() for p in model.parameters()),
        "confidence": conf.tolist(),
        "prediction": pred.tolist(),
        "exit_accuracy": [float((p == labels.numpy()).mean()) for p in pred],
    }


def run_experiment(
    directory=DEFAULT_DIRECTORY,
    seeds: Sequence[int] = SEEDS,
    training: Optional[dict] = None,
    model: Optional[dict] = None,
    command: Optional[str] = None,
    threads: Optional[int] = None,
    progress: bool = True,
    data: Optional[dict] = None,
    names: Sequence[str] = NAMES,
) -> dict:
    """Train and score every model of ``names`` for every seed; write ``results.json`` after
    each; return it. ``data`` overrides entries of :data:`DATA` (lesson 07's live run uses a
    smaller, easier Shapes); ``names`` may leave out models (the live run trains ``multi`` only)."""
    directory = Path(directory)
    training = {**TRAINING, **(training or {})}
    model = {**MODEL, **(model or {})}
    model["block_layers"] = list(model["block_layers"])
    data = {**DATA, **(data or {})}
    unknown = [name for name in names if name not in NAMES]
    if unknown or not names:
        raise ValueError(f"names must be a non-empty subset of {NAMES}, got {tuple(names)!r}")
    if threads is not None:
        torch.set_num_threads(
            threads
        )  # a shared CPU: one thread per process avoids oversubscription
    results = {
        "format": RESULTS_FORMAT,
        "command": command or "python -m lightnets.experiments.early_exit",
        "seeds": list(seeds),
        "versions": versions(),
        "model": model,
        "data": {**data, "scale": list(data["scale"])},
        "training": training,
        "labels": None,
        "runs": [],
    }
    for seed in seeds:
        train_set, test_set = datasets(seed, training, data)
        results["labels"] = test_set.labels.tolist()
        for name in names:
            history = train_model(name, seed, directory, train_set, training, model, progress)
            trained = load_trained(directory / "checkpoints" / f"seed{seed}_{name}.pt")
            row = {
                "seed": seed,
                "name": name,
                "checkpoint": f"checkpoints/seed{seed}_{name}.pt",
                "train_seconds": sum(h["seconds"] for h in history),
                "final_train_loss": history[-1]["train_loss"],
                **score(trained, test_set, data["resolution"]),
            }
            results["runs"] = [
                r for r in results["runs"] if (r["seed"], r["name"]) != (seed, name)
            ] + [row]
            atomic_write(
                directory / RESULTS_FILE,
                lambda f: f.write(json.dumps(results) + "\n"),
                binary=False,
            )
            if progress:
                print(
                    f"seed {seed} {name}: exit accuracy"
                    f" {[round(a, 3) for a in row['exit_accuracy']]}, MACs {row['exit_macs']}",
                    flush=True,
                )
    return results


def load_results(directory=DEFAULT_DIRECTORY) -> dict:
    """The results file the experiment wrote in ``directory``."""
    return read_results(Path(directory) / RESULTS_FILE, RESULTS_FORMAT,
                        "an early-exit results file")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lightnets.experiments.early_exit", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--directory", default=str(DEFAULT_DIRECTORY), help="results and checkpoints go here"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--epochs", type=int, default=TRAINING["epochs"])
    parser.add_argument("--train-size", type=int, default=TRAINING["train_size"])
    parser.add_argument("--test-size", type=int, default=TRAINING["test_size"])
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's)"
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing while training")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> dict:
    from lightnets._checks import check_int

    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    for name in ("epochs", "train_size", "test_size"):
        check_int(f"--{name.replace('_', '-')}", getattr(args, name), low=1)
    for seed in args.seeds:
        check_int("--seeds", seed, low=0)
    if args.threads is not None:
        check_int("--threads", args.threads, low=1)
    training = {"epochs": args.epochs, "train_size": args.train_size, "test_size": args.test_size}
    command = " ".join(["python -m lightnets.experiments.early_exit", *argv])
    return run_experiment(
        args.directory,
        args.seeds,
        training,
        command=command,
        threads=args.threads,
        progress=not args.quiet,
    )


if __name__ == "__main__":
    main()
