"""Masks per input class, trained from the start (notebook 08): the blog's modularity idea.

The blog wondered whether connections that "drop and stay dropped … as a result of the input data
class" would make a network modular. ``ClassGatedDense`` gives every class its own set of hard
concrete gates (as ``L0GateDense``, Louizos et al. 2018) over one shared kernel; in training the
label picks the gate set, so the pressure towards separate sub-networks is there from the first
step. At test time there is no label, so ``ClassGatedMLP`` routes by a documented rule, and
``class_mask_overlap`` with the null ``shuffle_within_alive`` measures how modular the masks are
against a null that keeps every class's number of connections and the set of connections some
class uses.
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


def class_mask_overlap(kept):
    """Mean Jaccard index |K_c ∩ K_d| / |K_c ∪ K_d| over pairs of classes.

    ``kept``: boolean array ``(classes, ...)``, the connections each class keeps. 1 when all
    classes keep the same connections, 0 when they share none (separate modules).
    """
    kept = np.asarray(kept, bool).reshape(len(kept), -1)
    overlaps = []
    for c in range(len(kept)):
        for d in range(c + 1, len(kept)):
            union = np.sum(kept[c] | kept[d])
            overlaps.append(np.sum(kept[c] & kept[d]) / union if union else 1.0)
    return float(np.mean(overlaps))


def kept_by_one_class(kept):
    """Share of all connections kept by exactly one class.

    ``kept``: boolean array ``(classes, ...)``, the connections each class keeps. High for
    separate modules (each connection belongs to one class), 0 when every kept connection is
    shared by two classes or more. A second statistic for ``shuffle_within_alive``'s null.
    """
    kept = np.asarray(kept, bool).reshape(len(kept), -1)
    return float(np.mean(kept.sum(axis=0) == 1))


def shuffle_within_alive(kept, rng):
    """One draw of the modularity null: each class's kept set moved at random among the alive.

    A connection is *alive* when some class keeps it. The draw keeps, for every class, as many
    connections as the class really keeps, placed uniformly among the alive ones (a
    permutation of the class's kept/not-kept labels within the alive connections),
    independently across classes; the dead connections stay dead. A null spread over all
    connections would count the dead ones (blank pixels, connections no class needs) as room to
    be apart, and put the chance overlap too low. Made to be the ``shuffle`` of
    ``dcscratch.stats.permutation_null`` with ``class_mask_overlap`` as the statistic.

    Args:
        kept: boolean array ``(classes, ...)``.
        rng: a ``numpy.random.Generator``.
    """
    kept = np.asarray(kept, bool)
    flat = kept.reshape(len(kept), -1)
    alive = np.flatnonzero(flat.any(axis=0))
    shuffled = np.zeros_like(flat)
    for c, row in enumerate(flat):
        shuffled[c, alive] = row[alive][rng.permutation(len(alive))]
    return shuffled.reshape(kept.shape)
