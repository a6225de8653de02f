import dataclasses
import os
import subprocess
import sys

import pytest
import torch
from torch.utils.data import Dataset

import lightnets
from lightnets import train, train_cli
from lightnets.data import Shapes


def tiny_model():
    return lightnets.create_model("mobilenet_v1", num_classes=5, width_mult=0.25)


@pytest.fixture(scope="module")
def tiny_sets():
    return Shapes(48, 32, seed=0), Shapes(16, 32, seed=1)


class Interrupted(Dataset):
    """The training set, but the run is interrupted (Ctrl-C) after ``stop_after`` items are read."""

    def __init__(self, dataset, stop_after):
        self.dataset, self.remaining = dataset, stop_after

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        self.remaining -= 1
        if self.remaining < 0:
            raise KeyboardInterrupt
        return self.dataset[index]


RUN_OPTIONS = ("device", "checkpoint", "resume", "progress", "model_config", "record", "loss",
               "unpack")


def fit_tiny(model, train_set, val_set, **options):
    """fit with a small TrainConfig: ``options`` are TrainConfig fields or fit's run options."""
    run = {"progress": False, "device": "cpu",
           **{k: v for k, v in options.items() if k in RUN_OPTIONS}}
    config = {"epochs": 2, "batch_size": 16,
              **{k: v for k, v in options.items() if k not in RUN_OPTIONS}}
    return train.fit(model, train_set, val_set, train.TrainConfig(**config), **run)


