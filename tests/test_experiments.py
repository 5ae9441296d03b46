"""The experiments command: its results file, resuming, atomic writes, bad input, determinism."""
import json

import pytest
from idx_files import write_idx, write_idx_folder

from dcscratch import experiments

TINY_TRAINING = {"hidden": 8, "keep_prob": 0.5, "epochs": 2, "batch_size": 128,
                 "learning_rate": 0.05, "momentum": 0.9, "dropconnect_mask": "flipout",
                 "dropconnect_inverted": True, "gaussian_samples": 50, "dropout_samples": 5,
                 "sampled_test_images": 40, "dropout_samples_max_hidden": 8}
TINY_VALUES = {"width": (8,), "keep_prob": (0.5,), "train_size": (0.5, 1.0),
               "exact": ("flipout", "gaussian"), "convention": (True, False), "seeds": 2}
COMMITTED = "results/digits"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The command run once on a tiny quick config; returns (out folder, results dict)."""
    patch = pytest.MonkeyPatch()
    patch.setitem(experiments.configs._TRAINING, ("quick", "digits"), TINY_TRAINING)
    patch.setitem(experiments.configs._SWEEP_VALUES, ("quick", "digits"), TINY_VALUES)
    out = tmp_path_factory.mktemp("tiny")
    try:
        assert experiments.main(["--config", "quick", "--out", str(out), "--no-progress"]) == 0
    finally:
        patch.undo()
    return out, json.loads((out / "results.json").read_text())


@pytest.fixture
def tiny_config(monkeypatch):
    monkeypatch.setitem(experiments.configs._TRAINING, ("quick", "digits"), TINY_TRAINING)
    monkeypatch.setitem(experiments.configs._SWEEP_VALUES, ("quick", "digits"), TINY_VALUES)
    return experiments.make_config("quick", "digits")


def check_schema(results):
    """Assert that ``results`` has the current schema: every run complete and consistent."""
    assert results["schema_version"] == experiments.SCHEMA_VERSION
    config = results["config"]
    assert set(config) == {"name", "dataset", "training", "sweeps", "seeds"} | (
        {"split"} if config["dataset"] == "digits" else set())
    assert set(results["runs"]) == set(experiments.planned_runs(config))
    epochs = config["training"]["epochs"]
    for key, run in results["runs"].items():
        assert experiments.run_key(run["settings"]) == key
        assert run["training"] == config["training"]
        assert set(run["history"]) == set(experiments.METRICS)
        assert all(len(values) == epochs for values in run["history"].values())
        assert all(0 <= run["history"][f"{split}_error"][-1] <= 1 for split in ("train", "val", "test"))
        assert run["final"]["inference"] == (
            "gaussian" if run["settings"]["variant"] == "dropconnect-gaussian" else "mean")
        assert set(run["final"]) == set(experiments.METRICS) | {"inference"}
        variant, settings = run["settings"]["variant"], run["settings"]
        if "gaussian_samples" in config["training"]:
            # Every run scored by its rules after training: DropConnect by the Gaussian rule
            # in closed form too, Dropout by sampling up to the configured width.
            rules = {"mean"} | ({"gaussian"} if variant == "dropconnect" else set()) | (
                {"sampling"} if variant == "dropout" and settings["hidden"]
                <= config["training"]["dropout_samples_max_hidden"] else set())
            assert set(run["final_by_inference"]) == rules, key
            assert run["final_by_inference"]["mean"] == {
                metric: run["final"][metric] for metric in experiments.METRICS}
        if variant.startswith("dropconnect") and "dropconnect_inverted" in config["training"]:
            assert isinstance(settings["inverted"], bool), key
        assert run["wall_s"] > 0 and run["cpu_s"] > 0 and run["train_size"] > 0
        assert {"dcscratch", "tensorflow", "keras", "numpy"} <= set(run["versions"])


def test_tiny_command_writes_a_complete_results_file_report_and_plots(tiny):
    out, results = tiny
    check_schema(results)
    assert results["command"].startswith("python -m dcscratch.experiments --config quick")
    assert set(results["load_average"]) == {"start", "end"}
    variants = {run["settings"]["variant"] for run in results["runs"].values()}
    assert variants == set(experiments.SWEEP_VARIANTS["curves"])
    report = (out / "results.md").read_text()
    assert report == experiments.markdown(results, results["command"])
    assert "(n=2)" in report and "| dropconnect − dropout |" in report
    # Cross-entropy beside error (the paper's Figure 2c), and paired comparisons of both.
    assert "| test error | test cross-entropy |" in report
    assert "## Paired comparisons at the default setting: test error (%)" in report
    assert "## Paired comparisons at the default setting: test cross-entropy (nats)" in report
    assert "within noise" not in report
    # DropConnect's choices (rules, masks, conventions) and every family's Bonferroni column.
    assert "| dropconnect: Gaussian rule − mean rule |" in report
    assert "| dropconnect: mask gaussian − flipout |" in report
    assert "| dropconnect: unscaled − inverted |" in report
    assert "| dropconnect-batch: unscaled − inverted (mean rule) |" in report
    assert "verdict of the family of" in report
    for sweep in results["config"]["sweeps"]:
        assert (out / f"{sweep}.png").is_file() == (sweep in experiments.plots.PLOTTED_SWEEPS)
        if sweep in experiments.plots.PLOTTED_SWEEPS:
            assert (out / f"{sweep}.png").stat().st_size > 5_000


def test_runs_shared_by_two_sweeps_are_trained_once(tiny_config):
    # The default width appears in the width sweep, the default keep_prob in the keep_prob
    # sweep, the full training set in the train_size sweep: all are the same runs.
    every_run = [experiments.run_key(settings) for sweep in tiny_config["sweeps"]
                 for _, settings in experiments.sweep_runs(tiny_config, sweep)]
    assert len(set(every_run)) == len(experiments.planned_runs(tiny_config)) < len(every_run)


def test_rerun_skips_finished_runs_and_resumes_missing_ones(tiny, tmp_path, monkeypatch, tiny_config):
    out, results = tiny
    (tmp_path / "results.json").write_text((out / "results.json").read_text())
    missing = sorted(results["runs"])[:2]
    partial = dict(results, runs={key: run for key, run in results["runs"].items()
                                  if key not in missing})
    (tmp_path / "results.json").write_text(json.dumps(partial))
    trained = []
    original = experiments.train_run
    monkeypatch.setattr(experiments.runner, "train_run",
                        lambda settings, *args: trained.append(experiments.run_key(settings))
                        or original(settings, *args))
    resumed = experiments.run_experiments(tiny_config, tmp_path, progress=False)
    assert sorted(trained) == missing
    assert set(resumed["runs"]) == set(results["runs"])
    trained.clear()
    experiments.run_experiments(tiny_config, tmp_path, progress=False)
    assert trained == []  # everything is in the file now


def test_an_interrupted_write_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    experiments.write_json_atomic(path, {"runs": {"old": 1}})

    def dump_half_then_die(data, file, **kwargs):
        file.write('{"runs": {"new"')
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C in the middle of the write

    monkeypatch.setattr(json, "dump", dump_half_then_die)
    with pytest.raises(KeyboardInterrupt):
        experiments.write_json_atomic(path, {"runs": {"new": 2}})
    assert json.loads(path.read_text()) == {"runs": {"old": 1}}
    assert [file.name for file in tmp_path.iterdir()] == ["results.json"]  # no temporary left


def test_a_results_file_of_an_older_schema_is_refused_with_a_message(tmp_path, capsys, tiny_config):
    (tmp_path / "results.json").write_text(json.dumps({"schema_version": 0, "runs": {}}))
    assert experiments.main(["--config", "quick", "--out", str(tmp_path), "--no-progress"]) == 2
    error = capsys.readouterr().err
    assert "schema version 0" in error and f"version {experiments.SCHEMA_VERSION}" in error
    with pytest.raises(experiments.SchemaError):
        experiments.run_experiments(tiny_config, tmp_path, progress=False)


def test_a_results_file_of_another_config_is_refused(tmp_path, tiny_config):
    other = experiments.new_results(dict(tiny_config, training=dict(tiny_config["training"], epochs=3)))
    (tmp_path / "results.json").write_text(json.dumps(other))
    with pytest.raises(experiments.SchemaError, match="another config"):
        experiments.run_experiments(tiny_config, tmp_path, progress=False)


@pytest.mark.parametrize("argument, value", [
    ("config", "huge"), ("dataset", "cifar"), ("sweeps", "width,depth"),
    ("variants", "dropconnect-flipout"), ("seeds", "0")])
def test_bad_arguments_are_named_with_the_allowed_values(argument, value, capsys):
    with pytest.raises(SystemExit):
        experiments.parse_args([f"--{argument}", value])
    error = capsys.readouterr().err
    assert f"Invalid value received for argument `{argument}`" in error
    allowed = {"config": experiments.CONFIG_NAMES, "dataset": experiments.DATASETS,
               "sweeps": experiments.SWEEPS, "variants": experiments.VARIANTS}
    for name in allowed.get(argument, ()):
        assert repr(name) in error
    if argument == "seeds":
        assert "positive integer" in error


def test_make_config_rejects_unknown_names_by_argument():
    for keyword, value in (("sweeps", ("depth",)), ("variants", ("maxout",))):
        with pytest.raises(ValueError, match=f"argument `{keyword}`"):
            experiments.make_config("quick", **{keyword: value})
    with pytest.raises(ValueError, match="argument `config`"):
        experiments.make_config("medium")


def test_mnist_without_a_local_copy_says_how_to_get_it(tmp_path, capsys):
    missing = tmp_path / "mnist.npz"
    assert experiments.main(["--config", "quick", "--dataset", "mnist", "--mnist-file", str(missing),
                             "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    error = capsys.readouterr().err
    assert "never downloads" in error and "keras.datasets.mnist.load_data()" in error
    assert "--mnist-file" in error


def test_same_seed_gives_the_same_run_and_the_rules_change_only_the_evaluation(tiny, tiny_config):
    _, results = tiny
    splits = experiments.run_splits(tiny_config, 1)  # seed 1's split
    settings = experiments.run_settings(tiny_config, "dropconnect", seed=1)
    assert settings["mask"] == "flipout" and settings["inverted"] is True
    again = experiments.train_run(settings, tiny_config["training"], splits)
    stored = results["runs"][experiments.run_key(settings)]
    assert again["history"] == stored["history"] and again["final"] == stored["final"]
    assert again["final_by_inference"] == stored["final_by_inference"]
    # The Gaussian rule is scored on the trained weights: the mean rule's numbers are final's.
    assert stored["final"]["inference"] == "mean"
    assert stored["final_by_inference"]["gaussian"] != stored["final_by_inference"]["mean"]
    # The unscaled convention trains another network from the same seed.
    unscaled = results["runs"][experiments.run_key(
        experiments.run_settings(tiny_config, "dropconnect", seed=1, inverted=False))]
    assert unscaled["history"]["train_loss"] != stored["history"]["train_loss"]
    # Another seed trains another network.
    other = results["runs"][experiments.run_key(
        experiments.run_settings(tiny_config, "dropconnect", seed=0))]
    assert other["history"]["train_loss"] != stored["history"]["train_loss"]


def test_paired_difference_interval_uses_student_t():
    config = {"training": {"hidden": 8, "keep_prob": 0.5}, "seeds": [0, 1, 2]}
    runs = {}
    for seed, (a, b) in enumerate([(0.10, 0.12), (0.20, 0.21), (0.15, 0.18)]):
        for variant, error in (("dropconnect-batch", a), ("dropout", b)):
            settings = experiments.run_settings(config, variant, seed)
            runs[experiments.run_key(settings)] = {"final": {"test_error": error}}
    difference = experiments.paired_difference({"config": config, "runs": runs},
                                               "dropconnect-batch")
    # differences -0.02, -0.01, -0.03: mean -0.02, sd 0.01, t(0.975, 2) = 4.3027
    assert difference["n"] == 3
    assert difference["mean"] == pytest.approx(-0.02)
    assert difference["sd"] == pytest.approx(0.01)
    assert difference["high"] - difference["mean"] == pytest.approx(4.302653 * 0.01 / 3 ** 0.5)


def test_committed_results_match_the_current_schema_and_full_config(root):
    assert experiments.COMMITTED_DIGITS == root / COMMITTED
    path = root / COMMITTED / "results.json"
    results = experiments.load_results(path, experiments.make_config("full", "digits"))
    assert results["config"] == experiments.make_config("full", "digits")
    check_schema(results)
    assert len(results["config"]["seeds"]) >= 5
    # results.md is what the command writes from results.json, not edited by hand.
    assert (root / COMMITTED / "results.md").read_text() == experiments.markdown(
        results, results["command"])
    for sweep in results["config"]["sweeps"]:
        assert (root / COMMITTED / f"{sweep}.png").is_file() == (
            sweep in experiments.plots.PLOTTED_SWEEPS)
    # Every run was made by the training code of today's package.
    fingerprint = experiments.training_code_fingerprint()
    assert {run["provenance"]["training_code"] for run in results["runs"].values()} == {
        fingerprint}


def test_verdict_of_one_pair_is_not_resolved_whatever_its_sign():
    # Review of 07, finding 10: with n = 1 the bounds are NaN and verdict said "higher".
    config = {"training": {"hidden": 8, "keep_prob": 0.5}, "seeds": [0, 1]}
    runs = {}
    for variant, error in (("dropconnect-batch", 0.10), ("dropout", 0.15)):
        runs[experiments.run_key(experiments.run_settings(config, variant, 0))] = {
            "final": {"test_error": error}}
    difference = experiments.paired_difference({"config": config, "runs": runs},
                                               "dropconnect-batch")
    assert difference["n"] == 1 and difference["mean"] == pytest.approx(-0.05)
    assert experiments.verdict(difference).startswith("not resolved at this n (n = 1")


def test_a_quick_fashion_mnist_run_reads_the_idx_files_of_data_dir(tmp_path, monkeypatch):
    # 10,040 training images: the default validation split takes the last 10,000.
    write_idx_folder(tmp_path / "idx", n_train=10_040, n_test=20, gzipped=False)
    monkeypatch.setitem(experiments.configs._TRAINING, ("quick", "fashion-mnist"), TINY_TRAINING)
    monkeypatch.setitem(experiments.configs._SWEEP_VALUES, ("quick", "fashion-mnist"), TINY_VALUES)
    out = tmp_path / "out"
    assert experiments.main(["--config", "quick", "--dataset", "fashion-mnist", "--data-dir",
                             str(tmp_path / "idx"), "--sweeps", "curves", "--variants",
                             "no-drop,dropconnect-batch", "--seeds", "1", "--out", str(out),
                             "--no-progress"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["config"]["dataset"] == "fashion-mnist"
    assert results["config"]["training"] == TINY_TRAINING
    assert len(results["runs"]) == 2
    for run in results["runs"].values():
        assert run["train_size"] == 40
        assert 0 <= run["final"]["test_error"] <= 1


def test_fashion_mnist_without_its_files_says_which_package_and_option(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    assert experiments.main(["--config", "quick", "--dataset", "fashion-mnist", "--data-dir",
                             str(missing), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    error = capsys.readouterr().err
    assert str(missing) in error and "apt-get install dataset-fashion-mnist" in error
    assert "--data-dir DIR" in error


def test_a_damaged_fashion_mnist_file_is_named_on_the_command_line(tmp_path, capsys):
    write_idx_folder(tmp_path / "idx", gzipped=False)
    damaged = write_idx(tmp_path / "idx" / "t10k-labels-idx1-ubyte", list(range(10)), cut=4)
    assert experiments.main(["--config", "quick", "--dataset", "fashion-mnist", "--data-dir",
                             str(tmp_path / "idx"), "--out", str(tmp_path / "out"),
                             "--no-progress"]) == 2
    error = capsys.readouterr().err
    assert str(damaged) in error and "truncated" in error


def test_every_new_run_records_its_provenance(tiny):
    import os
    import re

    _, results = tiny
    fingerprints = set()
    for run in results["runs"].values():
        record = run["provenance"]
        code = record["code"]
        assert code["commit"] is None or re.fullmatch("[0-9a-f]{40}", code["commit"])
        machine = record["machine"]
        assert machine["cores"] == os.cpu_count() and 1 <= machine["usable_cores"] <= os.cpu_count()
        assert machine["cpu"] and "CPU:0" in machine["devices"]
        assert record["load_average"]["start"] >= 0 and record["load_average"]["end"] >= 0
        seed = run["settings"]["seed"]
        assert record["seeds"] == {"global": seed, "example_order": seed,
                                   "layers": [1000 * seed, 1000 * seed + 1]}
        assert record["inference_samples"] == (
            run["gaussian_sampled"]["samples"] if "gaussian_sampled" in run else None)
        assert record["split"]["dataset"] == "digits"
        assert record["split"]["sizes"] == {"train": 1077, "val": 360, "test": 360}
        # On the digits each run's split is drawn with the run's seed, and recorded.
        assert record["split"]["seed"] == seed
        assert record["split"]["fingerprint"] == experiments.run_splits(
            results["config"], seed).fingerprint()
        fingerprints.add((seed, record["split"]["fingerprint"]))
    # One split per seed, and the seeds' splits differ.
    assert len(fingerprints) == len({fingerprint for _, fingerprint in fingerprints}) == len(
        results["config"]["seeds"]) == 2


def test_results_written_before_provenance_stay_readable(root, tmp_path):
    # Runs written before provenance was recorded have none; the report reads them still.
    old = json.loads((root / COMMITTED / "results.json").read_text())
    for run in old["runs"].values():
        run.pop("provenance", None)
    (tmp_path / "results.json").write_text(json.dumps(old))
    results = experiments.load_results(tmp_path / "results.json")
    assert not any("provenance" in run for run in results["runs"].values())
    assert "## Paired comparisons" in experiments.markdown(results)


def test_code_version_is_unknown_outside_a_git_repository(tmp_path):
    assert experiments.provenance.__module__ == "dcscratch.experiments.store"
    from dcscratch.experiments.store import code_version

    assert code_version(tmp_path) == {"commit": None, "dirty": None}


# ---------------------------------------------------------------- review of 07 (issue 18)
def _results(config, values):
    """A results dict with ``final`` metrics only: ``values[(variant, seed)] = {metric: x}``,
    at the default setting, or at ``keep_prob`` with key ``(variant, seed, keep_prob)``."""
    runs = {}
    for key, final in values.items():
        variant, seed, *swept = key
        settings = experiments.run_settings(config, variant, seed,
                                            **({"keep_prob": swept[0]} if swept else {}))
        runs[experiments.run_key(settings)] = {"final": final}
    return {"config": config, "runs": runs}


def test_an_interval_holding_zero_is_not_resolved_with_the_difference_n_detects():
    from dcscratch.stats import min_detectable_difference

    config = {"training": {"hidden": 8, "keep_prob": 0.5}, "seeds": [0, 1, 2, 3]}
    # differences +0.02, −0.01, +0.01, −0.01: mean +0.0025, the interval holds 0.
    errors = {0: (0.12, 0.10), 1: (0.10, 0.11), 2: (0.13, 0.12), 3: (0.09, 0.10)}
    results = _results(config, {(variant, seed): {"test_error": pair[index]}
                                for seed, pair in errors.items()
                                for index, variant in enumerate(("dropout", "no-drop"))})
    difference = experiments.paired_difference(results, "dropout", "no-drop")
    assert difference["low"] < 0 < difference["high"]
    assert experiments.verdict(difference) == "not resolved at this n"
    detectable = 100 * min_detectable_difference(difference["sd"], 4)
    assert experiments.describe_difference(difference) == (
        f"not resolved at this n; n = 4 detects a difference of {detectable:.2f} points "
        "with 80 % power")
    # 1.5 sd of a difference is what four pairs detect: (t(0.975, 3) + t(0.8, 3)) / √4.
    assert detectable == pytest.approx(100 * difference["sd"] * (3.182446 + 0.978472) / 2, rel=1e-5)
    # A resolved difference keeps its verdict, without a detectable size.
    shifted = _results(config, {(variant, seed): {"test_error": pair[index] + 0.05 * (index == 0)}
                                for seed, pair in errors.items()
                                for index, variant in enumerate(("dropout", "no-drop"))})
    assert experiments.describe_difference(
        experiments.paired_difference(shifted, "dropout", "no-drop")) == "higher"


def test_keep_prob_is_chosen_on_validation_and_its_test_error_reported():
    config = {"training": {"hidden": 8, "keep_prob": 0.5}, "seeds": [0, 1],
              "sweeps": {"keep_prob": {"variants": ["dropout"], "values": [0.5, 0.9]}}}
    # 0.9 is best on test, 0.5 on validation: the choice must be 0.5.
    numbers = {0.5: {"val_error": 0.02, "test_error": 0.06, "test_loss": 0.3},
               0.9: {"val_error": 0.04, "test_error": 0.03, "test_loss": 0.2}}
    results = _results(config, {("dropout", seed, keep_prob): final
                                for keep_prob, final in numbers.items() for seed in (0, 1)})
    chosen = experiments.best_on_validation(results, "keep_prob")
    assert chosen["dropout"]["value"] == 0.5
    assert chosen["dropout"]["test_error"][0] == pytest.approx(0.06)
    assert chosen["dropout"]["val_error"][0] == pytest.approx(0.02)
    assert chosen["dropout"]["test_loss"][0] == pytest.approx(0.3)


def test_the_report_chooses_keep_prob_on_validation_and_shows_cross_entropy(tiny):
    from dcscratch.experiments.report import _nats

    _, results = tiny
    report = experiments.markdown(results)
    assert "## keep_prob chosen on the validation split" in report
    for variant, choice in experiments.best_on_validation(results).items():
        assert f"| {variant} | {choice['value']:g} |" in report
    no_drop = experiments.sweep_table(results, "curves", "test_loss")["no-drop"][None]
    row = next(line for line in report.splitlines() if line.startswith("| no-drop | mean rule |"))
    assert row.split(" | ")[3] == _nats(*experiments.mean_sd(no_drop))


def test_the_digits_split_follows_the_seed_and_mnist_keeps_one(tiny_config, monkeypatch):
    assert tiny_config["split"] == experiments.SPLIT_PER_SEED
    assert [experiments.split_seed(tiny_config, seed) for seed in (0, 3)] == [0, 3]
    assert "split" not in experiments.make_config("quick", "mnist")
    assert "split" not in experiments.make_config("paper", "fashion-mnist")
    assert experiments.split_seed(experiments.make_config("quick", "mnist"), 3) == 0
    loaded = []
    monkeypatch.setattr(experiments.data, "load_data",
                        lambda dataset, *args, seed: loaded.append(seed) or seed)
    cache = {}
    assert [experiments.run_splits(tiny_config, seed, cache=cache) for seed in (1, 0, 1)] == [1, 0, 1]
    assert loaded == [1, 0]  # each split seed loaded once


def test_a_results_file_from_the_fixed_split_is_refused_until_fresh(tmp_path, tiny_config):
    old = experiments.new_results({key: value for key, value in tiny_config.items()
                                   if key != "split"})
    (tmp_path / "results.json").write_text(json.dumps(old))
    with pytest.raises(experiments.SchemaError, match="split.*--fresh"):
        experiments.run_experiments(tiny_config, tmp_path, progress=False)
    assert experiments.load_results(tmp_path / "results.json")["runs"] == {}  # still readable


def test_figures_say_what_was_held_fixed_and_count_the_images(tiny):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, results = tiny
    training = results["config"]["training"]
    ax = experiments.plot_sweep(results, "train_size")
    assert f"held fixed: width {training['hidden']}, keep_prob {training['keep_prob']}" in (
        " ".join(ax.get_title().split()))  # the title is wrapped
    sizes = {run["settings"]["train_fraction"]: run["train_size"]
             for run in results["runs"].values()}
    labels = [label.get_text() for label in ax.get_xticklabels()]
    assert labels == [f"{fraction:g}\n({sizes[fraction]} images)" for fraction in (0.5, 1.0)]
    plt.close(ax.figure)
    ax = experiments.plot_sweep(results, "width")
    assert ax.get_yscale() == "log" and "keep_prob" in ax.get_title()
    plt.close(ax.figure)
    axes = experiments.plot_curves(results)
    assert [ax.get_ylabel() for ax in axes] == [
        "train error (%)", "test error (%)", "test cross-entropy (nats)"]
    plt.close(axes[0].figure)


def test_curves_draw_the_training_cross_entropy_of_figure_2c_on_request(tiny):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, results = tiny
    fig, axes = plt.subplots(2, 2)
    drawn = experiments.plot_curves(results, axes, metrics=("train_loss", "test_loss",
                                                            "train_error", "test_error"))
    assert [ax.get_ylabel() for ax in drawn] == [
        "train cross-entropy (nats)", "test cross-entropy (nats)", "train error (%)",
        "test error (%)"]
    assert drawn[0].get_yscale() == "log"
    with pytest.raises(ValueError, match="`axes`.*one axis per metric"):
        experiments.plot_curves(results, axes, metrics=("train_loss",))
    with pytest.raises(ValueError, match="`metrics`.*train_loss"):
        experiments.plot_curves(results, axes[0, 0], metrics=("training_loss",))
    plt.close(fig)


def test_the_report_names_the_recorded_cores_not_two(tiny):
    import copy
    import os

    from dcscratch.experiments.report import machine_cores

    results = copy.deepcopy(tiny[1])
    report = experiments.markdown(results, results["command"])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert machine_cores(results) == [cores]
    assert f"(on {cores} cores, above {cores} means" in report
    for run in results["runs"].values():
        run.pop("provenance")
    assert "cores" not in experiments.markdown(results, results["command"])


# ---------------------------------------------------------------- review of 07 (issue 26)
def test_the_digits_dropconnect_is_per_example_and_inverted_in_every_sweep():
    # Findings 6 and 10: no sweep's DropConnect is per batch, and every DropConnect run is in
    # the inverted convention (its weights move as fast as Dense's at one learning rate)
    # except the convention sweep's unscaled arm.
    for name in ("quick", "full"):
        config = experiments.make_config(name, "digits")
        assert config["training"]["dropconnect_inverted"] is True
        for sweep in config["sweeps"]:
            for value, settings in experiments.sweep_runs(config, sweep):
                variant = settings["variant"]
                if variant.startswith("dropconnect"):
                    assert settings["inverted"] is (value is not False or sweep != "convention")
                if variant == "dropconnect-batch":
                    assert sweep in ("curves", "convention")
                elif variant == "dropconnect":
                    assert settings["mask"] in ("flipout", "gaussian", "example")
                    # Flipout's masks are exact only at keep_prob 0.5.
                    assert settings["mask"] != "flipout" or settings["keep_prob"] == 0.5
                else:
                    assert "mask" not in settings and "inverted" not in settings
        keep_prob_runs = experiments.sweep_runs(config, "keep_prob")
        assert {settings["mask"] for _, settings in keep_prob_runs
                if settings["variant"] == "dropconnect"} == {"gaussian"}
        # The mask-mode and convention sweeps share their default arm with the curves sweep.
        default = experiments.run_key(experiments.run_settings(config, "dropconnect", 0))
        for sweep in ("exact", "convention"):
            keys = {experiments.run_key(settings)
                    for _, settings in experiments.sweep_runs(config, sweep)}
            assert default in keys
    assert experiments.make_config("full", "digits")["sweeps"]["exact"]["values"] == [
        "flipout", "gaussian", "example"]


def test_the_paper_and_long_configs_name_their_runs_as_before():
    # run_settings now names the convention of every DropConnect variant where the config has
    # one; the paper config has none, the long config runs only ``dropconnect``.
    paper = experiments.make_config("paper", "fashion-mnist")
    assert experiments.run_key(experiments.run_settings(paper, "dropconnect", 0)) == (
        "dropconnect hidden=800 keep_prob=0.5 train_fraction=1 seed=0 mask=flipout")
    long = experiments.make_config("long", "fashion-mnist")
    assert experiments.run_key(experiments.run_settings(long, "dropconnect", 0)) == (
        "dropconnect hidden=400 keep_prob=0.5 train_fraction=1 seed=0 mask=flipout inverted=True")
    assert "inverted" not in experiments.run_settings(long, "dropout", 0)


def _scored(config, values):
    """Runs with ``final`` and ``final_by_inference``: ``values[(variant, seed, swept)] =
    {rule: {metric: x}}``, ``swept`` a dict of settings away from the default."""
    runs = {}
    for (variant, seed, swept), by_rule in values.items():
        settings = experiments.run_settings(config, variant, seed, **dict(swept))
        runs[experiments.run_key(settings)] = {
            "settings": settings, "final": {**by_rule["mean"], "inference": "mean"},
            "final_by_inference": by_rule}
    return {"config": config, "runs": runs}


def test_dropconnect_is_scored_by_the_gaussian_rule_and_a_missing_rule_is_named():
    config = experiments.make_config("quick", "digits", seeds=2)
    results = _scored(config, {
        ("dropconnect", seed, ()): {"mean": {"test_error": 0.10 + seed},
                                    "gaussian": {"test_error": 0.08 + seed}}
        for seed in (0, 1)} | {
        ("dropout", seed, ()): {"mean": {"test_error": 0.09 + seed}} for seed in (0, 1)})
    assert experiments.sweep_table(results, "curves")["dropconnect"][None] == [0.08, 1.08]
    assert experiments.sweep_table(results, "curves", rule="mean")["dropconnect"][None] == [
        0.10, 1.10]
    assert experiments.sweep_table(results, "curves")["dropout"][None] == [0.09, 1.09]
    difference = experiments.paired_difference(results, "dropconnect", "dropout")
    assert difference["mean"] == pytest.approx(-0.01)
    rules = experiments.paired_difference(results, "dropconnect", "dropconnect",
                                          rule="gaussian", baseline_rule="mean")
    assert rules["mean"] == pytest.approx(-0.02)
    with pytest.raises(ValueError, match="argument `rule`.*has no numbers under 'sampling'"):
        experiments.sweep_table(results, "curves", rule="sampling")


def test_comparisons_are_made_at_the_keep_prob_chosen_on_validation():
    # Finding 8: the regularisers are compared at the value their validation error chose.
    config = experiments.make_config("quick", "digits", seeds=3)
    values = {}
    for seed in range(3):
        values["no-drop", seed, ()] = {"mean": {"val_error": 0.05, "test_error": 0.05 + seed / 100,
                                                "test_loss": 0.2}}
        for keep_prob, (val, test) in {0.5: (0.04, 0.20), 0.8: (0.02, 0.03)}.items():
            values["dropout", seed, (("keep_prob", keep_prob),)] = {
                "mean": {"val_error": val, "test_error": test + seed / 100, "test_loss": 0.2}}
            values["dropconnect", seed, (("keep_prob", keep_prob), ("mask", "gaussian"))] = {
                "mean": {"val_error": val, "test_error": 0.3, "test_loss": 0.2},
                "gaussian": {"val_error": val, "test_error": test + 0.01 + seed / 50,
                             "test_loss": 0.2}}
    results = _scored(config, values)
    rows = dict(experiments.chosen_comparisons(results))
    assert set(rows) == {"dropout at keep_prob 0.8 − no-drop",
                         "dropconnect at keep_prob 0.8 − no-drop",
                         "dropconnect at keep_prob 0.8 − dropout at keep_prob 0.8"}
    assert rows["dropout at keep_prob 0.8 − no-drop"]["mean"] == pytest.approx(-0.02)
    assert rows["dropconnect at keep_prob 0.8 − dropout at keep_prob 0.8"]["mean"] == (
        pytest.approx(0.02))


def test_a_family_of_comparisons_is_also_read_at_the_bonferroni_level(tiny):
    from dcscratch.stats import verdict

    _, results = tiny
    report = experiments.markdown(results)
    m = len([pair for pair in experiments.report.COMPARISONS
             if experiments.paired_difference(results, *pair)["n"] > 1])
    section = report[report.index("## Paired comparisons at the default setting: test error"):]
    assert f"verdict of the family of {m} |" in section
    assert f"each interval at {100 * (1 - 0.05 / m):.2f} % (Bonferroni)" in section
    difference = experiments.paired_difference(results, "dropout", "no-drop",
                                               confidence=1 - 0.05 / m)
    row = next(line for line in section.splitlines() if line.startswith("| dropout − no-drop |"))
    assert row.rstrip(" |").endswith(verdict(difference))


def test_only_numeric_sweeps_are_plotted():
    import matplotlib

    matplotlib.use("Agg")
    config = experiments.make_config("quick", "digits")
    with pytest.raises(ValueError, match="argument `sweep`.*'exact'"):
        experiments.plot_sweep({"config": config, "runs": {}}, "exact")
