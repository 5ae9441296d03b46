"""Property tests of the argument checks every public function relies on."""
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from dcscratch import numpy_way
from dcscratch.validation import check_keep_prob


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_keep_prob_is_accepted_exactly_on_the_interval_zero_exclusive_one_inclusive(value):
    valid = not math.isnan(value) and 0.0 < value <= 1.0
    try:
        assert check_keep_prob(value) == value
        accepted = True
    except ValueError as error:
        assert "`keep_prob`" in str(error)
        accepted = False
    assert accepted == valid  # never clipped into range, never repaired


@settings(max_examples=60, deadline=None)
@given(arrays(np.float32, array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=8),
              elements=st.floats(-1e6, 1e6, width=32)),
       st.floats(0.01, 1.0), st.integers(0, 2**31))
def test_numpy_dropconnect_only_zeroes_weights_and_keeps_the_rest_bit_for_bit(W, keep_prob, seed):
    result = numpy_way.dropconnect(W, keep_prob, seed=seed)
    assert result.shape == W.shape and result.dtype == W.dtype
    kept = numpy_way.bernoulli_mask(W.shape, keep_prob, seed=seed) == 1
    np.testing.assert_array_equal(result[kept], W[kept])
    assert np.all(result[~kept] == 0)
