"""Masks per input class, trained from the start (notebook 08): the blog's modularity idea.

The blog wondered whether connections that "drop and stay dropped … as a result of the input data
class" would make a network modular. ``ClassGatedDense`` gives every class its own set of hard
concrete gates (as ``L0GateDense``, Louizos et al. 2018) over one shared kernel; in training the
label picks the gate set, so the pressure towards separate sub-networks is there from the first
step. At test time there is no label, so ``ClassGatedMLP`` routes by a documented rule.

Are the masks modular? Statistics of the class × connection "kept" matrix and two kinds of null:

- ``shuffle_within_alive`` keeps each class's number of kept connections (over the layer, per
  input or per unit) and the set of connections some class keeps. It does not keep how many
  classes keep each connection, so a shared core overlaps "more than chance" under it whether
  or not there are modules beside the core: it measures how far the degrees are from uniform,
  not modularity.
- ``curveball_shuffle`` keeps both each class's count and each connection's degree; a shared
  core passes it, modules of several classes do not (``overlap_spread``). With
  ``within="input"`` it also keeps each class's count per input, so that which pixels a class
  inks cannot pass for structure among the classes. Single-class modules are read from the
  degrees directly: ``kept_privately``.
"""
import keras
import numpy as np
from keras import ops

from dcscratch.extensions import L0GateDense
from dcscratch.validation import _invalid, check_choice, check_positive_int, check_seed

ROUTINGS = ("prediction", "mixture")


def _check_classes(classes):
    classes = check_positive_int(classes, "classes")
    if classes < 2:
        raise ValueError(_invalid("classes", "an integer >= 2", classes))
    return classes


@keras.saving.register_keras_serializable(package="dcscratch")
class ClassGatedDense(L0GateDense):
    """Dense layer with one hard concrete gate set per class over a shared kernel.

    ``out_n = activation(x_n @ (G_n⊙W) + b)`` with G_n = Σ_c w_nc z_c: the gate sets z_c
    (shape ``(classes, input_dim, units)``) mixed by the example's class weights w_n. One-hot
    weights (the label, in training) select one gate set; probability weights mix them, which,
    the layer being linear before its activation, is the same as mixing the classes'
    pre-activations. In training z_c is a hard concrete sample (eq. 10) and
    ``connection_penalty`` · Σ_c Σ P(z_c ≠ 0) (eq. 12) is added to the loss; at inference z_c is
    the deterministic gate of eq. 13, exactly zero for connections class c dropped for good.

    Args:
        units: positive integer, dimensionality of the output space.
        classes: integer >= 2, the number of gate sets.
        keep_prob, temperature, connection_penalty, seed, activation, use_bias, and the kernel
            and bias initializers, regularizers and constraints: as for ``L0GateDense``.

    Call arguments:
        inputs: tensor of shape ``(batch, input_dim)``.
        class_weights: tensor of shape ``(batch, classes)``: one-hot labels, or probabilities.
        training: Python boolean; True samples the gates, False uses eq. 13.

    Weights: ``kernel`` (input_dim, units), ``bias`` (units,), ``gate_logit``
    (classes, input_dim, units).
    """

    def __init__(self, units, classes, *, keep_prob=0.95, temperature=2 / 3,
                 connection_penalty=0.0, **kwargs):
        super().__init__(units, keep_prob=keep_prob, temperature=temperature,
                         connection_penalty=connection_penalty, **kwargs)
        self.classes = _check_classes(classes)

    def gate_shape(self, input_dim):
        return (self.classes, input_dim, self.units)

    def inference_mask(self):
        """The deterministic gates, shape ``(classes, input_dim, units)``, in [0, 1]."""
        return self.inference_gate()

    def call(self, inputs, class_weights, training=False):
        gates = self.training_gate() if training else self.inference_gate()
        if self.connection_penalty > 0:
            self.add_loss(self.connection_penalty * self.expected_kept_connections())
        # Mixing the gates per example: (batch, classes) · (classes, in, units) → (batch, in,
        # units) would hold one matrix per example; mixing the per-class products does not.
        per_class = ops.einsum("ni,cij->ncj", inputs, gates * self.kernel)
        mixed = ops.einsum("nc,ncj->nj", ops.cast(class_weights, per_class.dtype), per_class)
        return self._add_bias_and_activate(mixed)

    def compute_output_shape(self, input_shape, class_weights_shape=None):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "classes": self.classes}


