"""The course's website: pages, navigation, offline assets, and (in Chromium) math and search.

One small site is built for the whole module with the real configuration (docs/conf.py) and
the real README: two executed notebooks (00 and 01, as committed), one fake exercise set
(student copy, solutions and autograder) and a fake benchmark report.
"""
import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import pytest

from dcscratch import course

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = course.notebook_paths(ROOT / "notebooks")[:2]  # 00 and 01: 01 has the math
SOLUTION_MARKER = "SOLUTION_ONLY_a91f"  # only in the solutions and the autograder
NETWORK_URL = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)


def _exercise(text):
    """A notebook as Jupyter (and otter-grader after it) saves one."""
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Exercise: masks\n\nDraw a mask with `keep_prob`."),
        nbformat.v4.new_code_cell(text)], metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python", "pygments_lexer": "ipython3"}})


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A small site built as `make course` builds one; returns build/ and Sphinx's messages."""
    build = tmp_path_factory.mktemp("build")
    (build / "notebooks").mkdir()
    for path in NOTEBOOKS:
        shutil.copyfile(path, build / "notebooks" / path.name)
    exercise = build / "exercises" / "ex01_masks"
    for kind, text in (("student", "mask = ...  # YOUR CODE HERE"),
                       ("solution", f"mask = 1  # {SOLUTION_MARKER}"),
                       ("autograder", f"mask = 1  # {SOLUTION_MARKER}")):
        (exercise / kind).mkdir(parents=True)
        nbformat.write(_exercise(text), exercise / kind / "ex01_masks.ipynb")
    (build / "bench").mkdir()
    (build / "bench" / "bench.md").write_text("| variant | ms |\n|---|---:|\n| Dense | 1.0 |\n")
    plt.imsave(build / "bench" / "bench.png", [[0.0, 1.0], [1.0, 0.0]])
    # The command behind `make course`'s second half, run as it runs there.
    result = subprocess.run([sys.executable, "-m", "dcscratch.course", "site", "--build-dir",
                             str(build)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    return build, result.stderr


def _html_pages(build):
    return sorted((build / "html").rglob("*.html"))


def test_notebooks_exercises_benchmark_and_measurements_have_pages_in_course_order(site):
    build, _ = site
    html = build / "html"
    expected = [f"notebooks/{path.stem}.html" for path in NOTEBOOKS]
    expected += ["exercises/ex01_masks.html", "bench.html", "docs/measurements.html"]
    for page in expected:
        assert (html / page).exists(), page
    sidebar = (html / "index.html").read_text()
    positions = [sidebar.index(f'href="{page}"') for page in expected]
    assert positions == sorted(positions), "the sidebar lists the pages in course order"
    assert 'src="_images/bench.png"' in (html / "bench.html").read_text()
    assert "YOUR CODE HERE" in (html / "exercises" / "ex01_masks.html").read_text()


def test_every_notebook_of_the_course_gets_a_page(tmp_path):
    # Without Sphinx (fast): the landing page's table of contents lists every notebook.
    pages = course.assemble_site(tmp_path, course.notebook_paths(ROOT / "notebooks"),
                                 readme=ROOT / "README.md", exercises_dir=tmp_path / "none",
                                 bench_dir=tmp_path / "none")
    index = (tmp_path / "index.md").read_text()
    for path in course.notebook_paths(ROOT / "notebooks"):
        assert Path("notebooks") / path.name in pages
        assert f"\nnotebooks/{path.stem}\n" in index
    # The README links to docs/measurements.md: the page sits at that path on the site too.
    assert Path("docs") / "measurements.md" in pages
    assert "(docs/measurements.md)" in (ROOT / "README.md").read_text()
    assert "\ndocs/measurements\n" in index


def test_pages_link_to_the_previous_and_the_next_page(site):
    build, _ = site
    page = (build / "html" / "notebooks" / f"{NOTEBOOKS[1].stem}.html").read_text()
    assert re.search(rf'class="left-prev"\s+href="{NOTEBOOKS[0].stem}.html"', page)
    assert re.search(r'class="right-next"\s+href="../exercises/ex01_masks.html"', page)


def test_the_readme_is_the_landing_page_and_its_links_lead_to_the_pages(site):
    build, _ = site
    index = (build / "html" / "index.html").read_text()
    title = ROOT.joinpath("README.md").read_text().splitlines()[0].lstrip("# ")
    assert title in index
    assert f'href="notebooks/{NOTEBOOKS[0].stem}.html"' in index
    # The measurement record moved out of the README to a page of its own, linked from it.
    assert 'href="docs/measurements.html"' in index
    record = (build / "html" / "docs" / "measurements.html").read_text()
    assert "<h1>Measurements" in record and "2026-11-24" in record and "1.20×" in record


def test_sphinx_warns_only_about_the_notebooks_this_small_site_leaves_out(site):
    _, messages = site
    warnings = [line for line in messages.splitlines() if "WARNING" in line]
    assert warnings, "the README links to notebooks 02 to 05: Sphinx reports them missing here"
    left_out = [path.stem for path in course.notebook_paths(ROOT / "notebooks")[2:]]
    for warning in warnings:
        assert any(stem in warning for stem in left_out), warning


def test_no_solution_or_autograder_reaches_the_site(site):
    build, _ = site
    for path in (build / "html").rglob("*"):
        if path.is_file() and path.suffix in {".html", ".js", ".ipynb", ".txt"}:
            assert SOLUTION_MARKER not in path.read_text(errors="replace"), path


class _NetworkLoads(HTMLParser):
    """Collects the URLs of scripts, style sheets, images and frames that come from a network."""

    SOURCES = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src"}

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        url = dict(attrs).get(self.SOURCES.get(tag, ""))
        if url and NETWORK_URL.match(url):
            self.urls.append(f"<{tag}> {url}")


def network_loads(page_html):
    parser = _NetworkLoads()
    parser.feed(page_html)
    return parser.urls


def test_the_network_check_finds_a_cdn_script_a_font_link_and_an_image():
    page = ('<script src="https://cdn.example.org/mathjax.js"></script>'
            '<link rel="stylesheet" href="//fonts.example.org/css"><img src="HTTP://x.org/a.png">'
            '<script src="_static/local.js"></script><a href="https://example.org">a link</a>')
    assert len(network_loads(page)) == 3


def test_no_page_loads_a_script_style_font_or_image_from_the_network(site):
    build, _ = site
    pages = _html_pages(build)
    assert len(pages) >= 6  # index, search, genindex, two notebooks, exercise, benchmark
    for page in pages:
        assert network_loads(page.read_text()) == [], page
    for style in (build / "html" / "_static").rglob("*.css"):
        # Fonts and images of the theme's style sheets: url(...) and @import.
        assert not re.search(r"(url\(|@import)\s*['\"]?(https?:)?//", style.read_text()), style


# --- In a real browser -------------------------------------------------------------------

@pytest.fixture(scope="module")
def chromium():
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    how = "install it (Debian/Ubuntu: `sudo apt-get install chromium`)"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests, but there is no chromium: {how}")
    pytest.skip(f"no chromium for the browser tests: {how}")


def open_in_chromium(chromium, url, tmp_path):
    """The page's DOM after its scripts ran, and the network URLs that the page requested.

    Chromium's net log records every request; those the page made carry the page's origin
    ("null" for a file) as initiator, the browser's own (updates, ...) "not an origin".
    """
    netlog = tmp_path / "netlog.json"
    result = subprocess.run(
        [chromium, "--headless", "--disable-gpu", "--no-sandbox", "--disable-dev-shm-usage",
         "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=20000",  # time for MathJax and the search, in page time
         f"--log-net-log={netlog}", "--dump-dom", url],
        capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    log = json.loads(netlog.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    starts = [event.get("params", {}) for event in log["events"] if event["type"] == start_job]
    requested = [start["url"] for start in starts
                 if start.get("initiator") != "not an origin"
                 and NETWORK_URL.match(start.get("url", ""))]
    return result.stdout, requested


class _VisibleText(HTMLParser):
    """The page's text outside code, scripts, styles and rendered math."""

    HIDDEN = {"script", "style", "pre", "code", "mjx-container"}

    def __init__(self):
        super().__init__()
        self.depth, self.parts = 0, []

    def handle_starttag(self, tag, attrs):
        self.depth += tag in self.HIDDEN

    def handle_endtag(self, tag):
        self.depth -= tag in self.HIDDEN

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def visible_text(page_html):
    parser = _VisibleText()
    parser.feed(page_html)
    return "".join(parser.parts)


def test_the_browser_check_sees_a_page_load_from_the_network(chromium, tmp_path):
    page = tmp_path / "page.html"
    page.write_text('<img src="http://example.invalid/a.png"><p>$$ x $$</p>')
    dom, requested = open_in_chromium(chromium, page.as_uri(), tmp_path)
    assert set(requested) == {"http://example.invalid/a.png"}
    assert "$$" in visible_text(dom)


def test_math_of_notebook_01_renders_in_a_browser_without_the_network(chromium, site, tmp_path):
    build, _ = site
    page = build / "html" / "notebooks" / f"{NOTEBOOKS[1].stem}.html"
    formulas = page.read_text().count('class="math notranslate nohighlight"')
    assert formulas >= 3, "notebook 01 derives DropConnect in displayed formulas"
    dom, requested = open_in_chromium(chromium, page.as_uri(), tmp_path)
    assert requested == [], "the page loaded these from the network"
    assert dom.count("<mjx-container") >= formulas, "MathJax typeset every formula"
    text = visible_text(dom)
    for raw in ("$$", r"\[", r"\("):
        assert raw not in text, f"raw TeX {raw} left in the text"


def test_search_page_finds_keep_prob(chromium, site, tmp_path):
    build, _ = site
    url = (build / "html" / "search.html").as_uri() + "?q=keep_prob"
    dom, requested = open_in_chromium(chromium, url, tmp_path)
    assert requested == []
    results = re.findall(r'<li class="kind-\w+"><a href="([^"]+)"', dom)
    assert f"notebooks/{NOTEBOOKS[1].stem}.html" in results, results
