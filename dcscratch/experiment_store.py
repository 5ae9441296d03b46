"""The experiments' results file: its schema, reading it back, writing it so that it survives a crash.

``results.json`` holds ``schema_version``, ``config`` (from
:func:`dcscratch.experiment_configs.make_config`) and ``runs`` (one record per run, keyed by
:func:`dcscratch.experiment_configs.run_key`), and after a command ``command``, ``elapsed_s``
and ``load_average``.
"""
import json
import os
import tempfile
from pathlib import Path

SCHEMA_VERSION = 1
# Where the committed results of ``--config full`` on the digits live (notebook 07 reads them).
COMMITTED_DIGITS = Path(__file__).resolve().parents[1] / "results" / "digits"


class SchemaError(ValueError):
    """A results file written by another schema or another config."""


def new_results(config):
    return {"schema_version": SCHEMA_VERSION, "config": config, "runs": {}}


def load_results(path, config=None):
    """Read ``results.json``; refuse another schema version or (if given) another config.

    Only the training settings and the dataset must match: a rerun may add sweeps,
    variants or seeds to the same file.
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
        for field in ("name", "dataset", "training"):
            if stored[field] != config[field]:
                raise SchemaError(
                    f"{path} holds runs of another config ({field}: {stored[field]!r}, "
                    f"requested {config[field]!r}). Choose another --out or move it away.")
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
