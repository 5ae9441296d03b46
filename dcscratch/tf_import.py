"""Import TensorFlow without its start-up chatter on stderr.

TensorFlow's C++ core writes log lines to file descriptor 2 while it loads
(for example "Could not find cuda drivers" on a CPU-only machine), before its
own log level is read. Those lines would land in every notebook's stored
outputs, so the package imports TensorFlow through :func:`quiet_tensorflow`.
"""
import contextlib
import os
import sys


@contextlib.contextmanager
def _stderr_silenced():
    """Point file descriptor 2 at /dev/null for the duration of the block."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


def quiet_tensorflow():
    """Return the ``tensorflow`` module, importing it silently the first time."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    # 3 = errors only; a user who set the variable keeps their choice.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _stderr_silenced():
        import tensorflow
        # Keras logs its own absl warnings through Python logging.
        tensorflow.get_logger().setLevel("ERROR")
    return tensorflow
