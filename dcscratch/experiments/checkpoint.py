"""A run's whole state, saved after every epoch, so that a killed run resumes where it stopped."""
import json
from pathlib import Path

from dcscratch.experiments.fingerprint import training_code_fingerprint
from dcscratch.experiments.store import SchemaError


class RunState:
    """A run's whole state in one ``tf.train.Checkpoint``, saved after every epoch.

    Resuming is loading it and going on (Keras's ``BackupAndRestore`` works the same way):
    the model's weights and its layers' seed generators, the optimizer's slots and step
    count, and, as strings, the example-order generator's state and the history, with the
    epochs done, the best-validation weights (early stopping) and the time spent so far.
    Without a folder nothing is saved and every method but :meth:`save` is a no-op.
    """

    def __init__(self, model, optimizer, directory=None, *, keep_best=False):
        from dcscratch.tf_common import tf

        self.model, self.directory = model, directory
        self.epochs_done = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.order_state = tf.Variable("", dtype=tf.string, trainable=False)
        self.history = tf.Variable("", dtype=tf.string, trainable=False)
        self.times = tf.Variable([0.0, 0.0], dtype=tf.float64, trainable=False)
        self.best = tf.Variable(-1, dtype=tf.int64, trainable=False)
        # The code that wrote the checkpoint: a run resumes only under the same code.
        self.training_code = tf.Variable(training_code_fingerprint(), dtype=tf.string,
                                         trainable=False)
        self.best_variables = ([tf.Variable(weight, trainable=False)
                                for weight in model.get_weights()] if keep_best else [])
        self.wall_before = self.cpu_before = 0.0
        self.resumed_at = []
        self.manager = None
        if directory is not None:
            # The model's variables by position, the seed generators' states among them (a
            # Keras 3 model handed to Checkpoint whole saves only what its optimizer tracks).
            checkpoint = tf.train.Checkpoint(
                model_variables=[variable.value for variable in model.variables],
                optimizer=optimizer, epochs_done=self.epochs_done,
                order_state=self.order_state, history=self.history, times=self.times,
                best=self.best, best_variables=self.best_variables,
                training_code=self.training_code)
            self.manager = tf.train.CheckpointManager(checkpoint, str(directory), max_to_keep=1)
            self.checkpoint = checkpoint

    def restore(self, order_rng, history):
        """Load the latest checkpoint, if any, into the model, ``order_rng`` and ``history``.

        Returns the number of epochs already done (0 for a fresh run).
        """
        if self.manager is None or self.manager.latest_checkpoint is None:
            return 0
        current = self.training_code.numpy()
        self.checkpoint.restore(self.manager.latest_checkpoint).assert_consumed()
        if self.training_code.numpy() != current:
            raise SchemaError(
                f"{self.directory} holds a run checkpointed by other training code (fingerprint "
                f"{self.training_code.numpy().decode()[:12]}…, this code's "
                f"{current.decode()[:12]}…): its epochs would not be comparable. Delete the "
                "folder, or run with --fresh, to start the run again.")
        order_rng.bit_generator.state = json.loads(self.order_state.numpy().decode())
        history.clear()
        history.update(json.loads(self.history.numpy().decode()))
        self.wall_before, self.cpu_before = (float(value) for value in self.times.numpy())
        done = int(self.epochs_done.numpy())
        self.resumed_at.append(done)
        return done

    def remember_best(self, epoch):
        """Keep the current weights as those of the best epoch so far (0-based ``epoch``)."""
        for variable, weight in zip(self.best_variables, self.model.get_weights()):
            variable.assign(weight)
        self.best.assign(epoch)

    def best_epoch(self):
        """The 1-based epoch whose weights :meth:`best_weights` holds."""
        return int(self.best.numpy()) + 1

    def best_weights(self):
        return [variable.numpy() for variable in self.best_variables]

    def save(self, epochs_done, order_rng, history, wall_s, cpu_s):
        """Write the state after ``epochs_done`` epochs (a no-op without a folder)."""
        if self.manager is None:
            return
        self.epochs_done.assign(epochs_done)
        self.order_state.assign(json.dumps(order_rng.bit_generator.state))
        self.history.assign(json.dumps(history))
        self.times.assign([self.wall_before + wall_s, self.cpu_before + cpu_s])
        self.manager.save(checkpoint_number=epochs_done)


def checkpoint_folder(out, key):
    """Where a run's checkpoints live while it trains: ``OUT/checkpoints/<run key>``."""
    return Path(out) / "checkpoints" / key.replace(" ", "_").replace("=", "-")

