"""Checks and seeds shared by the two TensorFlow ways and the Keras layer."""
from dcscratch.tf_import import quiet_tensorflow
from dcscratch.validation import _invalid

tf = quiet_tensorflow()


def check_float_tensor(W, argument="W"):
    """Return ``W`` as a tensor after checking it is non-empty and floating point."""
    expected = "a non-empty tensor or array of floating point numbers"
    try:
        W = tf.convert_to_tensor(W)
    except (ValueError, TypeError):
        raise ValueError(_invalid(argument, expected + " (rectangular, not ragged)",
                                  "<not convertible to a tensor>")) from None
    if not W.dtype.is_floating:
        raise TypeError(_invalid(argument, expected, f"<tensor of dtype {W.dtype.name}>"))
    if W.shape.rank == 0 or W.shape.num_elements() == 0:
        raise ValueError(_invalid(argument, expected, f"<tensor of shape {tuple(W.shape)}>"))
    return W


def stateless_seed(seed):
    """Turn a non-negative int into the shape-[2] seed that stateless TF ops take."""
    return tf.constant([seed, 0], dtype=tf.int64)


def float_dtype(dtype, argument="dtype"):
    """Return ``dtype`` as a floating ``tf.DType``, or raise."""
    dtype = tf.as_dtype(dtype)
    if not dtype.is_floating:
        raise TypeError(_invalid(argument, "a floating point dtype", dtype.name))
    return dtype
