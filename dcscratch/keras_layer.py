"""``DropConnectDense``: a Keras 3 layer usable wherever ``keras.layers.Dense`` is."""
import keras
from keras import ops

from dcscratch import fast_per_example, per_example
from dcscratch.mask_sampler import keep_mask
from dcscratch.tf_common import tf
from dcscratch.validation import (check_bool, check_choice, check_keep_prob,
                                  check_positive_int, check_seed)

MASK_MODES = ("batch", "example", "flipout", "gaussian")
INFERENCE_MODES = ("mean", "gaussian", "mc")


class DenseBase(keras.layers.Layer):
    """What the course's layers share with ``keras.layers.Dense``.

    ``units``, ``activation``, ``use_bias``, and the kernel ``(input_dim, units)`` and bias
    ``(units,)`` with their initializers, regularizers and constraints: validated here, created
    by ``build``, returned by ``get_config``. Subclasses add their own arguments and ``call``.
    """

    def __init__(self, units, *, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = check_positive_int(units, "units")
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.input_spec = keras.layers.InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError("Invalid value received for argument `inputs`. Expected a known "
                             f"last dimension. Received: input_shape={input_shape}")
        self.kernel = self.add_weight(
            name="kernel", shape=(input_dim, self.units), initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(self.units,), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.input_spec = keras.layers.InputSpec(min_ndim=2, axes={-1: input_dim})

    def _add_bias_and_activate(self, pre_activation):
        if self.bias is not None:
            pre_activation = pre_activation + self.bias
        return self.activation(pre_activation) if self.activation is not None else pre_activation

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
            "bias_constraint": keras.constraints.serialize(self.bias_constraint),
        })
        return config



