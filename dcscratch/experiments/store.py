"""The experiments' results file: its schema, reading it back, writing it to survive a crash.

``results.json`` holds ``schema_version``, ``config`` (from
:func:`dcscratch.experiments.configs.make_config`) and ``runs`` (one record per run, keyed by
:func:`dcscratch.experiments.configs.run_key`), and after a command ``command``, ``elapsed_s``
and ``load_average``. Runs trained since provenance was added carry ``provenance``
(:func:`provenance`); older files, without it, stay readable.
"""
import json
import os
import subprocess
import tempfile
from pathlib import Path

SCHEMA_VERSION = 1
# Where the committed results of ``--config full`` on the digits live (notebook 07 reads them).
COMMITTED_DIGITS = Path(__file__).resolve().parents[2] / "results" / "digits"


class SchemaError(ValueError):
    """A results file written by another schema or another config."""


def new_results(config):
    return {"schema_version": SCHEMA_VERSION, "config": config, "runs": {}}


def load_results(path, config=None):
    """Read ``results.json``; refuse another schema version or (if given) another config.

    Only the training settings, the dataset and how the split is drawn (``split``, on the
    digits) must match: a rerun may add sweeps, variants or seeds to the same file. A file
    from before the digits' split was drawn per seed has no ``split`` and is refused.
    """
    results = json.loads(Path(path).read_text())
    found = results.get("schema_version")
    if found != SCHEMA_VERSION:
        raise SchemaError(
            f"{path} has schema version {found!r}, but this dcscratch writes version "
            f"{SCHEMA_VERSION}. Its runs cannot be mixed with new ones: move it away or "
            f"choose another --out, then run again.")
    if config is not None:
        stored = results["config"]
        for field in ("name", "dataset", "training", "split"):
            if stored.get(field) != config.get(field):
                raise SchemaError(
                    f"{path} holds runs of another config ({field}: {stored.get(field)!r}, "
                    f"requested {config.get(field)!r}). Choose another --out, move it away, "
                    f"or start over with --fresh.")
    return results


def write_json_atomic(path, data):
    """Write ``data`` as JSON to ``path`` so that a reader sees the old file or the new one.

    The text goes to a temporary file in the same folder, which then replaces ``path`` in
    one step (``os.replace``); an interruption leaves the previous file whole.
    """
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as file:
            json.dump(data, file, indent=1)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would make the results private
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def code_version(root=None):
    """The git commit of the code that is running, and whether its ``dcscratch/`` differs from it.

    Args:
        root: the repository (default: the one this file lies in).

    Returns:
        ``{"commit": "<40 hex digits>" or None, "dirty": bool or None}``; None where there is
        no git repository (an installed wheel) or no ``git``.
    """
    root = Path(__file__).resolve().parents[2] if root is None else Path(root)

    def git(*arguments):
        return subprocess.run(["git", "-C", str(root), *arguments], capture_output=True,
                              text=True, check=True, timeout=30).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--", "dcscratch"))
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def provenance(splits, *, load_average_start, seeds, inference_samples=None, training_code=None,
               chunk_size=None):
    """Where a run came from: code, machine, load, data split, seeds, inference samples.

    Args:
        splits: the :class:`dcscratch.data.Splits` the run used.
        load_average_start: the 1-minute load average when the run started.
        seeds: ``{name: seed}`` of every seed the run used.
        inference_samples: Gaussian samples per unit at inference, where the variant draws any.
        training_code: the fingerprint of the training code
            (:func:`dcscratch.experiments.fingerprint.training_code_fingerprint`).
        chunk_size: examples worked on at once, where masks are per example.

    Returns:
        A JSON-serialisable dict: ``code`` (:func:`code_version`), ``machine``
        (:func:`dcscratch.devices.machine`), ``load_average`` (1-minute, at the start and end),
        ``split`` (dataset, sizes and :meth:`~dcscratch.data.Splits.fingerprint`; the runner adds
        the ``seed`` it was drawn with), ``seeds``,
        ``inference_samples``, ``training_code`` and ``chunk_size``.
    """
    from dcscratch.devices import machine

    return {"code": code_version(), "machine": machine(),
            "load_average": {"start": load_average_start, "end": os.getloadavg()[0]},
            "split": {"dataset": splits.name, "sizes": splits.sizes(),
                      "fingerprint": splits.fingerprint()},
            "seeds": dict(seeds), "inference_samples": inference_samples,
            "training_code": training_code, "chunk_size": chunk_size}
