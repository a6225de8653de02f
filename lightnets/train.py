"""Train and evaluate a classifier: one loop for a notebook, a script, or ``torchrun`` on many GPUs.

``fit`` runs epochs of AdamW (or SGD with momentum) under a cosine learning-rate schedule with a
short linear warm-up, shows a tqdm progress bar, and after every epoch writes a checkpoint
atomically (a temporary file, then ``os.replace``), so an interrupted run loses at most the epoch
it was in: calling ``fit`` again with the same ``checkpoint`` resumes after the last saved epoch.
Checkpoints hold only tensors, numbers, strings, lists and dicts, so they load with
``torch.load(weights_only=True)``, which never runs code from the file.

Randomness is a function of ``seed`` and the epoch number alone (the data order, and the global
generator that dropout draws from, are re-seeded at each epoch's start), so a resumed run is the
same run: on CPU, two epochs in one call and one epoch, then a resume, give identical weights.

Started by ``torchrun`` (which sets ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``), the same ``fit``
joins the process group (NCCL on CUDA, gloo on CPU), wraps the model in DistributedDataParallel,
gives each process its share of every batch, averages the metrics over processes, and lets only
rank 0 write checkpoints and draw the progress bar. ``python -m lightnets.train --help`` lists the
command line; the README shows how to launch it on several GPUs or machines.
"""
from __future__ import annotations

import argparse
import ast
import math
import os
import tempfile
import time
from typing import Optional, Sequence, Union

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Subset

from lightnets._checks import check_choice, check_float, check_int
from lightnets.utils import seed_everything

CHECKPOINT_FORMAT = "lightnets.train/1"
PathLike = Union[str, os.PathLike]


# --- checkpoints ---------------------------------------------------------------------------------


def save_checkpoint(path: PathLike, state: dict) -> None:
    """Write ``state`` to ``path`` atomically: readers see the old file or the new one, never half.

    The temporary file sits in the same directory, so ``os.replace`` is a rename within one file
    system (atomic on POSIX and Windows).
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".pt", dir=directory)
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(state, file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes the file private; give it the usual mode
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def load_checkpoint(path: PathLike, map_location: Union[str, torch.device] = "cpu") -> dict:
    """Read a checkpoint written by :func:`fit` with ``torch.load(weights_only=True)``."""
    state = torch.load(os.fspath(path), map_location=map_location, weights_only=True)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{os.fspath(path)!r} is not a lightnets training checkpoint ({CHECKPOINT_FORMAT})")
    return state


def load_model(path: PathLike, map_location: Union[str, torch.device] = "cpu") -> nn.Module:
    """Rebuild the model a checkpoint was trained from (``create_model(model_name, **model_config)``)
    and load its weights; the model comes back in eval mode.

    Needs a checkpoint written by ``fit(..., model_config=...)`` on a model made by
    ``lightnets.create_model`` (which records ``model_name``), as the command line writes them.
    """
    from lightnets.registry import create_model

    state = load_checkpoint(path, map_location)
    if not state.get("model_name"):
        raise ValueError(f"{os.fspath(path)!r} does not record a model name; build the model and load state['model']")
    model = create_model(state["model_name"], **state["model_config"])
    model.load_state_dict(state["model"])
    return model.eval()


def export_model(checkpoint: PathLike, path: PathLike) -> None:
    """Write a checkpoint without its optimizer state (a third of the size): enough for
    :func:`load_model` and for a notebook to read, not for resuming."""
    state = load_checkpoint(checkpoint)
    state.pop("optimizer", None)
    save_checkpoint(path, state)


# --- distributed helpers -------------------------------------------------------------------------


def _distributed_from_environment() -> bool:
    """Join the process group when torchrun started us with more than one process."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size() > 1
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
        return True
    return False


def _rank_and_world(distributed: bool) -> tuple[int, int]:
    return (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)


def _default_device(distributed: bool) -> torch.device:
    if torch.cuda.is_available():
        if distributed:
            local_rank = int(os.environ.get("LOCAL_RANK", "0"))
            torch.cuda.set_device(local_rank)
            return torch.device("cuda", local_rank)
        return torch.device("cuda")
    return torch.device("cpu")