@keras.saving.register_keras_serializable(package="dcscratch")
class ClassGatedMLP(keras.Model):
    """input → ClassGatedDense(hidden_units, relu) → Dense(classes) → logits.

    Training calls the model on ``(x, labels)``: each example goes through its own class's gates
    on the first layer, e.g. ``model.fit((x, y), y)``. The label is then an input: the gates can
    carry it to the output (a leak), so accuracy on ``(x, labels)`` is not a test accuracy; only
    the output layer is shared, not gated, to keep that leak to what the hidden layer's gates
    can encode. Called on ``x`` alone the model routes:

    - ``routing="prediction"``: a first pass through the average of the gate sets (class weights
      1/classes) gives probabilities p; the second pass uses the gates of argmax p, the
      network's own prediction.
    - ``routing="mixture"``: the same first pass; the second uses the probability-weighted
      mixture Σ_c p_c z_c.

    What routing costs: two forward passes instead of one; in the second, every example needs its
    own gated kernel (one per predicted class, or a per-example mixture), like per-example
    DropConnect masks, and the model stores ``classes`` gate sets. In accuracy it costs the gap
    between calling on ``(x, labels)`` and on ``x``: a wrong first-pass prediction sends the
    example through another class's module.

    Args:
        input_dim: positive integer, features per example (the layers are built at once, so that
            a saved model reloads without a sample input).
        hidden_units: positive integer.
        classes: integer >= 2.
        routing: ``"prediction"`` or ``"mixture"``.
        keep_prob, temperature, connection_penalty: passed to the ``ClassGatedDense`` layer.
        seed: None or a non-negative integer, the gates' seed.
    """

    def __init__(self, input_dim, hidden_units, classes, *, routing="prediction", keep_prob=0.95,
                 temperature=2 / 3, connection_penalty=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.input_dim = check_positive_int(input_dim, "input_dim")
        self.hidden_units = check_positive_int(hidden_units, "hidden_units")
        self.classes = _check_classes(classes)
        self.routing = check_choice(routing, ROUTINGS, "routing")
        self.seed = check_seed(seed)
        gate_args = {"keep_prob": keep_prob, "temperature": temperature,
                     "connection_penalty": connection_penalty}
        self.hidden = ClassGatedDense(hidden_units, classes, activation="relu", seed=self.seed,
                                      name="hidden", **gate_args)
        self.output_layer = keras.layers.Dense(classes, name="output")
        self.hidden.build((None, self.input_dim))
        self.output_layer.build((None, self.hidden_units))
        self.gate_args = {"keep_prob": self.hidden.keep_prob,
                          "temperature": self.hidden.temperature,
                          "connection_penalty": self.hidden.connection_penalty}

    def gated_logits(self, x, class_weights, training=False):
        """Logits with every example's gates mixed by ``class_weights`` (batch, classes)."""
        hidden = self.hidden(x, class_weights, training=training)
        return self.output_layer(hidden)

    def route(self, x):
        """Class weights of the routing rule, shape ``(batch, classes)``."""
        batch = ops.shape(x)[0]
        average = ops.ones((batch, self.classes), dtype=x.dtype) / self.classes
        probabilities = ops.softmax(self.gated_logits(x, average), axis=-1)
        if self.routing == "mixture":
            return probabilities
        return ops.one_hot(ops.argmax(probabilities, axis=-1), self.classes, dtype=x.dtype)

    def call(self, inputs, training=False):
        if isinstance(inputs, (tuple, list)):
            x, labels = inputs
            x = ops.convert_to_tensor(x)
            labels = ops.reshape(ops.cast(labels, "int32"), (-1,))
            return self.gated_logits(x, ops.one_hot(labels, self.classes, dtype=x.dtype),
                                     training=training)
        x = ops.convert_to_tensor(inputs)
        return self.gated_logits(x, self.route(x), training=training)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim,
                "hidden_units": self.hidden_units, "classes": self.classes,
                "routing": self.routing, "seed": self.seed, **self.gate_args}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("trainable", "dtype"):
            config.pop(key, None)
        return cls(**config)


def _check_kept(kept, *, dims=None):
    """``kept`` as a boolean array ``(classes, ...)`` with at least two classes."""
    array = np.asarray(kept)
    expected = ("a boolean array (classes, ...) with at least 2 classes"
                + (f" and {dims} dimensions" if dims else ""))
    if array.dtype != bool:
        raise TypeError(_invalid("kept", expected, f"<array of dtype {array.dtype}>"))
    if array.ndim < 2 or len(array) < 2 or (dims is not None and array.ndim != dims):
        raise ValueError(_invalid("kept", expected, f"<array of shape {array.shape}>"))
    return array


