"""The paper's MNIST comparisons at classroom scale: sweeps over seeds, a results file, a report.

    python -m dcscratch.experiments [--config quick|full|paper] [--exact-per-example]
                                    [--dataset digits|mnist|fashion-mnist]
                                    [--out build/experiments] [--sweeps width,keep_prob]
                                    [--variants no-drop,dropout] [--seeds 5] [--fresh]
                                    [--mnist-file PATH] [--data-dir DIR] [--no-progress]

Wan et al. (2013, section 6.1) train a 784-800-800-10 ReLU network on MNIST and show that
DropConnect (a) keeps test error down as the hidden layers grow, (b) depends on the drop
rate, (c) converges more slowly but generalises better, and tabulate No-Drop, Dropout and
DropConnect. This module runs the same comparisons on a two-hidden-layer network:

- variants (``VARIANTS``): ``no-drop``; ``dropout`` (Keras ``Dropout`` after each hidden
  layer); ``dropconnect`` (``DropConnectDense`` with per-example masks: its mask mode,
  ``flipout``, ``gaussian`` or ``example``, and its convention, inverted or unscaled, are run
  settings); ``dropconnect-batch`` (one mask per batch, the blog's variant); and the older
  ``dropconnect-example`` (exact per-example masks) and ``dropconnect-gaussian`` (trained as
  ``dropconnect-batch``, predicting with the Gaussian rule at Z = ``GAUSSIAN_SAMPLES``), which
  no sweep runs any more;
- sweeps (``SWEEPS``): hidden width, keep_prob, training-set size, ``curves`` (every
  variant at the default setting, whose per-epoch errors give the convergence plot), and
  DropConnect's mask mode (``exact``) and convention (``convention``) at the default setting;
- every run is repeated over several seeds; a seed fixes the initial weights, the masks
  and the order of the examples, and on the digits also the train/validation/test split
  (``config["split"] == "per-seed"``: each run's split drawn with its seed, so the spread over
  seeds includes the split's; MNIST and Fashion-MNIST keep their one official split).

Every run evaluates train, validation and test loss and error after each epoch in
inference mode with the mean rule (cheap); ``final`` holds the last epoch's numbers under
the variant's own inference rule, and ``final_by_inference`` (where the config names the
rules) every rule's: DropConnect's Gaussian rule in closed form, Dropout's sampling. Under
``--out`` the command writes ``results.json`` (rewritten atomically after every run, so an
interrupted sweep resumes where it stopped), ``results.md`` and one PNG per sweep whose values
are numbers.

Four modules, split by what changes together: the configurations
(:mod:`dcscratch.experiments.configs`), this runner and its command line, the results file
(:mod:`dcscratch.experiments.store`) and the report (:mod:`dcscratch.experiments.report`).
Their public names are importable from here too, as notebook 07 does.
"""
import argparse
import functools
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

# TensorFlow first, through the package's quiet import (``tf_common``): ``per_example``
# imports it through ``mask_sampler``, which would load it without silencing its start-up
# lines on stderr and without lowering its Python logger to errors (Keras's retracing
# warnings, for one).
from dcscratch import tf_common  # noqa: F401  (isort: skip)
from dcscratch.data import DataFileError
# Re-exported: notebook 07, the exercises and the tests use them as ``experiments.NAME``.
from dcscratch.experiments.configs import (  # noqa: F401
    _SWEEP_VALUES, _TRAINING, CONFIG_NAMES, DATASETS, LABELS, METRICS, SPLIT_PER_SEED,
    SWEEP_VARIANTS, SWEEPS, SWEPT, VARIANTS, make_config, planned_runs, run_key, run_settings,
    split_seed, sweep_runs)
from dcscratch.experiments.report import (  # noqa: F401
    PAPER_RULE, best_on_validation, chosen_comparisons, curves, describe_difference,
    dropconnect_choices, final_numbers, gaussian_checks, markdown, paired_difference,
    plot_curves, plot_sweep, sweep_table, swept_settings, variant_color, verdict, write_report)
from dcscratch.experiments.store import (  # noqa: F401
    COMMITTED_DIGITS, SCHEMA_VERSION, SchemaError, load_results, new_results, provenance,
    write_json_atomic)
