"""The experiments: the paper's comparisons over seeds, their results files and their reports.

``python -m dcscratch.experiments`` (:mod:`~dcscratch.experiments.cli`) runs a config's sweeps
and writes ``results.json``, ``results.md`` and plots; notebooks 07 and 10 read what it wrote.
One module per concern, in the order a run goes through them:

- :mod:`~dcscratch.experiments.configs`: the configs (quick, full, paper, long), their sweeps,
  variants and training settings, and the runs they plan;
- :mod:`~dcscratch.experiments.data`: the splits a run trains, validates and tests on;
- :mod:`~dcscratch.experiments.training`: one run (the network, the schedule, training with an
  evaluation after every epoch, the inference rules);
- :mod:`~dcscratch.experiments.checkpoint`: a run's state, saved after every epoch;
- :mod:`~dcscratch.experiments.fingerprint`: which training code made a run, and the refusal to
  mix another code's runs;
- :mod:`~dcscratch.experiments.runner`: a sweep of runs, resumable;
- :mod:`~dcscratch.experiments.store`: the results file (schema, atomic writes, provenance);
- :mod:`~dcscratch.experiments.analysis`: what the results say (tables of final numbers,
  paired comparisons, choices on validation);
- :mod:`~dcscratch.experiments.plots`: the figures (a sweep, the per-epoch curves);
- :mod:`~dcscratch.experiments.report`: ``results.md`` and its figures for the quick and full
  configs; :mod:`~dcscratch.experiments.paper_report` (Table 2 and Figure 2 of the paper
  config) and :mod:`~dcscratch.experiments.long_report` (the long config's scorings, intervals,
  votes and progress table) for theirs;
- :mod:`~dcscratch.experiments.cli`: the command line;
- :mod:`~dcscratch.experiments.extension_study`: notebook 08's seeded study, a command of its
  own (``python -m dcscratch.experiments.extension_study``), not imported here.

The names below are importable from the package itself (``experiments.run_experiments``), as
notebook 07 and its exercises use them.
"""
from dcscratch.experiments.analysis import (
    PAPER_RULE, best_on_validation, chosen_comparisons, curves, describe_difference,
    dropconnect_choices, final_numbers, paired_difference, sweep_table, swept_settings, verdict)
from dcscratch.experiments.checkpoint import RunState, checkpoint_folder
from dcscratch.experiments.cli import main, parse_args
from dcscratch.experiments.configs import (
    CONFIG_NAMES, DATASETS, DROPCONNECT_MASKS, LABELS, METRICS, SPLIT_PER_SEED, SWEEP_VARIANTS,
    SWEEPS, SWEPT, VARIANTS, make_config, planned_runs, run_key, run_settings, split_seed,
    sweep_runs)
from dcscratch.experiments.data import load_data, paper_test_labels, run_splits, training_subset
from dcscratch.experiments.fingerprint import check_training_code, training_code_fingerprint
from dcscratch.experiments.plots import plot_curves, plot_sweep, variant_color
from dcscratch.experiments.report import gaussian_checks, markdown, write_report
from dcscratch.experiments.runner import peak_rss_mb, release_memory, run_experiments
from dcscratch.experiments.store import (
    COMMITTED_DIGITS, SCHEMA_VERSION, SchemaError, load_results, new_results, provenance,
    write_json_atomic)
from dcscratch.experiments.training import (
    GAUSSIAN_SAMPLES, build_model, gaussian_limit_logits, learning_rate_at, train_run)
from dcscratch.stats import mean_sd

__all__ = [
    "COMMITTED_DIGITS", "CONFIG_NAMES", "DATASETS", "DROPCONNECT_MASKS", "GAUSSIAN_SAMPLES",
    "LABELS", "METRICS", "PAPER_RULE", "SCHEMA_VERSION", "SPLIT_PER_SEED", "SWEEPS",
    "SWEEP_VARIANTS", "SWEPT", "VARIANTS", "RunState", "SchemaError", "best_on_validation",
    "build_model", "check_training_code", "checkpoint_folder", "chosen_comparisons", "curves",
    "describe_difference", "dropconnect_choices", "final_numbers", "gaussian_checks",
    "gaussian_limit_logits", "learning_rate_at", "load_data", "load_results", "main",
    "make_config", "markdown", "mean_sd", "new_results", "paired_difference", "paper_test_labels",
    "parse_args", "peak_rss_mb", "planned_runs", "plot_curves", "plot_sweep", "provenance",
    "release_memory", "run_experiments", "run_key", "run_settings", "run_splits", "split_seed",
    "sweep_runs", "sweep_table", "swept_settings", "train_run", "training_code_fingerprint",
    "training_subset", "variant_color", "verdict", "write_json_atomic", "write_report"]