def _sum_over_processes(values: Sequence[float], device: torch.device, distributed: bool) -> list[float]:
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    if distributed:
        dist.all_reduce(tensor)
    return tensor.tolist()


# --- the loop ------------------------------------------------------------------------------------


def learning_rate(step: int, total_steps: int, peak: float, warmup_steps: int) -> float:
    """Linear warm-up to ``peak`` over ``warmup_steps``, then cosine decay to 0 at ``total_steps``."""
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return peak * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


@torch.no_grad()
def evaluate(model: nn.Module, dataset: Dataset, batch_size: int = 256,
             device: Optional[Union[str, torch.device]] = None) -> dict:
    """Mean cross-entropy loss and accuracy of ``model`` on ``dataset`` (every item counted once).

    Under torchrun each process evaluates every ``world_size``-th item and the sums are combined,
    so all processes return the same numbers.
    """
    check_int("batch_size", batch_size, low=1)
    distributed = dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1
    rank, world = _rank_and_world(distributed)
    device = torch.device(device) if device is not None else next(model.parameters()).device
    shard = Subset(dataset, range(rank, len(dataset), world)) if world > 1 else dataset
    was_training = model.training
    model.eval()
    loss_sum = correct = count = 0.0
    for images, labels in DataLoader(shard, batch_size=batch_size, shuffle=False):
        images, labels = images.to(device), labels.to(device)
        logits = model(images)
        loss_sum += nn.functional.cross_entropy(logits, labels, reduction="sum").item()
        correct += (logits.argmax(1) == labels).sum().item()
        count += len(labels)
    model.train(was_training)
    loss_sum, correct, count = _sum_over_processes([loss_sum, correct, count], device, distributed)
    return {"loss": loss_sum / max(count, 1), "accuracy": correct / max(count, 1)}


