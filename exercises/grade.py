"""Grade a folder of submitted exercise notebooks with otter, without Docker.

    python exercises/grade.py SUBMISSIONS [--autograders build/exercises] [--out build/grades]
                              [--timeout 300] [--jobs 1]

`otter grade` runs every submission in a Docker container; `otter run` grades one submission in
the current environment. This script is the loop between the two: it grades every ``*.ipynb``
in SUBMISSIONS with otter's own non-containerised grader (``otter.api.grade_submission``, what
``otter run`` calls), picks each notebook's autograder from the assignment name otter stored in
its metadata, and writes one CSV per exercise with otter's own table
(``otter.grade.utils.merge_scores_to_df``, what ``otter grade`` writes as final_grades.csv):
a row of points possible, then one row per submission, a column per question, and otter's
``grading_status`` column ("Completed", or why the submission scored 0).

Real submissions loop, crash and arrive truncated, so each one is graded the way ``otter grade``
isolates its containers: in a process of its own (forked from this one, so otter is imported
once), killed when it runs past ``--timeout`` seconds, and its kernel with it; ``--jobs``
submissions at a time. A submission that times out or whose kernel dies gets a row of zeros
whose status says so (otter's ``GradingResults.without_results``, as ``otter grade`` records a
container that timed out); a file that is not valid JSON, or a notebook that is no exercise, is
named in ``<out>/not-graded.csv``. The CSVs are rewritten after every submission, so an interrupted run
keeps what it graded. A summary ends the run; the exit status is 1 when any submission timed
out, crashed or could not be graded.

It runs the students' code in this environment, unsandboxed: grade only notebooks you would run.
"""
import argparse
import csv
import multiprocessing
import multiprocessing.connection
import sys
import time
import warnings
from pathlib import Path

import nbformat
from nbformat.reader import NotJSONError
from otter.api import grade_submission
from otter.grade.utils import TimeoutException, merge_scores_to_df
from otter.test_files import GradingResults

from dcscratch.validation import check_positive_int, check_real

DEFAULT_TIMEOUT = 300  # seconds; grading a solution notebook takes 5-30 s on 2 CPU cores
COMPLETED = "Completed"  # otter's grading_status of a submission that ran to its end


class SubmissionCrashed(Exception):
    """The process grading a submission died, or its kernel did, before otter had scores."""


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


def _grade_in_child(connection, path, autograder):
    """Send otter's GradingResults, or a sentence saying why there are none (plain data only)."""
    try:
        outcome = grade_submission(path, autograder, quiet=True)
        outcome.notebook = None  # the executed notebook: large, and not needed for the table
    except BaseException as error:  # noqa: BLE001 (a dead kernel: reported as this row's status)
        outcome = f"crashed: {type(error).__name__}: {error}"
    try:
        connection.send(outcome)
    except Exception as error:  # noqa: BLE001 (results that do not pickle)
        connection.send(f"crashed: its results could not be passed back "
                        f"({type(error).__name__}: {error})")
    finally:
        connection.close()


def _process_context():
    # Fork where the platform has it: the child starts with otter already imported (a fresh
    # interpreter spends 10 s or more importing it). It runs no NumPy or TensorFlow code of this
    # process, only otter's, which starts the submission's kernel as a new program.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


class Grading:
    """One submission being graded in a process of its own, with its deadline."""

    def __init__(self, path, name, autograder, timeout):
        self.path, self.name, self.timeout = path, name, timeout
        context = _process_context()
        self.receiver, sender = context.Pipe(duplex=False)
        self.process = context.Process(target=_grade_in_child,
                                       args=(sender, str(path), str(autograder)), daemon=True)
        with warnings.catch_warnings():
            # Python >= 3.12 warns about forking a process with threads (NumPy's BLAS pool);
            # the child uses none of them, see _process_context.
            warnings.filterwarnings("ignore", "This process .* is multi-threaded",
                                    DeprecationWarning)
            self.process.start()
        sender.close()
        self.started = time.monotonic()
        self.deadline = self.started + timeout

    def finish(self):
        """otter's GradingResults; for a submission that timed out or died, "without results".

        Such results score zero on every question, and their error is the row's status.
        """
        if not self.receiver.poll(0):
            # Killing the grader ends its kernel too: ipykernel exits when its parent does.
            self.process.kill()
            outcome = TimeoutException(
                f"timed out: still running after {self.timeout:g} s (raise it with --timeout)")
        else:
            try:
                outcome = self.receiver.recv()
            except EOFError:  # the grading process died without a word (a segfault in otter)
                self.process.join()
                outcome = f"crashed: the grading process died with exit code {self.process.exitcode}"
            if isinstance(outcome, str):
                outcome = SubmissionCrashed(outcome)
        self.receiver.close()
        self.process.join()
        graded = (GradingResults.without_results(outcome) if isinstance(outcome, Exception)
                  else outcome)
        graded.file = self.path.name
        return graded


