"""Sphinx configuration of the course's website; `make course` (or `make site`) builds it.

`python -m dcscratch.course` lays out the pages under build/site (the README as the landing
page, the executed notebooks, the exercises' student copies, the benchmark report) and runs
Sphinx with this file. The site must work offline: nothing here may make a page load
anything from the network. Everything not set here is the theme's default.
"""
project = "DropConnect from scratch"
author = "the dcscratch authors"
copyright = "the dcscratch authors, MIT licence"
html_title = "DropConnect from scratch"

extensions = [
    "myst_nb",                 # notebooks and Markdown pages
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax 3 copied into the site, instead of a CDN
]
html_theme = "sphinx_book_theme"

# The notebooks were executed just before the site is built: show their stored outputs.
nb_execution_mode = "off"
# $...$ and $$...$$ in Markdown cells, as Jupyter shows them.
myst_enable_extensions = ["dollarmath", "amsmath"]
# Interactive widgets would load their JavaScript from a CDN; the course shows none.
nb_ipywidgets_js = {}
