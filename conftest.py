"""pytest configuration shared by the unit tests and nbval."""


def pytest_collectstart(collector):
    # nbval compares every output of a notebook cell. stderr is not part of what a
    # notebook teaches (warnings, library chatter); the notebooks keep it empty, and
    # the comparison ignores it so that a library's new warning does not fail CI.
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr",)