def pairwise_overlaps(kept):
    """The Jaccard index |K_c ∩ K_d| / |K_c ∪ K_d| of every pair of classes c < d.

    ``kept``: boolean array ``(classes, ...)``, the connections each class keeps. Returns
    ``(classes · (classes − 1) / 2,)`` floats in the order of ``np.triu_indices(classes, 1)``;
    a pair that keeps nothing at all counts 1 (the two sets are equal).
    """
    flat = _check_kept(kept).reshape(len(kept), -1).astype(np.float64)
    shared = flat @ flat.T
    sizes = np.diag(shared)
    union = sizes[:, None] + sizes[None, :] - shared
    upper = np.triu_indices(len(flat), 1)
    return np.where(union[upper] > 0, shared[upper] / np.maximum(union[upper], 1), 1.0)


def class_mask_overlap(kept):
    """Mean Jaccard index over pairs of classes (the mean of :func:`pairwise_overlaps`).

    1 when all classes keep the same connections, 0 when they share none (separate modules).
    """
    return float(np.mean(pairwise_overlaps(kept)))


def overlap_spread(kept):
    """Standard deviation of the pairwise Jaccard indices over pairs of classes.

    The statistic for modules of several classes under :func:`curveball_shuffle`'s null: classes
    of one module share much with each other and little with the rest, so their pairwise
    overlaps spread; a shared core and connections placed independently around it give every
    pair about the same overlap.
    """
    return float(np.std(pairwise_overlaps(kept)))


def kept_by_one_class(kept):
    """Share of all connections kept by exactly one class.

    ``kept``: boolean array ``(classes, ...)``, the connections each class keeps. A function of
    each connection's degree (how many classes keep it) alone, so any null that fixes the
    degrees, such as :func:`curveball_shuffle`, reproduces it exactly.
    """
    kept = _check_kept(kept).reshape(len(kept), -1)
    return float(np.mean(kept.sum(axis=0) == 1))


def kept_by_every_class(kept):
    """Share of all connections kept by every class (a function of the degrees, as above)."""
    kept = _check_kept(kept).reshape(len(kept), -1)
    return float(np.mean(kept.all(axis=0)))


def kept_privately(kept):
    """Per class, the share of its kept connections that no other class keeps, ``(classes,)``.

    The direct measure of single-class modules: a class with a module of its own keeps a large
    share privately; a class that shares a core with the others keeps a small one. A class that
    keeps nothing gets 0.
    """
    kept = _check_kept(kept).reshape(len(kept), -1)
    private = kept & (kept.sum(axis=0) == 1)
    return private.sum(axis=1) / np.maximum(kept.sum(axis=1), 1)


SHUFFLE_WITHIN = ("layer", "input", "unit")


def shuffle_within_alive(kept, rng, within="layer"):
    """One draw of a null that moves each class's kept connections at random among the alive.

    A connection is *alive* when some class keeps it; the dead stay dead. The draw keeps, for
    every class, as many connections as the class really keeps, placed uniformly among the
    alive ones, independently across classes. ``within`` fixes more of each class's counts:

    - ``"layer"``: each class's count over the layer;
    - ``"input"``: each class's count per input (per pixel: whatever the class's ink does to
      which of its connections close), placed among that input's alive connections;
    - ``"unit"``: each class's count per output unit (per hidden unit).

    What no ``within`` keeps is how many classes keep each connection (its degree): where
    connections differ in how widely they are used (a shared core), this null's overlap is too
    low whether or not the masks are modular; :func:`curveball_shuffle` keeps the degrees.
    Made to be the ``shuffle`` of ``dcscratch.stats.permutation_null``.

    Args:
        kept: boolean array ``(classes, inputs, units)`` (``(classes, ...)`` for ``"layer"``).
        rng: a ``numpy.random.Generator``.
        within: ``"layer"``, ``"input"`` or ``"unit"``.
    """
    within = check_choice(within, SHUFFLE_WITHIN, "within")
    kept = _check_kept(kept, dims=None if within == "layer" else 3)
    if within == "layer":
        slices = kept.reshape(len(kept), 1, -1)
    else:
        slices = kept if within == "input" else kept.transpose(0, 2, 1)
    alive = slices.any(axis=0)
    # Per class and slice, the `count` alive connections with the smallest random keys: a
    # uniform choice of `count` among the slice's alive ones (the dead get the key +inf).
    keys = np.where(alive, rng.random(slices.shape), np.inf)
    ranks = np.empty(slices.shape, np.int64)
    np.put_along_axis(ranks, np.argsort(keys, axis=-1),
                      np.arange(slices.shape[-1])[None, None, :], axis=-1)
    shuffled = ranks < slices.sum(axis=-1, keepdims=True)
    if within == "unit":
        shuffled = shuffled.transpose(0, 2, 1)
    return shuffled.reshape(kept.shape)


