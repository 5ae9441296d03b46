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

Per-example masks (:func:`keep_masks`) are cut from one Philox stream per seed, laid out
example by example: mask n takes the words from Philox block ``n · blocks_per_mask(...)`` on
(a block is four 32-bit words; Philox is a counter-based generator, so any block is drawn
without drawing the ones before it). Mask n therefore depends on the seed and on n alone,
not on how the batch is split into chunks, and mask 0 is :func:`keep_mask`'s.
"""
import math
import operator

from tensorflow.python.ops import gen_stateless_random_ops_v2, random_ops_util

from dcscratch.tf_common import tf
from dcscratch.validation import _invalid

EXACT_CHUNK_BITS = (1, 2, 4, 8)
FALLBACK_CHUNK_BITS = 16
WORDS_PER_BLOCK = 4  # Philox turns one 128-bit counter into four 32-bit words
PHILOX = 1  # the algorithm id of ``tf.random.Algorithm.PHILOX``


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


def random_words(count, seed, first_block=0):
    """``count`` raw uniform 32-bit Philox words from a stateless ``seed`` (int64, shape [2]).

    The words of Philox blocks ``first_block``, ``first_block + 1``, … of the seed's stream
    (four words a block): ``first_block=0`` gives ``tf.random.stateless_uniform``'s words, and
    ``random_words(n, seed, b)`` equals ``random_words(4·b + n, seed)[4·b:]``. ``first_block``
    may be a tensor. The algorithm is Philox by name because the default
    (``"auto_select"``) made steps take seconds under XLA.
    """
    # TensorFlow's own seed-to-(key, counter) scrambling for Philox, as stateless_uniform
    # does it (the same with and without XLA). The counter's low 64 bits start at 0: adding
    # the block index moves along the stream (wrapping only past 2^64 blocks).
    key, counter, _ = random_ops_util.get_key_counter_alg(seed, "philox")
    offset = tf.stack([tf.cast(first_block, tf.uint64), tf.constant(0, tf.uint64)])
    return gen_stateless_random_ops_v2.stateless_random_uniform_full_int_v2(
        shape=[count], key=key, counter=counter + offset, alg=PHILOX, dtype=tf.uint32)


def words_per_mask(entries, keep_prob):
    """The 32-bit words one mask of ``entries`` entries uses: ⌈entries·k/32⌉."""
    return -(-entries * chunk_bits(keep_prob) // 32)


def blocks_per_mask(entries, keep_prob):
    """Philox blocks reserved for each per-example mask: its words, rounded up to blocks."""
    return -(-words_per_mask(entries, keep_prob) // WORDS_PER_BLOCK)


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
    words = random_words(words_per_mask(entries, keep_prob), seed)
    return tf.reshape(_keep_from_words(words[None], entries, keep_prob), shape)


def keep_masks(count, first, shape, keep_prob, seed):
    """Masks ``first``, ``first + 1``, … ``first + count - 1`` of the seed's per-example masks.

    Shape ``(count, *shape)``; each is drawn as :func:`keep_mask` draws one, from its own
    stretch of the seed's Philox stream (blocks ``n·blocks_per_mask`` on for mask n), so mask
    n is the same however many masks are drawn with it. ``count`` and ``first`` may be
    tensors; mask 0 is ``keep_mask(shape, keep_prob, seed)``.
    """
    shape = static_shape(shape)
    entries = math.prod(shape)
    masks_shape = tf.concat([[count], shape], 0) if tf.is_tensor(count) else (count, *shape)
    if keep_prob == 1.0:
        return tf.ones(masks_shape, tf.bool)
    words, blocks = words_per_mask(entries, keep_prob), blocks_per_mask(entries, keep_prob)
    first_block = tf.cast(first, tf.uint64) * blocks
    stretch = random_words(count * blocks * WORDS_PER_BLOCK, seed, first_block)
    rows = tf.reshape(stretch, (-1, blocks * WORDS_PER_BLOCK))[:, :words]
    return tf.reshape(_keep_from_words(rows, entries, keep_prob), masks_shape)


def _keep_from_words(words, entries, keep_prob):
    """Each row of ``words`` (rows, W) uint32 cut into ``entries`` keep decisions (rows, entries)."""
    bits, threshold = chunk_bits(keep_prob), keep_threshold(keep_prob)
    rows = tf.shape(words)[0]
    if bits >= 8:
        # A bitcast splits each word into 32/k chunks without touching the bits.
        chunks = tf.reshape(tf.bitcast(words, tf.uint8 if bits == 8 else tf.uint16), [rows, -1])
        keep = chunks < tf.constant(threshold, chunks.dtype)
    else:
        # k < 8: chunk j of a byte is (byte >> k·j) & (2^k − 1), and it is below the
        # threshold exactly when byte & ((2^k − 1) << k·j) is below threshold << k·j: one AND
        # and one comparison. Chunk position j comes before the byte, so both operations
        # broadcast whole rows of bytes (with j last, TensorFlow's broadcast was 4× slower).
        positions = range(0, 8, bits)
        chunk_masks = tf.constant([[(2**bits - 1) << shift] for shift in positions], tf.uint8)
        # threshold < 2^k here (keep_prob < 1), so threshold << k·j still fits in a byte.
        thresholds = tf.constant([[threshold << shift] for shift in positions], tf.uint8)
        bytes_ = tf.reshape(tf.bitcast(words, tf.uint8), (rows, 1, -1))
        keep = tf.reshape(tf.bitwise.bitwise_and(bytes_, chunk_masks) < thresholds, [rows, -1])
    if keep.shape[1] != entries:
        keep = keep[:, :entries]  # the last word's spare chunks
    return keep
