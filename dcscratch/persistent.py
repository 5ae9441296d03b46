"""Connections that drop and stay dropped (notebook 08): the blog's idea taken literally.

``PersistentDropConnectDense`` trains with DropConnect on its *alive* connections and, on a
schedule, drops for good the alive connections whose contribution is smallest. A 0/1 ``alive_mask``
(a non-trainable weight) only ever loses ones; a dropped connection is exactly zero in every
forward pass, has zero gradient, and its stored weight is held at zero after every optimizer step.

How it runs under ``model.fit`` (compare TensorFlow Model Optimization's ``prune_low_magnitude``,
whose wrapper keeps a step variable that a required ``UpdatePruningStep`` callback advances, and
updates its mask inside the wrapped layer's ``call``): here the step counter lives in the layer
and advances on every training call, so no callback is needed and a hand-written loop behaves as
``fit`` does. The Taylor score is gathered in the backward pass: the thinned kernel passes through
an identity whose custom gradient adds |w · ∂L/∂w| to a non-trainable accumulator, which the next
pruning event reads and then resets (Molchanov et al. 2017, 2019).
"""
import keras
from keras import ops

from dcscratch.keras_layer import DropConnectDense
from dcscratch.tf_common import tf
from dcscratch.validation import (_invalid, check_choice, check_non_negative_int,
                                  check_positive_int, check_real)

SCORES = ("taylor", "magnitude")


def sparsity_schedule(step, target_sparsity, prune_start, prune_end):
    """Share of connections dropped for good after training step ``step`` (Zhu & Gupta 2017).

    0 before ``prune_start``; ``target_sparsity`` from ``prune_end`` on; in between the cubic
    s_t = s_f · (1 − (1 − (t − t₀)/(t₁ − t₀))³), which drops many connections early, while there
    are many redundant ones, and few near the end. Works on Python numbers and on tensors.
    """
    progress = (step - prune_start) / (prune_end - prune_start)
    if isinstance(progress, (int, float)):
        progress = min(max(progress, 0.0), 1.0)
    else:
        progress = ops.clip(progress, 0.0, 1.0)
    return target_sparsity * (1.0 - (1.0 - progress) ** 3)


def prune_alive_mask(alive, score, dead_wanted):
    """The alive mask after killing the lowest-scored alive connections until ``dead_wanted`` are dead.

    ``alive`` is a 0/1 array, ``score`` an array of the same shape, ``dead_wanted`` the total
    number of dead connections wanted. Dead connections rank lowest (−inf), so the
    ``dead_wanted`` lowest are the dead ones so far plus the alive ones with the smallest scores
    (ties go to the lower flat index); the result is ``alive`` times 0/1, so a dead connection
    never comes back, and if fewer than the dead ones are wanted nothing changes.
    """
    alive = tf.convert_to_tensor(alive, tf.float32)
    size = tf.size(alive)
    dead_wanted = tf.maximum(tf.cast(dead_wanted, tf.int32), 0)
    ranked = tf.where(alive > 0, tf.cast(score, tf.float32), -float("inf"))
    _, lowest = tf.math.top_k(-tf.reshape(ranked, [-1]), k=tf.minimum(dead_wanted, size))
    dead = tf.scatter_nd(lowest[:, None], tf.ones_like(lowest, tf.float32), [size])
    return alive * (1.0 - tf.reshape(dead, tf.shape(alive)))


class _KeepAliveConstraint(keras.constraints.Constraint):
    """The user's kernel constraint, then ×alive_mask: Adam's momentum cannot revive a weight."""

    def __init__(self, layer, constraint):
        self.layer, self.constraint = layer, constraint

    def __call__(self, weight):
        if self.constraint is not None:
            weight = self.constraint(weight)
        return weight * ops.cast(self.layer.alive_mask, weight.dtype)


