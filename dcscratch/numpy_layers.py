"""NumPy layers with forward and backward side by side (the CS231n cache pattern).

Each ``*_forward`` returns ``(out, cache)``; the matching ``*_backward`` takes
``(dout, cache)`` and returns the gradients. Shapes: ``x`` is ``(N, D)``,
``W`` is ``(D, H)``, ``b`` is ``(H,)``, ``out`` is ``(N, H)``.

Scaling conventions for the layers that drop things:
``"paper"``     train with the unscaled M⊙W; at inference use keep_prob·W (the mean).
``"inverted"``  train with M⊙W / keep_prob; at inference use W unchanged.
Both give the same expected pre-activation in training and at inference.
"""
import numpy as np

from dcscratch.validation import check_choice, check_keep_prob

MASK_MODES = ("batch", "example")
SCALINGS = ("paper", "inverted")


def _generator(rng):
    if rng is None:
        return np.random.default_rng()
    if not isinstance(rng, np.random.Generator):
        raise TypeError("Invalid value received for argument `rng`. Expected None or a "
                        f"numpy.random.Generator. Received: rng={rng!r}")
    return rng


# ---------------------------------------------------------------- Dense
def dense_forward(x, W, b):
    """out = x @ W + b. Returns ``(out, cache)``."""
    return x @ W + b, (x, W)


def dense_backward(dout, cache):
    """Returns ``(dx, dW, db)`` for :func:`dense_forward`."""
    x, W = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


# ---------------------------------------------------------------- DropConnect
def dropconnect_forward(x, W, b, keep_prob, *, training=True, mask="batch",
                        mask_bias=False, scaling="paper", rng=None, weight_mask=None):
    """DropConnect dense layer: out = x @ (M⊙W) + (m⊙b) in training.

    Args:
        x: inputs ``(N, D)``; W: weights ``(D, H)``; b: biases ``(H,)``.
        keep_prob: probability in (0, 1] that a connection is kept.
        training: draw masks (True) or use the inference rule of ``scaling`` (False).
        mask: ``"batch"`` (one M of shape (D, H) for the whole batch, as in the blog) or
            ``"example"`` (one M per example, shape (N, D, H), as in the paper).
        mask_bias: also drop biases, as the paper does (its W includes the bias column).
        scaling: ``"paper"`` or ``"inverted"`` (see the module docstring).
        rng: a ``numpy.random.Generator``; None draws fresh randomness.
        weight_mask: optional 0/1 array used as M instead of drawing one (to reproduce a
            mask drawn elsewhere, e.g. by TensorFlow); shape (D, H) or (N, D, H) per ``mask``.

    Returns:
        ``(out, cache)`` with ``out`` of shape ``(N, H)``.
    """
    keep_prob = check_keep_prob(keep_prob)
    check_choice(mask, MASK_MODES, "mask")
    check_choice(scaling, SCALINGS, "scaling")
    if not training:
        # Inference: the expectation of the training-time pre-activation.
        scale = keep_prob if scaling == "paper" else 1.0
        bias_scale = scale if mask_bias else 1.0
        out = x @ (scale * W) + bias_scale * b
        return out, ("inference", x, W, scale, bias_scale)
    rng = _generator(rng)
    scale = 1.0 if scaling == "paper" else 1.0 / keep_prob
    N, H = x.shape[0], W.shape[1]
    weight_mask_shape = W.shape if mask == "batch" else (N,) + W.shape
    bias_mask_shape = (H,) if mask == "batch" else (N, H)
    if weight_mask is None:
        M = (rng.random(weight_mask_shape) < keep_prob).astype(W.dtype)
    else:
        M = np.asarray(weight_mask, dtype=W.dtype)
        if M.shape != weight_mask_shape or not np.all((M == 0) | (M == 1)):
            raise ValueError("Invalid value received for argument `weight_mask`. Expected a 0/1 "
                             f"array of shape {weight_mask_shape}. Received: shape {M.shape}")
    m = ((rng.random(bias_mask_shape) < keep_prob).astype(W.dtype) if mask_bias
         else np.ones(bias_mask_shape, W.dtype))
    bias_scale = scale if mask_bias else 1.0
    masked_W = scale * M * W  # (D, H) or (N, D, H)
    if mask == "batch":
        out = x @ masked_W
    else:
        out = np.einsum("nd,ndh->nh", x, masked_W)
    out = out + bias_scale * m * b
    return out, ("training", x, masked_W, M, m, scale, bias_scale)


def dropconnect_backward(dout, cache):
    """Returns ``(dx, dW, db)`` for :func:`dropconnect_forward`.

    The gradient reaches only kept connections: dW = scale · M⊙(xᵀ dout), summed over
    examples when each example has its own M.
    """
    if cache[0] == "inference":
        _, x, W, scale, bias_scale = cache
        return dout @ (scale * W).T, scale * (x.T @ dout), bias_scale * dout.sum(axis=0)
    _, x, masked_W, M, m, scale, bias_scale = cache
    if M.ndim == 2:
        dx = dout @ masked_W.T
        dW = scale * M * (x.T @ dout)
        db = bias_scale * m * dout.sum(axis=0)
    else:
        dx = np.einsum("nh,ndh->nd", dout, masked_W)
        dW = scale * np.einsum("ndh,nd,nh->dh", M, x, dout)
        db = bias_scale * (m * dout).sum(axis=0)
    return dx, dW, db


# ---------------------------------------------------------------- Dropout
def dropout_forward(x, keep_prob, *, training=True, scaling="inverted", rng=None):
    """Dropout on activations: each unit kept with probability ``keep_prob``.

    Returns ``(out, cache)``; ``out`` has ``x``'s shape.
    """
    keep_prob = check_keep_prob(keep_prob)
    check_choice(scaling, SCALINGS, "scaling")
    if not training:
        scale = keep_prob if scaling == "paper" else 1.0
        return scale * x, np.full_like(x, scale)
    rng = _generator(rng)
    scale = 1.0 if scaling == "paper" else 1.0 / keep_prob
    multiplier = scale * (rng.random(x.shape) < keep_prob).astype(x.dtype)
    return multiplier * x, multiplier


def dropout_backward(dout, cache):
    """Returns ``dx`` for :func:`dropout_forward`."""
    return dout * cache


# ---------------------------------------------------------------- activation and loss
def relu_forward(x):
    """out = max(0, x). Returns ``(out, cache)``."""
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    """Returns ``dx`` for :func:`relu_forward`."""
    return dout * (cache > 0)


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of integer ``labels`` ``(N,)`` under softmax(``logits`` ``(N, C)``).

    Returns ``(loss, dlogits)``.
    """
    shifted = logits - logits.max(axis=1, keepdims=True)  # for numerical stability
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    N = logits.shape[0]
    loss = -log_probs[np.arange(N), labels].mean()
    dlogits = np.exp(log_probs)
    dlogits[np.arange(N), labels] -= 1
    return loss, dlogits / N
