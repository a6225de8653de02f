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


def check_writable_file(path, argument: str) -> tuple[str, str]:
    """``path`` (str or PathLike) names a file that can be written: its directory is made if
    missing and probed with a small temporary file (written and flushed to disk, then removed), so
    an unwritable place fails before long work. Returns ``(path, directory)``; a wrong type is a
    TypeError and a directory or empty name a ValueError, both naming ``argument``; the probe's
    failure is the OSError itself, for the caller to name the way out."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{argument} must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    if not path or os.path.isdir(path):
        raise ValueError(f"{argument} must name a file to write, got {path!r} (a directory or "
                         "empty)")
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with tempfile.TemporaryFile(dir=directory, prefix=TEMPORARY_PREFIX) as probe:
        probe.write(b"\0" * 4096)
        probe.flush()
        os.fsync(probe.fileno())
    return path, directory


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