def test_fit_returns_one_history_row_per_epoch(tiny_sets):
    history = fit_tiny(tiny_model(), *tiny_sets)
    assert [row["epoch"] for row in history] == [1, 2]
    assert all(row["train_samples"] == 48 for row in history)
    assert {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr"} <= set(history[0])


def test_fit_does_not_disturb_the_callers_random_state(tiny_sets):
    model = tiny_model()
    before = torch.get_rng_state()
    fit_tiny(model, *tiny_sets, epochs=1)
    assert torch.equal(torch.get_rng_state(), before)


def test_checkpoint_round_trip_loads_with_weights_only(tiny_sets, tmp_path):
    model, path = tiny_model(), tmp_path / "run.pt"
    history = fit_tiny(model, *tiny_sets, epochs=1, checkpoint=path,
                       model_config={"num_classes": 5, "width_mult": 0.25})
    state = torch.load(path, weights_only=True)  # no pickled code in the file
    assert state["history"] == history and state["epoch"] == 1
    assert all(torch.equal(state["model"][k], v) for k, v in model.state_dict().items())
    rebuilt = train.load_model(path)
    x = tiny_sets[1][0][0][None]
    assert torch.equal(rebuilt(x), model.eval()(x))
    assert os.listdir(tmp_path) == ["run.pt"]  # no temporary file left behind


def test_checkpoint_write_is_atomic_when_saving_fails(tmp_path, monkeypatch):
    path = tmp_path / "run.pt"
    train.save_checkpoint(path, {"format": train.CHECKPOINT_FORMAT, "epoch": 1})

    def broken_save(obj, file):
        file.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(train.CheckpointError, match="could not be written.*previous file.*intact"):
        train.save_checkpoint(path, {"format": train.CHECKPOINT_FORMAT, "epoch": 2})
    assert train.load_checkpoint(path)["epoch"] == 1  # the old checkpoint is intact
    assert os.listdir(tmp_path) == ["run.pt"]


def test_resume_after_interruption_loses_only_the_current_epoch(tiny_sets, tmp_path):
    train_set, val_set = tiny_sets
    lightnets.seed_everything(0)
    uninterrupted = tiny_model()
    expected = fit_tiny(uninterrupted, train_set, val_set, epochs=2)

    lightnets.seed_everything(0)
    model, path = tiny_model(), tmp_path / "run.pt"
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C halfway through epoch 2
        fit_tiny(model, Interrupted(train_set, stop_after=48 + 20), val_set, epochs=2, checkpoint=path)
    assert train.load_checkpoint(path)["epoch"] == 1

    resumed = tiny_model()  # a fresh process: new weights, restored from the checkpoint
    history = fit_tiny(resumed, train_set, val_set, epochs=2, checkpoint=path)
    assert [row["epoch"] for row in history] == [1, 2]
    for key in ("train_loss", "val_loss", "val_accuracy"):
        assert history[-1][key] == pytest.approx(expected[-1][key], rel=1e-5)
    for (name, ours), theirs in zip(resumed.state_dict().items(), uninterrupted.state_dict().values()):
        assert torch.allclose(ours.float(), theirs.float(), atol=1e-5), name


def test_resume_refuses_a_different_batch_size(tiny_sets, tmp_path):
    path = tmp_path / "run.pt"
    fit_tiny(tiny_model(), *tiny_sets, epochs=1, checkpoint=path)
    with pytest.raises(ValueError, match="batch_size: 16 in the file, 8 now"):
        fit_tiny(tiny_model(), *tiny_sets, epochs=1, checkpoint=path, batch_size=8)


def test_resume_refuses_a_changed_configuration_listing_every_difference(tiny_sets, tmp_path):
    path = tmp_path / "run.pt"
    fit_tiny(tiny_model(), *tiny_sets, epochs=1, checkpoint=path)
    with pytest.raises(ValueError, match=r"epochs: 1 in the file, 2 now; lr: 0.002 in the file, "
                                         r"0.01 now; seed: 0 in the file, 1 now.*--restart"):
        fit_tiny(tiny_model(), *tiny_sets, epochs=2, lr=0.01, seed=1, checkpoint=path)
    history = fit_tiny(tiny_model(), *tiny_sets, epochs=2, seed=1, checkpoint=path, resume=False)
    assert train.load_checkpoint(path)["config"]["seed"] == 1 and len(history) == 2


class Poisoned(Interrupted):
    """The training set, but images turn to NaN after ``stop_after`` items (a diverging run)."""

    def __getitem__(self, index):
        self.remaining -= 1
        image, label = self.dataset[index]
        return (image * float("nan") if self.remaining < 0 else image), label


def test_a_non_finite_loss_stops_training_and_keeps_the_last_good_checkpoint(tiny_sets, tmp_path):
    path = tmp_path / "run.pt"
    with pytest.raises(train.NonFiniteLoss, match=r"became nan at epoch 2.*keeps the last good"):
        fit_tiny(tiny_model(), Poisoned(tiny_sets[0], stop_after=48), tiny_sets[1], checkpoint=path)
    state = train.load_checkpoint(path)
    assert state["epoch"] == 1 and all(torch.isfinite(t).all() for t in state["model"].values())


def test_fit_rejects_bad_arguments_naming_them(tiny_sets):
    with pytest.raises(ValueError, match="epochs"):
        fit_tiny(tiny_model(), *tiny_sets, epochs=0)
    with pytest.raises(ValueError, match="optimizer"):
        fit_tiny(tiny_model(), *tiny_sets, optimizer="adam")
    with pytest.raises(TypeError, match="config must be a lightnets.train.TrainConfig"):
        train.fit(tiny_model(), *tiny_sets, {"epochs": 1})
    with pytest.raises(ValueError, match="label_smoothing applies to the default loss"):
        fit_tiny(tiny_model(), *tiny_sets, label_smoothing=0.1, loss=lambda z, y: z.sum())


# --- one loop for every experiment: the loss and what a batch is are arguments ------------------


class TwoInputs(torch.nn.Module):
    """A model called with two tensors (as a TabTransformer is called with x_categ, x_cont)."""

    def __init__(self):
        super().__init__()
        self.a, self.b = torch.nn.Linear(3, 2), torch.nn.Linear(4, 2)

    def forward(self, x, z):
        return self.a(x) + self.b(z)


def test_train_one_epoch_takes_what_a_batch_is_and_the_loss():
    torch.manual_seed(0)
    model, seen = TwoInputs(), []
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = [(torch.randn(5, 3), torch.randn(5, 4), torch.randint(0, 2, (5,)))
               for _ in range(3)]

    def loss(outputs, targets):
        seen.append(outputs.shape)
        return torch.nn.functional.cross_entropy(outputs, targets)

    before = model.a.weight.detach().clone()
    sums = train.train_one_epoch(model, optimizer, batches, loss=loss,
                                 unpack=lambda batch: ((batch[0], batch[1]), batch[2]))
    assert seen == [torch.Size([5, 2])] * 3 and sums.count == 15 and 0 <= sums.correct <= 15
    assert not torch.equal(model.a.weight, before)  # it stepped


def test_fit_with_a_multi_output_loss_scores_the_last_output(tiny_sets):
    from lightnets.experiments.early_exit import build, exit_loss

    lightnets.seed_everything(0)
    model = build("multi", 5, {"block_layers": (1, 1), "growth_rate": 4})
    history = fit_tiny(model, *tiny_sets, epochs=1, loss=exit_loss)
    model.eval()
    with torch.no_grad():
        images, labels = tiny_sets[1].batch(range(len(tiny_sets[1])))[:2]
        outputs = model(images)
        expected = exit_loss(outputs, labels).item()
        accuracy = (outputs[-1].argmax(1) == labels).float().mean().item()
    assert history[0]["val_loss"] == pytest.approx(expected, rel=1e-5)
    assert history[0]["val_accuracy"] == pytest.approx(accuracy)


def test_a_run_config_is_one_typed_value_checked_where_it_is_made():
    config = train.TrainConfig(epochs=3, lr=0.01)
    assert (config.epochs, config.batch_size, config.lr) == (3, 64, 0.01)
    with pytest.raises(ValueError, match="warmup_epochs"):
        train.TrainConfig(epochs=1, warmup_epochs=2.0)
    with pytest.raises(TypeError, match="keep_last_batch"):
        train.TrainConfig(keep_last_batch="yes")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.epochs = 4


def test_command_line_help_lists_the_flags(capsys):
    with pytest.raises(SystemExit):
        train_cli.main(["--help"])
    text = capsys.readouterr().out
    assert all(flag in text for flag in ("--model-arg", "--checkpoint", "--no-resume", "--epochs"))


@pytest.mark.distributed
@pytest.mark.slow
def test_torchrun_two_processes_train_with_ddp_on_gloo(tmp_path):
    """The same loop under ``torchrun --nproc_per_node 2`` on CPU: both processes share every batch,
    and a second launch resumes from the checkpoint after the epoch the first one finished."""
    path = tmp_path / "ddp.pt"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "lightnets.train", "--model", "mobilenet_v1", "--model-arg", "width_mult=0.25",
        "--resolution", "32", "--train-size", "40", "--val-size", "10", "--epochs", "1",
        "--batch-size", "8", "--device", "cpu", "--no-progress", "--checkpoint", str(path),
        "--export", str(tmp_path / "slim.pt"),
    ]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=environment)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    state = train.load_checkpoint(path)
    assert state["world_size"] == 2 and state["epoch"] == 1
    assert state["history"][0]["train_samples"] == 40  # 20 per process, counted once over both
    assert state["model_config"] == {"num_classes": 5, "width_mult": 0.25}
    assert result.stdout.count("epoch 1:") == 1  # only rank 0 reports
    assert state["command"].startswith("python -m lightnets.train --model mobilenet_v1")
    assert state["data"] == {"name": "shapes", "resolution": 32, "train_size": 40, "val_size": 10, "seed": 0}
    again = subprocess.run(command, capture_output=True, text=True, timeout=120, env=environment)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-4000:]
    assert train.load_checkpoint(path)["history"] == state["history"]  # resumed: nothing re-run
    longer = [*command[:command.index("--epochs") + 1], "2", *command[command.index("--epochs") + 2:]]
    refused = subprocess.run(longer, capture_output=True, text=True, timeout=120, env=environment)
    assert refused.returncode != 0 and "epochs: 1 in the file, 2 now" in refused.stderr
    assert "--restart" in refused.stderr
    slim = train.load_checkpoint(tmp_path / "slim.pt")
    assert "optimizer" not in slim and slim["epoch"] == 1
    assert train.load_model(tmp_path / "slim.pt").classifier[-1].out_features == 5