from dcscratch import per_example
from dcscratch.experiments.configs import DROPCONNECT_MASKS
from dcscratch.model_tools import with_inference
from dcscratch.stats import mean_sd  # noqa: F401
from dcscratch.validation import check_choice, check_positive_int

# Gaussian samples per unit for dropconnect-gaussian's inference (the paper draws Z = 1000).
GAUSSIAN_SAMPLES = 64


# ---------------------------------------------------------------- one run
def load_data(dataset, mnist_file=None, data_dir=None, *, seed=0):
    """The dataset's splits; ``seed`` draws the digits' split (MNIST's is fixed).

    A run's split seed is :func:`dcscratch.experiments.configs.split_seed` of its config and
    seed (:func:`run_splits`).
    """
    from dcscratch.data import load_dataset

    return load_dataset(dataset, seed=seed, mnist_file=mnist_file, data_dir=data_dir)


def run_splits(config, seed, mnist_file=None, data_dir=None, *, cache=None):
    """The splits a run of ``config`` with ``seed`` trains, validates and tests on.

    Args:
        cache: a dict reused across calls: each split seed is loaded once.
    """
    key = split_seed(config, seed)
    cache = {} if cache is None else cache
    if key not in cache:
        cache[key] = load_data(config["dataset"], mnist_file, data_dir, seed=key)
    return cache[key]


def training_subset(splits, fraction, seed):
    """A stratified ``fraction`` of the training split, drawn with ``seed``."""
    if fraction >= 1.0:
        return splits.x_train, splits.y_train
    from sklearn.model_selection import train_test_split

    x, _, y, _ = train_test_split(splits.x_train, splits.y_train, train_size=fraction,
                                  stratify=splits.y_train, random_state=seed)
    return x, y


def build_model(variant, hidden, keep_prob, seed, num_features, num_classes, mask=None,
                inverted=False):
    """input → two ReLU hidden layers of width ``hidden``, dropping as the variant says → logits.

    ``mask`` is the mask mode of the paper config's ``dropconnect`` variant (``"flipout"``,
    ``"gaussian"`` or ``"example"``); the other DropConnect variants name theirs.
    ``inverted``: DropConnect's convention (``DropConnectDense(inverted=...)``).
    """
    import keras

    from dcscratch.keras_layer import DropConnectDense

    if variant == "dropconnect":
        mask = check_choice(mask, DROPCONNECT_MASKS, "mask")
    elif variant.startswith("dropconnect"):
        mask = "example" if variant == "dropconnect-example" else "batch"
    stack = [keras.Input((num_features,))]
    for layer_index in range(2):
        layer_seed = 1000 * seed + layer_index  # distinct, reproducible masks per layer
        if variant == "no-drop":
            stack.append(keras.layers.Dense(hidden, activation="relu"))
        elif variant == "dropout":
            # Keras's Dropout takes the drop rate, 1 - keep_prob.
            stack += [keras.layers.Dense(hidden, activation="relu"),
                      keras.layers.Dropout(1 - keep_prob, seed=layer_seed)]
        else:
            stack.append(DropConnectDense(hidden, keep_prob, activation="relu", mask=mask,
                                          seed=layer_seed, inverted=inverted))
    stack.append(keras.layers.Dense(num_classes))
    return keras.Sequential(stack)


def learning_rate_at(training, epoch, epochs):
    """The learning rate of ``epoch`` (0-based) of ``epochs``: the config's step ``schedule``.

    ``schedule`` is ``[[fraction, multiplier], ...]``: the multiplier holds while fewer than
    ``fraction · epochs`` epochs are done. Without a schedule the rate is constant.
    """
    rate = training["learning_rate"]
    for fraction, multiplier in training.get("schedule", ()):
        if epoch < fraction * epochs:
            return rate * multiplier
    return rate * training["schedule"][-1][1] if training.get("schedule") else rate


