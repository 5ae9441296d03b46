"""Which Pythons the course supports, checked before anything is installed.

    python3 dcscratch/supported_python.py    # exit 0, or one sentence and exit 1

Standard library only, and run as a file (not ``-m dcscratch...``), so that it works with an
interpreter that has nothing installed yet, including one too old for the package itself.
pyproject.toml's ``requires-python``, its classifiers, the README, environment.yml and
constraints.txt (a lock resolved for each of these versions) agree with ``SUPPORTED``; a unit
test checks that they do.
"""
import sys

# TensorFlow 2.21 has wheels for 3.11-3.13 only; 3.10 reached its end of life in October 2026.
SUPPORTED = ((3, 11), (3, 12), (3, 13))


def problem(version_info=sys.version_info):
    """None if this Python is supported, otherwise one sentence saying what is."""
    major_minor = tuple(version_info[:2])
    if major_minor in SUPPORTED:
        return None
    names = [f"{major}.{minor}" for major, minor in SUPPORTED]
    names = ", ".join(names[:-1]) + " or " + names[-1]
    found = ".".join(str(part) for part in version_info[:3])
    return (f"dcscratch needs Python {names}; this is Python {found}: run make with "
            f"PYTHON=python3.X naming one of those (see the README, Two commands).")


if __name__ == "__main__":
    message = problem()
    if message:
        sys.exit(message)
