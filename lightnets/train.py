"""Train and evaluate a network: the one loop for a notebook, a script, an experiment, or
``torchrun`` on many GPUs.

Read :func:`train_one_epoch` and :func:`evaluate` first: they are the whole of training and
measuring, one screen each. The loss and what a batch is are arguments, so the same loop trains
an image classifier, a TabTransformer (batches of ``(x_categ, x_cont, y)``) and a network with
early exits (one loss over several outputs). :func:`fit` sets the loop up and around it, as a
:class:`TrainConfig` says: the optimizer (AdamW, or SGD with momentum) under a cosine
learning-rate schedule with a short linear warm-up, a tqdm progress bar, torchrun's processes,
and checkpoints (:mod:`lightnets.checkpoint`, the one format).

Checkpoints. After every epoch ``fit`` writes the state atomically (``lightnets._io.atomic_write``:
a temporary file, fsync, ``os.replace``, fsync of the directory), so an interrupted run loses at
most the epoch it was in, and calling ``fit`` again with the same ``checkpoint`` resumes after the
last saved epoch. A checkpoint holds only tensors, numbers, strings, lists and dicts, so it loads
with ``torch.load(weights_only=True)``, which never runs code from the file; it also holds a
sha256 of its tensors, checked on every load. While a run owns a checkpoint it holds an exclusive
lock on ``NAME.lock`` beside it, so a second run on the same file fails at once, naming the owner.
Resuming with another configuration (seed, learning rate, epochs, data, model) is refused with
the differing keys listed; ``resume=False`` (``--restart``) starts afresh. A non-finite loss stops
the run and keeps the last good checkpoint.

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

import dataclasses
import functools
import math
import os
import time
from dataclasses import dataclass
from typing import Callable, Iterable, NamedTuple, Optional, Union

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Subset

from lightnets._checks import check_choice, check_float, check_int, describe
from lightnets._distributed import (default_device, join_from_environment, rank_and_world,
                                    sum_over_processes)
from lightnets._torch import check_device, evaluating
from lightnets.checkpoint import (  # noqa: F401 (re-exported: the public names live here)
    CHECKPOINT_FORMAT, CheckpointError, CheckpointLock, NonFiniteLoss, check_writable,
    clean_temporary_files, export_model, load_checkpoint, load_model, save_checkpoint,
)

PathLike = Union[str, os.PathLike]


# --- the loop a learner reads --------------------------------------------------------------------


def images_and_labels(batch) -> tuple:
    """What a batch is, by default: ``(images, labels)``, and the model takes the images."""
    images, labels = batch[0], batch[1]
    return (images,), labels


def train_one_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, batches: Iterable,
                    loss: Callable = nn.functional.cross_entropy,
                    unpack: Callable = images_and_labels, schedule: Optional[Callable] = None,
                    first_step: int = 0, device: Optional[torch.device] = None,
                    bar=None) -> EpochSums:
    """One pass over ``batches``: forward, loss, backward, step.

    ``unpack(batch)`` says what a batch is: it returns ``(inputs, targets)``, and the model is
    called as ``model(*inputs)`` (a TabTransformer takes ``(x_categ, x_cont)``). ``loss(outputs,
    targets)`` is the mean loss of the batch (early exits: the mean over the exits' losses).
    ``schedule(step)``, if given, sets each step's learning rate. Returns this process's sums.
    Raises :class:`NonFiniteLoss` at the first NaN or infinite loss (the weights would be lost).
    """
    model.train()
    sums = EpochSums(0.0, 0, 0)
    for step, batch in enumerate(batches, start=first_step):
        if schedule is not None:
            for group in optimizer.param_groups:
                group["lr"] = schedule(step)
        inputs, targets = _to_device(unpack(batch), device)
        outputs = model(*inputs)
        batch_loss = loss(outputs, targets)
        if not torch.isfinite(batch_loss):
            raise NonFiniteLoss(step, batch_loss.item(), optimizer.param_groups[0]["lr"])
        optimizer.zero_grad(set_to_none=True)
        batch_loss.backward()
        optimizer.step()
        sums = sums.add(batch_loss.item() * len(targets), correct(outputs, targets), len(targets))
        if bar is not None:
            bar.update()
            bar.set_postfix(loss=f"{sums.loss / sums.count:.3f}",
                            acc=f"{sums.correct / sums.count:.3f}")
    return sums


@torch.no_grad()
def evaluate(model: nn.Module, dataset: Dataset, batch_size: int = 256,
             device: Optional[Union[str, torch.device]] = None, loss: Optional[Callable] = None,
             unpack: Callable = images_and_labels) -> dict:
    """Mean loss (cross-entropy unless ``loss`` is given) and accuracy of ``model`` on
    ``dataset``, every item counted once; ``unpack`` as in :func:`train_one_epoch`.

    Under torchrun each process evaluates every ``world_size``-th item and the sums are combined,
    so all processes return the same numbers.
    """
    _check_model_and_data(model, dataset, "dataset")
    check_int("batch_size", batch_size, low=1, high=2**16)
    device = check_device(device) if device is not None else next(model.parameters()).device
    distributed = dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1
    rank, world = rank_and_world(distributed)
    shard = Subset(dataset, range(rank, len(dataset), world)) if world > 1 else dataset
    sums = EpochSums(0.0, 0, 0)
    with evaluating(model):
        for batch in DataLoader(shard, batch_size=batch_size, shuffle=False):
            inputs, targets = _to_device(unpack(batch), device)
            outputs = model(*inputs)
            if loss is None:
                loss_sum = nn.functional.cross_entropy(outputs, targets, reduction="sum")
            else:
                loss_sum = loss(outputs, targets) * len(targets)
            sums = sums.add(loss_sum.item(), correct(outputs, targets), len(targets))
    loss_sum, right, count = sum_over_processes(list(sums), device, distributed)
    return {"loss": loss_sum / max(count, 1), "accuracy": right / max(count, 1)}


class EpochSums(NamedTuple):
    """Sums over a pass: the loss times the batch size, the correct predictions, the items."""

    loss: float
    correct: int
    count: int

    def add(self, loss: float, correct: int, count: int) -> "EpochSums":
        return EpochSums(self.loss + loss, self.correct + correct, self.count + count)


def correct(outputs, targets: torch.Tensor) -> int:
    """Top-1 hits; a model with several outputs (early exits) is scored by its last, the full
    network."""
    logits = outputs[-1] if isinstance(outputs, (list, tuple)) else outputs
    return int((logits.argmax(1) == targets).sum().item())


def _to_device(parts: tuple, device: Optional[torch.device]) -> tuple:
    inputs, targets = parts
    if device is None:
        return tuple(inputs), targets
    return (tuple(x.to(device, non_blocking=True) for x in inputs),
            targets.to(device, non_blocking=True))


def learning_rate(step: int, total_steps: int, peak: float, warmup_steps: int) -> float:
    """Linear warm-up to ``peak`` over ``warmup_steps``, then cosine decay to 0 at
    ``total_steps``."""
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return peak * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


# --- fit: set-up, resume and saving around the loop ---------------------------------------------


@dataclass(frozen=True)
class TrainConfig:
    """A run's settings, checked once, here. ``batch_size`` is the global batch: under torchrun
    each of the ``world_size`` processes takes ``batch_size // world_size`` of it.

    ``order_seed`` seeds the data order (default: ``seed``; epoch ``e`` shuffles with
    ``order_seed + e``); ``keep_last_batch`` keeps a short last batch, which by default is
    dropped when the epoch has other batches (a batch of one would break batch norm).
    ``label_smoothing`` applies to the default loss, cross-entropy.
    """

    epochs: int = 5
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 0.05
    optimizer: str = "adamw"
    warmup_epochs: float = 0.5
    label_smoothing: float = 0.0
    seed: int = 0
    num_workers: int = 0
    order_seed: Optional[int] = None
    keep_last_batch: bool = False

    def __post_init__(self) -> None:
        check_int("epochs", self.epochs, low=1, high=10**5)
        check_int("batch_size", self.batch_size, low=1, high=2**16)
        check_float("lr", self.lr, 0.0, 10.0, low_inclusive=False)
        check_float("weight_decay", self.weight_decay, 0.0, 10.0)
        check_choice("optimizer", self.optimizer, ("adamw", "sgd"))
        check_float("warmup_epochs", self.warmup_epochs, 0.0, float(self.epochs))
        check_float("label_smoothing", self.label_smoothing, 0.0, 1.0, high_inclusive=False)
        check_int("seed", self.seed, low=0, high=2**32 - 1)
        check_int("num_workers", self.num_workers, low=0, high=256)
        if self.order_seed is not None:
            check_int("order_seed", self.order_seed, low=0, high=2**63 - 1)
        if not isinstance(self.keep_last_batch, bool):
            raise TypeError(f"keep_last_batch must be True or False, got {self.keep_last_batch!r}")


@dataclass(frozen=True)
class _Run:
    """Where and how :func:`fit` runs a configuration, worked out once by ``fit``."""

    config: TrainConfig
    stored: dict  # what makes two runs the same run, written into every checkpoint
    device: torch.device
    checkpoint: Optional[PathLike]
    resume: bool
    progress: bool
    distributed: bool
    rank: int
    world: int
    model_config: dict
    record: dict
    loss: Callable
    unpack: Callable


def fit(
    model: nn.Module,
    train_set: Dataset,
    val_set: Optional[Dataset] = None,
    config: TrainConfig = TrainConfig(),
    *,
    loss: Optional[Callable] = None,
    unpack: Callable = images_and_labels,
    device: Optional[Union[str, torch.device]] = None,
    checkpoint: Optional[PathLike] = None,
    resume: bool = True,
    progress: bool = True,
    model_config: Optional[dict] = None,
    record: Optional[dict] = None,
) -> list[dict]:
    """Train ``model`` on ``train_set`` as ``config`` (a :class:`TrainConfig`) says; return one
    dict per epoch.

    Each history row has ``epoch`` (1-based), ``lr`` (at the epoch's end), ``train_loss``,
    ``train_accuracy`` (over the epoch's batches, in train mode), ``train_samples`` (over all
    processes), ``seconds``, and ``val_loss`` / ``val_accuracy`` when ``val_set`` is given.
    ``loss`` and ``unpack`` are :func:`train_one_epoch`'s (default: cross-entropy with
    ``config.label_smoothing``, on ``(images, labels)`` batches).

    With ``checkpoint`` a path, the state after each epoch is written there (see the module's
    docstring for the lock, the hash and the configuration check); if the file exists and
    ``resume`` is true, training continues after the epochs it records (the returned history
    includes them). ``model_config`` (every keyword argument given to ``create_model``,
    ``num_classes`` included) is stored so that :func:`load_model` can rebuild the model;
    ``record`` (e.g. ``{"command": ..., "data": {...}}``) is stored beside it, and its ``data``
    entry is part of the configuration a resume must match. ``progress=False`` hides the tqdm bar
    (notebooks). The model is left in eval mode on ``device``.
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a lightnets.train.TrainConfig, got "
                        f"{type(config).__name__}")
    _check_model_and_data(model, train_set, "train_set")
    if val_set is not None:
        _check_model_and_data(model, val_set, "val_set")
    for name, value in (("model_config", model_config), ("record", record)):
        if value is not None and not isinstance(value, dict):
            raise TypeError(f"{name} must be a dict or None, got {type(value).__name__}")
    for name, value in (("loss", loss), ("unpack", unpack)):
        if value is not None and not callable(value):
            raise TypeError(f"{name} must be callable, got {type(value).__name__}")
    if loss is not None and config.label_smoothing:
        raise ValueError("label_smoothing applies to the default loss (cross-entropy); "
                         "with your own loss, smooth the labels inside it")
    if not isinstance(resume, bool):
        raise TypeError(f"resume must be True or False, got {resume!r}")

    distributed = join_from_environment()
    rank, world = rank_and_world(distributed)
    if config.batch_size % world:
        raise ValueError(f"batch_size must be a multiple of the number of processes ({world}), "
                         f"got {config.batch_size}")
    if loss is None:
        loss = functools.partial(nn.functional.cross_entropy,
                                 label_smoothing=config.label_smoothing)
    run = _Run(config=config,
               stored=_run_config(config, world, len(train_set), val_set, model_config, record),
               device=check_device(device) if device is not None else default_device(distributed),
               checkpoint=checkpoint, resume=resume, progress=progress, distributed=distributed,
               rank=rank, world=world, model_config=dict(model_config or {}),
               record=dict(record or {}), loss=loss, unpack=unpack)
    owner = rank == 0 and checkpoint is not None
    lock = CheckpointLock(checkpoint) if owner else None
    if owner:
        check_writable(checkpoint, model)
        lock.acquire()
    try:
        return _fit_locked(model, train_set, val_set, run)
    finally:
        if lock is not None:
            lock.release()


