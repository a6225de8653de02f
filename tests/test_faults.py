"""Fault injection: what a careful user does to a training run, and what they must see.

kill -9 in the middle of an epoch, a second run on the same checkpoint, damaged files, a
read-only or full output location: each ends in a clear message, and no checkpoint is lost or
mislabelled. Read-only and full locations use small tmpfs mounts where the machine allows mounting
(root in a container that permits it); elsewhere those tests skip and say why.
"""
from __future__ import annotations

import contextlib
import os
import pickle
import signal
import subprocess
import sys
import time

import pytest
import torch

import lightnets
from lightnets import train, train_cli
from lightnets.checkpoint import CheckpointError
from lightnets.data import Shapes
from lightnets.experiments import RESULTS_DIRECTORY

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMAND = [sys.executable, "-m", "lightnets.train", "--model", "mobilenet_v1",
           "--model-arg", "width_mult=0.25", "--resolution", "32", "--train-size", "256",
           "--val-size", "8", "--epochs", "16", "--batch-size", "8", "--device", "cpu",
           "--no-progress"]
ENVIRONMENT = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": ROOT}
ONE_EPOCH = train.TrainConfig(epochs=1, batch_size=8)


def tiny_model():
    return lightnets.create_model("mobilenet_v1", num_classes=5, width_mult=0.25)


@pytest.fixture(scope="module")
def tiny_sets():
    return Shapes(16, 32, seed=0), Shapes(8, 32, seed=1)


@pytest.fixture
def checkpoint(tiny_sets, tmp_path):
    """A real one-epoch checkpoint; its weights are recognisable (a constant-filled bias)."""
    model, path = tiny_model(), tmp_path / "run.pt"
    train.fit(model, *tiny_sets, ONE_EPOCH, device="cpu", progress=False,
              checkpoint=path, model_config={"num_classes": 5, "width_mult": 0.25})
    return path


def wait_for(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


# --- kill -9 and a second run --------------------------------------------------------------------


@pytest.mark.slow
def test_kill_9_mid_epoch_then_resume_gives_the_weights_of_an_uninterrupted_run(tmp_path):
    killed, whole = tmp_path / "killed.pt", tmp_path / "whole.pt"
    run = subprocess.Popen([*COMMAND, "--checkpoint", str(killed)], env=ENVIRONMENT,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: os.path.exists(str(killed) + ".lock"))
        # While it runs, a second run on the same checkpoint fails at once, naming the owner.
        second = subprocess.run([*COMMAND, "--seed", "1", "--checkpoint", str(killed)],
                                env=ENVIRONMENT, capture_output=True, text=True, timeout=60)
        assert second.returncode == 2
        assert f"is in use by another run (pid {run.pid} on " in second.stderr
        # Then kill -9 in the middle of an epoch: just after a save (an epoch takes ~0.4 s).
        wait_for(lambda: killed.exists())
        saved = os.stat(killed).st_mtime_ns
        wait_for(lambda: os.stat(killed).st_mtime_ns != saved)
        time.sleep(0.15)
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            run.kill()
    epoch_at_kill = train.load_checkpoint(killed)["epoch"]
    assert 1 <= epoch_at_kill < 16
    assert train.load_checkpoint(killed)["seed"] == 0  # the second run did not touch it

    resumed = subprocess.run([*COMMAND, "--checkpoint", str(killed)], env=ENVIRONMENT,
                             capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    uninterrupted = subprocess.run([*COMMAND, "--checkpoint", str(whole)], env=ENVIRONMENT,
                                   capture_output=True, text=True, timeout=120)
    assert uninterrupted.returncode == 0, uninterrupted.stderr[-2000:]
    ours, theirs = train.load_checkpoint(killed), train.load_checkpoint(whole)
    assert ours["epoch"] == theirs["epoch"] == 16
    for name, tensor in theirs["model"].items():
        assert torch.equal(ours["model"][name], tensor), name  # bit-identical
    assert sorted(os.listdir(tmp_path)) == ["killed.pt", "whole.pt"]  # no lock or temp left


# --- damaged and foreign files -------------------------------------------------------------------


def test_truncated_checkpoint_names_the_path_and_the_way_out(checkpoint):
    data = checkpoint.read_bytes()
    checkpoint.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=rf"{checkpoint}' is damaged.*--restart"):
        train.load_checkpoint(checkpoint)


def test_empty_checkpoint_names_the_path(checkpoint):
    checkpoint.write_bytes(b"")
    with pytest.raises(CheckpointError, match=rf"{checkpoint}' is empty"):
        train.load_model(checkpoint)


def test_a_flipped_bit_inside_a_weight_fails_the_content_check(checkpoint):
    state = train.load_checkpoint(checkpoint)
    weight = state["model"]["classifier.weight"] if "classifier.weight" in state["model"] else \
        next(t for k, t in state["model"].items() if k.endswith("weight") and t.numel() > 100)
    data = bytearray(checkpoint.read_bytes())
    offset = bytes(data).find(weight.numpy().tobytes())
    assert offset > 0  # torch stores tensors uncompressed: the weight's bytes are in the file
    data[offset + 5] ^= 0x10
    checkpoint.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="failed its content check"):
        train.load_checkpoint(checkpoint)


