"""Sphinx configuration of the course's website (`make course` builds it).

`python -m dcscratch.course build` executes the notebooks, lays out the pages under
build/site (the README as the landing page, the executed notebooks, the exercises' student
copies, the benchmark report) and runs Sphinx with this file. The site must work offline:
nothing below may make a page load anything from the network.
"""
project = "DropConnect from scratch"
author = "the dcscratch authors"
copyright = "the dcscratch authors, MIT licence"

extensions = [
    "myst_nb",                 # notebooks and Markdown as pages
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax 3 copied into the site instead of a CDN
]

# The notebooks were executed just before the site is built: show their stored outputs.
nb_execution_mode = "off"
# $...$ and $$...$$ in Markdown cells, as in Jupyter.
myst_enable_extensions = ["dollarmath", "amsmath"]
# Widget outputs would pull their JavaScript from a CDN; the course's notebooks have none.
nb_ipywidgets_js = {}

html_theme = "sphinx_book_theme"
html_title = "DropConnect from scratch"
html_theme_options = {
    "show_navbar_depth": 1,        # the sidebar lists the course's pages in order
    "use_download_button": True,   # each notebook page offers its .ipynb
}
html_last_updated_fmt = None
