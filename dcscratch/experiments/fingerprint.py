"""Which code made a run: a fingerprint of the training code, and the check that refuses mixing.

A sweep resumes only under the code that made its stored runs and checkpoints: their numbers
would not be comparable otherwise. The fingerprint hashes the layers' modules and the training
functions (``dcscratch.experiments.training._TRAINING_FUNCTIONS``) as syntax trees without
docstrings, so rewording documentation, or moving a function to another module, leaves it alone.
"""
import functools

from dcscratch.experiments.store import SchemaError


@functools.cache
def training_code_fingerprint():
    """A SHA-256 of the code that trains and evaluates a run: the layers' modules and the
    training functions. Resuming refuses runs whose fingerprint differs (made by other code).

    The code is hashed as its syntax tree without docstrings (comments never reach the tree),
    so rewording documentation leaves the fingerprint alone; any change to what runs does not.
    Computed once per process: ``inspect`` reads the files on disk with the line numbers of the
    loaded functions, so a file edited under a running sweep would otherwise give a fingerprint
    of neither version (it did on 2026-12-07: a docstring rewrap of the file that then held
    these functions, dcscratch/experiments.py, gave bb48d442…).
    """
    import hashlib
    import inspect

    from dcscratch import (fast_per_example, inference, keras_layer, mask_sampler, model_tools,
                           per_example, seeding)
    from dcscratch.experiments.training import _TRAINING_FUNCTIONS

    digest = hashlib.sha256()
    for module in (fast_per_example, inference, keras_layer, mask_sampler, model_tools,
                   per_example, seeding):
        digest.update(_code_without_docstrings(inspect.getsource(module)).encode())
    for function in _TRAINING_FUNCTIONS:
        digest.update(_code_without_docstrings(inspect.getsource(function)).encode())
    return digest.hexdigest()


def _code_without_docstrings(source):
    """``source``'s syntax tree as text, docstrings removed."""
    import ast
    import textwrap

    tree = ast.parse(textwrap.dedent(source))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def check_training_code(results, path):
    """Refuse to resume a file holding runs made by other training code.

    Runs record :func:`training_code_fingerprint`; one that differs from the running code's
    means the new runs would not be comparable with the stored ones. Runs made before the
    fingerprint was recorded have none and are accepted (their git commit is in their
    provenance where they have one).
    """
    current = training_code_fingerprint()
    for key, run in results["runs"].items():
        stored = run.get("provenance", {}).get("training_code")
        if stored is not None and stored != current:
            raise SchemaError(
                f"{path} holds runs made by other training code (run {key!r}: training code "
                f"{stored[:12]}…, this code {current[:12]}…). New runs would not be comparable: "
                f"choose another --out, move the file away, or start over with --fresh.")

