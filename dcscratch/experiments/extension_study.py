"""The seeded study behind notebook 08: sparse networks at matched sparsity, and gates per class.

Every network is 64-128-10 on the digits, trained for the same budget: 15 epochs of Adam
(learning rate 0.02, batches of 64, 16 steps an epoch; the last 53 of the 1,077 training images
are left out of each shuffled epoch). Per seed:

- ``dense``: plain ``Dense`` layers, the baseline of every table;
- ``l0``: ``L0GateDense`` with λ = ``l0_penalty``; its share of exactly-zero gates per layer is
  the sparsity every pruned network of that seed is held to;
- ``persistent-taylor`` / ``persistent-magnitude``: ``PersistentDropConnectDense`` (keep_prob
  0.8 on the hidden layer's alive connections, 1 on the output layer) pruned on the cubic
  schedule from epoch 1 to epoch 10, by Taylor score or by magnitude;
- ``gradual-taylor`` / ``gradual-magnitude``: the control arms, the same layers, schedule and
  scores with keep_prob 1 on the hidden layer too: gradual pruning (Zhu & Gupta 2017) without
  DropConnect. Persistent minus gradual is what dropping adds, with one mask per mini-batch
  (``DropConnectDense``'s default ``mask="batch"``, not a mask per example), and under the
  unscaled convention, which also changes the step size: the function depends on 0.8·W, so a
  step on W moves it 0.8 times as far, from a starting scale 0.8 times Glorot's;
- ``pruned``: magnitude pruning with retraining (Han et al. 2015): 10 epochs of Dense, prune the
  smallest |w| per layer, 5 epochs with the pruned weights held at zero;
- ``class-gated``: ``ClassGatedMLP``, hidden-layer gates per class selected by the label in
  training; λ chosen on the validation split (seed 0) among ``class_penalties``;
- ``probe``: the post-hoc probe of the original notebook: the trained ``dense`` network frozen,
  one hard-concrete gate set per class learnt on its first layer (300 full-batch steps);
- ``persistent-taylor-inverted`` (added after review r3 of notebook 08): ``persistent-taylor``
  with ``inverted=True``, trained on (M⊙A⊙W)/0.8 and predicting with A⊙W, so that its step
  size and starting scale are those of ``gradual-taylor`` and only the dropping differs. It is
  trained last, so that every other arm's random state is what it was before it existed.

Running it takes one to two minutes on two cores (``wall_s`` records it), so the notebook reads
the committed results:
``python -m dcscratch.experiments.extension_study`` writes ``results/extensions/study.json``,
with the commit it ran at and ``code_fingerprint()`` of the modules that decide what runs, so
that a reader (and ``tests/test_extension_study.py``) can tell whether the results are this
code's.
"""
import argparse
import base64
import hashlib
import inspect
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

COMMITTED = Path(__file__).resolve().parents[2] / "results" / "extensions" / "study.json"
EPOCHS, PRUNE_AT_EPOCH, BATCH_SIZE, LEARNING_RATE = 15, 10, 64, 0.02
HIDDEN, PERSISTENT_KEEP_PROB = 128, 0.8
ARMS = ("dense", "l0", "persistent-taylor", "persistent-magnitude", "gradual-taylor",
        "gradual-magnitude", "pruned", "persistent-taylor-inverted")
#: The modules whose code decides what the study runs (``code_fingerprint`` hashes them).
STUDY_MODULES = ("dcscratch.experiments.extension_study", "dcscratch.class_gates",
                 "dcscratch.extensions", "dcscratch.persistent", "dcscratch.keras_layer",
                 "dcscratch.mask_sampler", "dcscratch.data")


def train(model, data, *, epochs=EPOCHS, seed=0, with_labels=False, after_epoch=None,
          learning_rate=LEARNING_RATE, batch_size=BATCH_SIZE):
    """Adam on ``data``'s training split, one ``tf.function`` per epoch; ``add_loss`` penalties count.

    ``with_labels`` calls the model on ``(x, labels)`` (``ClassGatedMLP``'s training call).
    Each epoch visits ``len // batch_size`` batches of a fresh stateless shuffle.
    """
    import keras
    from dcscratch.tf_common import tf

    x_train, y_train = tf.constant(data.x_train), tf.constant(data.y_train)
    cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = keras.optimizers.Adam(learning_rate)
    optimizer.build(model.trainable_variables)
    examples = len(data.y_train)

    @tf.function
    def one_epoch(epoch):
        order = tf.random.experimental.stateless_shuffle(tf.range(examples), seed=[seed, epoch])
        for step in tf.range(examples // batch_size):
            batch = order[step * batch_size:(step + 1) * batch_size]
            x, y = tf.gather(x_train, batch), tf.gather(y_train, batch)
            with tf.GradientTape() as tape:
                loss = cross_entropy(y, model((x, y) if with_labels else x, training=True))
                loss += tf.add_n([tf.constant(0.0)] + model.losses)
            optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                                          model.trainable_variables))

    for epoch in range(epochs):
        one_epoch(tf.constant(epoch))
        if after_epoch is not None:
            after_epoch(epoch)
    return model