@keras.saving.register_keras_serializable(package="dcscratch")
class PersistentDropConnectDense(DropConnectDense):
    """DropConnect on the alive connections; the least useful ones are dropped for good.

    In training each call draws a DropConnect mask M as ``DropConnectDense`` does and computes
    ``activation(x @ (M⊙A⊙W) + b)``, where A is the persistent ``alive_mask``. Training calls are
    counted (``training_step``); at steps ``prune_start``, ``prune_start + prune_every``, … and
    at ``prune_end`` the layer drops alive connections, the lowest-scored first, until the share
    of dead connections reaches ``sparsity_schedule(step, …)``, so ``target_sparsity`` at
    ``prune_end``. At inference the layer uses A⊙W with the ``inference`` rule of
    ``DropConnectDense`` (``"mean"``: ``x @ (keep_prob·A⊙W) + b``); dead connections are exactly
    zero. With ``keep_prob=1`` it is gradual pruning without DropConnect (Zhu & Gupta 2017).

    Args:
        units: positive integer, dimensionality of the output space.
        keep_prob: float in (0, 1], DropConnect's keep probability for the alive connections.
        target_sparsity: float in [0, 1), the share of connections dead after ``prune_end``.
        score: ``"taylor"``, |w · ∂L/∂w| summed over the training steps since the last pruning
            event (the first-order change of the loss if the connection were removed, "the
            connection's contribution to deeper layers"), or ``"magnitude"``, |w| at the event.
            Under DropConnect the gradient of a connection the step's mask dropped is zero, so
            the Taylor sum counts each connection in about keep_prob of the steps.
        prune_start: non-negative integer, the training step of the first pruning event.
        prune_end: integer > ``prune_start``, the step at which ``target_sparsity`` is reached.
        prune_every: positive integer, training steps between pruning events.
        mask, inference, inference_samples, seed, chunk_size, activation, use_bias,
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        activity_regularizer, kernel_constraint, bias_constraint: as for ``DropConnectDense``.

    Call arguments:
        inputs: tensor of shape ``(batch, ..., input_dim)``.
        training: Python boolean; True counts a step, prunes when due, and draws masks.

    Weights: ``kernel``, ``bias`` (trainable); ``alive_mask`` (input_dim, units) of 0/1,
    ``taylor_score`` (input_dim, units), ``training_step`` (int64 scalar), not trainable.
    """

    def __init__(self, units, keep_prob=0.5, *, target_sparsity=0.5, score="taylor",
                 prune_start=0, prune_end=1000, prune_every=100, **kwargs):
        super().__init__(units, keep_prob, **kwargs)
        self.target_sparsity = check_real(target_sparsity, "target_sparsity", minimum=0.0,
                                          include_minimum=True)
        if self.target_sparsity >= 1.0:  # a layer with no connection left computes only b
            raise ValueError(_invalid("target_sparsity", "a finite real number in [0, 1)",
                                      target_sparsity))
        self.score = check_choice(score, SCORES, "score")
        self.prune_start = check_non_negative_int(prune_start, "prune_start")
        self.prune_end = check_positive_int(prune_end, "prune_end")
        if self.prune_end <= self.prune_start:
            raise ValueError(_invalid("prune_end", f"an integer > prune_start={self.prune_start}",
                                      prune_end))
        self.prune_every = check_positive_int(prune_every, "prune_every")

    def build(self, input_shape):
        super().build(input_shape)
        shape = tuple(self.kernel.shape)
        self.alive_mask = self.add_weight(name="alive_mask", shape=shape, initializer="ones",
                                          trainable=False)
        self.taylor_score = self.add_weight(name="taylor_score", shape=shape,
                                            initializer="zeros", trainable=False)
        self.training_step = self.add_weight(name="training_step", shape=(), dtype="int64",
                                             initializer="zeros", trainable=False)
        self.kernel.constraint = _KeepAliveConstraint(self, self.kernel_constraint)

    def alive_share(self):
        """Share of connections still alive (a scalar tensor)."""
        return ops.mean(self.alive_mask)

    def effective_kernel(self, training=False):
        """A⊙W; in training, the step is counted, pruning happens when due, scores are gathered."""
        if not training:
            return self.alive_mask * self.kernel
        step = self.training_step.value
        if self.target_sparsity > 0:
            tf.cond(self._is_pruning_step(step), lambda: self._prune(step), lambda: None)
        self.training_step.assign_add(1)
        thinned = self.alive_mask * self.kernel
        return self._gather_taylor_score(thinned) if self.score == "taylor" else thinned

    def _is_pruning_step(self, step):
        on_schedule = ((step >= self.prune_start) & (step < self.prune_end)
                       & ((step - self.prune_start) % self.prune_every == 0))
        return on_schedule | (step == self.prune_end)

    def _prune(self, step):
        """Kill the lowest-scored alive connections until the schedule's share is dead."""
        size = int(self.alive_mask.shape[0]) * int(self.alive_mask.shape[1])
        sparsity = sparsity_schedule(tf.cast(step, tf.float64), self.target_sparsity,
                                     self.prune_start, self.prune_end)
        dead_wanted = tf.cast(tf.round(sparsity * size), tf.int32)
        score = self.taylor_score if self.score == "taylor" else ops.abs(self.kernel)
        alive = prune_alive_mask(self.alive_mask, score, dead_wanted)
        self.alive_mask.assign(alive)
        self.kernel.assign(self.kernel * ops.cast(alive, self.kernel.dtype))
        self.taylor_score.assign(tf.zeros_like(self.taylor_score))

    def _gather_taylor_score(self, thinned):
        score = self.taylor_score

        @tf.custom_gradient
        def identity(kernel):
            def gradient(upstream):
                # |w · ∂L/∂w|: the first-order change of L if this connection were set to 0.
                with tf.control_dependencies([score.assign_add(
                        tf.cast(tf.abs(kernel * upstream), score.dtype))]):
                    return tf.identity(upstream)
            return tf.identity(kernel), gradient

        return identity(thinned)

    def get_config(self):
        config = super().get_config()
        config.update({
            "target_sparsity": self.target_sparsity,
            "score": self.score,
            "prune_start": self.prune_start,
            "prune_end": self.prune_end,
            "prune_every": self.prune_every,
        })
        return config
