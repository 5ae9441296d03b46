"""pytest configuration shared by the unit tests and nbval."""
import re

import nbval.plugin

_REASON_AFTER_MARKER = re.compile(r"^(\s*#\s*NBVAL_[A-Z_]+)\s+—\s+\S.*$")
_nbval_find_comment_markers = nbval.plugin.find_comment_markers


def _find_comment_markers_with_reasons(cell_source):
    """nbval's marker search, accepting a reason after the marker: ``# NBVAL_X — why``.

    The course convention is to say on the marker's own line why a cell's output is not
    compared; nbval itself only recognises a marker alone on its line.
    """
    lines = (_REASON_AFTER_MARKER.sub(r"\1", line) for line in cell_source.splitlines())
    return _nbval_find_comment_markers("\n".join(lines))


nbval.plugin.find_comment_markers = _find_comment_markers_with_reasons


def pytest_collectstart(collector):
    # nbval compares every output of a notebook cell. stderr is not part of what a
    # notebook teaches (warnings, library chatter); the notebooks keep it empty (a unit
    # test checks that), and the comparison ignores it.
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr",)