def dense_model(seed, constraints=(None, None), inputs=64, classes=10):
    import keras
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((inputs,)),
                             keras.layers.Dense(HIDDEN, activation="relu",
                                                kernel_constraint=constraints[0]),
                             keras.layers.Dense(classes, kernel_constraint=constraints[1])])


def l0_model(penalty, seed, inputs=64, classes=10):
    import keras
    from dcscratch.extensions import L0GateDense
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((inputs,)),
                             L0GateDense(HIDDEN, activation="relu", connection_penalty=penalty,
                                         seed=seed),
                             L0GateDense(classes, connection_penalty=penalty, seed=seed + 100)])


def persistent_model(sparsities, score, seed, steps_per_epoch, inputs=64, classes=10,
                     keep_prob=PERSISTENT_KEEP_PROB, inverted=False):
    """Pruned from the end of epoch 1 to the end of epoch 10, once an epoch, to ``sparsities``.

    ``keep_prob`` is the hidden layer's DropConnect keep probability (1: gradual pruning alone);
    ``inverted`` its convention (True: (M⊙A⊙W)/keep_prob in training, A⊙W at inference).
    """
    import keras
    from dcscratch.persistent import PersistentDropConnectDense
    keras.utils.set_random_seed(seed)
    schedule = {"score": score, "prune_start": steps_per_epoch,
                "prune_end": PRUNE_AT_EPOCH * steps_per_epoch, "prune_every": steps_per_epoch}
    return keras.Sequential([
        keras.Input((inputs,)),
        PersistentDropConnectDense(HIDDEN, keep_prob, activation="relu", inverted=inverted,
                                   target_sparsity=sparsities[0], seed=seed, **schedule),
        PersistentDropConnectDense(classes, 1.0, target_sparsity=sparsities[1], seed=seed + 100,
                                   **schedule)])


def magnitude_masks(model, sparsities):
    """Per layer, 0 for the given share of smallest |W|, 1 elsewhere."""
    masks = []
    for layer, sparsity in zip(model.layers, sparsities):
        magnitude = np.abs(layer.kernel.numpy())
        masks.append((magnitude > np.quantile(magnitude, sparsity)).astype(np.float32))
    return masks


def pruned_and_retrained(data, sparsities, seed):
    """Han et al.: Dense for 10 epochs, prune the smallest |w| per layer, retrain 5 epochs."""
    dense = train(dense_model(seed), data, epochs=PRUNE_AT_EPOCH, seed=seed)
    masks = magnitude_masks(dense, sparsities)
    pruned = dense_model(seed, constraints=[lambda w, m=m: w * m for m in masks])
    for layer, source, mask in zip(pruned.layers, dense.layers, masks):
        layer.set_weights([source.kernel.numpy() * mask, source.bias.numpy()])
    return train(pruned, data, epochs=EPOCHS - PRUNE_AT_EPOCH, seed=seed)


