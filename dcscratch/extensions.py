"""Learned connection gates (notebook 08): a keep probability that trains, and gates that stay shut.

Both layers compute ``activation(x @ (z⊙W) + b)`` like ``DropConnectDense``; they differ in the
gate z, and each keeps its three pieces side by side: the training-time sample, the penalty on
the expected number of kept connections, and the deterministic rule used at inference.

- ``ConcreteDropConnectDense``: z ~ relaxed Bernoulli(keep_prob) in training, so that gradients
  reach keep_prob = sigmoid(keep_logit); keep_prob·W at inference (the mean rule).
- ``L0GateDense``: z ~ hard concrete in training (Louizos, Welling and Kingma 2018); at inference
  a deterministic gate in [0, 1] that is exactly 0 for connections that stay dropped.
"""
import math

import keras
from keras import ops

from dcscratch.keras_layer import DenseBase
from dcscratch.validation import check_choice, check_keep_prob, check_real, check_seed, _invalid

LEARN_KEEP_PROB = ("layer", "connection")
# Louizos et al.'s stretch interval (γ, ζ) = (-0.1, 1.1): stretching s from (0, 1) and clipping back
# to [0, 1] puts probability mass on exactly 0 and exactly 1.
STRETCH_LOW, STRETCH_HIGH = -0.1, 1.1
# Uniform noise is drawn from [ε, 1 − ε] so that log u and log(1 − u) stay finite.
UNIFORM_EPSILON = 1e-6


def logit(probability):
    """log(p / (1 − p)) for a Python float p in (0, 1)."""
    return math.log(probability) - math.log1p(-probability)


def relaxed_bernoulli(keep_logit, uniform, temperature):
    """Binary Concrete sample: sigmoid((keep_logit + log u − log(1 − u)) / temperature).

    Maddison et al. (2017), Binary Concrete; Gal et al. (2017), Concrete Dropout §3. With
    keep_prob = sigmoid(keep_logit), it is above 1/2 exactly when the Bernoulli draw
    ``u > 1 − keep_prob`` keeps the connection, and tends to that draw as temperature → 0;
    unlike the draw, it is differentiable in keep_logit. Values lie in (0, 1), reaching 0 or 1
    only through float rounding.
    """
    return ops.sigmoid((keep_logit + ops.log(uniform) - ops.log1p(-uniform)) / temperature)


def hard_concrete(gate_logit, uniform, temperature):
    """Hard concrete gate in [0, 1], Louizos et al. (2018) eq. 10: stretch to (γ, ζ), then clip."""
    stretched = (relaxed_bernoulli(gate_logit, uniform, temperature)
                 * (STRETCH_HIGH - STRETCH_LOW) + STRETCH_LOW)
    return ops.clip(stretched, 0.0, 1.0)


def hard_concrete_keep_prob(gate_logit, temperature):
    """P(gate ≠ 0) = sigmoid(log α − β log(−γ/ζ)), Louizos et al. (2018) eq. 12."""
    return ops.sigmoid(gate_logit - temperature * math.log(-STRETCH_LOW / STRETCH_HIGH))


def hard_concrete_test_gate(gate_logit):
    """Deterministic gate min(1, max(0, sigmoid(log α)(ζ − γ) + γ)), Louizos et al. eq. 13."""
    return ops.clip(ops.sigmoid(gate_logit) * (STRETCH_HIGH - STRETCH_LOW) + STRETCH_LOW, 0.0, 1.0)


class _GatedDense(DenseBase):
    """``activation(x @ (z⊙W) + b)``; subclasses define the gate z for training and inference."""

    def __init__(self, units, *, keep_prob, temperature, connection_penalty, seed=None,
                 **kwargs):
        super().__init__(units, **kwargs)
        self.keep_prob = check_keep_prob(keep_prob)
        if self.keep_prob == 1.0:  # a logit of +inf: the gate could never learn to close
            raise ValueError(_invalid("keep_prob", "a real number in the open interval (0, 1)",
                                      keep_prob))
        self.temperature = check_real(temperature, "temperature", minimum=0.0,
                                      include_minimum=False)
        self.connection_penalty = check_real(connection_penalty, "connection_penalty",
                                             minimum=0.0, include_minimum=True)
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def build(self, input_shape):
        super().build(input_shape)  # kernel and bias
        self.build_gate(input_shape[-1])

    def uniform_noise(self, shape=None):
        """Fresh U[ε, 1 − ε] noise, of the kernel's shape unless ``shape`` is given."""
        shape = ops.shape(self.kernel) if shape is None else shape
        return keras.random.uniform(shape, minval=UNIFORM_EPSILON,
                                    maxval=1.0 - UNIFORM_EPSILON, seed=self.seed_generator)

    def call(self, inputs, training=False):
        gate = self.training_gate() if training else self.inference_gate()
        if self.connection_penalty > 0:
            # The blog's "punish connections": λ · E[number of kept connections].
            self.add_loss(self.connection_penalty * self.expected_kept_connections())
        return self._add_bias_and_activate(ops.matmul(inputs, gate * self.kernel))

    def get_config(self):
        config = super().get_config()
        config.update({
            "keep_prob": self.keep_prob,
            "temperature": self.temperature,
            "connection_penalty": self.connection_penalty,
            "seed": self.seed,
        })
        return config


