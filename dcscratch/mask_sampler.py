"""The Keras layer's mask sampler: keep/drop decisions cut from raw Philox random bits.

A float uniform spends 32 random bits (and a conversion) on one mask entry, and the
comparison ``u < keep_prob`` uses about 23 of them. A mask entry needs far fewer: the
sampler draws raw 32-bit Philox words, cuts each into ``32 / k`` chunks of ``k`` bits,
and keeps an entry when its chunk, an integer uniform on 0 … 2^k − 1, is below the
integer threshold ⌈keep_prob·2^k⌉. So an entry is kept with probability exactly

    ⌈keep_prob·2^k⌉ / 2^k,

which is keep_prob itself when keep_prob·2^k is an integer, and otherwise exceeds it by
less than 2^-k. :func:`chunk_bits` picks the smallest exact k among 1, 2, 4 and 8
(keep_prob 0.5 needs one bit, 0.3 needs more than 8), else k = 16 (error < 2^-16 ≈
1.5e-5). Both ``DropConnectDense`` modes (one mask per batch, one per example) draw their
masks here.
"""
import math
import operator

from dcscratch.tf_common import tf
from dcscratch.validation import _invalid

EXACT_CHUNK_BITS = (1, 2, 4, 8)
FALLBACK_CHUNK_BITS = 16


def chunk_bits(keep_prob):
    """Bits k per mask entry: the smallest of 1, 2, 4, 8 making keep_prob·2^k whole, else 16."""
    for bits in EXACT_CHUNK_BITS:
        if (keep_prob * 2**bits).is_integer():  # exact: multiplying by 2^k only shifts the exponent
            return bits
    return FALLBACK_CHUNK_BITS


def keep_threshold(keep_prob):
    """The integer ⌈keep_prob·2^k⌉: a k-bit chunk below it keeps its entry."""
    return math.ceil(keep_prob * 2 ** chunk_bits(keep_prob))


def exact_keep_prob(keep_prob):
    """The probability with which :func:`keep_mask` keeps an entry: ⌈keep_prob·2^k⌉ / 2^k."""
    return keep_threshold(keep_prob) / 2 ** chunk_bits(keep_prob)


def random_words(count, seed):
    """``count`` raw uniform 32-bit Philox words from a stateless ``seed`` (int64, shape [2]).

    ``alg="philox"`` is named because the default (``"auto_select"``) made steps take
    seconds under XLA.
    """
    return tf.random.stateless_uniform((count,), seed=seed, dtype=tf.uint32, minval=None,
                                       maxval=None, alg="philox")


def static_shape(shape):
    """``shape`` as a tuple of Python ints (the sampler sizes its draw while tracing)."""
    try:
        sizes = tuple(operator.index(size) for size in shape)
    except TypeError:  # not iterable, a None size, a float, a symbolic tensor
        sizes = None
    if sizes is None or any(size < 0 for size in sizes):
        raise ValueError(_invalid("shape", "a static shape: non-negative Python ints (for a "
                                  "tensor, pass `tensor.shape`)", shape))
    return sizes


def keep_mask(shape, keep_prob, seed):
    """Boolean mask of ``shape``: True (keep) with probability :func:`exact_keep_prob`.

    Entries are independent; the same ``seed`` (int64 tensor of shape [2]) gives the
    same mask. With B bytes of random words (in memory order, the same on every
    little-endian machine), entry e in row-major order is decided by chunk ``e // B`` of
    byte ``e % B`` when k < 8, and by the e-th k-bit chunk of the words when k ≥ 8.

    Args:
        shape: a static shape (tuple of Python ints).
        keep_prob: Python float in (0, 1].
        seed: int64 tensor of shape [2].
    """
    shape = static_shape(shape)
    entries = math.prod(shape)
    if keep_prob == 1.0:
        return tf.ones(shape, tf.bool)
    bits, threshold = chunk_bits(keep_prob), keep_threshold(keep_prob)
    words = random_words(-(-entries * bits // 32), seed)  # ⌈entries·k/32⌉ words
    if bits >= 8:
        # A bitcast splits each word into 32/k chunks without touching the bits.
        chunks = tf.bitcast(words, tf.uint8 if bits == 8 else tf.uint16)
        keep = tf.reshape(chunks, [-1]) < tf.constant(threshold, chunks.dtype)
    else:
        # k < 8: chunk j of a byte is (byte >> k·j) & (2^k − 1), and it is below the
        # threshold exactly when byte & ((2^k − 1) << k·j) is below threshold << k·j: one AND
        # and one comparison. Chunk position j is the leading axis, so both operations
        # broadcast whole rows of bytes (with j last, TensorFlow's broadcast was 4× slower).
        positions = range(0, 8, bits)
        chunk_masks = tf.constant([[(2**bits - 1) << shift] for shift in positions], tf.uint8)
        # threshold < 2^k here (keep_prob < 1), so threshold << k·j still fits in a byte.
        thresholds = tf.constant([[threshold << shift] for shift in positions], tf.uint8)
        bytes_ = tf.reshape(tf.bitcast(words, tf.uint8), (1, -1))
        keep = tf.reshape(tf.bitwise.bitwise_and(bytes_, chunk_masks) < thresholds, [-1])
    if keep.shape[0] != entries:
        keep = keep[:entries]  # the last word's spare chunks
    return tf.reshape(keep, shape)
