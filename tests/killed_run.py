"""Run ``python -m dcscratch.experiments`` on a toy long config, killed after an epoch if asked.

    python tests/killed_run.py KILL_AFTER_EPOCH ARGS...

The long config is shrunk to toy sizes (8 hidden units, few samples). With KILL_AFTER_EPOCH > 0
the process sends itself SIGKILL right after the checkpoint of that epoch of its first run is
written: no clean-up, no Python exit handlers, as when a session is stopped. 0: no kill.
"""
import os
import signal
import sys

from dcscratch import experiments
from dcscratch.experiments import configs

TOY_LONG = dict(configs._TRAINING["long", "fashion-mnist"], hidden=8,
                sampled_test_images=20, gaussian_samples=10, dropout_samples=3,
                dropout_samples_max_hidden=8)

if __name__ == "__main__":
    kill_after = int(sys.argv[1])
    configs._TRAINING["long", "fashion-mnist"] = TOY_LONG
    if kill_after:
        save = experiments.RunState.save

        def save_then_die(self, epochs_done, *args, **kwargs):
            save(self, epochs_done, *args, **kwargs)
            if epochs_done == kill_after:
                os.kill(os.getpid(), signal.SIGKILL)

        experiments.RunState.save = save_then_die
    sys.exit(experiments.main(sys.argv[2:]))
