"""One run: the network, the learning-rate schedule, training with an evaluation after every
epoch, and the inference rules a run is scored by.

The functions of ``_TRAINING_FUNCTIONS`` are the code whose fingerprint
(:func:`dcscratch.experiments.fingerprint.training_code_fingerprint`) every stored run and
checkpoint records: a change to what they do makes earlier runs another code's.
"""
import os
import time
from pathlib import Path

import numpy as np

# TensorFlow first, through the package's quiet import (``tf_common``): ``per_example``
# imports it through ``mask_sampler``, which would load it without silencing its start-up
# lines on stderr and without lowering its Python logger to errors (Keras's retracing
# warnings, for one).
from dcscratch import tf_common  # noqa: F401  (isort: skip)
from dcscratch import per_example
from dcscratch.experiments.checkpoint import RunState
from dcscratch.experiments.configs import DROPCONNECT_MASKS, METRICS, run_key
from dcscratch.experiments.data import training_subset
from dcscratch.experiments.fingerprint import training_code_fingerprint
from dcscratch.experiments.store import provenance
from dcscratch.model_tools import with_inference
from dcscratch.validation import check_choice

# Gaussian samples per unit for dropconnect-gaussian's inference (the paper draws Z = 1000).
GAUSSIAN_SAMPLES = 64


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
