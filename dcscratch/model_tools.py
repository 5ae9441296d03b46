"""Tools that take a whole Keras model: average its sampled passes, copy it under another rule.

``dcscratch.inference`` holds the maths of inference (moments, the closed form, entropy,
calibration) and imports no model code; ``DropConnectDense`` uses that maths; this module sits
above both (notebook 06):

- :func:`mc_predict` averages whole stochastic forward passes (MC-DropConnect);
- :func:`with_inference` copies a model, with its weights, under another inference rule;
- :func:`reseed` restarts every random layer's stream of a model from a seed, or from fresh
  randomness.

Randomness. A Keras random layer draws from a ``keras.random.SeedGenerator`` whose state is a
variable. A layer rebuilt from its config (as a copy is) starts that stream again from the
config's ``seed``, and ``get_weights``/``set_weights`` do not carry the state, so without
:func:`reseed` two copies of a seeded model would draw exactly the same masks. Every function
here therefore takes ``seed``: None gives fresh randomness (from the operating system), an
integer gives the same draws on every call.
"""
from collections import namedtuple

import numpy as np

from dcscratch.inference import _is_numpy, predictive_entropy
from dcscratch.validation import (_are_probability_rows, _invalid, check_choice,
                                  check_float_array, check_positive_int, check_seed)

MCPrediction = namedtuple("MCPrediction", ["probs", "entropy", "mutual_information"])
MCPrediction.__doc__ = """What :func:`mc_predict` returns (NumPy arrays).

probs: ``(batch, classes)`` mean predicted probabilities over the sampled passes.
entropy: ``(batch,)`` predictive entropy of ``probs``, in nats (total uncertainty).
mutual_information: ``(batch,)`` entropy of the mean minus the mean entropy of the passes,
    in nats: how much the passes disagree (the "BALD" score of Houlsby et al., 2011).
"""

# Keras names the state variable of every SeedGenerator this way.
_SEED_STATE = "seed_generator_state"


def seed_states(model):
    """The current state of every random layer's seed generator in ``model``, as NumPy arrays.

    Pass the result to :func:`restore_seed_states` to rewind the model's random streams.
    """
    return [v.numpy() for v in _generators(model)]


def restore_seed_states(model, states):
    """Set the seed generators of ``model`` back to ``states`` (from :func:`seed_states`)."""
    generators = _generators(model)
    if len(states) != len(generators):
        raise ValueError(_invalid("states", f"{len(generators)} states, one per seed generator "
                                  "of the model", f"{len(states)} states"))
    for generator, state in zip(generators, states):
        generator.assign(state)


def reseed(model, seed=None):
    """Restart every random layer's stream in ``model``: from ``seed``, or fresh if None.

    The layers get distinct streams, derived from ``seed`` by ``numpy.random.SeedSequence``
    (which, given None, draws its entropy from the operating system).

    Returns:
        The states set, as from :func:`seed_states`.
    """
    seed = check_seed(seed)
    generators = _generators(model)
    states = np.random.SeedSequence(seed).generate_state(len(generators))
    for generator, state in zip(generators, states):
        generator.assign(np.array([state % 2**31, 0], dtype=generator.dtype))
    return seed_states(model)


def mc_predict(model, x, *, samples, seed=None, from_logits=False):
    """Average ``samples`` stochastic forward passes of ``model`` (MC-DropConnect).

    Each pass calls ``model(x, training=True)``, so every DropConnect layer draws masks as in
    training (and any Dropout layer drops). Do not use it on models with layers whose training
    mode changes state, such as ``BatchNormalization``.

    What it estimates: E_M[softmax(network with masks M)], the average of the sampled
    sub-networks' predictions. That is not the target of the paper's Algorithm 2, which
    averages the masked *hidden units* and applies the softmax once (notebook 06, section 3).

    Args:
        model: a Keras model whose outputs are probabilities (or logits, see ``from_logits``).
        x: inputs, a float array of the shape the model takes.
        samples: positive integer, the number of passes.
        seed: None for fresh randomness on every call, or a non-negative integer: the same
            seed gives the same result. Either way the random layers' streams are restarted
            for these passes (:func:`reseed`) and restored afterwards, so the model's own
            stream is left untouched.
        from_logits: whether the model outputs logits, to which a softmax is applied.

    Returns:
        :class:`MCPrediction` of ``probs`` ``(batch, classes)``, ``entropy`` and
        ``mutual_information`` ``(batch,)``.
    """
    import keras

    if _is_numpy(x):
        x = check_float_array(x, "x")
    samples = check_positive_int(samples, "samples")
    seed = check_seed(seed)
    saved = seed_states(model)
    reseed(model, seed)
    try:
        passes = []
        for _ in range(samples):
            output = model(x, training=True)
            if from_logits:
                output = keras.ops.softmax(output, axis=-1)
            output = np.asarray(output, dtype=np.float64)
            if output.ndim != 2 or not _are_probability_rows(output):
                raise ValueError(_invalid(
                    "model", "a model whose outputs are rows of probabilities (pass "
                    "from_logits=True for a model that outputs logits)", model.name))
            passes.append(output)
    finally:
        restore_seed_states(model, saved)
    probs = np.mean(passes, axis=0)
    entropy = predictive_entropy(probs)
    mean_pass_entropy = np.mean([predictive_entropy(p) for p in passes], axis=0)
    return MCPrediction(probs, entropy, entropy - mean_pass_entropy)


def with_inference(model, inference, *, samples=64, seed=None):
    """A copy of ``model`` (same weights) whose ``DropConnectDense`` layers use ``inference``.

    Args:
        model: a Keras model (Sequential or functional) containing DropConnectDense layers.
        inference: ``"mean"``, ``"gaussian"`` or ``"mc"``.
        samples: the layers' ``inference_samples``.
        seed: None gives the copy's random layers fresh streams, so two copies draw different
            masks and noise; a non-negative integer gives them streams derived from it
            (:func:`reseed`), so copies made with the same seed predict alike.
    """
    import keras

    from dcscratch.keras_layer import INFERENCE_MODES, DropConnectDense

    inference = check_choice(inference, INFERENCE_MODES, "inference")
    samples = check_positive_int(samples, "samples")
    seed = check_seed(seed)

    def clone(layer):
        config = layer.get_config()
        if isinstance(layer, DropConnectDense):
            config.update(inference=inference, inference_samples=samples)
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    reseed(copy, seed)
    return copy


def _generators(model):
    return [v for v in model.variables if v.name == _SEED_STATE]