def class_gate_probe(dense, data, *, steps=300, penalty=0.5, seed=9):
    """Post-hoc: per-class hard concrete gates on a frozen network's first layer.

    Gate set c is trained so that output c, computed through gate set c, still separates class c
    from the rest (class-balanced binary cross-entropy) under an expected-L0 penalty.
    Returns the deterministic gates ``(classes, inputs, hidden)`` and a function scoring inputs
    through given gate sets.
    """
    import keras
    from dcscratch.extensions import hard_concrete, hard_concrete_keep_prob, hard_concrete_test_gate
    from dcscratch.tf_common import tf

    w1, b1 = dense.layers[0].kernel, dense.layers[0].bias
    w2, b2 = dense.layers[1].kernel, dense.layers[1].bias
    classes, temperature = int(w2.shape[1]), 2 / 3
    x_train = tf.constant(data.x_train)
    positives = tf.cast(tf.one_hot(data.y_train, classes), tf.float32)
    balance = (positives / tf.reduce_mean(positives, 0)
               + (1 - positives) / tf.reduce_mean(1 - positives, 0))

    def class_scores(inputs, gates):
        hidden = tf.nn.relu(tf.einsum("ni,cij->cnj", inputs, gates * w1) + b1)
        return tf.transpose(tf.einsum("cnj,jc->cn", hidden, w2)) + b2

    gate_logit = tf.Variable(tf.fill((classes,) + tuple(w1.shape), 2.0))
    optimizer = keras.optimizers.Adam(0.05)

    @tf.function
    def gate_step(step):
        noise = tf.random.stateless_uniform(gate_logit.shape, seed=[seed, step], minval=1e-6,
                                            maxval=1 - 1e-6)
        with tf.GradientTape() as tape:
            scores = class_scores(x_train, hard_concrete(gate_logit, noise, temperature))
            binary = tf.nn.sigmoid_cross_entropy_with_logits(labels=positives, logits=scores)
            kept_share = tf.reduce_mean(hard_concrete_keep_prob(gate_logit, temperature))
            loss = tf.reduce_mean(balance * binary) / 2 + penalty * kept_share
        optimizer.apply_gradients([(tape.gradient(loss, gate_logit), gate_logit)])

    for step in range(steps):
        gate_step(tf.constant(step, tf.int64))
    return hard_concrete_test_gate(gate_logit).numpy(), class_scores


def _correct(logits, labels):
    return np.argmax(np.asarray(logits), axis=1) == labels


def _bits(array):
    """A boolean array as base64 of its packed bits, with its shape."""
    array = np.asarray(array, bool)
    return {"shape": list(array.shape),
            "bits": base64.b64encode(np.packbits(array.ravel())).decode("ascii")}


def unbits(record):
    """The boolean array ``_bits`` stored."""
    flat = np.unpackbits(np.frombuffer(base64.b64decode(record["bits"]), np.uint8))
    return flat[:int(np.prod(record["shape"]))].astype(bool).reshape(record["shape"])


def run_seed(data, seed, *, l0_penalty, class_penalty):
    """Every arm for one seed: per-example test correctness, sparsities, and the class masks."""
    from dcscratch.class_gates import ClassGatedMLP

    steps_per_epoch = len(data.y_train) // BATCH_SIZE
    models = {"dense": train(dense_model(seed), data, seed=seed),
              "l0": train(l0_model(l0_penalty, seed), data, seed=seed)}
    sparsities = [float(np.mean(layer.inference_mask().numpy() == 0))
                  for layer in models["l0"].layers]
    for score in ("taylor", "magnitude"):
        models[f"persistent-{score}"] = train(
            persistent_model(sparsities, score, seed, steps_per_epoch), data, seed=seed)
        models[f"gradual-{score}"] = train(
            persistent_model(sparsities, score, seed, steps_per_epoch, keep_prob=1.0), data,
            seed=seed)
    models["pruned"] = pruned_and_retrained(data, sparsities, seed)
    record = {"seed": seed, "l0_sparsity_per_layer": sparsities, "correct": {}, "zero_share": {}}
    for arm, model in models.items():
        _record_arm(record, arm, model, data)

    gated = ClassGatedMLP(data.x_train.shape[1], HIDDEN, 10, connection_penalty=class_penalty,
                          seed=seed)
    import keras
    keras.utils.set_random_seed(seed)
    train(gated, data, seed=seed, with_labels=True)
    for routing in ("prediction", "mixture"):
        gated.routing = routing
        record["correct"][f"class-gated-{routing}"] = _bits(
            _correct(gated(data.x_test), data.y_test))
    record["correct"]["class-gated-label"] = _bits(
        _correct(gated((data.x_test, data.y_test)), data.y_test))
    record["class_gated_kept"] = _bits(gated.hidden.inference_mask().numpy() > 0)

    gates, class_scores = class_gate_probe(models["dense"], data, seed=9 + seed)
    from dcscratch.tf_common import tf
    x_test = tf.constant(data.x_test)
    record["probe_kept"] = _bits(gates > 0)
    record["correct"]["probe-own"] = _bits(_correct(class_scores(x_test, tf.constant(gates)),
                                                    data.y_test))
    record["correct"]["probe-shifted"] = _bits(_correct(
        class_scores(x_test, tf.constant(gates[np.roll(np.arange(10), 1)])), data.y_test))

    # Last, so that no arm above draws from a random state this one has moved.
    _record_arm(record, "persistent-taylor-inverted", train(
        persistent_model(sparsities, "taylor", seed, steps_per_epoch, inverted=True), data,
        seed=seed), data)
    return record


