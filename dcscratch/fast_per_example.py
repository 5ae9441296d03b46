"""Noise per example at about the cost of two matrix products: Flipout and the Gaussian trick.

Exact per-example DropConnect (``dcscratch.per_example``) draws batch·in·out mask entries per
pass. Two published ideas give every example its own noise for the price of a second matmul:

- **Flipout** (Wen, Vicol, Ba, Tran & Grosse, ICLR 2018, eq. 4). At keep_prob ½ the
  perturbation M − ½ is ±½, symmetric. With one random sign matrix E (in × out) per call and
  random sign vectors s_n (in) and r_n (out) per example::

      x_n(M_n⊙W) = ½ x_nW + ½ ((x_n⊙s_n)(W⊙E)) ⊙ r_n,   M_n = (1 + E ⊙ s_n r_nᵀ) / 2.

  Given s_n and r_n, each entry of E ⊙ s_n r_nᵀ is E_ij with its sign flipped or not, so M_n's
  entries are i.i.d. Bernoulli(½) *exactly*: each example's marginal is the paper's. Two
  examples share E, so their masks are uncorrelated but not independent ("pseudo-independent").
- **The Gaussian (local reparameterization) trick** (Wang & Manning, ICML 2013; Kingma,
  Salimans & Welling, NeurIPS 2015). x_n(M_n⊙W) is a sum of in independent terms per unit; by
  the central limit theorem it is close to a Gaussian with the moments of
  :func:`dcscratch.inference.gaussian_moments`, so sample that instead::

      u_n = μ_n + σ_n ⊙ ε_n,  μ_n = keep_prob·x_nW,
      σ_n² = keep_prob(1 − keep_prob)(x_n⊙x_n)(W⊙W),  ε_n ~ N(0, I).

  Any keep_prob; each unit's mean and variance are exact, and so is the independence of an
  example's units (their masks are disjoint columns of M_n), but not the shape of each unit's
  distribution: with few active inputs the exact product is discrete and skewed.

Each function takes an explicit stateless ``seed`` (int64, shape [2]) and the noise it uses can
be drawn again from the same seed (:func:`flipout_signs`, :func:`gaussian_noise`), as
``masked_matmul`` lets a notebook recover a mask. Every draw names ``alg="philox"``: the
default lets XLA pick another generator. Flipout's signs are then the same with and without
``jit_compile``; the Gaussian noise is not (XLA turns the same bits into normals its own way),
so a compiled step's ε has the same distribution but is recovered only from an uncompiled
call.
"""
from dcscratch.inference import gaussian_moments
from dcscratch.mask_sampler import keep_mask
from dcscratch.tf_common import tf

FLIPOUT_KEEP_PROB = 0.5  # the only keep_prob whose perturbation M − keep_prob is symmetric
# The fast modes' random streams are fold_in(seed, NOISE_STREAM + k), seeds of their own. The
# per-batch and per-example masks are cut from the step seed's own Philox stream (mask n from
# block n·blocks_per_mask on, mask_sampler.keep_masks; the per-batch mask is mask 0): drawn from
# that seed unfolded, Flipout's E would be the exact mode's first mask and the per-batch mask, and
# the modes' draws would be related. (Until 2026-12-07 the per-example masks came from the chunk
# streams fold_in(seed, c), c = 0, 1, …, which is why the offset is large; it is kept so that the
# fast modes draw what they drew before. One fold-in, not two: a fold-in of a folded seed gives
# other numbers under XLA than without it.)
NOISE_STREAM = 2**30


def _fold(seed, stream):
    return tf.random.experimental.stateless_fold_in(seed, NOISE_STREAM + stream)


def flipout_signs(batch, in_features, out_features, seed, dtype=tf.float32):
    """The random signs Flipout uses for a batch: ``(E, s, r)``, entries ±1.

    E: ``(in, out)``, shared by the batch; s: ``(batch, in)`` and r: ``(batch, out)``, one row per
    example. Independent fair signs, from three streams of ``seed``. ``batch`` may be a tensor.
    """
    # E has a static shape: one random bit per entry from the layer's mask sampler.
    shared = 2.0 * tf.cast(keep_mask((in_features, out_features), FLIPOUT_KEEP_PROB,
                                     _fold(seed, 0)), dtype) - 1.0

    def per_example(size, stream):  # the batch size may only be known at run time
        bits = tf.random.stateless_uniform(tf.stack([batch, size]), _fold(seed, stream),
                                           minval=0, maxval=2, dtype=tf.int32, alg="philox")
        return 2.0 * tf.cast(bits, dtype) - 1.0

    return shared, per_example(in_features, 1), per_example(out_features, 2)


def flipout_masks(shared, input_signs, output_signs):
    """Each example's effective 0/1 mask M_n = (1 + E ⊙ s_n r_nᵀ)/2, shape ``(batch, in, out)``."""
    return (1.0 + shared[None] * input_signs[:, :, None] * output_signs[:, None, :]) / 2.0


def flipout_matmul(x, W, seed):
    """x_n(M_n⊙W) for every row n of ``x`` ``(batch, in)``, with Flipout's masks at keep_prob ½.

    Two matmuls instead of batch·in·out mask entries; :func:`flipout_masks` of
    :func:`flipout_signs` (same seed) gives the masks used, and autodiff the exact gradient of
    the masked product.
    """
    W = tf.convert_to_tensor(W)
    in_features, out_features = W.shape
    shared, input_signs, output_signs = flipout_signs(tf.shape(x)[0], in_features,
                                                      out_features, seed, W.dtype)
    mean = tf.matmul(x, W)
    perturbation = tf.matmul(x * input_signs, W * shared) * output_signs
    return 0.5 * (mean + perturbation)


def gaussian_noise(batch, out_features, seed, dtype=tf.float32, samples=None):
    """The standard normal ε that :func:`gaussian_matmul` scales.

    Shape ``(batch, out)``, or ``(samples, batch, out)`` when ``samples`` is given (the
    Gaussian inference rule's draws; the first sample is not the single draw's ε).
    """
    shape = tf.stack([batch, out_features])
    if samples is not None:
        shape = tf.concat([[samples], shape], 0)
    return tf.random.stateless_normal(shape, _fold(seed, 3), dtype=dtype, alg="philox")


def _sqrt_with_finite_gradient(variance):
    # d√v/dv = 1/(2√v) is infinite at v = 0 (a row of zeros, e.g. padding), and 0·∞ = NaN would
    # poison the whole gradient; where v = 0 the standard deviation is 0 with zero gradient.
    positive = variance > 0
    return tf.where(positive, tf.sqrt(tf.where(positive, variance, tf.ones_like(variance))),
                    tf.zeros_like(variance))


def gaussian_matmul(x, W, keep_prob, seed, samples=None):
    """A sample of u_n ~ N(μ_n, σ_n²) per row n of ``x``, the Gaussian stand-in for x_n(M_n⊙W).

    μ and σ² are :func:`dcscratch.inference.gaussian_moments`; the noise is
    :func:`gaussian_noise` of the same seed. Gradients flow through μ and σ (reparameterized).
    With ``samples``, that many independent draws, shape ``(samples, batch, out)``: the
    paper's Gaussian inference rule (``DropConnectDense(inference="gaussian")``) draws them
    here, from the same moments as training's one draw.
    """
    W = tf.convert_to_tensor(W)
    mean, variance = gaussian_moments(x, W, keep_prob)
    noise = gaussian_noise(tf.shape(x)[0], W.shape[1], seed, W.dtype, samples)
    return mean + _sqrt_with_finite_gradient(variance) * noise