def _fit_locked(model: nn.Module, train_set: Dataset, val_set: Optional[Dataset],
                run: _Run) -> list[dict]:
    config, device, checkpoint = run.config, run.device, run.checkpoint
    model.to(device)
    opt = _optimizer(model, config)
    history: list[dict] = []
    if run.rank == 0 and checkpoint is not None:
        clean_temporary_files(checkpoint)
    state = _resume_state(checkpoint, run.resume, run.distributed, run.rank)
    if state is not None:
        _check_same_run(checkpoint, state, run.stored)
        try:
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
        except (KeyError, ValueError, RuntimeError) as error:
            raise CheckpointError(
                checkpoint, f"does not fit this model and optimizer ({error})") from None
        history = list(state["history"])

    order_seed = config.seed if config.order_seed is None else config.order_seed
    sampler = DistributedSampler(train_set, num_replicas=run.world, rank=run.rank, shuffle=True,
                                 seed=order_seed, drop_last=False)
    per_process = config.batch_size // run.world
    loader = DataLoader(train_set, batch_size=per_process, sampler=sampler,
                        num_workers=config.num_workers, pin_memory=device.type == "cuda",
                        drop_last=not config.keep_last_batch and len(sampler) > per_process)
    steps_per_epoch = len(loader)
    total_steps = config.epochs * steps_per_epoch
    warmup_steps = int(round(config.warmup_epochs * steps_per_epoch))
    network = nn.parallel.DistributedDataParallel(
        model, device_ids=[device] if device.type == "cuda" else None) if run.distributed else model

    def schedule(step: int) -> float:
        return learning_rate(step, total_steps, config.lr, warmup_steps)

    show = run.progress and run.rank == 0
    from tqdm.auto import tqdm

    # Re-seeding per epoch (below) must not leak into the caller's random state.
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        for epoch in range(len(history), config.epochs):
            started = time.perf_counter()
            sampler.set_epoch(epoch)
            # dropout, stochastic depth
            torch.manual_seed(config.seed * 100_003 + epoch * 1_009 + run.rank)
            bar = tqdm(total=steps_per_epoch, desc=f"epoch {epoch + 1}/{config.epochs}",
                       leave=False, disable=not show)
            try:
                sums = train_one_epoch(network, opt, loader, run.loss, run.unpack, schedule,
                                       epoch * steps_per_epoch, device, bar)
            except NonFiniteLoss as error:
                raise error.during(epoch + 1, checkpoint if history else None) from None
            finally:
                bar.close()
            loss_sum, right, count = sum_over_processes(list(sums), device, run.distributed)
            row = {"epoch": epoch + 1, "lr": opt.param_groups[0]["lr"],
                   "train_loss": loss_sum / count, "train_accuracy": right / count,
                   "train_samples": int(count)}
            if val_set is not None:
                scores = evaluate(model, val_set, batch_size=max(config.batch_size, 256),
                                  device=device, loss=run.loss, unpack=run.unpack)
                row.update(val_loss=scores["loss"], val_accuracy=scores["accuracy"])
            row["seconds"] = time.perf_counter() - started
            history.append(row)
            if show:
                tqdm.write(_format_row(row))
            if checkpoint is not None:
                if run.rank == 0:
                    save_checkpoint(checkpoint, _checkpoint_state(model, opt, history, run))
                if run.distributed:
                    dist.barrier()
    model.eval()
    return history