def test_foreign_files_are_refused_and_their_code_never_runs(tmp_path):
    plain = tmp_path / "plain.pt"
    torch.save({"weights": torch.ones(3)}, plain)
    with pytest.raises(CheckpointError, match="is not a lightnets training checkpoint"):
        train.load_checkpoint(plain)
    text = tmp_path / "notes.pt"
    text.write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="is damaged or not a PyTorch file"):
        train.load_checkpoint(text)

    witness = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {witness}",))

    malicious = tmp_path / "malicious.pt"
    with open(malicious, "wb") as file:
        pickle.dump({"format": train.CHECKPOINT_FORMAT, "model": Payload()}, file, protocol=2)
    with pytest.raises(CheckpointError, match="holds objects other than tensors.*posix.system"):
        train.load_checkpoint(malicious)
    torch.save({"format": train.CHECKPOINT_FORMAT, "model": Payload()}, tmp_path / "zipped.pt")
    with pytest.raises(CheckpointError, match="holds objects other than tensors"):
        train.load_model(tmp_path / "zipped.pt")
    assert not witness.exists()


def test_a_missing_key_is_a_clear_error_not_a_key_error(checkpoint, tiny_sets):
    state = train.load_checkpoint(checkpoint)
    del state["optimizer"]
    train.save_checkpoint(checkpoint, state)
    with pytest.raises(CheckpointError, match="cannot be resumed: it has no optimizer"):
        train.fit(tiny_model(), *tiny_sets, ONE_EPOCH, progress=False, device="cpu",
                  checkpoint=checkpoint)


def test_a_stored_model_config_is_validated_like_any_other(checkpoint):
    state = train.load_checkpoint(checkpoint)
    state["model_config"] = {"num_classes": 10**9, "width_mult": 0.25}
    train.save_checkpoint(checkpoint, state)
    with pytest.raises(CheckpointError, match="cannot be built.*GiB"):
        train.load_model(checkpoint)


def test_the_committed_checkpoints_without_a_hash_still_load():
    path = RESULTS_DIRECTORY / "cam" / "shapes_mobilenet_v1_128px.pt"
    state = train.load_checkpoint(path)
    assert state["format"] == "lightnets.train/1" and "content_sha256" not in state
    assert train.load_model(path).classifier[-1].out_features == 5


def test_the_command_line_reports_a_damaged_checkpoint_in_one_line(checkpoint, capsys):
    checkpoint.write_bytes(b"\x00" * 100)
    with pytest.raises(SystemExit) as exit_:
        train_cli.main([*COMMAND[3:], "--checkpoint", str(checkpoint)])
    error = capsys.readouterr().err
    assert exit_.value.code == 2 and "is damaged" in error and "--restart" in error
    assert "Traceback" not in error


# --- non-finite loss, stale files, early checks --------------------------------------------------


class Poisoned(torch.utils.data.Dataset):
    """The training set, but images turn to NaN in the second epoch (a diverging run)."""

    def __init__(self, dataset):
        self.dataset, self.reads = dataset, 0

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        self.reads += 1
        image, label = self.dataset[index]
        return (image * float("nan") if self.reads > len(self.dataset) else image), label