def gaussian_limit_logits(model, x, batch_size=5000):
    """Logits under the paper's Gaussian inference rule with Z → ∞ samples, in closed form.

    At each ``DropConnectDense`` layer the paper draws Z samples of u ~ N(μ, σ²)
    (:func:`dcscratch.inference.gaussian_moments`, the layer's bias added to μ), passes them
    through the ReLU and averages; as Z grows that average tends to E[relu(u)] =
    μΦ(μ/σ) + σφ(μ/σ) (:func:`dcscratch.inference.relu_gaussian_mean`), computed here
    exactly. Other layers (``Dense``, ``Dropout`` at inference) apply as usual.
    """
    import keras

    from dcscratch.inference import gaussian_moments, relu_gaussian_mean
    from dcscratch.keras_layer import DropConnectDense

    parts = []
    for start in range(0, len(x), batch_size):
        h = np.asarray(x[start:start + batch_size], dtype=np.float64)
        for layer in model.layers:
            if isinstance(layer, DropConnectDense):
                kernel = np.asarray(layer.masked_kernel(), dtype=np.float64)
                mean, variance = gaussian_moments(h, kernel, layer.keep_prob)
                if layer.use_bias:
                    mean = mean + np.asarray(layer.bias, dtype=np.float64)
                if layer.activation is not keras.activations.relu:
                    raise ValueError("gaussian_limit_logits needs ReLU DropConnectDense layers")
                h = relu_gaussian_mean(mean, variance)
            else:
                h = np.asarray(layer(h.astype(np.float32), training=False), dtype=np.float64)
        parts.append(h)
    return np.concatenate(parts)


def _split_metrics(logits, labels, prefix):
    from scipy.special import log_softmax

    log_probs = log_softmax(np.asarray(logits, dtype=np.float64), axis=1)
    return {f"{prefix}_loss": float(-np.mean(log_probs[np.arange(len(labels)), labels])),
            f"{prefix}_error": float(np.mean(np.argmax(log_probs, axis=1) != labels))}


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


