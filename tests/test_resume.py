"""A run killed mid-way resumes from its last checkpoint to the numbers of an uninterrupted run."""
import json
import signal
import subprocess
import sys

import numpy as np
import pytest
from idx_files import write_idx_folder

from dcscratch import experiments
from dcscratch.experiments.store import SchemaError

EPOCHS, KILL_AFTER = 4, 2


def command(root, data, out, kill_after=0):
    return subprocess.run(
        [sys.executable, str(root / "tests" / "killed_run.py"), str(kill_after),
         "--config", "long", "--dataset", "fashion-mnist", "--data-dir", str(data),
         "--out", str(out), "--epochs", str(EPOCHS), "--sweeps", "curves",
         "--variants", "dropout,dropconnect", "--seeds", "1", "--no-progress"],
        capture_output=True, text=True, timeout=600, cwd=root)


@pytest.fixture(scope="module")
def straight_and_resumed(root, tmp_path_factory):
    folder = tmp_path_factory.mktemp("resume")
    write_idx_folder(folder / "idx", n_train=10_300, n_test=60, gzipped=False)
    straight = command(root, folder / "idx", folder / "straight")
    assert straight.returncode == 0, straight.stderr[-2000:]
    killed = command(root, folder / "idx", folder / "resumed", kill_after=KILL_AFTER)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    left = sorted(path.name for path in (folder / "resumed" / "checkpoints").iterdir())
    results_before = folder / "resumed" / "results.json"
    runs_before = (json.loads(results_before.read_text())["runs"]
                   if results_before.exists() else {})
    resumed = command(root, folder / "idx", folder / "resumed")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    return ({"left": left, "runs_before": runs_before},
            json.loads((folder / "straight" / "results.json").read_text()),
            json.loads((folder / "resumed" / "results.json").read_text()),
            folder)


def test_a_killed_run_leaves_its_checkpoint_and_no_stored_run(straight_and_resumed):
    killed, *_ = straight_and_resumed
    assert killed["runs_before"] == {}          # killed during the first run
    assert len(killed["left"]) == 1             # that run's checkpoint folder


def test_the_resumed_run_gives_the_uninterrupted_runs_numbers(straight_and_resumed):
    _, straight, resumed, folder = straight_and_resumed
    assert set(straight["runs"]) == set(resumed["runs"]) and len(resumed["runs"]) == 2
    resumed_epochs = []
    for key, run in straight["runs"].items():
        other = resumed["runs"][key]
        assert len(run["history"]["val_loss"]) == EPOCHS
        for part in ("history", "final", "final_by_inference", "early_stopped"):
            assert other[part] == run[part], (key, part)   # exactly, every number
        resumed_epochs.append(other["resumed_at_epochs"])
        assert run["resumed_at_epochs"] == []
    assert sorted(resumed_epochs) == [[], [KILL_AFTER]]
    # Stored runs leave no checkpoints behind.
    assert not any((folder / "resumed" / "checkpoints").iterdir())


def test_dropconnect_runs_name_their_convention_and_carry_the_gaussian_curve(straight_and_resumed):
    _, straight, _, _ = straight_and_resumed
    run = next(run for run in straight["runs"].values()
               if run["settings"]["variant"] == "dropconnect")
    assert run["settings"]["inverted"] is True and "inverted=True" in next(
        key for key, value in straight["runs"].items() if value is run)
    assert len(run["history"]["val_loss_gaussian"]) == EPOCHS
    best = int(np.argmin(run["history"]["val_loss"])) + 1
    assert run["early_stopped"]["epoch"] == best
    assert run["early_stopped"]["val_loss"] == pytest.approx(run["history"]["val_loss"][best - 1],
                                                             rel=1e-6)


def test_a_checkpoint_from_other_training_code_is_refused(tmp_path, monkeypatch):
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    optimizer = keras.optimizers.SGD(0.1)
    optimizer.build(model.trainable_variables)
    state = experiments.RunState(model, optimizer, tmp_path)
    state.save(1, np.random.default_rng(0), {"val_loss": [1.0]}, 1.0, 1.0)
    monkeypatch.setattr(experiments.checkpoint, "training_code_fingerprint", lambda: "f" * 64)
    other = experiments.RunState(model, optimizer, tmp_path)
    with pytest.raises(SchemaError, match="checkpointed by other training code"):
        other.restore(np.random.default_rng(0), {})


def test_the_fingerprint_is_taken_once_per_process(monkeypatch):
    # A sweep runs for hours while its files may be edited: the fingerprint must describe the
    # code the process loaded, so it is computed once and not re-read from the files.
    first = experiments.training_code_fingerprint()

    def files_changed(*_):
        raise AssertionError("the fingerprint re-read the source files")

    monkeypatch.setattr("inspect.getsource", files_changed)
    assert experiments.training_code_fingerprint() == first
