"""A sweep: every planned run not yet in ``results.json``, each stored the moment it ends.

The file is rewritten atomically after every run and each run checkpoints after every epoch, so
the same call (or command) after an interruption goes on where it stopped.
"""
import shutil
import sys
from pathlib import Path

from dcscratch.experiments.checkpoint import checkpoint_folder
from dcscratch.experiments.configs import planned_runs, split_seed
from dcscratch.experiments.data import run_splits
from dcscratch.experiments.fingerprint import check_training_code
from dcscratch.experiments.store import load_results, new_results, write_json_atomic
from dcscratch.experiments.training import train_run


def run_experiments(config, out=None, *, fresh=False, progress=True, mnist_file=None,
                    data_dir=None):
    """Run every planned run not yet in ``out/results.json``; return the results dict.

    Args:
        config: from :func:`make_config`.
        out: folder for ``results.json`` (created if needed); None keeps results in memory.
        fresh: ignore an existing ``results.json`` and start over (it stays until the
            first new run replaces it).
        progress: show a tqdm progress bar (with an ETA) over the runs, on stderr.
        mnist_file: path of ``mnist.npz`` when the dataset is MNIST (default: Keras's cache).
        data_dir: folder of IDX files for Fashion-MNIST (default: Debian's) or MNIST.
    """
    from tqdm.auto import tqdm

    path = None if out is None else Path(out) / "results.json"
    results = new_results(config)
    if path is not None and path.exists() and not fresh:
        results = load_results(path, config)
        results["config"] = config
        check_training_code(results, path)
    elif path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    probabilities_dir = (None if out is None or config["name"] not in ("paper", "long")
                         else Path(out) / "probabilities")
    if fresh and out is not None:
        shutil.rmtree(Path(out) / "checkpoints", ignore_errors=True)
    pending = {key: settings for key, settings in planned_runs(config).items()
               if key not in results["runs"]}
    if not pending:
        return results
    loaded = {}  # split seed → splits, each loaded once
    run_splits(config, 0, mnist_file, data_dir, cache=loaded)  # a missing file fails before a run
    bar = tqdm(pending.items(), total=len(pending), unit="run", disable=not progress,
               file=sys.stderr)
    for key, settings in bar:
        bar.set_postfix_str(key, refresh=False)
        splits = run_splits(config, settings["seed"], mnist_file, data_dir, cache=loaded)
        checkpoints = None if out is None else checkpoint_folder(out, key)
        run = train_run(settings, config["training"], splits, probabilities_dir, checkpoints)
        if "provenance" in run:  # which split: its fingerprint, and here the seed that drew it
            run["provenance"]["split"]["seed"] = split_seed(config, settings["seed"])
            # The process's peak memory so far: flat across a sweep's runs when nothing leaks.
            run["provenance"]["process_peak_rss_mb"] = peak_rss_mb()
        results["runs"][key] = run
        if path is not None:
            write_json_atomic(path, results)
        if checkpoints is not None:  # the run is stored: its checkpoints are no longer needed
            shutil.rmtree(checkpoints, ignore_errors=True)
        release_memory()
    return results


def peak_rss_mb():
    """This process's peak resident memory so far, in MiB (Linux and macOS)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes there, KiB here


def release_memory():
    """Drop what a finished run left behind (Keras's global state, TensorFlow's graphs)."""
    import gc

    import keras

    keras.backend.clear_session()
    gc.collect()