def train_run(settings, training, splits, probabilities_dir=None, checkpoint_dir=None):
    """Train one network and evaluate it after every epoch; resumable after every epoch.

    Args:
        settings: from :func:`run_settings` (variant, hidden, keep_prob, train_fraction, seed,
            and for the paper config's ``dropconnect`` its ``mask``; ``epochs`` where a sweep
            overrides the config's).
        training: the config's ``training`` dict (epochs, batch_size, learning_rate, momentum;
            the paper config's ``schedule``, ``test_each_epoch`` and inference settings).
        splits: a :class:`dcscratch.data.Splits`.
        probabilities_dir: where the paper config writes the test set's predicted
            probabilities (float16, ``.npz``) of the runs at its default setting, for the
            voting column; None writes none.
        checkpoint_dir: where the run's whole state is saved after every epoch with
            ``tf.train.Checkpoint`` (weights, optimizer, seed generators, the example-order
            generator, the history, the best-validation weights, the time spent); a run
            started again with the same folder loads it and goes on from the next epoch,
            giving the numbers an uninterrupted run gives. None: no checkpoints.

    Returns:
        A dict: ``settings``, ``training``, ``train_size``, ``history`` (``METRICS`` → one value
        per epoch, mean-rule inference; without the test split's where ``test_each_epoch`` is
        False), ``final`` (the last epoch under the variant's inference rule, with
        ``inference`` naming it), ``wall_s``, ``cpu_s``, ``versions`` and ``provenance``
        (:func:`dcscratch.experiments.store.provenance`). The paper config adds
        ``final_by_inference`` (``mean`` and, for DropConnect, ``gaussian`` in closed form,
        or for Dropout no wider than its limit ``sampling``, each with every split's loss and
        error), ``gaussian_sampled`` (default-setting DropConnect runs: Z samples against the
        closed form on the first test images) and ``probabilities`` (file names). With the
        long config's ``early_stopping``, ``early_stopped``: the epoch of the best validation
        cross-entropy (mean rule) and every split's numbers for the weights of that epoch (the
        test set read once, at the end); with ``gaussian_curves``, DropConnect's history also
        holds ``val_loss_gaussian`` and ``val_error_gaussian`` (the Gaussian rule in closed
        form, every epoch).
    """
    from dcscratch.tf_common import tf  # first: TensorFlow imported without its chatter
    import keras

    from dcscratch import __version__
    from dcscratch.devices import versions
    from dcscratch.seeding import set_seeds

    started, cpu_started = time.perf_counter(), time.process_time()
    load_at_start = os.getloadavg()[0]
    keras.backend.clear_session()
    set_seeds(settings["seed"])  # weights, masks and example order follow from the seed
    variant, seed = settings["variant"], settings["seed"]
    keep_prob = settings["keep_prob"] or 1.0
    epochs = settings.get("epochs", training["epochs"])
    test_each_epoch = training.get("test_each_epoch", True)
    x_train, y_train = training_subset(splits, settings["train_fraction"], seed)
    model = build_model(variant, settings["hidden"], keep_prob, seed, splits.num_features,
                        splits.num_classes, mask=settings.get("mask"),
                        inverted=settings.get("inverted", False))
    optimizer = keras.optimizers.SGD(training["learning_rate"], momentum=training["momentum"])
    # Its variables exist before the first trace, or tf.function would trace the epoch twice.
    optimizer.build(model.trainable_variables)
    loss_function = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    x, y = tf.constant(x_train), tf.constant(y_train)
    count, batch_size = len(y_train), training["batch_size"]

    # Every split evaluated after an epoch in one tensor, so that evaluating is one call (the
    # paper config leaves the test split out: it is read once, at the end).
    split_names = ("train", "val", "test") if test_each_epoch else ("train", "val")
    split_labels = (y_train, splits.y_val, splits.y_test)[:len(split_names)]
    all_inputs = tf.constant(np.concatenate(
        [x_train, splits.x_val, splits.x_test][:len(split_names)]))

    @tf.function
    def train_epoch(order, x, y, all_inputs):
        # The data are arguments, not captured constants: a graph that captured them would
        # keep them alive as long as TensorFlow keeps the graph (hundreds of MB a run).
        # The whole epoch is one graph: at these sizes Python's per-step overhead would
        # cost more than the arithmetic.
        for start in tf.range(0, count, batch_size):
            batch = order[start:start + batch_size]
            with tf.GradientTape() as tape:
                loss = loss_function(tf.gather(y, batch), model(tf.gather(x, batch), training=True))
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return model(all_inputs, training=False)

    def metrics(logits, names=split_names, labels_of=split_labels):
        values = {}
        for name, labels, part in zip(names, labels_of, np.split(
                np.asarray(logits), np.cumsum([len(labels) for labels in labels_of])[:-1])):
            values[f"{name}_loss"] = float(loss_function(labels, part))
            values[f"{name}_error"] = float(np.mean(np.argmax(part, axis=1) != labels))
        return values

    order_rng = np.random.default_rng(seed)
    history = {metric: [] for metric in METRICS if metric.split("_")[0] in split_names}
    gaussian_curves = training.get("gaussian_curves", False) and variant == "dropconnect"
    if gaussian_curves:
        history.update(val_loss_gaussian=[], val_error_gaussian=[])
    early_stopping = training.get("early_stopping", False)
    state = RunState(model, optimizer, checkpoint_dir, keep_best=early_stopping)
    first_epoch = state.restore(order_rng, history)
    for epoch in range(first_epoch, epochs):
        if "schedule" in training:
            optimizer.learning_rate.assign(learning_rate_at(training, epoch, epochs))
        logits = train_epoch(tf.constant(order_rng.permutation(count)), x, y, all_inputs)
        for metric, value in metrics(logits).items():
            history[metric].append(value)
        if gaussian_curves:
            for key, value in _split_metrics(gaussian_limit_logits(model, splits.x_val),
                                             splits.y_val, "val").items():
                history[f"{key}_gaussian"].append(value)
        if early_stopping and history["val_loss"][-1] <= min(history["val_loss"]):
            state.remember_best(epoch)
        state.save(epoch + 1, order_rng, history,
                   time.perf_counter() - started, time.process_time() - cpu_started)
    final = {metric: values[-1] for metric, values in history.items() if metric in METRICS}
    if not test_each_epoch:
        final.update(metrics(model(tf.constant(splits.x_test), training=False), ("test",),
                             (splits.y_test,)))
    early_stopped = early_test_logits = None
    if early_stopping:
        trained = model.get_weights()
        model.set_weights(state.best_weights())
        early_logits = np.asarray(model(tf.constant(np.concatenate(
            [x_train, splits.x_val, splits.x_test])), training=False))
        early_test_logits = early_logits[-len(splits.y_test):]
        early_stopped = {"epoch": state.best_epoch(), **metrics(
            early_logits, ("train", "val", "test"), (y_train, splits.y_val, splits.y_test))}
        model.set_weights(trained)
    inference = "mean"
    record = {}
    if variant == "dropconnect-gaussian":
        # A second network with the paper's inference rule and the trained weights: the
        # training above is exactly dropconnect-batch's for the same seed. Its Gaussian noise
        # is drawn from the run's seed too, so the run repeats.
        inference = "gaussian"
        final = metrics(with_inference(model, "gaussian", samples=GAUSSIAN_SAMPLES, seed=seed)(
            all_inputs, training=False))
    if "gaussian_samples" in training:  # the paper config
        record = _paper_inference(model, settings, training, splits, x_train, y_train,
                                  final, probabilities_dir, early_test_logits)
    samples = None
    if inference == "gaussian":
        samples = GAUSSIAN_SAMPLES
    elif "gaussian_sampled" in record:
        samples = record["gaussian_sampled"]["samples"]
    if early_stopped is not None:
        record["early_stopped"] = early_stopped
    return {"settings": dict(settings), "training": dict(training), "train_size": count,
            "history": history, "final": {**final, "inference": inference}, **record,
            # Over every session the run took (a resumed run adds the time before it stopped).
            "wall_s": state.wall_before + time.perf_counter() - started,
            # CPU seconds, because wall time on a shared machine also counts other users.
            "cpu_s": state.cpu_before + time.process_time() - cpu_started,
            "resumed_at_epochs": state.resumed_at,
            "versions": {"dcscratch": __version__, **versions()},
            "provenance": provenance(
                splits, load_average_start=load_at_start,
                # The layer seeds follow build_model, the example order order_rng.
                seeds={"global": seed, "example_order": seed,
                       "layers": [1000 * seed + index for index in range(2)]},
                inference_samples=samples, training_code=training_code_fingerprint(),
                chunk_size=(per_example.DEFAULT_CHUNK_SIZE
                            if settings.get("mask") == "example"
                            or variant == "dropconnect-example" else None))}