@keras.saving.register_keras_serializable(package="dcscratch")
class ConcreteDropConnectDense(_GatedDense):
    """DropConnect whose keep probability is learned through a relaxed Bernoulli mask.

    keep_prob = sigmoid(keep_logit) is a trainable weight, one for the layer or one per connection.
    In training each connection's gate is a relaxed Bernoulli sample (``relaxed_bernoulli``), so
    the loss has a gradient with respect to keep_logit; ``connection_penalty`` times
    ``expected_kept_connections()`` is added to the loss (``add_loss``). At inference the layer
    uses keep_prob·W, the mean rule of ``DropConnectDense``. Gal et al.'s Concrete Dropout adds
    a KL-derived weight and entropy term instead; here the only penalty is the connection count.

    Args:
        units: positive integer, dimensionality of the output space.
        keep_prob: float in (0, 1), the initial probability that a connection is kept.
        learn_keep_prob: ``"layer"`` (one keep_logit, shape ``()``) or ``"connection"`` (one per
            weight, shape ``(input_dim, units)``).
        temperature: float > 0; smaller makes samples closer to 0/1 and gradients noisier.
        connection_penalty: float >= 0, loss added per expected kept connection.
        activation, use_bias, seed, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint: as for
            ``DropConnectDense``.

    Call arguments:
        inputs: tensor of shape ``(batch, ..., input_dim)``.
        training: Python boolean; True samples gates, False uses keep_prob·W.

    Weights: ``layer.kernel`` (input_dim, units), ``layer.bias`` (units,), ``layer.keep_logit``.
    """

    def __init__(self, units, *, keep_prob=0.5, learn_keep_prob="layer", temperature=0.1,
                 connection_penalty=0.0, **kwargs):
        super().__init__(units, keep_prob=keep_prob, temperature=temperature,
                         connection_penalty=connection_penalty, **kwargs)
        self.learn_keep_prob = check_choice(learn_keep_prob, LEARN_KEEP_PROB, "learn_keep_prob")

    def build_gate(self, input_dim):
        shape = () if self.learn_keep_prob == "layer" else (input_dim, self.units)
        self.keep_logit = self.add_weight(name="keep_logit", shape=shape,
                                          initializer=keras.initializers.Constant(
                                              logit(self.keep_prob)))

    def learned_keep_prob(self):
        """sigmoid(keep_logit): shape ``()`` or ``(input_dim, units)``."""
        return ops.sigmoid(self.keep_logit)

    def training_gate(self):
        return relaxed_bernoulli(self.keep_logit, self.uniform_noise(), self.temperature)

    def inference_gate(self):
        return self.learned_keep_prob()  # E[Bernoulli(keep_prob)]: the mean rule

    def expected_kept_connections(self):
        """Σ keep_prob over every connection (a scalar tensor)."""
        return ops.sum(ops.broadcast_to(self.learned_keep_prob(), ops.shape(self.kernel)))

    def get_config(self):
        return {**super().get_config(), "learn_keep_prob": self.learn_keep_prob}


@keras.saving.register_keras_serializable(package="dcscratch")
class L0GateDense(_GatedDense):
    """Dense layer with one hard concrete gate per connection, trained with an expected-L0 penalty.

    Louizos, Welling and Kingma (2018). In training each gate is a hard concrete sample
    (``hard_concrete``, eq. 10), exactly 0 or 1 with non-zero probability and differentiable in
    between; ``connection_penalty`` times ``expected_kept_connections()`` (eq. 12) is added to the
    loss. At inference the gates are deterministic (``inference_mask()``, eq. 13): values in
    [0, 1], exactly zero for the connections that stay dropped.

    Args:
        units: positive integer, dimensionality of the output space.
        keep_prob: float in (0, 1), the initial P(gate ≠ 0) of every connection (0.95 gives
            sigmoid(log α) ≈ 0.8, the initial drop rate of 0.2 that Louizos et al. use for their
            MLP's first layer, 0.5 elsewhere; their gates act on input neurons, these on single
            connections).
        temperature: float > 0, the hard concrete β (2/3 in the paper).
        connection_penalty: float >= 0, loss added per expected non-zero gate (λ in eq. 12).
        activation, use_bias, seed, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint: as for
            ``DropConnectDense``.

    Call arguments:
        inputs: tensor of shape ``(batch, ..., input_dim)``.
        training: Python boolean; True samples gates, False uses the deterministic gates.

    Weights: ``layer.kernel`` (input_dim, units), ``layer.bias`` (units,), ``layer.gate_logit``
    (log α, shape (input_dim, units)).
    """

    def __init__(self, units, *, keep_prob=0.95, temperature=2 / 3, connection_penalty=0.0,
                 **kwargs):
        super().__init__(units, keep_prob=keep_prob, temperature=temperature,
                         connection_penalty=connection_penalty, **kwargs)

    def gate_shape(self, input_dim):
        """One gate per connection; ``ClassGatedDense`` has one set per class."""
        return (input_dim, self.units)

    def build_gate(self, input_dim):
        # Invert eq. 12 so that every gate starts with P(gate ≠ 0) = keep_prob.
        initial = logit(self.keep_prob) + self.temperature * math.log(-STRETCH_LOW / STRETCH_HIGH)
        self.gate_logit = self.add_weight(name="gate_logit", shape=self.gate_shape(input_dim),
                                          initializer=keras.initializers.Constant(initial))

    def training_gate(self):
        noise = self.uniform_noise(ops.shape(self.gate_logit))
        return hard_concrete(self.gate_logit, noise, self.temperature)

    def inference_gate(self):
        return hard_concrete_test_gate(self.gate_logit)

    def inference_mask(self):
        """The deterministic gates used at inference, shape ``(input_dim, units)``, in [0, 1]."""
        return self.inference_gate()

    def expected_kept_connections(self):
        """Σ P(gate ≠ 0) over every connection (a scalar tensor), eq. 12."""
        return ops.sum(hard_concrete_keep_prob(self.gate_logit, self.temperature))
