"""The committed study behind notebook 08 is complete, matched and readable."""
import numpy as np

from dcscratch.extension_study import ARMS, COMMITTED, _bits, load_study, unbits


def test_bits_round_trip_any_shape():
    array = np.random.default_rng(0).uniform(size=(3, 5, 7)) < 0.4
    np.testing.assert_array_equal(unbits(_bits(array)), array)


def test_committed_study_has_five_seeds_every_arm_and_matched_sparsity():
    study = load_study(COMMITTED)
    assert study["seeds"] == [0, 1, 2, 3, 4] and len(study["runs"]) == 5
    assert study["commit"] != "unknown" and study["command"].startswith("python -m")
    for run in study["runs"]:
        for arm in ARMS + ("class-gated-prediction", "class-gated-mixture", "class-gated-label",
                           "probe-own", "probe-shifted"):
            assert run["correct"][arm].shape == (study["test_size"],)
        assert run["zero_share"]["dense"] == [0.0, 0.0]
        for arm in ARMS[1:]:  # every pruned arm held to L0's per-layer sparsity
            np.testing.assert_allclose(run["zero_share"][arm], run["l0_sparsity_per_layer"],
                                       atol=1 / 1280)
        assert run["class_gated_kept"].shape == run["probe_kept"].shape == (10, 64, 128)