CURVEBALL_WITHIN = ("layer", "input")


def curveball_shuffle(kept, rng, rounds=20, within="layer"):
    """One draw of the fixed-margins null: every class's count and every connection's degree kept.

    The class × connection matrix of ``kept`` is randomised by the curveball algorithm
    (Strona et al. 2014; Carstens 2015 shows its chain samples uniformly among the 0/1 matrices
    with the same row and column sums): a trade takes two classes, pools the connections that
    exactly one of the two keeps, and deals them back at random, as many to each as it had.
    Each round pairs the classes at random and trades within every pair; ``rounds`` rounds start
    from ``kept`` itself.

    Under this null a class keeps as many connections as it does, and a connection is kept by as
    many classes as it is (so a shared core, kept by every class, stays put); only *which*
    classes share the connections of a given degree is random. What it can see is structure
    among the classes: modules of several classes that share more with each other than with the
    rest (:func:`overlap_spread`). Single-class modules are a matter of degrees alone (their
    connections have degree 1), which this null keeps: :func:`kept_privately` measures them.

    ``within="input"`` fixes more: every class's count *per input* (per pixel), trading only
    inside each input's ``(classes, units)`` slice, so each slice keeps its own row and column
    sums. Where the classes' inputs differ (a class that never inks a pixel keeps none of its
    connections), that class × input pattern alone spreads the overlaps under the layer-wide
    null; this null reproduces it, and what spreads beyond it is structure among the classes
    that the inputs do not explain.

    Args:
        kept: boolean array ``(classes, ...)`` (``(classes, inputs, units)`` for ``"input"``).
        rng: a ``numpy.random.Generator``.
        rounds: positive integer, rounds of trades (notebook 08 checks that 20 mix its masks:
            the null's overlap spread with 5, 20 and 100 rounds).
        within: ``"layer"`` or ``"input"``.
    """
    within = check_choice(within, CURVEBALL_WITHIN, "within")
    kept = _check_kept(kept, dims=None if within == "layer" else 3)
    rounds = check_positive_int(rounds, "rounds")
    if within == "input":
        return _curveball_within_inputs(kept, rng, rounds)
    flat = kept.reshape(len(kept), -1).copy()
    for _ in range(rounds):
        order = rng.permutation(len(flat))
        for a, b in zip(order[0::2], order[1::2]):
            differ = np.flatnonzero(flat[a] != flat[b])
            dealt_to_a = rng.permutation(differ)[:int(flat[a, differ].sum())]
            flat[a, differ], flat[b, differ] = False, True
            flat[a, dealt_to_a], flat[b, dealt_to_a] = True, False
    return flat.reshape(kept.shape)


def _curveball_within_inputs(kept, rng, rounds):
    """``curveball_shuffle`` inside every input's ``(classes, units)`` slice, all slices at once.

    Every slice runs its own chain: its own random pairing of the classes each round and its own
    deal, so the slices are shuffled independently of each other.
    """
    slices = kept.copy()
    classes, inputs = slices.shape[:2]
    every_input = np.arange(inputs)
    for _ in range(rounds):
        order = np.argsort(rng.random((inputs, classes)), axis=1)  # a pairing per input
        for a, b in zip(order[:, 0::2].T, order[:, 1::2].T):       # (inputs,) classes each
            row_a, row_b = slices[a, every_input], slices[b, every_input]  # (inputs, units)
            differ = row_a != row_b
            # Per slice, class a gets back as many of the pooled connections as it had: those
            # with the smallest random keys, a uniform choice (the others get the key +inf).
            keys = np.where(differ, rng.random(differ.shape), np.inf)
            ranks = np.argsort(np.argsort(keys, axis=-1), axis=-1)
            dealt_to_a = ranks < (row_a & differ).sum(axis=-1, keepdims=True)
            slices[a, every_input] = np.where(differ, dealt_to_a, row_a)
            slices[b, every_input] = np.where(differ, ~dealt_to_a, row_b)
    return slices
