"""The set-up works on every Python the README promises, and refuses the others clearly."""
import os
import re
import stat
import subprocess
import sys
import tomllib

import pytest
import yaml
from packaging.markers import Marker, default_environment

from dcscratch import supported_python

SUPPORTED = supported_python.SUPPORTED
SUPPORTED_NAMES = [f"{major}.{minor}" for major, minor in SUPPORTED]


@pytest.mark.parametrize("version", [(3, 11, 2), (3, 12, 0), (3, 13, 9)])
def test_a_supported_python_passes_the_check(version):
    assert supported_python.problem(version + ("final", 0)) is None


@pytest.mark.parametrize("version", [(3, 10, 12), (3, 14, 0), (2, 7, 18)])
def test_an_unsupported_python_gets_one_sentence_naming_the_supported_ones(version):
    message = supported_python.problem(version + ("final", 0))
    assert message.count(". ") == 0 and message.endswith(".")
    assert ".".join(map(str, version)) in message
    assert all(name in message for name in SUPPORTED_NAMES)


def test_this_python_is_supported():
    assert subprocess.run([sys.executable, "dcscratch/supported_python.py"]).returncode == 0


def test_pyproject_readme_and_environment_agree_with_the_check(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    lowest = SUPPORTED[0]
    assert project["requires-python"] == f">={lowest[0]}.{lowest[1]}"
    classified = [c.rsplit(" :: ", 1)[1] for c in project["classifiers"]
                  if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    assert classified == SUPPORTED_NAMES
    readme = (root / "README.md").read_text()
    assert f"Python {', '.join(SUPPORTED_NAMES[:-1])} or {SUPPORTED_NAMES[-1]}" in readme
    environment = yaml.safe_load((root / "environment.yml").read_text())
    conda_python = next(d for d in environment["dependencies"]
                        if isinstance(d, str) and d.startswith("python="))
    assert conda_python.split("=", 1)[1] in SUPPORTED_NAMES


def _fake_python(tmp_path, version):
    """An interpreter that reports ``version``: enough to drive the Makefile's first check."""
    shim = tmp_path / "fakepython"
    shim.write_text(
        "#!/bin/sh\n"
        f"exec {sys.executable} -c 'import sys; sys.version_info = {tuple(version)!r}; "
        "sys.argv = sys.argv[1:]; exec(open(sys.argv[0]).read())' \"$@\"\n")
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    return shim


def test_make_refuses_an_unsupported_python_before_creating_a_venv(tmp_path, root):
    for name in ("Makefile", "pyproject.toml", "constraints.txt"):
        (tmp_path / name).write_text((root / name).read_text())
    (tmp_path / "dcscratch").mkdir()
    (tmp_path / "dcscratch" / "supported_python.py").write_text(
        (root / "dcscratch" / "supported_python.py").read_text())
    fake = _fake_python(tmp_path, (3, 10, 12))
    result = subprocess.run(["make", "install", f"PYTHON={fake}"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "dcscratch needs Python 3.11, 3.12 or 3.13; this is Python 3.10.12" in result.stderr
    assert not (tmp_path / ".venv").exists()


def constraints_for(python_version, constraints):
    """The lines of ``constraints`` that apply on ``python_version``, their markers dropped.

    pip evaluates a constraint's environment marker for the interpreter it runs under, even with
    ``--python-version``: from a 3.13 host it would check 3.11.2 against the 3.13 pins. So the
    markers are evaluated here, for the target version (other marker variables: this host's).
    """
    parts = [int(part) for part in python_version.split(".")]
    environment = default_environment()
    environment["python_version"] = ".".join(map(str, parts[:2]))
    environment["python_full_version"] = ".".join(map(str, (parts + [0, 0])[:3]))
    kept = []
    for line in constraints.splitlines():
        requirement, _, marker = line.partition(";")
        if line.startswith("#") or not requirement.strip():
            continue
        if not marker.strip() or Marker(marker).evaluate(environment):
            kept.append(requirement.strip())
    return "\n".join(kept) + "\n"


def _pip_resolve(root, tmp_path, python_version, extras="test"):
    """pip's resolver, as it would run on ``python_version``, with the project's pins."""
    constraints = tmp_path / f"constraints-{python_version}.txt"
    constraints.write_text(constraints_for(python_version, (root / "constraints.txt").read_text()))
    return subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed",
         "--only-binary=:all:", "--python-version", python_version,
         "-c", str(constraints), f".[{extras}]"],
        cwd=root, capture_output=True, text=True, timeout=600)


def skip_unless_the_index_answered(result):
    unreachable = re.search(r"NewConnectionError|Max retries exceeded|Temporary failure in "
                            r"name resolution|Network is unreachable", result.stderr)
    if unreachable:
        message = "pip could not reach the package index; these checks need it"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (under CI a skip is a failure)")
        pytest.skip(message)


@pytest.mark.parametrize("python_version, expected", [
    ("3.11.2", "soupsieve==2.8.3"), ("3.11.7", "soupsieve==2.9"), ("3.13", "soupsieve==2.9")])
def test_constraints_markers_are_read_for_the_target_python_not_this_one(python_version,
                                                                          expected):
    constraints = ("# a comment\nnumpy==2.3.5\n"
                   "soupsieve==2.8.3 ; python_full_version < '3.11.5'\n"
                   "soupsieve==2.9 ; python_full_version >= '3.11.5'\n")
    assert constraints_for(python_version, constraints) == f"numpy==2.3.5\n{expected}\n"


# Debian 12's system Python is 3.11.2: the lowest patch release students are likely to have.
@pytest.mark.registry
@pytest.mark.parametrize("python_version", ["3.11.2"] + SUPPORTED_NAMES[1:])
def test_pinned_set_resolves_on_every_supported_python(root, tmp_path, python_version):
    result = _pip_resolve(root, tmp_path, python_version)
    skip_unless_the_index_answered(result)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.registry
def test_pip_refuses_python_3_10_by_requires_python(root, tmp_path):
    result = _pip_resolve(root, tmp_path, "3.10")
    skip_unless_the_index_answered(result)
    assert result.returncode != 0
    assert "requires a different Python" in result.stderr