def _is_default(settings, training):
    return (settings["hidden"] == training["hidden"] and settings["train_fraction"] == 1.0
            and "epochs" not in settings
            and settings.get("mask", training["dropconnect_mask"]) == training["dropconnect_mask"]
            and settings["keep_prob"] in (None, training["keep_prob"]))


def _paper_inference(model, settings, training, splits, x_train, y_train, final,
                     probabilities_dir, early_test_logits=None):
    """The paper config's evaluations after training: every inference rule the run has.

    The stored test probabilities (default-setting runs) hold every rule's: ``mean``, and
    ``gaussian`` (DropConnect), ``sampling`` (Dropout, where run) and ``early_stopped`` (the
    best-validation weights under the mean rule, given as ``early_test_logits``), so that
    comparisons can be resampled over test images.
    """
    from scipy.special import softmax

    from dcscratch.model_tools import mc_predict

    variant, seed = settings["variant"], settings["seed"]
    parts = (("train", x_train, y_train), ("val", splits.x_val, splits.y_val),
             ("test", splits.x_test, splits.y_test))
    by_inference = {"mean": {metric: final[metric] for metric in METRICS}}
    test_probabilities = {}
    record = {}
    if variant == "dropconnect":
        gaussian = {}
        for name, inputs, labels in parts:
            logits = gaussian_limit_logits(model, inputs)
            gaussian.update(_split_metrics(logits, labels, name))
        by_inference["gaussian"] = gaussian
        test_probabilities["gaussian"] = softmax(logits, axis=1)
        if _is_default(settings, training):
            # The paper's rule as it states it, Z samples per unit, on the first test images,
            # beside the closed form on the same images.
            images = training["sampled_test_images"]
            sampled = with_inference(model, "gaussian", samples=training["gaussian_samples"],
                                     seed=seed).predict(splits.x_test[:images], batch_size=50,
                                                        verbose=0)
            closed = gaussian_limit_logits(model, splits.x_test[:images])
            labels = splits.y_test[:images]
            record["gaussian_sampled"] = {
                "samples": training["gaussian_samples"], "test_images": images,
                **{f"sampled_{key.split('_')[1]}": value
                   for key, value in _split_metrics(sampled, labels, "test").items()},
                **{f"closed_{key.split('_')[1]}": value
                   for key, value in _split_metrics(closed, labels, "test").items()},
                "same_prediction": float(np.mean(np.argmax(sampled, 1) == np.argmax(closed, 1)))}
    elif variant == "dropout" and settings["hidden"] <= training["dropout_samples_max_hidden"]:
        sampling = {}
        for name, inputs, labels in parts[1:]:
            probs = mc_predict(model, inputs, samples=training["dropout_samples"], seed=seed,
                               from_logits=True).probs
            sampling.update(_split_metrics(np.log(np.maximum(probs, 1e-30)), labels, name))
        by_inference["sampling"] = sampling
        test_probabilities["sampling"] = probs  # the last part is the test split
    record["final_by_inference"] = by_inference
    if probabilities_dir is not None and _is_default(settings, training):
        from scipy.special import softmax as _softmax

        import keras

        test_probabilities["mean"] = _softmax(np.asarray(
            model(keras.ops.convert_to_tensor(splits.x_test), training=False), np.float64), 1)
        if early_test_logits is not None:
            test_probabilities["early_stopped"] = _softmax(
                np.asarray(early_test_logits, np.float64), 1)
        name = run_key(settings).replace(" ", "_").replace("=", "-") + ".npz"
        Path(probabilities_dir).mkdir(parents=True, exist_ok=True)
        np.savez_compressed(Path(probabilities_dir) / name, **{
            rule: probs.astype(np.float16) for rule, probs in test_probabilities.items()})
        record["probabilities"] = {"file": name, "rules": sorted(test_probabilities)}
    return record


