"""The committed study behind notebook 08 is complete, matched, readable and this code's."""
import numpy as np

from dcscratch.experiments.extension_study import (ARMS, COMMITTED, _bits, code_fingerprint,
                                                   load_study, unbits)


def test_bits_round_trip_any_shape():
    array = np.random.default_rng(0).uniform(size=(3, 5, 7)) < 0.4
    np.testing.assert_array_equal(unbits(_bits(array)), array)


def test_committed_study_has_five_seeds_every_arm_and_matched_sparsity():
    study = load_study(COMMITTED)
    assert study["seeds"] == [0, 1, 2, 3, 4] and len(study["runs"]) == 5
    assert study["command"].startswith("python -m")
    for run in study["runs"]:
        for arm in ARMS + ("class-gated-prediction", "class-gated-mixture", "class-gated-label",
                           "probe-own", "probe-shifted"):
            assert run["correct"][arm].shape == (study["test_size"],)
        assert run["zero_share"]["dense"] == [0.0, 0.0]
        for arm in ARMS[1:]:  # every pruned arm held to L0's per-layer sparsity
            np.testing.assert_allclose(run["zero_share"][arm], run["l0_sparsity_per_layer"],
                                       atol=1 / 1280)
        assert run["class_gated_kept"].shape == run["probe_kept"].shape == (10, 64, 128)


def test_committed_study_was_made_by_the_code_in_this_checkout():
    # A clean commit of the study's modules, and the same code (docstrings aside) as now: a
    # change to what the study runs must come with a rerun
    # (python -m dcscratch.experiments.extension_study).
    study = load_study(COMMITTED)
    assert len(study["commit"]) == 40 and not study["commit"].endswith("-dirty")
    assert study["code_fingerprint"] == code_fingerprint(), (
        "dcscratch's study modules changed since results/extensions/study.json was made: "
        "rerun `python -m dcscratch.experiments.extension_study` and commit the new study.json")
    assert study["machine"]["cpu"] and study["versions"]["tensorflow"]


def test_code_fingerprint_ignores_docstrings_and_sees_code():
    from dcscratch.experiments.fingerprint import _code_without_docstrings

    code = 'def f(x):\n    """Old words."""\n    return x + 1  # a comment\n'
    reworded = 'def f(x):\n    """New words."""\n    return x + 1\n'
    changed = 'def f(x):\n    """Old words."""\n    return x + 2\n'
    assert _code_without_docstrings(code) == _code_without_docstrings(reworded)
    assert _code_without_docstrings(code) != _code_without_docstrings(changed)
    assert len(code_fingerprint()) == 64