@keras.saving.register_keras_serializable(package="dcscratch")
class DropConnectDense(DenseBase):
    """Densely-connected layer whose connections are dropped at random in training.

    In training (``training=True``, as under ``model.fit``) each weight is kept with
    probability ``keep_prob`` and otherwise set to zero: ``out = activation(x @ (M⊙W) + b)``
    with M_ij ~ Bernoulli(keep_prob), unscaled, as in Wan et al. (2013). With
    ``inverted=True`` the kept weights are divided by ``keep_prob``,
    ``out = activation(x @ (M⊙W)/keep_prob + b)``: the convention of Keras's ``Dropout``
    ("inverted dropout"), under which the kernel is the Dense-equivalent weight and a
    learning rate moves the expected weights as fast as it moves a ``Dense`` layer's (unscaled,
    they move keep_prob² as fast). Every mode and rule below then acts on W/keep_prob in place
    of W; the same seed draws the same masks either way. The bias is not masked. At inference
    (``evaluate``, ``predict``, a plain call) the layer uses:

    - ``inference="mean"``: ``activation(x @ (keep_prob·W) + b)`` (inverted: ``x @ W``), the
      expected pre-activation; deterministic.
    - ``inference="gaussian"``: the paper's moment matching. The masked pre-activation
      is approximated by u ~ N(keep_prob·xW, keep_prob(1-keep_prob)·(x⊙x)(W⊙W)) (inverted:
      N(xW, (1-keep_prob)/keep_prob·(x⊙x)(W⊙W))); ``inference_samples`` draws of u pass
      through the activation and are averaged. The draws are
      ``fast_per_example.gaussian_matmul``'s, the ``mask="gaussian"`` training product's.
    - ``inference="mc"``: ``inference_samples`` masks drawn as in training, each output
      passed through the activation, then averaged.

    Args:
        units: positive integer, dimensionality of the output space.
        keep_prob: float in (0, 1], probability that a connection is kept.
        activation: activation function (name or callable); None means linear.
        use_bias: whether the layer adds a bias vector.
        mask: ``"batch"`` draws one mask per call, shared by every example (the blog);
            ``"example"`` draws one mask per example (the paper), without storing all of
            them (see ``dcscratch.per_example``); ``"flipout"`` gives every example its own
            exact Bernoulli(½) mask from one shared sign matrix and per-example signs, at
            about the cost of two matmuls (keep_prob 0.5 only); ``"gaussian"`` samples each
            example's pre-activation from the Gaussian with the masked product's mean and
            variance (any keep_prob; the CLT approximation). See
            ``dcscratch.fast_per_example`` and notebook 09.
        inference: ``"mean"``, ``"gaussian"`` or ``"mc"`` (see above; ``"mc"`` draws its
            samples with the layer's ``mask`` mode).
        inference_samples: number of samples for ``"gaussian"`` and ``"mc"`` inference.
        seed: None or a non-negative integer seeding the layer's masks and samples.
        inverted: False (the paper's M⊙W) or True ((M⊙W)/keep_prob, Keras Dropout's
            convention; the kernel is then the Dense-equivalent weight).
        chunk_size: examples worked on at once when ``mask="example"``: speed only (example n's
            mask depends on the seed and n; the results are the same for every chunk size up to
            floating-point rounding).
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        kernel_constraint, bias_constraint: as for ``keras.layers.Dense``.
        **kwargs: base layer keyword arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: tensor of shape ``(batch, ..., input_dim)``.
        training: Python boolean; True draws masks, False uses the ``inference`` rule.

    Weights: ``layer.kernel`` (input_dim, units) and ``layer.bias`` (units,).
    """

    def __init__(self, units, keep_prob=0.5, *, activation=None, use_bias=True, mask="batch",
                 inference="mean", inference_samples=64, seed=None, inverted=False,
                 chunk_size=per_example.DEFAULT_CHUNK_SIZE, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.keep_prob = check_keep_prob(keep_prob)
        self.mask = check_mask(mask, self.keep_prob)
        self.inference = check_choice(inference, INFERENCE_MODES, "inference")
        self.inference_samples = check_positive_int(inference_samples, "inference_samples")
        self.seed = check_seed(seed)
        self.inverted = check_bool(inverted, "inverted")
        self.chunk_size = check_positive_int(chunk_size, "chunk_size")
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def next_seed(self):
        """The stateless seed (shape [2]) of the layer's next random draw; advances its stream.

        Every random call of the layer (a training mask, the Gaussian rule's noise, the MC
        rule's masks) takes one. Different on every replica of a distribution strategy.
        To see the draw a call will make, save the stream with
        ``dcscratch.model_tools.seed_states``, call this, and restore it.
        """
        seed = tf.cast(self.seed_generator.next(), tf.int64)
        replica_context = tf.distribute.get_replica_context()
        if replica_context is not None:
            # Without this every replica would draw the same masks (the seed generator's
            # state is mirrored), so per-example masks would repeat across replicas.
            replica_id = tf.cast(replica_context.replica_id_in_sync_group, tf.int64)
            seed = tf.random.experimental.stateless_fold_in(seed, replica_id)
        return seed

    def _masked_matmul(self, inputs, kernel, seed):
        return masked_matmul(inputs, kernel, self.keep_prob, seed, mask=self.mask,
                             chunk_size=self.chunk_size)

    def effective_kernel(self, training=False):
        """The kernel; subclasses may thin it (``PersistentDropConnectDense``)."""
        return ops.convert_to_tensor(self.kernel)

    def masked_kernel(self, training=False):
        """The weights the masks act on: the effective kernel, divided by keep_prob if inverted.

        A training step's product is ``x @ (M⊙masked_kernel())``; the mean rule's weights are
        ``keep_prob·masked_kernel()`` (inverted: the kernel itself).
        """
        kernel = self.effective_kernel(training)
        return kernel / self.keep_prob if self.inverted else kernel

    def call(self, inputs, training=False):
        kernel = self.masked_kernel(training)
        if training and self.keep_prob < 1.0:
            return self._add_bias_and_activate(
                self._masked_matmul(inputs, kernel, self.next_seed()))
        if self.inference == "mean" or self.keep_prob == 1.0:
            return self._add_bias_and_activate(ops.matmul(inputs, self.keep_prob * kernel))
        if self.inference == "gaussian":
            rows = tf.reshape(inputs, (-1, kernel.shape[0]))
            samples = fast_per_example.gaussian_matmul(rows, kernel, self.keep_prob,
                                                       self.next_seed(),
                                                       samples=self.inference_samples)
            samples = tf.reshape(samples, tf.concat(
                [[self.inference_samples], tf.shape(inputs)[:-1], [self.units]], 0))
            return ops.mean(self._add_bias_and_activate(samples), axis=0)
        seed = self.next_seed()

        def one_sample(sample):
            sample_seed = tf.random.experimental.stateless_fold_in(seed, sample)
            return self._add_bias_and_activate(self._masked_matmul(inputs, kernel, sample_seed))

        # map_fn rather than a Python loop: one traced sample, however many are drawn.
        outputs = tf.map_fn(one_sample, tf.range(self.inference_samples, dtype=tf.int64),
                            fn_output_signature=inputs.dtype)
        return ops.mean(outputs, axis=0)

    def get_config(self):
        config = super().get_config()
        config.update({
            "keep_prob": self.keep_prob,
            "mask": self.mask,
            "inference": self.inference,
            "inference_samples": self.inference_samples,
            "seed": self.seed,
            "inverted": self.inverted,
            "chunk_size": self.chunk_size,
        })
        return config


def check_mask(mask, keep_prob):
    """Return ``mask`` if it is one of ``MASK_MODES`` and fits ``keep_prob``, else raise."""
    mask = check_choice(mask, MASK_MODES, "mask")
    if mask == "flipout" and keep_prob != fast_per_example.FLIPOUT_KEEP_PROB:
        raise ValueError(
            "Invalid value received for argument `keep_prob`. Expected 0.5 with "
            "mask=\"flipout\": Flipout needs the perturbation M - keep_prob to be symmetric "
            "(±0.5); for another keep_prob use mask=\"gaussian\" (approximate, as cheap) or "
            f"mask=\"example\" (exact, slow). Received: keep_prob={keep_prob}")
    return mask


def batch_mask(shape, keep_prob, seed, dtype=tf.float32):
    """The 0/1 mask that ``mask="batch"`` applies for a given stateless ``seed`` (shape [2]).

    Drawn by :func:`dcscratch.mask_sampler.keep_mask`: each entry is 1 with probability
    ``exact_keep_prob(keep_prob)`` = ⌈keep_prob·2^k⌉/2^k (keep_prob itself unless
    keep_prob·256 is fractional, then within 2^-16 of it).
    """
    return tf.cast(keep_mask(shape, keep_prob, seed), dtype)


def masked_matmul(inputs, kernel, keep_prob, seed, *, mask="batch",
                  chunk_size=per_example.DEFAULT_CHUNK_SIZE):
    """``inputs @ (M⊙kernel)`` with the noise of the layer's ``mask`` mode.

    ``"batch"``: one mask per call; ``"example"``: one mask per example; ``"flipout"``:
    Flipout's per-example masks (keep_prob 0.5); ``"gaussian"``: a sample of the Gaussian with
    the masked product's moments. This is the layer's training-time product, as a function of
    an explicit stateless ``seed``, so that notebooks and tests can reproduce the noise a step
    used (:func:`batch_mask`, ``per_example.per_example_masks``,
    ``fast_per_example.flipout_signs``, ``fast_per_example.gaussian_noise``).
    """
    mask = check_mask(mask, keep_prob)
    if mask == "batch":
        return ops.matmul(inputs, kernel * batch_mask(kernel.shape, keep_prob, seed,
                                                      kernel.dtype))
    # Each row of the flattened leading dimensions is an example with its own noise.
    rows = tf.reshape(inputs, (-1, kernel.shape[0]))
    if mask == "example":
        out = per_example.per_example_matmul(rows, kernel, keep_prob, seed, chunk_size)
    elif mask == "flipout":
        out = fast_per_example.flipout_matmul(rows, kernel, seed)
    else:
        out = fast_per_example.gaussian_matmul(rows, kernel, keep_prob, seed)
    return tf.reshape(out, tf.concat([tf.shape(inputs)[:-1], [kernel.shape[1]]], 0))

