"""dcscratch.model_tools: averaged passes, copies under another rule, and their randomness:
fresh without a seed, repeated with one."""
import keras
import numpy as np
import pytest

from dcscratch import DropConnectDense
from dcscratch.model_tools import (mc_predict, reseed, restore_seed_states, seed_states,
                                   with_inference)
from dcscratch.inference import predictive_entropy
from dcscratch.tf_common import tf


def small_model(keep_prob, outputs="softmax", seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((6,)),
                             DropConnectDense(12, keep_prob, activation="relu", seed=seed),
                             keras.layers.Dense(4, activation=outputs)])


X = np.random.default_rng(6).random((9, 6)).astype(np.float32)


# ---------------------------------------------------------------- mc_predict
def test_mc_predict_with_keep_prob_one_equals_a_deterministic_predict():
    model = small_model(1.0)
    result = mc_predict(model, X, samples=5, seed=0)
    expected = model.predict(X, verbose=0)
    np.testing.assert_allclose(result.probs, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(result.entropy, predictive_entropy(expected), rtol=1e-5)
    np.testing.assert_allclose(result.mutual_information, 0.0, atol=1e-6)


def test_mc_predict_averages_passes_that_disagree():
    result = mc_predict(small_model(0.5), X, samples=30, seed=1)
    assert result.probs.shape == (9, 4) and result.entropy.shape == (9,)
    np.testing.assert_allclose(result.probs.sum(axis=1), 1.0, rtol=1e-6)
    # Mutual information = entropy of the mean − mean entropy: ≥ 0 (concavity), ≤ entropy.
    assert np.all(result.mutual_information > 0)
    assert np.all(result.mutual_information <= result.entropy + 1e-12)


def test_mc_predict_is_repeatable_with_a_seed_and_leaves_the_model_stream_alone():
    model = small_model(0.5)
    state = seed_states(model)
    first = mc_predict(model, X, samples=4, seed=7)
    assert [s.tolist() for s in seed_states(model)] == [s.tolist() for s in state]
    np.testing.assert_array_equal(mc_predict(model, X, samples=4, seed=7).probs, first.probs)
    assert not np.array_equal(mc_predict(model, X, samples=4, seed=8).probs, first.probs)


def test_mc_predict_without_a_seed_is_fresh_even_on_two_identically_seeded_models():
    # Before the fix an unseeded call used the model's own stream, which restarts from the
    # layer's seed in every new model (or session): the "random" passes repeated.
    first = mc_predict(small_model(0.5), X, samples=4)
    second = mc_predict(small_model(0.5), X, samples=4)
    assert not np.array_equal(first.probs, second.probs)


def test_mc_predict_applies_a_softmax_to_logits_when_asked():
    logits_model = small_model(1.0, outputs=None)
    result = mc_predict(logits_model, X, samples=2, from_logits=True)
    expected = tf.nn.softmax(logits_model.predict(X, verbose=0)).numpy()
    np.testing.assert_allclose(result.probs, expected, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------- with_inference
def test_with_inference_copies_the_weights_and_changes_only_the_rule():
    model = small_model(0.5)
    copy = with_inference(model, "gaussian", samples=8)
    layer = copy.layers[0]
    assert (layer.inference, layer.inference_samples) == ("gaussian", 8)
    assert model.layers[0].inference == "mean"
    for before, after in zip(model.get_weights(), copy.get_weights()):
        np.testing.assert_array_equal(before, after)
    mean_copy = with_inference(model, "mean")
    np.testing.assert_array_equal(mean_copy.predict(X, verbose=0), model.predict(X, verbose=0))


@pytest.mark.parametrize("rule", ["mc", "gaussian"])
def test_two_unseeded_copies_draw_different_masks(rule):
    model = small_model(0.5)  # the layer's config holds seed=0: a plain clone restarts it
    first = with_inference(model, rule, samples=16)(X, training=False).numpy()
    second = with_inference(model, rule, samples=16)(X, training=False).numpy()
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("rule", ["mc", "gaussian"])
def test_copies_with_the_same_seed_repeat_and_other_seeds_do_not(rule):
    model = small_model(0.5)
    first = with_inference(model, rule, samples=16, seed=3)(X, training=False).numpy()
    again = with_inference(model, rule, samples=16, seed=3)(X, training=False).numpy()
    other = with_inference(model, rule, samples=16, seed=4)(X, training=False).numpy()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_a_copy_does_not_share_the_originals_stream():
    model = small_model(0.5)
    copy = with_inference(model, "mc")
    original = model(X, training=True).numpy()
    assert not np.array_equal(copy(X, training=True).numpy(), original)


# ---------------------------------------------------------------- seed states
def test_reseed_repeats_with_a_seed_and_restore_rewinds():
    model = small_model(0.5)
    saved = seed_states(model)
    assert [s.tolist() for s in reseed(model, 5)] == [s.tolist() for s in reseed(model, 5)]
    first = model(X, training=True).numpy()
    reseed(model, 5)
    np.testing.assert_array_equal(model(X, training=True).numpy(), first)
    restore_seed_states(model, saved)
    assert [s.tolist() for s in seed_states(model)] == [s.tolist() for s in saved]


# ---------------------------------------------------------------- bad input, by name
@pytest.mark.parametrize("call, error, argument", [
    (lambda: mc_predict(small_model(0.5), X, samples=0), ValueError, "samples"),
    (lambda: mc_predict(small_model(0.5), X, samples=2.0), TypeError, "samples"),
    (lambda: mc_predict(small_model(0.5), X, samples=2, seed=-1), ValueError, "seed"),
    (lambda: mc_predict(small_model(0.5), X.astype(int), samples=2), TypeError, "x"),
    (lambda: mc_predict(small_model(0.5, outputs=None), X, samples=2), ValueError, "model"),
    (lambda: with_inference(small_model(0.5), "median"), ValueError, "inference"),
    (lambda: with_inference(small_model(0.5), "mc", samples=0), ValueError, "samples"),
    (lambda: with_inference(small_model(0.5), "mc", seed=-2), ValueError, "seed"),
    (lambda: reseed(small_model(0.5), seed=1.5), TypeError, "seed"),
    (lambda: restore_seed_states(small_model(0.5), []), ValueError, "states"),
])
def test_bad_input_is_rejected_naming_the_argument(call, error, argument):
    with pytest.raises(error, match=f"Invalid value received for argument `{argument}`"):
        call()
