"""Execute the course's notebooks and build the course's offline website from them.

    python -m dcscratch.course build     # fresh copies under build/, website in build/html
    python -m dcscratch.course site      # only the website, from the copies build executed
    python -m dcscratch.course refresh   # re-execute the committed notebooks in place

``build`` never touches the committed notebooks; ``refresh`` is for maintainers
who changed code or text and want the stored outputs regenerated in one step.
The website's Sphinx configuration is ``docs/conf.py``.
"""
import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

CELL_TIMEOUT_S = 600


def notebook_paths(folder):
    """The course's notebooks in course order (their names start with 00_, 01_, ...)."""
    return sorted(path for path in Path(folder).glob("[0-9][0-9]_*.ipynb"))


def execute(path, *, working_dir):
    """Execute the notebook at ``path`` in a fresh kernel; return the executed notebook.

    Outputs are cleared first, so execution counts run 1, 2, 3, ...
    """
    import nbformat
    from nbclient import NotebookClient
    from nbconvert.preprocessors.coalescestreams import CoalesceStreamsPreprocessor

    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            record_timing=False,  # no timestamps: diffs show only real changes
                            resources={"metadata": {"path": str(working_dir)}})
    # The kernel's own stderr (jupyter's start-up notices) would interleave with the
    # progress lines; errors in cells still arrive through the notebook protocol.
    client.execute(stderr=subprocess.DEVNULL)
    # A cell's stdout arrives in as many pieces as the kernel happened to flush (more under
    # load): merged into one output, the stored notebook is the same however busy the machine.
    CoalesceStreamsPreprocessor().preprocess(notebook, {})
    notebook.metadata.pop("widgets", None)
    return notebook


def _run_all(paths, write):
    """Execute each notebook, print its name and seconds; stop at the first failure."""
    from nbclient.exceptions import CellExecutionError

    total = time.perf_counter()
    for path in paths:
        start = time.perf_counter()
        print(f"  {path.name:<40}", end="", flush=True)
        try:
            notebook = execute(path, working_dir=path.parent)
        except CellExecutionError as error:
            print("FAILED")
            print(f"\n{path.name} stopped at this cell:\n{error}", file=sys.stderr)
            return False
        write(path, notebook)
        print(f"{time.perf_counter() - start:6.1f} s", flush=True)
    print(f"  {'all notebooks':<40}{time.perf_counter() - total:6.1f} s")
    return True


ROOT = Path(__file__).resolve().parents[1]
SITE_CONF = ROOT / "docs"  # the website's conf.py, and its pages beside the README (*.md)


def _toctree(caption, pages):
    """A MyST toctree: the sidebar section ``caption``, listing ``pages`` in this order."""
    entries = [str(page.with_suffix("")) for page in pages]
    return "\n".join(["```{toctree}", ":hidden:", f":caption: {caption}", "", *entries, "```"])


def _copy_pages(paths, site_dir, folder):
    """Copy ``paths`` into ``site_dir/folder``; return the pages, relative to ``site_dir``."""
    (Path(site_dir) / folder).mkdir(parents=True, exist_ok=True)
    for path in paths:
        shutil.copyfile(path, Path(site_dir) / folder / path.name)
    return [Path(folder) / path.name for path in paths]


def assemble_site(site_dir, notebooks, *, readme, exercises_dir, bench_dir, docs_dir=SITE_CONF):
    """Lay out the website's pages under ``site_dir``; return them, in the sidebar's order.

    The landing page is the README (its links to ``notebooks/*.ipynb`` become links to the
    pages); then a page per executed notebook, a page per exercise set (the student copy that
    ``make exercises`` writes to ``<exercises_dir>/<name>/student/<name>.ipynb``, never the
    solutions or the autograder), the benchmark report, when ``make bench`` wrote one, and
    the Markdown pages of ``docs_dir`` (the measurement record, ``docs/measurements.md``), at
    the same paths as in the repository, so the README's links to them work on the site too.
    """
    site_dir = Path(site_dir)
    shutil.rmtree(site_dir, ignore_errors=True)
    students = [folder / "student" / f"{folder.name}.ipynb"
                for folder in sorted(Path(exercises_dir).glob("*"))]
    sections = {
        "Course": _copy_pages(notebooks, site_dir, "notebooks"),
        "Exercises (student copies)": _copy_pages(
            [student for student in students if student.exists()], site_dir, "exercises"),
        "Benchmark": [],
    }
    report, figure = Path(bench_dir) / "bench.md", Path(bench_dir) / "bench.png"
    if report.exists():
        text = ["# Benchmark report", "",
                "The last run of `make bench` (`python -m dcscratch.bench`) on this machine.", "",
                report.read_text()]
        if figure.exists():
            shutil.copyfile(figure, site_dir / figure.name)
            text += ["", f"![Mask generation and training-step ratios]({figure.name})"]
        (site_dir / "bench.md").write_text("\n".join(text) + "\n")
        sections["Benchmark"].append(Path("bench.md"))
    sections["Measurements"] = _copy_pages(sorted(Path(docs_dir).glob("*.md")), site_dir, "docs")
    toctrees = [_toctree(caption, pages) for caption, pages in sections.items() if pages]
    (site_dir / "index.md").write_text("\n\n".join([Path(readme).read_text(), *toctrees]) + "\n")
    return [page for pages in sections.values() for page in pages]


