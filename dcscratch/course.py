"""Execute the course's notebooks and render them to browsable HTML.

    python -m dcscratch.course build     # fresh copies under build/, HTML under build/html
    python -m dcscratch.course refresh   # re-execute the committed notebooks in place

``build`` never touches the committed notebooks; ``refresh`` is for maintainers
who changed code or text and want the stored outputs regenerated in one step.
"""
import argparse
import html
import subprocess
import sys
import time
from pathlib import Path

CELL_TIMEOUT_S = 600


def notebook_paths(folder):
    """The course's notebooks in course order (their names start with 00_, 01_, ...)."""
    return sorted(path for path in Path(folder).glob("[0-9][0-9]_*.ipynb"))


def title_of(notebook):
    """The first Markdown heading of a notebook, without its leading #s."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return "untitled"


def execute(path, *, working_dir):
    """Execute the notebook at ``path`` in a fresh kernel; return the executed notebook.

    Outputs are cleared first, so execution counts run 1, 2, 3, ...
    """
    import nbformat
    from nbclient import NotebookClient

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


INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>dcscratch — DropConnect from scratch</title>
<style>body{{font-family:sans-serif;max-width:46em;margin:3em auto;line-height:1.5}}
li{{margin:.4em 0}}</style></head>
<body><h1>dcscratch — DropConnect from scratch</h1>
<p>The executed course, in order. Each page shows the notebook as it ran on this machine.</p>
<ol start="0">
{items}
</ol></body></html>
"""


def build(notebooks_dir, build_dir):
    """Execute copies of every notebook under ``build_dir`` and render HTML with an index."""
    import nbformat
    from nbconvert import HTMLExporter

    notebooks_dir, build_dir = Path(notebooks_dir), Path(build_dir)
    copies, html_dir = build_dir / "notebooks", build_dir / "html"
    copies.mkdir(parents=True, exist_ok=True)
    html_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for path in notebook_paths(notebooks_dir):
        copy = copies / path.name
        copy.write_text(path.read_text())
        paths.append(copy)
    exporter = HTMLExporter(template_name="lab")
    items = []

    def write(path, notebook):
        nbformat.write(notebook, path)
        body, _ = exporter.from_notebook_node(notebook)
        page = html_dir / (path.stem + ".html")
        page.write_text(body)
        items.append(f'<li><a href="{page.name}">{html.escape(title_of(notebook))}</a> '
                     f'<small>({path.name})</small></li>')

    print(f"Executing {len(paths)} notebooks in fresh kernels:")
    if not _run_all(paths, write):
        return 1
    index = html_dir / "index.html"
    index.write_text(INDEX_TEMPLATE.format(items="\n".join(items)))
    print(f"\nThe course is ready: open {index.resolve()} in a browser.")
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
    parser.add_argument("command", choices=["build", "refresh"])
    parser.add_argument("--notebooks", default="notebooks", help="folder of the notebooks")
    parser.add_argument("--build-dir", default="build", help="where build writes (default: build)")
    parser.add_argument("--only", nargs="*", default=None,
                        help="refresh only notebooks whose names start with these prefixes")
    args = parser.parse_args(argv)
    if args.command == "build":
        return build(args.notebooks, args.build_dir)
    if args.only:
        import nbformat
        paths = [path for path in notebook_paths(args.notebooks)
                 if any(path.name.startswith(prefix) for prefix in args.only)]
        return 0 if _run_all(paths, lambda path, nb: nbformat.write(nb, path)) else 1
    return refresh(args.notebooks)


if __name__ == "__main__":
    sys.exit(main())