def _record_arm(record, arm, model, data):
    """A trained arm's per-image test correctness and its layers' shares of zero weights."""
    record["correct"][arm] = _bits(_correct(model(data.x_test), data.y_test))
    kernels = [layer.kernel.numpy() * (layer.inference_mask().numpy()
                                       if hasattr(layer, "inference_mask") else
                                       layer.alive_mask.numpy()
                                       if hasattr(layer, "alive_mask") else 1.0)
               for layer in model.layers]
    record["zero_share"][arm] = [float(np.mean(kernel == 0)) for kernel in kernels]


def choose_class_penalty(data, penalties, seed=0):
    """The λ whose class-gated network, routed by its prediction, is best on validation."""
    import keras
    from dcscratch.class_gates import ClassGatedMLP

    accuracies = {}
    for penalty in penalties:
        keras.utils.set_random_seed(seed)
        gated = ClassGatedMLP(data.x_train.shape[1], HIDDEN, 10, connection_penalty=penalty,
                              seed=seed)
        train(gated, data, seed=seed, with_labels=True)
        accuracies[penalty] = float(np.mean(_correct(gated(data.x_val), data.y_val)))
    return max(accuracies, key=accuracies.get), accuracies


def code_fingerprint(modules=STUDY_MODULES):
    """SHA-256 of the modules' code without docstrings (comments never reach the syntax tree).

    Rewording documentation leaves it alone; any change to what runs changes it. The committed
    study records it, and its test compares it with the code in the checkout.
    """
    import importlib

    from dcscratch.experiments.fingerprint import _code_without_docstrings

    digest = hashlib.sha256()
    for name in modules:
        digest.update(_code_without_docstrings(
            inspect.getsource(importlib.import_module(name))).encode())
    return digest.hexdigest()


def _commit(modules=STUDY_MODULES):
    """HEAD of the repository holding this file, + "-dirty" if a file of ``modules`` differs from it.

    Only the study's own modules count: other files that other work has changed do not change
    what the study runs.
    """
    import importlib

    folder = Path(__file__).parent
    files = [inspect.getsourcefile(importlib.import_module(name)) for name in modules]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                cwd=folder, check=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--",
                                  *files], capture_output=True, text=True, cwd=folder,
                                 check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if changed.strip() else "")


def run_study(seeds=(0, 1, 2, 3, 4), *, l0_penalty=1e-3, class_penalties=(1e-5, 1e-4, 1e-3),
              progress=True):
    """The whole study as a JSON-ready dict, with what is needed to trust it."""
    import dcscratch
    from dcscratch.devices import machine, versions

    data = dcscratch.load_digits(seed=0)
    commit, fingerprint = _commit(), code_fingerprint()  # before the runs: the code that ran
    started = time.perf_counter()
    class_penalty, validation = choose_class_penalty(data, class_penalties)
    runs = []
    for seed in seeds:
        runs.append(run_seed(data, seed, l0_penalty=l0_penalty, class_penalty=class_penalty))
        if progress:
            print(f"seed {seed} done, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return {"command": "python -m dcscratch.experiments.extension_study", "commit": commit,
            "code_fingerprint": fingerprint, "versions": versions(), "machine": machine(),
            "dataset": "digits (load_digits(seed=0))",
            "test_size": int(len(data.y_test)), "seeds": list(seeds), "l0_penalty": l0_penalty,
            "class_penalty": class_penalty, "class_penalty_validation": validation,
            "budget": {"epochs": EPOCHS, "batch_size": BATCH_SIZE,
                       "learning_rate": LEARNING_RATE, "prune_at_epoch": PRUNE_AT_EPOCH,
                       "persistent_keep_prob": PERSISTENT_KEEP_PROB},
            "wall_s": round(time.perf_counter() - started), "runs": runs}


def load_study(path=COMMITTED):
    """The committed study, with every stored bit array unpacked."""
    study = json.loads(Path(path).read_text())
    for run in study["runs"]:
        run["correct"] = {arm: unbits(bits) for arm, bits in run["correct"].items()}
        for key in ("class_gated_kept", "probe_kept"):
            run[key] = unbits(run[key])
    return study


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m dcscratch.experiments.extension_study",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=COMMITTED)
    args = parser.parse_args(argv)
    import dcscratch
    dcscratch.set_seeds(0)
    study = run_study()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(study, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
