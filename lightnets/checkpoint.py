"""Training checkpoints that survive crashes, damage and a second run on the same file.

* Written atomically (``lightnets._io.atomic_write``): a reader sees the old file or the new one.
* Loaded with ``torch.load(weights_only=True)``, which never runs code from the file.
* Carry a sha256 of their tensors (names, dtypes, shapes and bytes), checked on every load, so a
  flipped bit inside a weight is an error, not a silently different network. Files written before
  the hash existed (format ``lightnets.train/1``, such as the committed results) load unchecked.
* Owned by one run at a time: :class:`CheckpointLock` holds an exclusive ``fcntl`` lock on
  ``NAME.lock`` beside the checkpoint and writes the owner's pid, host and command into it.

Every failure names the file and the way out, as :class:`CheckpointError`.
"""
from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import pickle
import socket
import sys
import time
from typing import Optional, Union

import torch

from lightnets._io import TEMPORARY_PREFIX, atomic_write, check_writable_file

try:  # POSIX; on Windows runs are not locked
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

CHECKPOINT_FORMAT = "lightnets.train/2"
OLD_FORMATS = ("lightnets.train/1",)  # no content hash
HASH_KEY = "content_sha256"
STALE_SECONDS = 60  # a temporary file untouched this long belongs to no live write
PathLike = Union[str, os.PathLike]


class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be used; the message names the path and what to do."""

    def __init__(self, path: PathLike, problem: str, way_out: Optional[str] = None) -> None:
        self.path = os.fspath(path)
        way_out = way_out or ("move or delete it, or start afresh with resume=False "
                              "(command line: --restart), which overwrites it")
        super().__init__(f"checkpoint {self.path!r} {problem}; {way_out}")


class NonFiniteLoss(RuntimeError):
    """Training met a NaN or infinite loss; the weights after it would be garbage."""

    def __init__(self, step: int, loss: float, lr: float, epoch: Optional[int] = None,
                 kept: Optional[PathLike] = None) -> None:
        self.step, self.loss, self.lr, self.epoch, self.kept = step, loss, lr, epoch, kept
        where = f"epoch {epoch}, step {step}" if epoch is not None else f"step {step}"
        kept_text = (f"the checkpoint {os.fspath(kept)!r} keeps the last good epoch"
                     if kept is not None else "no checkpoint was written")
        super().__init__(
            f"the training loss became {loss} at {where} (learning rate {lr:.3g}); training "
            f"stopped and {kept_text}. Lower the learning rate (--lr) or check the data")

    def during(self, epoch: int, kept: Optional[PathLike]) -> "NonFiniteLoss":
        return NonFiniteLoss(self.step, self.loss, self.lr, epoch, kept)


# --- the content hash ----------------------------------------------------------------------------


def content_hash(state) -> str:
    """sha256 over every tensor in ``state`` (nested dicts and lists), with its place, dtype and
    shape, in a fixed order; everything but the tensors is left out."""
    digest = hashlib.sha256()

    def visit(value, place: str) -> None:
        if isinstance(value, torch.Tensor):
            tensor = value.detach().cpu().contiguous()
            digest.update(f"{place}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
            digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
        elif isinstance(value, dict):
            for key in sorted(value, key=repr):
                if not (place == "" and key == HASH_KEY):
                    visit(value[key], f"{place}/{key!r}")
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                visit(item, f"{place}/{index}")

    visit(state, "")
    return digest.hexdigest()


# --- writing and reading -------------------------------------------------------------------------


def save_checkpoint(path: PathLike, state: dict) -> None:
    """Write ``state`` (with its content hash) to ``path`` atomically."""
    if not isinstance(state, dict):
        raise TypeError(f"state must be a dict, got {type(state).__name__}")
    state = {**state, HASH_KEY: content_hash(state)}
    if state.get("format") in OLD_FORMATS:
        state["format"] = CHECKPOINT_FORMAT  # it now carries the hash
    try:
        atomic_write(path, lambda file: torch.save(state, file))
    except OSError as error:
        raise CheckpointError(
            path, f"could not be written ({error.strerror or error}); the previous file, if any, "
            "is intact", "free some space or choose another location") from error


def load_checkpoint(path: PathLike, map_location: Union[str, torch.device] = "cpu") -> dict:
    """Read a checkpoint written by ``lightnets.train.fit`` with ``torch.load(weights_only=True)``
    and check its content hash; :class:`CheckpointError` names the path and the way out."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(path, "does not exist or is not a file",
                              "check the path (a run writes it after its first epoch)")
    if os.path.getsize(path) == 0:
        raise CheckpointError(path, "is empty (a write cut short by a crash or a full disk?)")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        # weights_only refuses any object that is not plain data: never run code from a file.
        reason = next((line.strip() for line in str(error).splitlines()
                       if "unsupported global" in line.lower()), None)
        if reason is not None:
            raise CheckpointError(path, "holds objects other than tensors and plain data, so it "
                                  f"was not loaded ({reason[:200]})",
                                  "load only checkpoints written by lightnets.train") from None
        raise CheckpointError(path, "is damaged or not a PyTorch file (it does not unpickle)") \
            from None
    except Exception as error:  # noqa: BLE001 (damaged bytes fail anywhere in the unpickler)
        raise CheckpointError(path, f"is damaged or not a PyTorch file "
                              f"({type(error).__name__}: {str(error)[:200]})") from None
    if not isinstance(state, dict) or state.get("format") not in (CHECKPOINT_FORMAT, *OLD_FORMATS):
        raise CheckpointError(path, f"is not a lightnets training checkpoint ({CHECKPOINT_FORMAT})",
                              "pass a file written by lightnets.train")
    if state["format"] == CHECKPOINT_FORMAT:
        stored = state.get(HASH_KEY)
        if stored != content_hash(state):
            raise CheckpointError(path, "failed its content check: the tensors' sha256 differs "
                                  "from the one stored when it was written (damaged on disk?)")
    return state


