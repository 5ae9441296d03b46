"""The library installs and imports without the course's tooling; `make lab` starts anywhere."""
import os
import shlex
import shutil
import subprocess
import sys
import time
import tomllib

import pytest

from test_setup import skip_unless_the_index_answered

# What only `make` uses (notebooks, website, exercises, tests): never imported by the library.
TOOLING = ["IPython", "ipykernel", "jupyterlab", "jupyter_server", "nbclient", "nbconvert",
           "nbformat", "otter", "sphinx", "myst_nb", "sphinx_book_theme", "pytest"]
# Modules that drive the tooling themselves, for `make`: not part of the library.
COURSE_ONLY = {"course"}


def _library_modules(root):
    """Every module of the package and its subpackages (``__main__`` would run a command)."""
    modules = []
    for path in (root / "dcscratch").rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        if path.stem == "__init__":
            parts = parts[:-1]
        if path.stem != "__main__" and parts[-1] not in COURSE_ONLY:
            modules.append(".".join(parts))
    return sorted(modules)


def test_pyproject_lists_every_package(root):
    # setuptools packages only what [tool.setuptools] packages names: a subpackage left out
    # would be missing from the wheel (whose test needs the package index).
    packages = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {".".join(path.parent.relative_to(root).parts)
             for path in (root / "dcscratch").rglob("__init__.py")}
    assert set(packages["packages"]) == found


def test_core_dependencies_hold_no_tooling(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    core = {requirement.split(">")[0].split("[")[0] for requirement in project["dependencies"]}
    assert core == {"numpy", "matplotlib", "tensorflow", "keras", "scikit-learn", "scipy", "tqdm"}
    extras = project["optional-dependencies"]
    assert {"course", "site", "teach", "test", "gpu"} <= set(extras)
    # make test checks the notebooks, the site and the exercises: its extra pulls in theirs.
    assert "dcscratch[course,site,teach]" in extras["test"]


def test_importing_every_library_module_imports_no_tooling(root):
    # TensorFlow and Keras import IPython themselves when it is installed: the library's
    # dependencies are imported first, and only what the library adds to them counts.
    modules = _library_modules(root)
    code = (f"import importlib, sys\n"
            f"import keras, matplotlib.pyplot, numpy, scipy.stats, sklearn, tensorflow, tqdm.auto\n"
            f"before = set(sys.modules)\n"
            f"import dcscratch\ndcscratch.DropConnectDense\n"
            f"for name in {modules!r}:\n    importlib.import_module(name)\n"
            f"print(sorted(m for m in {TOOLING!r} if m in set(sys.modules) - before))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=root, timeout=300, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]", f"the library imported {result.stdout.strip()}"


# ------------------------------------------------------------------ a wheel in a clean venv
TRAIN_ONE_STEP = """
import importlib.util, sys
for tool in ("sphinx", "otter", "jupyterlab", "nbconvert", "myst_nb", "IPython"):
    assert importlib.util.find_spec(tool) is None, f"{tool} was installed with the library"
import numpy as np
import keras
import dcscratch
assert dcscratch.__file__.startswith(sys.prefix), f"dcscratch came from {dcscratch.__file__}"
from dcscratch import DropConnectDense, set_seeds
set_seeds(0)
model = keras.Sequential([keras.Input((8,)), DropConnectDense(4, keep_prob=0.5, seed=0),
                          keras.layers.Dense(2)])
model.compile(optimizer="sgd", loss="mse")
history = model.fit(np.ones((16, 8), "float32"), np.zeros((16, 2), "float32"), epochs=1,
                    verbose=0)
assert np.isfinite(history.history["loss"][0])
print("trained one epoch")
"""


@pytest.mark.registry
def test_a_wheel_installs_into_a_clean_venv_without_the_tooling_and_trains(root, tmp_path):
    """Slow: pip downloads TensorFlow and the library's other dependencies (13 min measured on
    a loaded 2-core machine, most of it the download)."""
    # Built from a copy, so that setuptools' build/ and egg-info stay out of the checkout.
    source = tmp_path / "source"
    shutil.copytree(root / "dcscratch", source / "dcscratch",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(root / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--quiet", "-w", str(tmp_path / "dist"), str(source)], check=True, timeout=300)
    (wheel,) = (tmp_path / "dist").glob("dcscratch-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True,
                   timeout=300)
    python = str(tmp_path / "venv" / "bin" / "python")
    # Nothing of this checkout or of the course's venv may be visible to the clean one.
    clean = {key: value for key, value in os.environ.items()
             if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    clean["CUDA_VISIBLE_DEVICES"] = ""
    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "-c", str(root / "constraints.txt"),
         str(wheel)], capture_output=True, text=True, timeout=1800, cwd=tmp_path, env=clean)
    skip_unless_the_index_answered(install)
    assert install.returncode == 0, install.stderr[-3000:]
    trained = subprocess.run([python, "-c", TRAIN_ONE_STEP], capture_output=True, text=True,
                             cwd=tmp_path, timeout=600, env=clean)
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert "trained one epoch" in trained.stdout


# ------------------------------------------------------------------ make lab
def _fake_id(tmp_path, uid):
    folder = tmp_path / f"uid{uid}"
    folder.mkdir()
    (folder / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    (folder / "id").chmod(0o755)
    return folder


def _lab_command(root, tmp_path, uid, display=None, lab_args=""):
    """The `jupyter lab` line `make lab` would run, as user `uid`, with or without a display."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PATH"] = f"{_fake_id(tmp_path, uid)}{os.pathsep}{env['PATH']}"
    if display:
        env["DISPLAY"] = display
    printed = subprocess.run(["make", "--no-print-directory", "-n", "lab", f"LAB_ARGS={lab_args}"],
                             cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert printed.returncode == 0, printed.stderr
    (line,) = [line for line in printed.stdout.splitlines() if "jupyter lab" in line]
    return shlex.split(line)


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS opens a browser without a display")
@pytest.mark.parametrize("uid", [0, 1000])
@pytest.mark.parametrize("display", [None, ":0"])
def test_make_lab_allows_root_only_as_root_and_opens_no_browser_without_a_display(
        root, tmp_path, uid, display):
    command = _lab_command(root, tmp_path, uid, display)
    assert ("--allow-root" in command) == (uid == 0)
    assert ("--no-browser" in command) == (display is None)
    assert command[-1] == "notebooks"


def test_make_lab_starts_and_prints_its_url_with_the_token(root, tmp_path):
    command = _lab_command(root, tmp_path, os.getuid(), lab_args="--port=0")
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    env.pop("DISPLAY", None)
    server = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    printed = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line:
                break
            printed.append(line)
            if "/lab?token=" in line:
                break
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    assert any("/lab?token=" in line for line in printed), "".join(printed)[-3000:]
    assert not any("Running as root is not recommended" in line for line in printed)
