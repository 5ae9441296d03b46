"""``python -m dcscratch.experiments``: the command line of :mod:`dcscratch.experiments.cli`."""
import sys

from dcscratch.experiments.cli import main

sys.exit(main())