def check_writable(path: PathLike, model: Optional[torch.nn.Module] = None) -> None:
    """Before any training: can ``path`` be written (directory creatable, writable, and, when
    ``model`` is given, room for two copies of a checkpoint with AdamW's state)?"""
    way_out = "choose a location you can write to"
    try:
        path, directory = check_writable_file(path, "checkpoint")
    except OSError as error:
        raise CheckpointError(path, f"cannot be written: {error.strerror or error}",
                              way_out) from None
    if model is not None:
        # Weights, two AdamW moments; the atomic write holds the old file and the new at once.
        needed = 2 * 3 * sum(t.numel() * t.element_size() for t in model.state_dict().values())
        needed += 2**20
        free = _free_bytes(directory)
        if free is not None and free < needed:
            raise CheckpointError(
                path, f"needs about {needed / 2**20:.1f} MiB free (two copies during the atomic "
                f"write) but its disk has {free / 2**20:.1f} MiB", "free some space or " + way_out)


def _free_bytes(directory: str) -> Optional[int]:
    try:
        stats = os.statvfs(directory)
    except (OSError, AttributeError):
        return None
    return stats.f_bavail * stats.f_frsize


def clean_temporary_files(path: PathLike, older_than: float = STALE_SECONDS) -> list:
    """Remove temporary files that crashed writes left beside ``path`` (``.tmp-*`` with its
    suffix, untouched for ``older_than`` seconds, so a live write elsewhere is left alone)."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    suffix = os.path.splitext(path)[1]
    removed = []
    pattern = os.path.join(glob.escape(directory), f"{TEMPORARY_PREFIX}*{suffix}")
    for temporary in glob.glob(pattern):
        with contextlib.suppress(OSError):
            if time.time() - os.path.getmtime(temporary) > older_than:
                os.remove(temporary)
                removed.append(temporary)
    return removed


# --- models from checkpoints ---------------------------------------------------------------------


def load_model(path: PathLike, map_location: Union[str, torch.device] = "cpu") -> torch.nn.Module:
    """Rebuild the model a checkpoint was trained from (``create_model(name, **model_config)``)
    and load its weights; the model comes back in eval mode.

    Needs a checkpoint written by ``fit(..., model_config=...)`` on a model made by
    ``lightnets.create_model`` (which records ``model_name``), as the command line writes them.
    The stored configuration goes through ``create_model``'s checks like any other.
    """
    from lightnets.registry import create_model

    state = load_checkpoint(path, map_location)
    name, config = state.get("model_name"), state.get("model_config")
    if not name or not isinstance(name, str):
        raise CheckpointError(path, "does not record a model name; build the model yourself and "
                              "load state['model']")
    if not isinstance(config, dict) or not all(isinstance(k, str) for k in config):
        raise CheckpointError(path, f"holds a model_config that is not a dict of keywords: "
                              f"{config!r}")
    if "model" not in state:
        raise CheckpointError(path, "holds no model weights")
    try:
        model = create_model(name, **config)
    except (TypeError, ValueError) as error:
        raise CheckpointError(path, f"records a model that cannot be built: {error}") from None
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, TypeError) as error:
        raise CheckpointError(path, f"holds weights that do not fit {name}: {error}") from None
    return model.eval()


def compact(state: dict) -> dict:
    """A finished run's checkpoint as committed: no optimizer state, float tensors in float16
    (half the size; ``load_model`` copies them back into the float32 model)."""
    state = {key: value for key, value in state.items() if key != "optimizer"}
    state["model"] = {name: tensor.half() if tensor.is_floating_point() else tensor
                      for name, tensor in state["model"].items()}
    return state


def export_model(checkpoint: PathLike, path: PathLike) -> None:
    """Write a checkpoint without its optimizer state (a third of the size): enough for
    :func:`load_model` and for a notebook to read, not for resuming."""
    state = load_checkpoint(checkpoint)
    state.pop("optimizer", None)
    save_checkpoint(path, state)


# --- one owner at a time -------------------------------------------------------------------------


class CheckpointLock:
    """An exclusive lock on ``PATH.lock`` while a run owns checkpoint ``PATH``.

    ``acquire`` fails at once (no waiting) with :class:`CheckpointError` naming the owner's pid,
    host and command. Within one process it nests (the command line takes the lock before
    generating data, then ``fit`` takes it again). The lock dies with its process (``kill -9``
    included), so a crashed run never blocks the next; the file is removed on release.
    """

    _held: dict = {}  # lock path -> times acquired in this process (the command line, then fit)

    def __init__(self, path: PathLike) -> None:
        self.path = os.fspath(path)
        self.lock_path = os.path.abspath(self.path + ".lock")
        self.handle: Optional[int] = None
        self.nested = False

    def acquire(self) -> "CheckpointLock":
        if fcntl is None:
            return self
        if CheckpointLock._held.get(self.lock_path):
            CheckpointLock._held[self.lock_path] += 1
            self.nested = True
            return self
        os.makedirs(os.path.dirname(os.path.abspath(self.lock_path)), exist_ok=True)
        while True:
            handle = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                owner = os.read(handle, 4096).decode(errors="replace").strip() or "unknown"
                os.close(handle)
                raise CheckpointError(
                    self.path, f"is in use by another run ({owner})",
                    "wait for it to finish, stop it, or choose another checkpoint path") from None
            # The file may have been released and removed between our open and our lock:
            # then we hold a lock on a name nobody else sees, so start again.
            try:
                same = os.stat(self.lock_path).st_ino == os.fstat(handle).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(handle)
        owner = (f"pid {os.getpid()} on {socket.gethostname()}, started "
                 f"{time.strftime('%Y-%m-%d %H:%M:%S')}: {' '.join(sys.argv)}")
        os.ftruncate(handle, 0)
        os.write(handle, owner.encode())
        os.fsync(handle)
        self.handle = handle
        CheckpointLock._held[self.lock_path] = 1
        return self

    def release(self) -> None:
        if self.nested:
            CheckpointLock._held[self.lock_path] -= 1
            self.nested = False
            return
        if self.handle is None:
            return
        CheckpointLock._held.pop(self.lock_path, None)
        with contextlib.suppress(OSError):
            os.remove(self.lock_path)  # while still locked: no one can lock the old name now
        os.close(self.handle)
        self.handle = None

    def __enter__(self) -> "CheckpointLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