def fit(
    model: nn.Module,
    train_set: Dataset,
    val_set: Optional[Dataset] = None,
    epochs: int = 5,
    batch_size: int = 64,
    lr: float = 2e-3,
    weight_decay: float = 0.05,
    optimizer: str = "adamw",
    warmup_epochs: float = 0.5,
    label_smoothing: float = 0.0,
    seed: int = 0,
    device: Optional[Union[str, torch.device]] = None,
    checkpoint: Optional[PathLike] = None,
    resume: bool = True,
    progress: bool = True,
    num_workers: int = 0,
    model_config: Optional[dict] = None,
) -> list[dict]:
    """Train ``model`` on ``train_set`` for ``epochs`` epochs; return one dict per epoch.

    Each history row has ``epoch`` (1-based), ``lr`` (at the epoch's end), ``train_loss``,
    ``train_accuracy`` (over the epoch's batches, in train mode), ``seconds``, and ``val_loss`` /
    ``val_accuracy`` when ``val_set`` is given. ``batch_size`` is the global batch: under torchrun
    each of the ``world_size`` processes takes ``batch_size // world_size`` of it.

    With ``checkpoint`` a path, the state after each epoch is written there; if the file exists
    and ``resume`` is true, training continues after the epochs it records (the returned history
    includes them). ``model_config`` (every keyword argument given to ``create_model``,
    ``num_classes`` included) is stored so that :func:`load_model` can rebuild the model.
    ``progress=False`` hides the tqdm bar (notebooks). The model is left in eval mode on ``device``.
    Each history row also counts ``train_samples`` (over all processes).
    """
    check_int("epochs", epochs, low=1)
    check_int("batch_size", batch_size, low=1)
    check_float("lr", lr, 0.0, None, low_inclusive=False)
    check_float("weight_decay", weight_decay, 0.0)
    check_choice("optimizer", optimizer, ("adamw", "sgd"))
    check_float("warmup_epochs", warmup_epochs, 0.0)
    check_float("label_smoothing", label_smoothing, 0.0, 1.0, high_inclusive=False)
    check_int("seed", seed, low=0)
    check_int("num_workers", num_workers, low=0)
    if len(train_set) == 0:
        raise ValueError("train_set must not be empty")

    distributed = _distributed_from_environment()
    rank, world = _rank_and_world(distributed)
    if batch_size % world:
        raise ValueError(f"batch_size must be a multiple of the number of processes ({world}), got {batch_size}")
    device = torch.device(device) if device is not None else _default_device(distributed)
    model.to(device)

    parameters = [p for p in model.parameters() if p.requires_grad]
    if optimizer == "adamw":
        opt = torch.optim.AdamW(parameters, lr=lr, weight_decay=weight_decay)
    else:
        opt = torch.optim.SGD(parameters, lr=lr, momentum=0.9, weight_decay=weight_decay, nesterov=True)

    history: list[dict] = []
    state = _resume_state(checkpoint, resume, distributed, rank)
    if state is not None:
        if state["world_size"] != world or state["batch_size"] != batch_size:
            # Another split of the batches would make the resumed run a different run.
            raise ValueError(
                f"checkpoint {os.fspath(checkpoint)!r} was written with batch_size={state['batch_size']} on "
                f"{state['world_size']} process(es); resume with the same values (got {batch_size} on {world})"
            )
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        history = list(state["history"])

    sampler = DistributedSampler(train_set, num_replicas=world, rank=rank, shuffle=True, seed=seed, drop_last=False)
    loader = DataLoader(train_set, batch_size=batch_size // world, sampler=sampler, num_workers=num_workers,
                        pin_memory=device.type == "cuda", drop_last=len(sampler) > batch_size // world)
    steps_per_epoch = len(loader)
    total_steps, warmup_steps = epochs * steps_per_epoch, int(round(warmup_epochs * steps_per_epoch))
    network = nn.parallel.DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None) \
        if distributed else model

    show = progress and rank == 0
    from tqdm.auto import tqdm

    # Re-seeding per epoch (below) must not leak into the caller's random state.
    cuda_devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda_devices):
        for epoch in range(len(history), epochs):
            started = time.perf_counter()
            sampler.set_epoch(epoch)
            torch.manual_seed(seed * 100_003 + epoch * 1_009 + rank)  # dropout, stochastic depth
            network.train()
            loss_sum = correct = count = 0.0
            bar = tqdm(loader, desc=f"epoch {epoch + 1}/{epochs}", leave=False, disable=not show)
            for step, (images, labels) in enumerate(bar, start=epoch * steps_per_epoch):
                for group in opt.param_groups:
                    group["lr"] = learning_rate(step, total_steps, lr, warmup_steps)
                images = images.to(device, non_blocking=True)
                labels = labels.to(device, non_blocking=True)
                logits = network(images)
                loss = nn.functional.cross_entropy(logits, labels, label_smoothing=label_smoothing)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                loss_sum += loss.item() * len(labels)
                correct += (logits.argmax(1) == labels).sum().item()
                count += len(labels)
                bar.set_postfix(loss=f"{loss_sum / count:.3f}", acc=f"{correct / count:.3f}")
            bar.close()
            loss_sum, correct, count = _sum_over_processes([loss_sum, correct, count], device, distributed)
            row = {"epoch": epoch + 1, "lr": opt.param_groups[0]["lr"], "train_loss": loss_sum / count,
                   "train_accuracy": correct / count, "train_samples": int(count)}
            if val_set is not None:
                scores = evaluate(model, val_set, batch_size=max(batch_size, 256), device=device)
                row.update(val_loss=scores["loss"], val_accuracy=scores["accuracy"])
            row["seconds"] = time.perf_counter() - started
            history.append(row)
            if show:
                tqdm.write(_format_row(row))
            if checkpoint is not None:
                if rank == 0:
                    save_checkpoint(checkpoint, _checkpoint_state(model, opt, history, batch_size, world, seed,
                                                                  model_config))
                if distributed:
                    dist.barrier()
    model.eval()
    return history