# The functions as defined here (a test may wrap the module's names; the code is this).
_TRAINING_FUNCTIONS = (build_model, learning_rate_at, gaussian_limit_logits, _split_metrics,
                       RunState, train_run, _is_default, _paper_inference, training_subset)


@functools.cache
def training_code_fingerprint():
    """A SHA-256 of the code that trains and evaluates a run: the layers' modules and this one's
    training functions. Resuming refuses runs whose fingerprint differs (made by other code).

    The code is hashed as its syntax tree without docstrings (comments never reach the tree),
    so rewording documentation leaves the fingerprint alone; any change to what runs does not.
    Computed once per process: ``inspect`` reads the files on disk with the line numbers of the
    loaded functions, so a file edited under a running sweep would otherwise give a fingerprint
    of neither version (it did on 2026-12-07: a docstring rewrap of this file gave bb48d442…).
    """
    import hashlib
    import inspect

    from dcscratch import (fast_per_example, inference, keras_layer, mask_sampler, model_tools,
                           seeding)

    digest = hashlib.sha256()
    for module in (fast_per_example, inference, keras_layer, mask_sampler, model_tools,
                   per_example, seeding):
        digest.update(_code_without_docstrings(inspect.getsource(module)).encode())
    for function in _TRAINING_FUNCTIONS:
        digest.update(_code_without_docstrings(inspect.getsource(function)).encode())
    return digest.hexdigest()


def _code_without_docstrings(source):
    """``source``'s syntax tree as text, docstrings removed."""
    import ast
    import textwrap

    tree = ast.parse(textwrap.dedent(source))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def run_experiments(config, out=None, *, fresh=False, progress=True, mnist_file=None,
                    data_dir=None):
    """Run every planned run not yet in ``out/results.json``; return the results dict.

    Args:
        config: from :func:`make_config`.
        out: folder for ``results.json`` (created if needed); None keeps results in memory.
        fresh: ignore an existing ``results.json`` and start over (it stays until the
            first new run replaces it).
        progress: show a tqdm progress bar (with an ETA) over the runs, on stderr.
        mnist_file: path of ``mnist.npz`` when the dataset is MNIST (default: Keras's cache).
        data_dir: folder of IDX files for Fashion-MNIST (default: Debian's) or MNIST.
    """
    from tqdm.auto import tqdm

    path = None if out is None else Path(out) / "results.json"
    results = new_results(config)
    if path is not None and path.exists() and not fresh:
        results = load_results(path, config)
        results["config"] = config
        check_training_code(results, path)
    elif path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    probabilities_dir = (None if out is None or config["name"] not in ("paper", "long")
                         else Path(out) / "probabilities")
    if fresh and out is not None:
        shutil.rmtree(Path(out) / "checkpoints", ignore_errors=True)
    pending = {key: settings for key, settings in planned_runs(config).items()
               if key not in results["runs"]}
    if not pending:
        return results
    loaded = {}  # split seed → splits, each loaded once
    run_splits(config, 0, mnist_file, data_dir, cache=loaded)  # a missing file fails before a run
    bar = tqdm(pending.items(), total=len(pending), unit="run", disable=not progress,
               file=sys.stderr)
    for key, settings in bar:
        bar.set_postfix_str(key, refresh=False)
        splits = run_splits(config, settings["seed"], mnist_file, data_dir, cache=loaded)
        checkpoints = None if out is None else checkpoint_folder(out, key)
        run = train_run(settings, config["training"], splits, probabilities_dir, checkpoints)
        if "provenance" in run:  # which split: its fingerprint, and here the seed that drew it
            run["provenance"]["split"]["seed"] = split_seed(config, settings["seed"])
            # The process's peak memory so far: flat across a sweep's runs when nothing leaks.
            run["provenance"]["process_peak_rss_mb"] = peak_rss_mb()
        results["runs"][key] = run
        if path is not None:
            write_json_atomic(path, results)
        if checkpoints is not None:  # the run is stored: its checkpoints are no longer needed
            shutil.rmtree(checkpoints, ignore_errors=True)
        release_memory()
    return results


