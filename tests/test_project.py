"""The project's own files: set-up, the nbval pipeline and the stored notebooks."""
import re
import subprocess
import sys
import tomllib

import nbformat
import pytest
import yaml

from dcscratch import course

NOTEBOOKS = course.notebook_paths(course.Path(__file__).resolve().parents[1] / "notebooks")


def _requirement_name(requirement):
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_installs_the_same_requirements_as_pyproject(root):
    environment = yaml.safe_load((root / "environment.yml").read_text())
    pip_section = next(item["pip"] for item in environment["dependencies"]
                       if isinstance(item, dict))
    assert "pip" in environment["dependencies"]
    # The conda set-up installs this package with its test extra, under the same pins.
    assert "-c constraints.txt" in pip_section
    assert "-e .[test]" in pip_section
    assert len(pip_section) == 2, "name requirements in pyproject.toml, not here"


def test_constraints_pin_every_requirement_of_pyproject(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    required = project["dependencies"] + [
        requirement for extra in project["optional-dependencies"].values()
        for requirement in extra if not requirement.startswith(f"{project['name']}[")]
    pins = {}
    for line in (root / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[_requirement_name(name)] = version
    for requirement in required:
        assert _requirement_name(requirement) in pins, f"{requirement} is not pinned"
    # Lower bounds only in pyproject.toml: exact versions belong in constraints.txt.
    assert not any("==" in requirement or "<" in requirement for requirement in required)


def test_ci_runs_the_readme_test_command(root):
    assert "make test" in (root / ".ci" / "run").read_text()
    readme = (root / "README.md").read_text()
    assert "make test" in readme and "make course" in readme


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_stored_notebook_was_executed_top_to_bottom_cleanly(path):
    notebook = nbformat.read(path, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code_cells] == list(range(1, len(code_cells) + 1))
    assert "set_seeds(" in code_cells[0].source, "seeds are set once, at the top"
    for cell in code_cells:
        for output in cell.outputs:
            assert output.output_type != "error", cell.source
            assert not (output.output_type == "stream" and output.name == "stderr"), cell.source
            text = output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
            assert not re.search(r"/(work|home|root|tmp|Users)/|0x[0-9a-f]{6,}", text), text
        kinds = [output.get("name", output.output_type) for output in cell.outputs]
        assert all(a != b for a, b in zip(kinds, kinds[1:])), f"stdout in pieces: {cell.source}"
        first_line = cell.source.splitlines()[0] if cell.source else ""
        if "NBVAL_IGNORE_OUTPUT" in cell.source:
            assert re.match(r"# NBVAL_IGNORE_OUTPUT — \S", first_line), "say why on that line"
        if "plt." in cell.source and "savefig" not in cell.source:
            assert cell.source.rstrip().endswith("plt.show()"), cell.source


def _nbval(folder, root):
    (folder / "conftest.py").write_text((root / "conftest.py").read_text())
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(folder),
         "--nbval", "--nbval-current-env", "--nbval-sanitize-with",
         str(root / "tests" / "nbval_sanitize.cfg"), str(folder)],
        cwd=folder, capture_output=True, text=True, timeout=300)


def _executed_notebook(source, stored_stdout, stderr=None):
    cell = nbformat.v4.new_code_cell(source, execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=stored_stdout)]
    if stderr:
        cell.outputs.append(nbformat.v4.new_output("stream", name="stderr", text=stderr))
    return nbformat.v4.new_notebook(cells=[cell])


def test_nbval_fails_a_notebook_whose_stored_output_is_stale(tmp_path, root):
    nbformat.write(_executed_notebook("print(6 * 7)", "41\n"), tmp_path / "stale.ipynb")
    result = _nbval(tmp_path, root)
    assert result.returncode != 0, result.stdout
    assert "1 failed" in result.stdout


def test_nbval_passes_matching_output_and_ignores_stderr_and_addresses(tmp_path, root):
    source = "import sys\nprint(6 * 7, object())\nprint('library chatter', file=sys.stderr)"
    nbformat.write(_executed_notebook(source, "42 <object object at 0x7f00deadbeef>\n",
                                      stderr="different chatter\n"), tmp_path / "fresh.ipynb")
    result = _nbval(tmp_path, root)
    assert result.returncode == 0, result.stdout
    assert "1 passed" in result.stdout


def test_nbval_skips_a_cell_marked_ignore_output_with_a_reason(tmp_path, root):
    source = "# NBVAL_IGNORE_OUTPUT — a timing\nimport time\nprint(time.perf_counter())"
    nbformat.write(_executed_notebook(source, "-1.0\n"), tmp_path / "timing.ipynb")
    result = _nbval(tmp_path, root)
    assert result.returncode == 0, result.stdout


def test_course_build_executes_copies_and_builds_the_website(tmp_path, capsys):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for name, title in (("01_second.ipynb", "Second"), ("00_first.ipynb", "First")):
        notebook = nbformat.v4.new_notebook(cells=[
            nbformat.v4.new_markdown_cell(f"# {title}"),
            nbformat.v4.new_code_cell(f"print('{title} ran')")])
        nbformat.write(notebook, notebooks / name)
    originals = {path.name: path.read_text() for path in notebooks.iterdir()}
    assert course.build(notebooks, tmp_path / "build") == 0
    html = tmp_path / "build" / "html"
    sidebar = (html / "index.html").read_text()
    assert sidebar.index('href="notebooks/00_first.html"') < sidebar.index(
        'href="notebooks/01_second.html"'), "the course's order"
    assert "First ran" in (html / "notebooks" / "00_first.html").read_text()
    executed = nbformat.read(tmp_path / "build" / "notebooks" / "00_first.ipynb", as_version=4)
    assert executed.cells[1].execution_count == 1
    assert {path.name: path.read_text() for path in notebooks.iterdir()} == originals
    printed = capsys.readouterr().out
    # Where the site is, and how long each part took.
    assert f"open {(html / 'index.html').resolve()}" in printed
    assert re.search(r"all notebooks\s+[\d.]+ s", printed)
    # The two notebooks' pages and docs/measurements.md, the measurement record.
    assert re.search(r"3 pages and the README\s+[\d.]+ s", printed)


def test_course_build_stops_at_a_failing_cell_and_names_it(tmp_path, capsys):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("raise RuntimeError('broken on purpose')")]),
        notebooks / "00_broken.ipynb")
    assert course.build(notebooks, tmp_path / "build") == 1
    captured = capsys.readouterr()
    assert "00_broken.ipynb" in captured.out and "FAILED" in captured.out
    assert "broken on purpose" in captured.err
    assert not (tmp_path / "build" / "html" / "index.html").exists()
