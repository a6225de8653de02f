"""The command line of :mod:`lightnets.train`: ``python -m lightnets.train --help``.

Every argument that can be checked is checked before any data is generated or any epoch is run
(sizes, the device, the model's arguments against the data set's classes, a writable checkpoint
location with room for it); bad input ends with a one-line message and exit status 2.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import os
import sys
from typing import Optional, Sequence

import torch.distributed as dist

from lightnets._checks import check_choice, check_int
from lightnets.checkpoint import CheckpointError, CheckpointLock, NonFiniteLoss, check_writable
from lightnets.train import TrainConfig, _format_row, check_device, export_model, fit
from lightnets.utils import seed_everything



DATA_CLASSES = {"shapes": 5, "digits": 10}  # len(SHAPE_CLASSES), len(DIGIT_CLASSES)
# Families whose models do not take images, and the script that trains them on their own data.
OWN_SCRIPTS = {
    "tab_transformer": "python -m lightnets.experiments.tab_transformer train --model {name}",
}


def check_image_model(name: str) -> str:
    """``name`` must be a registered model that takes images (what this command trains); a tabular
    model gets a ValueError pointing to its own experiment script."""
    from lightnets.registry import model_spec

    family = model_spec(name).family
    if family in OWN_SCRIPTS:
        raise ValueError(
            f"--model {name} takes table columns (categorical and continuous), not images, so "
            "this command cannot train it; its experiment script does, on its credit data: "
            f"{OWN_SCRIPTS[family].format(name=name)} [--model-arg KEY=VALUE] [--epochs N]")
    return name


def make_datasets(name: str, resolution: int, train_size: int, val_size: int, seed: int):
    """The (train, validation) sets the command line offers: generated shapes or placed digits."""
    from lightnets import data

    check_choice("data", name, ("shapes", "digits"))
    if name == "shapes":
        # Independent seeds: validation images are never training images.
        return (data.Shapes(train_size, resolution, seed=2 * seed),
                data.Shapes(val_size, resolution, seed=2 * seed + 1))
    return data.Digits("train", resolution, seed=seed), data.Digits("test", resolution, seed=seed)


def _parse_model_arg(text: str) -> tuple[str, object]:
    key, separator, value = text.partition("=")
    if not separator or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return key, value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lightnets.train",
        description="Train a lightnets model on a generated data set. Run under torchrun for "
                    "several processes (DistributedDataParallel; NCCL on GPUs, gloo on CPU).",
    )
    add = parser.add_argument
    add("--model", default="mobilenet_v2", help="a name from lightnets.list_models()")
    add("--model-arg", action="append", default=[], type=_parse_model_arg, metavar="KEY=VALUE",
        help="a keyword for create_model, e.g. width_mult=0.35 (repeatable)")
    add("--data", default="shapes", choices=("shapes", "digits"))
    add("--resolution", type=int, default=64)
    add("--train-size", type=int, default=2000, help="images in the training set (shapes)")
    add("--val-size", type=int, default=500, help="images in the validation set (shapes)")
    add("--epochs", type=int, default=5)
    add("--batch-size", type=int, default=64, help="global batch, split over processes")
    add("--lr", type=float, default=2e-3)
    add("--weight-decay", type=float, default=0.05)
    add("--optimizer", default="adamw", choices=("adamw", "sgd"))
    add("--seed", type=int, default=0)
    add("--device", default=None, help="cpu, cuda, cuda:1 ... (default: CUDA if present)")
    add("--workers", type=int, default=0, help="DataLoader worker processes")
    add("--checkpoint", default=None, help="write the state here after every epoch")
    add("--export", default=None,
        help="after training, also write the checkpoint without optimizer state here")
    add("--restart", "--no-resume", dest="restart", action="store_true",
        help="start afresh even if --checkpoint exists (overwrites it)")
    add("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> list[dict]:
    """The command line. Bad arguments and checkpoint problems end it with a one-line message and
    exit status 2 (argparse's convention); a non-finite loss with status 3."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _main(args, argv)
    except NonFiniteLoss as error:
        print(f"python -m lightnets.train: error: {error}", file=sys.stderr)
        raise SystemExit(3) from None
    except (ValueError, TypeError, CheckpointError) as error:
        parser.error(str(error))


def _main(args, argv: list) -> list[dict]:

    from lightnets.registry import create_model

    # Everything that can be checked is checked before any data is generated or trained on.
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                         weight_decay=args.weight_decay, optimizer=args.optimizer, seed=args.seed,
                         num_workers=args.workers)
    check_int("--resolution", args.resolution, low=8, high=1024)
    check_int("--train-size", args.train_size, low=1, high=10**6)
    check_int("--val-size", args.val_size, low=1, high=10**6)
    if args.device is not None:
        check_device(args.device)
    check_image_model(args.model)
    if args.export and not args.checkpoint:
        raise ValueError("--export needs --checkpoint (the file it slims down)")
    classes = DATA_CLASSES[args.data]
    model_config = {"num_classes": classes, **dict(args.model_arg)}
    if model_config["num_classes"] != classes:
        raise ValueError(f"--model-arg num_classes={model_config['num_classes']!r}: --data "
                         f"{args.data} has {classes} classes; leave num_classes out")
    seed_everything(args.seed)
    model = create_model(args.model, **model_config)  # before the data: bad model args fail fast
    for path in (args.checkpoint, args.export):
        if path:
            check_writable(path, model)
    with contextlib.ExitStack() as stack:
        if args.checkpoint and int(os.environ.get("RANK", "0")) == 0:
            # Owned from now on: a second run on the same file fails at once, not after its data.
            stack.enter_context(CheckpointLock(args.checkpoint))
        return _train(args, argv, model, model_config, config)


def _train(args, argv: list, model, model_config: dict, config: TrainConfig) -> list[dict]:
    import shlex

    train_set, val_set = make_datasets(args.data, args.resolution, args.train_size, args.val_size,
                                       args.seed)
    record = {"command": shlex.join(["python", "-m", "lightnets.train", *argv]),
              "data": {"name": args.data, "resolution": args.resolution,
                       "train_size": args.train_size, "val_size": args.val_size,
                       "seed": args.seed}}
    history = fit(model, train_set, val_set, config, device=args.device,
                  checkpoint=args.checkpoint, resume=not args.restart,
                  progress=not args.no_progress, model_config=model_config, record=record)
    distributed = dist.is_available() and dist.is_initialized()
    if not distributed or dist.get_rank() == 0:
        print(_format_row(history[-1]))
        if args.export:
            export_model(args.checkpoint, args.export)
    if distributed:
        dist.destroy_process_group()
    return history



if __name__ == "__main__":
    main()