def _resume_state(checkpoint, resume: bool, distributed: bool, rank: int) -> Optional[dict]:
    """The checkpoint to resume from, or None. Under torchrun only rank 0 reads the file and sends
    it to the others, so the path need not be on a file system that every machine shares."""
    state = None
    if checkpoint is not None and resume and (not distributed or rank == 0) and os.path.exists(checkpoint):
        state = load_checkpoint(checkpoint, map_location="cpu")
    if distributed:
        box = [state]
        dist.broadcast_object_list(box, src=0)
        state = box[0]
    return state


def _checkpoint_state(model, opt, history, batch_size, world, seed, model_config) -> dict:
    return {
        "format": CHECKPOINT_FORMAT,
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "history": history,
        "epoch": len(history),
        "batch_size": batch_size,
        "world_size": world,
        "seed": seed,
        "model_name": getattr(model, "model_name", ""),
        "model_config": dict(model_config or {}),
        "torch_version": str(torch.__version__),
    }


def _format_row(row: dict) -> str:
    text = f"epoch {row['epoch']}: train loss {row['train_loss']:.3f} acc {row['train_accuracy']:.3f}"
    if "val_loss" in row:
        text += f", val loss {row['val_loss']:.3f} acc {row['val_accuracy']:.3f}"
    return text + f" ({row['seconds']:.1f} s)"


# --- command line --------------------------------------------------------------------------------


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
    except (ValueError, SyntaxError):
        return key, value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lightnets.train",
        description="Train a lightnets model on a generated data set. Run under torchrun for "
                    "several processes (DistributedDataParallel; NCCL on GPUs, gloo on CPU).",
    )
    parser.add_argument("--model", default="mobilenet_v2", help="a name from lightnets.list_models()")
    parser.add_argument("--model-arg", action="append", default=[], type=_parse_model_arg, metavar="KEY=VALUE",
                        help="a keyword for create_model, e.g. width_mult=0.35 (repeatable)")
    parser.add_argument("--data", default="shapes", choices=("shapes", "digits"))
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--train-size", type=int, default=2000, help="images in the training set (shapes)")
    parser.add_argument("--val-size", type=int, default=500, help="images in the validation set (shapes)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64, help="global batch, split over processes")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--optimizer", default="adamw", choices=("adamw", "sgd"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: CUDA if present)")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    parser.add_argument("--checkpoint", default=None, help="write the state here after every epoch")
    parser.add_argument("--export", default=None,
                        help="after training, also write the checkpoint without optimizer state here")
    parser.add_argument("--no-resume", action="store_true", help="start afresh even if --checkpoint exists")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> list[dict]:
    from lightnets.registry import create_model

    import shlex
    import sys

    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    seed_everything(args.seed)
    train_set, val_set = make_datasets(args.data, args.resolution, args.train_size, args.val_size, args.seed)
    model_config = {"num_classes": len(train_set.class_names), **dict(args.model_arg)}
    model = create_model(args.model, **model_config)
    history = fit(model, train_set, val_set, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                  weight_decay=args.weight_decay, optimizer=args.optimizer, seed=args.seed, device=args.device,
                  checkpoint=args.checkpoint, resume=not args.no_resume, progress=not args.no_progress,
                  num_workers=args.workers, model_config=model_config)
    distributed = dist.is_available() and dist.is_initialized()
    if not distributed or dist.get_rank() == 0:
        print(_format_row(history[-1]))
        if args.checkpoint:  # record how the file was made, for the notebooks that read it
            state = load_checkpoint(args.checkpoint)
            state["command"] = shlex.join(["python", "-m", "lightnets.train", *argv])
            state["data"] = {"name": args.data, "resolution": args.resolution, "train_size": args.train_size,
                             "val_size": args.val_size, "seed": args.seed}
            save_checkpoint(args.checkpoint, state)
        if args.export:
            if not args.checkpoint:
                raise ValueError("--export needs --checkpoint")
            export_model(args.checkpoint, args.export)
    if distributed:
        dist.destroy_process_group()
    return history


if __name__ == "__main__":
    main()