def grade_isolated(submissions, timeout, jobs=1):
    """Yield (exercise, GradingResults, seconds) for each (path, exercise, autograder zip), as each ends.

    At most `jobs` submissions are graded at once, each in a process of its own that is killed
    after `timeout` seconds.
    """
    waiting, running = list(submissions), []
    while waiting or running:
        while waiting and len(running) < jobs:
            running.append(Grading(*waiting.pop(0), timeout))
        next_deadline = min(grading.deadline for grading in running)
        multiprocessing.connection.wait([grading.receiver for grading in running],
                                        timeout=max(0.0, next_deadline - time.monotonic()))
        for grading in list(running):
            if grading.receiver.poll(0) or time.monotonic() >= grading.deadline:
                running.remove(grading)
                yield grading.name, grading.finish(), time.monotonic() - grading.started


def _problem(path, autograders):
    """(exercise name, autograder zip, None), or (None, None, why it cannot be graded)."""
    try:
        name = assignment_name(path)
    except NotJSONError:
        return None, None, "unreadable: not valid JSON (a truncated or damaged file?)"
    except Exception as error:  # noqa: BLE001 (JSON, but not a notebook nbformat can read)
        return None, None, f"unreadable: {type(error).__name__}: {str(error)[:200]}"
    if name is None:
        return None, None, "not an exercise notebook (no otter metadata)"
    try:
        return name, autograder_zip(autograders, name), None
    except FileNotFoundError as error:
        return None, None, str(error)


def grade_folder(submissions, autograders, out, timeout=DEFAULT_TIMEOUT, jobs=1):
    """Grade every notebook in `submissions`.

    Returns ({exercise: CSV path}, {exercise: [GradingResults]}, {file name: why not graded}).
    """
    paths = sorted(Path(submissions).glob("*.ipynb"))
    if not paths:
        raise FileNotFoundError(f"No .ipynb submissions in {submissions}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "not-graded.csv").unlink(missing_ok=True)  # a previous run's
    gradable, problems = [], {}
    for path in paths:
        name, autograder, problem = _problem(path, autograders)
        if problem is None:
            gradable.append((path, name, autograder))
        else:
            problems[path.name] = problem
            print(f"not graded: {path.name}: {problem}", file=sys.stderr, flush=True)
    if problems:
        with open(out / "not-graded.csv", "w", newline="") as file:
            csv.writer(file).writerows([("file", "reason"), *sorted(problems.items())])
    print(f"grading {len(gradable)} submission(s), {min(jobs, len(gradable))} at a time, "
          f"each for at most {timeout:g} s", flush=True)
    results, written = {}, {}
    for name, graded, seconds in grade_isolated(gradable, timeout, jobs):
        print(f"{graded.file} ({name}): {_status(graded)} in {seconds:.0f} s", flush=True)
        results.setdefault(name, []).append(graded)
        results[name].sort(key=lambda g: g.file)
        written[name] = out / f"{name}.csv"
        merge_scores_to_df(results[name]).to_csv(written[name], index=False)
    return written, results, problems


def _status(graded):
    if graded.has_catastrophic_failure():
        return str(graded.catastrophic_error)
    return f"{COMPLETED}, {graded.total:g}/{graded.possible:g}"


def summary(written, results, problems):
    """What a teacher reads at the end: counts, each CSV, and every submission that went wrong."""
    lines = []
    for name, graded in sorted(results.items()):
        failed = [g for g in graded if g.has_catastrophic_failure()]
        lines.append(f"{written[name]}: {len(graded)} submission(s), "
                     f"{len(graded) - len(failed)} completed"
                     + (f", {len(failed)} scored 0 because:" if failed else ""))
        lines += [f"  {g.file}: {g.catastrophic_error}" for g in failed]
    if problems:
        lines.append(f"not graded ({len(problems)}, listed in not-graded.csv):")
        lines += [f"  {file}: {why}" for file, why in sorted(problems.items())]
    return "\n".join(lines)


def went_wrong(results, problems):
    return bool(problems) or any(g.has_catastrophic_failure()
                                 for graded in results.values() for g in graded)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", help="folder of submitted .ipynb files")
    parser.add_argument("--autograders", default="build/exercises",
                        help="where `make exercises` wrote <exercise>/autograder/")
    parser.add_argument("--out", default="build/grades",
                        help="folder for <exercise>.csv and not-graded.csv")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"seconds one submission may run (default {DEFAULT_TIMEOUT})")
    parser.add_argument("--jobs", type=int, default=1,
                        help="submissions graded at once (default 1; at most one per CPU core)")
    args = parser.parse_args(argv)
    try:
        check_real(args.timeout, "timeout", minimum=0, include_minimum=False)
        check_positive_int(args.jobs, "jobs")
    except ValueError as error:
        parser.error(str(error))
    written, results, problems = grade_folder(args.submissions, args.autograders, args.out,
                                              args.timeout, args.jobs)
    print(summary(written, results, problems))
    return 1 if went_wrong(results, problems) else 0


if __name__ == "__main__":
    sys.exit(main())