def _optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    parameters = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "adamw":
        return torch.optim.AdamW(parameters, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(parameters, lr=config.lr, momentum=0.9,
                           weight_decay=config.weight_decay, nesterov=True)


def _check_model_and_data(model, dataset, name: str) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not any(True for _ in model.parameters()):
        raise ValueError("model must have parameters to train and to place on a device")
    if (not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__")
            or isinstance(dataset, (str, bytes))):
        raise TypeError(f"{name} must be a Dataset of (image, label) pairs with a length, "
                        f"got {type(dataset).__name__}")
    if len(dataset) == 0:
        raise ValueError(f"{name} must not be empty")
    # A plain list is read here at no cost (a Dataset's items may be expensive, or counted):
    # a list of images or labels fails now, not inside the DataLoader.
    if isinstance(dataset, (list, tuple)) and not (
            isinstance(dataset[0], (list, tuple)) and len(dataset[0]) == 2):
        raise TypeError(f"{name} must hold (image, label) pairs, but its first item is "
                        f"{describe(dataset[0])}")


def _run_config(config: TrainConfig, world: int, train_size: int, val_set, model_config,
                record) -> dict:
    """What makes two runs the same run: a resume must match every entry."""
    options = dataclasses.asdict(config)
    for key in ("order_seed", "keep_last_batch"):  # recorded only when set, as older runs lack them
        if options[key] == TrainConfig.__dataclass_fields__[key].default:
            del options[key]
    return {**options, "world_size": world, "train_size": train_size,
            "val_size": None if val_set is None else len(val_set),
            "model_config": dict(model_config or {}),
            "data": dict(record or {}).get("data")}


def _check_same_run(checkpoint, state: dict, config: dict) -> None:
    # Old checkpoints (lightnets.train/1) recorded only some of the configuration: compare those.
    stored = state.get("config") or {k: state[k] for k in ("batch_size", "world_size", "seed")
                                     if k in state}
    differing = [f"{key}: {stored[key]!r} in the file, {config[key]!r} now"
                 for key in sorted(stored) if key in config and stored[key] != config[key]]
    if differing:
        raise ValueError(
            f"checkpoint {os.fspath(checkpoint)!r} belongs to a run with another configuration "
            f"({'; '.join(differing)}). Resume with the same settings, or start afresh with "
            "resume=False (command line: --restart), which overwrites it, or pick another path."
        )


def _resume_state(checkpoint, resume: bool, distributed: bool, rank: int) -> Optional[dict]:
    """The checkpoint to resume from, or None. Under torchrun only rank 0 reads the file and sends
    it to the others, so the path need not be on a file system that every machine shares."""
    state = None
    if checkpoint is not None and resume and (not distributed or rank == 0) \
            and os.path.exists(checkpoint):
        state = load_checkpoint(checkpoint, map_location="cpu")
        missing = [k for k in ("model", "optimizer", "history") if k not in state]
        if missing:
            raise CheckpointError(checkpoint, f"cannot be resumed: it has no {', '.join(missing)} "
                                  "(an exported or compacted file?)")
    if distributed:
        box = [state]
        dist.broadcast_object_list(box, src=0)
        state = box[0]
    return state


def _checkpoint_state(model: nn.Module, opt, history: list, run: _Run) -> dict:
    return {
        **run.record,
        "format": CHECKPOINT_FORMAT,
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "history": history,
        "epoch": len(history),
        "batch_size": run.config.batch_size,
        "world_size": run.world,
        "seed": run.config.seed,
        "config": run.stored,
        "model_name": getattr(model, "model_name", ""),
        "model_config": run.model_config,
        "torch_version": str(torch.__version__),
    }


def _format_row(row: dict) -> str:
    text = (f"epoch {row['epoch']}: train loss {row['train_loss']:.3f} "
            f"acc {row['train_accuracy']:.3f}")
    if "val_loss" in row:
        text += f", val loss {row['val_loss']:.3f} acc {row['val_accuracy']:.3f}"
    return text + f" ({row['seconds']:.1f} s)"


# --- command line --------------------------------------------------------------------------------
# The command line lives in lightnets/train_cli.py (it imports this module, never the reverse);
# ``python -m lightnets.train`` runs it, as the commands stored in checkpoints spell it.

if __name__ == "__main__":
    import runpy

    runpy.run_module("lightnets.train_cli", run_name="__main__")
