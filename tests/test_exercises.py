"""The classroom exercises: every otter master assigns, and its tests grade what they should.

One `otter assign` per master (it grades the solutions against every test, public and hidden,
and fails otherwise) is shared by all the tests below through a session fixture. Scores are read
from otter's per-question results, never from an exit code.
"""
import configparser
import copy
import importlib.util
import random
import re
import socket
import subprocess
from contextlib import contextmanager
from pathlib import Path

import nbformat
import otter.api as otter_api
import otter.assign as otter_assign
import pandas as pd
import pytest

from exercise_wrong_answers import WRONG_ANSWERS

ROOT = Path(__file__).resolve().parents[1]
MASTERS = sorted((ROOT / "exercises").glob("*.ipynb"))
STEMS = [path.stem for path in MASTERS]

# otter's own code calls a pandas method that pandas has deprecated; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.drop")


@contextmanager
def no_network():
    """Refuse every connection that leaves the machine (kernels talk over loopback and stay)."""
    original_connect = socket.socket.connect

    def local_only(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if sock.family in (socket.AF_INET, socket.AF_INET6) and host not in (
                "127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"otter tried to reach the network: {address}")
        return original_connect(sock, address)

    socket.socket.connect = local_only
    try:
        yield
    finally:
        socket.socket.connect = original_connect


def test_the_network_guard_refuses_a_remote_address():
    with no_network(), socket.socket() as sock, pytest.raises(AssertionError, match="network"):
        sock.connect(("192.0.2.1", 9))  # TEST-NET-1: refused before any packet leaves


class Assigned:
    """The output of `otter assign` for one master."""

    def __init__(self, stem, folder):
        self.stem, self.folder = stem, folder
        self.student = folder / "student" / f"{stem}.ipynb"
        self.solutions = folder / "autograder" / f"{stem}.ipynb"
        (self.autograder,) = (folder / "autograder").glob("*-autograder_*.zip")
        self._blank = None

    def questions(self):
        return list(nbformat.read(self.student, as_version=4).metadata["otter"]["tests"])

    def grade(self, notebook_path, *, debug=False):
        return otter_api.grade_submission(str(notebook_path), str(self.autograder), quiet=True,
                                          debug=debug)

    def blank(self):
        """Grade the untouched student copy once, in debug mode: any exception in a cell raises."""
        if self._blank is None:
            try:
                self._blank = (self.grade(self.student, debug=True), None)
            except Exception as error:  # noqa: BLE001 (reported by the test that needs it)
                self._blank = (None, error)
        return self._blank


@pytest.fixture(scope="session")
def assigned(tmp_path_factory):
    """`otter assign` each master at most once per session, offline; stem -> Assigned."""
    cache = {}

    def get(stem):
        if stem not in cache:
            folder = tmp_path_factory.mktemp("exercises") / stem
            with no_network():
                otter_assign.main(str(ROOT / "exercises" / f"{stem}.ipynb"), str(folder),
                                  no_pdfs=True)
            cache[stem] = Assigned(stem, folder)
        return cache[stem]

    return get


def scores(results):
    return {name: (result["score"], result["possible"]) for name, result in results.to_dict().items()}


def failure_messages(results, question):
    return "\n".join(case.message for case in results.get_result(question).test_case_results
                     if not case.passed)


def test_there_is_a_master_for_every_chapter_notebook():
    notebooks = {path.stem for path in (ROOT / "notebooks").glob("*.ipynb")}
    assert set(STEMS) <= notebooks, "a master is named after its course notebook"
    # 00 (start here) has nothing to exercise; every chapter after it has a set.
    assert set(STEMS) == {stem for stem in notebooks if not stem.startswith("00")}


@pytest.mark.parametrize("stem", STEMS)
def test_assign_passes_the_solutions_and_hides_them_from_students(stem, assigned):
    exercise = assigned(stem)  # otter assign raises unless the solutions pass every test
    master = nbformat.read(ROOT / "exercises" / f"{stem}.ipynb", as_version=4)
    student = nbformat.read(exercise.student, as_version=4)
    assert 3 <= len(exercise.questions()) <= 6
    student_text = "\n".join(cell.source for cell in student.cells)
    assert "SOLUTION" not in student_text and "BEGIN TESTS" not in student_text
    # Hidden tests stay in the autograder: the student copy carries only the public ones.
    hidden = [cell.source.splitlines()[1] for cell in master.cells
              if cell.cell_type == "code" and cell.source.startswith("# HIDDEN")]
    assert hidden, "every master has hidden tests"
    public_tests = "\n".join(student.metadata["otter"]["tests"].values())
    for definition in hidden:
        assert definition.split("(")[0] not in public_tests


@pytest.mark.parametrize("stem", STEMS)
def test_blank_student_notebook_runs_top_to_bottom_without_an_exception(stem, assigned):
    _, error = assigned(stem).blank()
    assert error is None, f"a cell of the blank {stem} raised:\n{error}"


@pytest.mark.parametrize("stem", STEMS)
def test_blank_student_notebook_scores_zero_on_every_question(stem, assigned):
    exercise = assigned(stem)
    results, error = exercise.blank()
    if error is not None:
        pytest.fail(f"the blank notebook raised, see the test above: {type(error).__name__}")
    graded = scores(results)
    assert sorted(graded) == sorted(exercise.questions())
    assert {name: score for name, (score, _) in graded.items()} == {name: 0 for name in graded}
    assert all(possible > 0 for _, possible in graded.values())


def _with_answers(student, answers):
    """A copy of the student notebook with `answers[question]` in that question's answer cell."""
    notebook = copy.deepcopy(student)
    answer_cell = None
    for cell in notebook.cells:
        if "otter_answer_cell" in cell.metadata.get("tags", []):
            answer_cell = cell
        question = cell.source.partition('grader.check("')[2].partition('")')[0]
        if question in answers:
            answer_cell.source = answers[question]
    return notebook


@pytest.mark.parametrize("stem", STEMS)
def test_every_question_catches_its_plausible_wrong_answers(stem, assigned, tmp_path):
    exercise = assigned(stem)
    wrong = WRONG_ANSWERS[stem]
    assert sorted(wrong) == sorted(exercise.questions()), "a wrong answer for every question"
    student = nbformat.read(exercise.student, as_version=4)
    for round_ in range(max(len(answers) for answers in wrong.values())):
        this_round = {question: answers[round_] for question, answers in wrong.items()
                      if round_ < len(answers)}
        folder = tmp_path / f"round{round_}"
        folder.mkdir()
        path = folder / exercise.student.name
        nbformat.write(_with_answers(student, {q: a.source for q, a in this_round.items()}), path)
        results = exercise.grade(path)
        for question, answer in this_round.items():
            score, possible = scores(results)[question]
            assert score < possible, f"{stem} {question}: not caught: {answer.why}"
            assert answer.hint in failure_messages(results, question), (
                f"{stem} {question} ({answer.why}): the failure should say {answer.hint!r}; it said\n"
                + failure_messages(results, question))


def _grading_script():
    spec = importlib.util.spec_from_file_location("exercise_grading", ROOT / "exercises" / "grade.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _with_first_answer(student, source):
    notebook = copy.deepcopy(student)
    next(cell for cell in notebook.cells
         if "otter_answer_cell" in cell.metadata.get("tags", [])).source = source
    return notebook


# Long enough for a correct submission on a loaded 2-core machine (5-30 s measured), and the
# price of the looping one: the submissions are graded 5 at a time, so the test takes about this.
GRADING_TIMEOUT = 60


def test_teacher_grading_survives_looping_dying_truncated_and_foreign_submissions(
        assigned, tmp_path, capsys):
    exercise = assigned(STEMS[0])
    student = nbformat.read(exercise.student, as_version=4)
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    (submissions / "blank.ipynb").write_bytes(exercise.student.read_bytes())
    solved = exercise.solutions.read_text()
    (submissions / "solved.ipynb").write_text(solved)
    (submissions / "truncated.ipynb").write_text(solved[:len(solved) // 2])
    (submissions / "notes.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook()))
    for name, answer in [("looping", "while True:\n    pass"),
                         ("exits", "import os\nos._exit(1)"),
                         ("segfaults", "import ctypes\nctypes.string_at(0)")]:
        nbformat.write(_with_first_answer(student, answer), submissions / f"{name}.ipynb")
    grades = tmp_path / "grades"
    status = _grading_script().main([
        str(submissions), "--autograders", str(exercise.folder.parent), "--out", str(grades),
        "--timeout", str(GRADING_TIMEOUT), "--jobs", "5"])
    printed = capsys.readouterr()
    assert status == 1, "the exit status says something went wrong"
    assert "not graded: notes.ipynb: not an exercise notebook" in printed.err
    assert "not graded: truncated.ipynb: unreadable: not valid JSON" in printed.err
    assert "5 submission(s), 2 completed, 3 scored 0 because:" in printed.out
    not_graded = pd.read_csv(grades / "not-graded.csv").set_index("file")["reason"]
    assert sorted(not_graded.index) == ["notes.ipynb", "truncated.ipynb"]
    table = pd.read_csv(grades / f"{exercise.stem}.csv").set_index("file")
    questions = exercise.questions()
    assert set(questions) <= set(table.columns)
    assert list(table.index) == ["points-per-question", "blank.ipynb", "exits.ipynb",
                                 "looping.ipynb", "segfaults.ipynb", "solved.ipynb"]
    possible = table.loc["points-per-question", questions]
    assert (table.loc["solved.ipynb", questions] == possible).all()
    for row in ["blank.ipynb", "exits.ipynb", "looping.ipynb", "segfaults.ipynb"]:
        assert (table.loc[row, questions] == 0).all(), row
    status_of = table["grading_status"]
    assert status_of["blank.ipynb"] == status_of["solved.ipynb"] == "Completed"
    assert status_of["looping.ipynb"].startswith(f"timed out: still running after {GRADING_TIMEOUT} s")
    assert status_of["exits.ipynb"] == status_of["segfaults.ipynb"] == (
        "crashed: DeadKernelError: Kernel died")
    for row in ["exits.ipynb", "looping.ipynb", "segfaults.ipynb"]:
        assert f"  {row}: {status_of[row]}" in printed.out, "the summary says why"


def test_make_grade_passes_timeout_and_jobs_on_and_leaves_the_default_to_the_script():
    def grade_command(*knobs):
        printed = subprocess.run(["make", "-n", "--no-print-directory", "grade",
                                  "SUBMISSIONS=folder", *knobs], cwd=ROOT, capture_output=True,
                                 text=True, timeout=60)
        assert printed.returncode == 0, printed.stderr
        return " ".join(printed.stdout.replace("\\\n", " ").split())

    assert 'grade.py "folder" --autograders build/exercises --out build/grades --timeout 7 --jobs 3' in (
        grade_command("TIMEOUT=7", "JOBS=3"))
    assert "--timeout" not in grade_command() and "--jobs" not in grade_command()
    # the README states the script's default
    assert f"(default {_grading_script().DEFAULT_TIMEOUT};" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("flag, value", [("--timeout", "0"), ("--jobs", "0")])
def test_teacher_grading_refuses_a_limit_that_is_not_positive(flag, value, tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        _grading_script().main([str(tmp_path), flag, value])
    assert stopped.value.code == 2
    assert f"Invalid value received for argument `{flag[2:]}`" in capsys.readouterr().err


def test_nbval_sanitizes_otters_random_emoji_in_a_passing_check():
    from otter.test_files.exception_test import ExceptionTestFile

    passing = ExceptionTestFile.from_string(
        "from otter.test_files import test_case\nname = 'q1'\n\n"
        "@test_case()\ndef test_true():\n    assert True\n")
    passing.run({})
    rules = configparser.ConfigParser()
    rules.read(ROOT / "tests" / "nbval_sanitize.cfg", encoding="utf-8")

    def sanitized(html):
        for section in rules.sections():
            html = re.sub(rules[section]["regex"], rules[section]["replace"], html)
        return html

    shown = set()
    for seed in range(40):
        random.seed(seed)
        shown.add(passing._repr_html_())
    assert len(shown) > 1, "otter picks its emoji at random"
    assert len({sanitized(html) for html in shown}) == 1
