"""Atomic file writing: readers see the old file or the new one, never half of either.

Every file lightnets writes (checkpoints, experiment results) goes through :func:`atomic_write`:
the bytes go to a temporary file in the same directory, are flushed to disk, and ``os.replace``
renames it over the target (atomic on POSIX and Windows, since both sit on one file system); the
directory is then fsynced so the rename itself survives a power cut. A failure removes the
temporary file and re-raises. :func:`read_results` reads back the JSON results they write.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from typing import Callable, IO, Union

PathLike = Union[str, os.PathLike]
TEMPORARY_PREFIX = ".tmp-"


def atomic_write(path: PathLike, write: Callable[[IO], None], binary: bool = True) -> None:
    """Call ``write(file)`` on a temporary file, then move it over ``path`` atomically."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    suffix = os.path.splitext(path)[1]
    handle, temporary = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, suffix=suffix, dir=directory)
    try:
        with os.fdopen(handle, "wb" if binary else "w") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes the file private; use the usual mode
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise
    fsync_directory(directory)


def fsync_directory(directory: PathLike) -> None:
    """Flush a directory's entries (a completed rename) to disk, where the OS allows it."""
    try:
        handle = os.open(os.fspath(directory), os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open a directory
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_results(path: PathLike, expected_format: str, what: str) -> dict:
    """A results file an experiment wrote (JSON with a ``"format"`` field), refused with a
    ValueError naming the path when its format is not ``expected_format`` (``what`` names the
    kind of file in the message, e.g. "a scaling results file")."""
    with open(path) as file:
        results = json.load(file)
    if not isinstance(results, dict) or results.get("format") != expected_format:
        raise ValueError(f"{path} is not {what} ({expected_format})")
    return results