def build_site(build_dir, notebooks, *, readme=ROOT / "README.md"):
    """Build the website ``build_dir/html`` from the executed ``notebooks``.

    Sphinx with MyST-NB, which shows the stored outputs (nothing is executed again), and the
    configuration in ``docs/conf.py``. Exercises and the benchmark report are taken from
    ``build_dir/exercises`` and ``build_dir/bench`` when present. Prints what it did and how
    long it took; returns True if the site was built.
    """
    build_dir = Path(build_dir)
    started = time.perf_counter()
    print("Building the website (Sphinx, MyST-NB) from the executed notebooks:", flush=True)
    pages = assemble_site(build_dir / "site", notebooks, readme=readme,
                          exercises_dir=build_dir / "exercises", bench_dir=build_dir / "bench")
    html_dir = build_dir / "html"
    shutil.rmtree(html_dir, ignore_errors=True)  # no page left over from an earlier build
    sphinx = subprocess.run([sys.executable, "-m", "sphinx", "--builder", "html", "--quiet",
                             "--conf-dir", str(SITE_CONF),
                             "--doctree-dir", str(build_dir / "doctrees"),
                             str(build_dir / "site"), str(html_dir)])
    if sphinx.returncode != 0:
        print("The website did not build: Sphinx's messages are above.", file=sys.stderr)
        return False
    print(f"  {f'{len(pages)} pages and the README':<40}{time.perf_counter() - started:6.1f} s",
          flush=True)
    return True


def build(notebooks_dir, build_dir):
    """Execute copies of every notebook under ``build_dir``, then build the website from them."""
    import nbformat

    notebooks_dir, build_dir = Path(notebooks_dir), Path(build_dir)
    copies = build_dir / "notebooks"
    copies.mkdir(parents=True, exist_ok=True)
    paths = []
    for path in notebook_paths(notebooks_dir):
        copy = copies / path.name
        copy.write_text(path.read_text())
        paths.append(copy)
    print(f"Executing {len(paths)} notebooks in fresh kernels:")
    if not _run_all(paths, lambda path, notebook: nbformat.write(notebook, path)):
        return 1
    print()
    if not build_site(build_dir, paths):
        return 1
    index = build_dir / "html" / "index.html"
    print(f"\nThe course is ready: open {index.resolve()} in a browser (no network needed).")
    return 0


def refresh(notebooks_dir):
    """Re-execute the committed notebooks in place, storing their new outputs."""
    import nbformat

    paths = notebook_paths(notebooks_dir)
    print(f"Re-executing {len(paths)} notebooks in place:")
    return 0 if _run_all(paths, lambda path, notebook: nbformat.write(notebook, path)) else 1


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m dcscratch.course", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["build", "site", "refresh"])
    parser.add_argument("--notebooks", default="notebooks", help="folder of the notebooks")
    parser.add_argument("--build-dir", default="build", help="where build writes (default: build)")
    parser.add_argument("--only", nargs="*", default=None,
                        help="refresh only notebooks whose names start with these prefixes")
    args = parser.parse_args(argv)
    if args.command == "build":
        return build(args.notebooks, args.build_dir)
    if args.command == "site":
        executed = notebook_paths(Path(args.build_dir) / "notebooks")
        if not executed:
            parser.error(f"no executed notebooks in {Path(args.build_dir) / 'notebooks'}: "
                         "run `make course` first")
        return 0 if build_site(args.build_dir, executed) else 1
    if args.only:
        import nbformat
        paths = [path for path in notebook_paths(args.notebooks)
                 if any(path.name.startswith(prefix) for prefix in args.only)]
        return 0 if _run_all(paths, lambda path, nb: nbformat.write(nb, path)) else 1
    return refresh(args.notebooks)


if __name__ == "__main__":
    sys.exit(main())