def checkpoint_folder(out, key):
    """Where a run's checkpoints live while it trains: ``OUT/checkpoints/<run key>``."""
    return Path(out) / "checkpoints" / key.replace(" ", "_").replace("=", "-")


def peak_rss_mb():
    """This process's peak resident memory so far, in MiB (Linux and macOS)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes there, KiB here


def release_memory():
    """Drop what a finished run left behind (Keras's global state, TensorFlow's graphs)."""
    import gc

    import keras

    keras.backend.clear_session()
    gc.collect()


def paper_test_labels(out, config, mnist_file=None, data_dir=None):
    """The test labels for the voting column: ``out/probabilities/test_labels.npy``.

    Written from the data the first time (so that the report and notebook 10 can vote
    without the data files), read back afterwards.
    """
    path = Path(out) / "probabilities" / "test_labels.npy"
    if not path.exists():
        labels = load_data(config["dataset"], mnist_file, data_dir).y_test
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, labels.astype(np.int8))
    return np.load(path).astype(np.int64)


def check_training_code(results, path):
    """Refuse to resume a file holding runs made by other training code.

    Runs record :func:`training_code_fingerprint`; one that differs from the running code's
    means the new runs would not be comparable with the stored ones. Runs made before the
    fingerprint was recorded have none and are accepted (their git commit is in their
    provenance where they have one).
    """
    current = training_code_fingerprint()
    for key, run in results["runs"].items():
        stored = run.get("provenance", {}).get("training_code")
        if stored is not None and stored != current:
            raise SchemaError(
                f"{path} holds runs made by other training code (run {key!r}: training code "
                f"{stored[:12]}…, this code {current[:12]}…). New runs would not be comparable: "
                f"choose another --out, move the file away, or start over with --fresh.")


# ---------------------------------------------------------------- command line
def _argument_type(check):
    """An argparse ``type`` from a check of ``dcscratch.validation``: its error is the message."""
    def parse(text):
        try:
            return check(text)
        except (TypeError, ValueError) as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    return parse


def _names(text, allowed, argument):
    """The comma-separated names in ``text``, each one of ``allowed``."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    for name in names or [text]:
        check_choice(name, allowed, argument)
    return tuple(names)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m dcscratch.experiments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)

    def choice(allowed, argument):
        return _argument_type(lambda text: check_choice(text, allowed, argument))

    def names(allowed, argument):
        return _argument_type(lambda text: _names(text, allowed, argument))

    positive = _argument_type(
        lambda text: check_positive_int(int(text) if text.isdigit() else text, "seeds"))

    parser.add_argument("--config", default="full", type=choice(CONFIG_NAMES, "config"),
                        help="quick (seconds), full (default; about ten minutes on the "
                             "digits), paper (the paper's network and protocol compressed "
                             "to a CPU budget; mnist or fashion-mnist) or long (the fair "
                             "fight of notebook 10 at 400-400 over many epochs; mnist or "
                             "fashion-mnist)")
    parser.add_argument("--epochs", default=None, type=positive,
                        help="epochs per run (default: the config's)")
    parser.add_argument("--exact-per-example", action="store_true",
                        help="config paper: train DropConnect with the exact per-example mask "
                             "instead of Flipout / the Gaussian mask (for a GPU)")
    parser.add_argument("--dataset", default="digits", type=choice(DATASETS, "dataset"),
                        help="digits (bundled, default), mnist (a local mnist.npz or IDX "
                             "files) or fashion-mnist (local IDX files); never downloaded")
    parser.add_argument("--mnist-file", default=None,
                        help="mnist.npz to read (default: ~/.keras/datasets/mnist.npz)")
    parser.add_argument("--data-dir", default=None,
                        help="folder of the IDX files of fashion-mnist (default: "
                             "/usr/share/datasets/fashion-mnist, from Debian's "
                             "dataset-fashion-mnist) or mnist")
    parser.add_argument("--out", default="build/experiments", help="output folder")
    parser.add_argument("--sweeps", default=",".join(SWEEPS),
                        type=names(SWEEPS, "sweeps"),
                        help="comma-separated sweeps: " + ", ".join(SWEEPS))
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        type=names(VARIANTS, "variants"),
                        help="comma-separated variants: " + ", ".join(VARIANTS))
    parser.add_argument("--seeds", default=None, type=positive,
                        help="number of seeds (default: the config's)")
    parser.add_argument("--fresh", action="store_true",
                        help="start over instead of resuming from --out/results.json")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        config = make_config(args.config, args.dataset, sweeps=args.sweeps,
                             variants=args.variants, seeds=args.seeds,
                             exact_per_example=args.exact_per_example, epochs=args.epochs)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    command = "python -m dcscratch.experiments " + " ".join(
        sys.argv[1:] if argv is None else argv)
    started, load_at_start = time.perf_counter(), os.getloadavg()
    out = Path(args.out)
    try:
        before = set(json.loads((out / "results.json").read_text())["runs"]) if (
            out / "results.json").exists() and not args.fresh else set()
    except (ValueError, KeyError):
        before = set()  # not a results file: run_experiments says so by name
    try:
        results = run_experiments(config, out, fresh=args.fresh, progress=not args.no_progress,
                                  mnist_file=args.mnist_file, data_dir=args.data_dir)
    except FileNotFoundError as error:
        where = ("--mnist-file PATH (an mnist.npz) or --data-dir DIR (IDX files)"
                 if args.dataset == "mnist" else "--data-dir DIR")
        print(f"error: {error}\nOn this command line the data is given with {where}.",
              file=sys.stderr)
        return 2
    except (SchemaError, DataFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    # How this file was made: the command, its time and how busy the machine was (the
    # 1-minute load averages; a quiet two-core machine reads below 2).
    invocation = {"command": command.strip(), "elapsed_s": time.perf_counter() - started,
                  "load_average": {"start": load_at_start[0], "end": os.getloadavg()[0]},
                  "runs_trained": len(set(results["runs"]) - before)}
    # The last command at the top level (as before); every command that trained runs in
    # ``commands``, so a resumed sweep's file still tells how long each part took.
    history = [] if args.fresh else results.get("commands", [])
    if invocation["runs_trained"]:
        history = [*history, invocation]
    results.update({key: invocation[key] for key in ("command", "elapsed_s", "load_average")},
                   commands=history)
    write_json_atomic(out / "results.json", results)
    if config["name"] == "long":
        from dcscratch.experiments.report import long_table

        paper_test_labels(out, config, args.mnist_file, args.data_dir)
        (out / "results.md").write_text(f"# {results['command']}\n\n{long_table(results)}\n")
        written = [out / "results.md"]
        print(long_table(results))
    elif config["name"] == "paper":
        from dcscratch.experiments import paper_report

        labels = paper_test_labels(out, config, args.mnist_file, args.data_dir)
        written = paper_report.write_report(results, out, results["command"], labels)
        print(paper_report.markdown(results, results["command"], labels, out / "probabilities"))
    else:
        written = write_report(results, out, results["command"])
        print(markdown(results, results["command"]))
    print(f"Written: {', '.join(str(path) for path in [out / 'results.json', *written])} "
          f"({results['elapsed_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
