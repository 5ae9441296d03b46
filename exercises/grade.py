"""Grade a folder of submitted exercise notebooks with otter, without Docker.

    python exercises/grade.py SUBMISSIONS [--autograders build/exercises] [--out build/grades]

`otter grade` runs every submission in a Docker container; `otter run` grades one submission in
the current environment. This script is the loop between the two: it grades every ``*.ipynb``
in SUBMISSIONS with otter's own non-containerised grader (``otter.api.grade_submission``, what
``otter run`` calls), picks each notebook's autograder from the assignment name otter stored in
its metadata, and writes one CSV per exercise with otter's own table
(``otter.grade.utils.merge_scores_to_df``, what ``otter grade`` writes as final_grades.csv):
a row of points possible, then one row per submission, a column per question.

It runs the students' code in this environment, unsandboxed: grade only notebooks you would run.
"""
import argparse
import sys
from pathlib import Path

import nbformat
from otter.api import grade_submission
from otter.grade.utils import merge_scores_to_df


def assignment_name(path):
    """The assignment name otter assign wrote into the student notebook, or None."""
    notebook = nbformat.read(path, as_version=4)
    return notebook.metadata.get("otter", {}).get("assignment_name")


def autograder_zip(autograders, name):
    """The newest autograder zip that `make exercises` wrote for assignment `name`."""
    zips = sorted((Path(autograders) / name / "autograder").glob("*-autograder_*.zip"))
    if not zips:
        raise FileNotFoundError(
            f"No autograder for exercise {name!r} under {autograders}/{name}/autograder: "
            "run `make exercises` first")
    return zips[-1]  # the names end in a sortable timestamp


def grade_folder(submissions, autograders, out):
    """Grade every notebook in `submissions`; return {exercise: CSV path} and a list of problems."""
    results, problems = {}, []
    paths = sorted(Path(submissions).glob("*.ipynb"))
    if not paths:
        raise FileNotFoundError(f"No .ipynb submissions in {submissions}")
    for path in paths:
        name = assignment_name(path)
        if name is None:
            problems.append(f"{path.name}: not an exercise notebook (no otter metadata)")
            continue
        print(f"grading {path.name} ({name})", flush=True)
        graded = grade_submission(str(path), str(autograder_zip(autograders, name)), quiet=True)
        graded.file = path.name
        results.setdefault(name, []).append(graded)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, graded in sorted(results.items()):
        written[name] = out / f"{name}.csv"
        merge_scores_to_df(graded).to_csv(written[name], index=False)
        print(f"wrote {written[name]}: {len(graded)} submission(s)")
    return written, problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", help="folder of submitted .ipynb files")
    parser.add_argument("--autograders", default="build/exercises",
                        help="where `make exercises` wrote <exercise>/autograder/")
    parser.add_argument("--out", default="build/grades", help="folder for <exercise>.csv")
    args = parser.parse_args(argv)
    _, problems = grade_folder(args.submissions, args.autograders, args.out)
    for problem in problems:
        print(f"not graded: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