def test_a_non_finite_loss_exits_non_zero_and_keeps_the_last_good_checkpoint(tmp_path, capsys,
                                                                              monkeypatch):
    real = train_cli.make_datasets

    def poisoned(*args):
        train_set, val_set = real(*args)
        return Poisoned(train_set), val_set

    monkeypatch.setattr(train_cli, "make_datasets", poisoned)
    path = tmp_path / "run.pt"
    argv = [*COMMAND[3:], "--train-size", "16", "--epochs", "2", "--checkpoint", str(path)]
    with pytest.raises(SystemExit) as exit_:
        train_cli.main(argv)
    assert exit_.value.code == 3
    assert "became nan at epoch 2" in capsys.readouterr().err
    state = train.load_checkpoint(path)
    assert state["epoch"] == 1 and all(torch.isfinite(t).all() for t in state["model"].values())


def test_stale_temporary_files_are_removed_and_fresh_ones_kept(tiny_sets, tmp_path):
    stale, fresh = tmp_path / ".tmp-crashed.pt", tmp_path / ".tmp-writing.pt"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    train.fit(tiny_model(), *tiny_sets, ONE_EPOCH, progress=False, device="cpu",
              checkpoint=tmp_path / "run.pt")
    assert not stale.exists() and fresh.exists()


@pytest.mark.parametrize("argv, message", [
    (["--device", "cuda"], "this torch"),
    (["--model-arg", "num_classes=3"], "--data shapes has 5 classes"),
    (["--export", "slim.pt"], "--export needs --checkpoint"),
    (["--lr", "nan"], "lr must be"),
])
def test_the_command_line_refuses_before_generating_any_data(argv, message, capsys, monkeypatch):
    if argv[:2] == ["--device", "cuda"] and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")

    def no_data(*args):
        raise AssertionError("data were generated before the arguments were checked")

    monkeypatch.setattr(train_cli, "make_datasets", no_data)
    with pytest.raises(SystemExit) as exit_:
        train_cli.main([*COMMAND[3:], *argv])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


# --- read-only and full output locations (small tmpfs mounts) ------------------------------------


@pytest.fixture
def mounted(tmp_path):
    """mount(options) -> a directory with a fresh tmpfs mounted there, unmounted afterwards."""
    mounts = []

    def mount(options: str):
        target = tmp_path / f"mount{len(mounts)}"
        target.mkdir()
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({result.stderr.strip() or 'not permitted'}); "
                        "run as root where mounting is allowed to test this")
        mounts.append(target)
        return target

    yield mount
    for target in mounts:
        subprocess.run(["umount", str(target)], capture_output=True)


def test_a_read_only_location_is_refused_before_training(tiny_sets, mounted):
    read_only = mounted("size=1m,ro")
    calls = []

    class Counting(torch.utils.data.Dataset):
        def __len__(self):
            return len(tiny_sets[0])

        def __getitem__(self, index):
            calls.append(index)
            return tiny_sets[0][index]

    with pytest.raises(CheckpointError, match=r"cannot be written: Read-only file system.*"
                                              r"choose a location you can write to"):
        train.fit(tiny_model(), Counting(), None, ONE_EPOCH, progress=False,
                  device="cpu", checkpoint=read_only / "run.pt")
    assert calls == []  # not one image was read


def test_a_full_disk_is_refused_before_training_with_the_space_needed(tiny_sets, mounted):
    small = mounted("size=64k")
    with pytest.raises(CheckpointError, match=r"needs about [\d.]+ MiB free .* has 0.\d MiB"):
        train.fit(tiny_model(), *tiny_sets, ONE_EPOCH, progress=False,
                  device="cpu", checkpoint=small / "run.pt")
    assert os.listdir(small) == []


def test_a_disk_that_fills_during_the_write_keeps_the_previous_checkpoint(checkpoint, mounted):
    roomy = mounted("size=4m")
    target = roomy / "run.pt"
    state = train.load_checkpoint(checkpoint)
    train.save_checkpoint(target, state)
    with open(roomy / "filler", "wb") as filler:  # another program fills the disk
        with contextlib.suppress(OSError):
            filler.write(b"\0" * (4 * 2**20))
    with pytest.raises(CheckpointError, match="could not be written.*previous file.*intact"):
        train.save_checkpoint(target, {**state, "epoch": 2})
    assert train.load_checkpoint(target)["epoch"] == 1
    assert sorted(os.listdir(roomy)) == ["filler", "run.pt"]
