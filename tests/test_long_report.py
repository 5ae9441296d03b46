"""The long sweep's report: scorings read from stored probabilities, paired intervals, votes."""
import json

import numpy as np
import pytest

from dcscratch import stats
from dcscratch.experiments import long_report

IMAGES, CLASSES, SEEDS = 400, 3, (0, 1, 2, 3)


def write_sweep(folder, rng):
    """A long sweep's folder with random probabilities; returns (labels, stored arrays)."""
    (folder / "probabilities").mkdir(parents=True)
    labels = rng.integers(0, CLASSES, IMAGES)
    np.save(folder / "probabilities" / "test_labels.npy", labels.astype(np.int8))
    runs, stored = {}, {}
    arms = {"no-drop": ({"variant": "no-drop"}, ("mean", "early_stopped")),
            "dropout": ({"variant": "dropout"}, ("mean", "sampling", "early_stopped")),
            "dropconnect inverted": ({"variant": "dropconnect", "inverted": True},
                                     ("mean", "gaussian", "early_stopped"))}
    for arm, (settings, rules) in arms.items():
        for seed in SEEDS:
            arrays = {rule: rng.dirichlet(np.ones(CLASSES), IMAGES).astype(np.float16)
                      for rule in rules}
            name = f"{arm}-{seed}.npz".replace(" ", "_")
            np.savez(folder / "probabilities" / name, **arrays)
            stored[arm, seed] = arrays
            runs[f"{arm} seed={seed}"] = {
                "settings": {**settings, "seed": seed},
                "probabilities": {"file": name, "rules": sorted(rules)},
                "history": {"val_loss": [1.0, 0.5, 0.7], "val_error": [0.5, 0.3, 0.3]}}
    (folder / "results.json").write_text(json.dumps({"runs": runs}))
    return labels, stored


@pytest.fixture
def sweep(tmp_path):
    labels, stored = write_sweep(tmp_path, np.random.default_rng(0))
    return tmp_path, labels, stored


def test_every_stored_rule_becomes_its_scoring_by_seed(sweep):
    folder, labels, stored = sweep
    _, loaded_labels, probabilities = long_report.load(folder)
    np.testing.assert_array_equal(loaded_labels, labels)
    assert set(probabilities) == {"no-drop", "no-drop early-stopped", "dropout", "dropout sampling",
                                  "dropconnect inverted, mean rule",
                                  "dropconnect inverted, gaussian rule"}
    np.testing.assert_array_equal(probabilities["dropout sampling"][2],
                                  stored["dropout", 2]["sampling"].astype(np.float64))
    assert sorted(probabilities["no-drop early-stopped"]) == list(SEEDS)


def test_compare_gives_the_seed_paired_interval_and_a_wider_one_over_images(sweep):
    folder, labels, stored = sweep
    _, labels, probabilities = long_report.load(folder)
    outcome = long_report.compare(probabilities, labels, "dropout", "no-drop")
    errors = {arm: [100 * np.mean(np.argmax(stored[arm, s]["mean"], 1) != labels) for s in SEEDS]
              for arm in ("dropout", "no-drop")}
    expected = stats.paired_interval(errors["dropout"], errors["no-drop"])
    error = outcome["error"]
    assert error["difference"] == pytest.approx(expected["mean"])
    assert error["seeds_interval"] == pytest.approx((expected["low"], expected["high"]))
    assert error["n_seeds"] == len(SEEDS) and error["n_images"] == IMAGES
    low, high = error["seeds_and_images_interval"]
    assert low < error["difference"] < high
    loss = outcome["loss"]
    assert loss["seeds_and_images_interval"][0] < loss["difference"] < loss[
        "seeds_and_images_interval"][1]


def with_records(folder, stored, labels, shift=0.0):
    """The sweep's results with run records: each rule's exact error and cross-entropy
    (``shift`` added to every loss, as a record computed from logits can differ from float16)."""
    results = json.loads((folder / "results.json").read_text())
    for run in results["runs"].values():
        arm = long_report.arm_of(run)
        rules = {}
        for rule, probs in stored[arm, run["settings"]["seed"]].items():
            wrong, loss = long_report.per_image(probs, labels)
            rules[rule] = {"test_error": wrong.mean(), "test_loss": loss.mean() + shift}
        run["early_stopped"] = rules.pop("early_stopped")
        run["final_by_inference"] = rules
    return results


def test_recorded_reads_each_scorings_rule_from_the_run_records(sweep):
    folder, labels, stored = sweep
    results = with_records(folder, stored, labels)
    early = long_report.recorded(results, "no-drop early-stopped")
    assert sorted(early) == list(SEEDS)
    wrong, loss = long_report.per_image(stored["no-drop", 1]["early_stopped"], labels)
    assert early[1] == {"error": pytest.approx(wrong.mean()), "loss": pytest.approx(loss.mean())}
    assert long_report.recorded(results, "dropconnect unscaled, mean rule") == {}


def test_with_the_records_the_seed_interval_uses_them_and_the_bootstrap_the_probabilities(sweep):
    folder, labels, stored = sweep
    _, labels, probabilities = long_report.load(folder)
    plain = long_report.compare(probabilities, labels, "dropout", "no-drop")
    # Records whose losses exceed the float16 ones by 0.1 nats for no-drop only (its confidently
    # wrong images floored): the seed-level difference moves by exactly that, the bootstrap not.
    results = with_records(folder, stored, labels)
    for run in results["runs"].values():
        if run["settings"]["variant"] == "no-drop":
            run["final_by_inference"]["mean"]["test_loss"] += 0.1
    recorded = long_report.compare(probabilities, labels, "dropout", "no-drop", results=results)
    assert recorded["loss"]["difference"] == pytest.approx(plain["loss"]["difference"] - 0.1)
    assert recorded["loss"]["seeds_interval"] == pytest.approx(
        tuple(end - 0.1 for end in plain["loss"]["seeds_interval"]))
    assert (recorded["loss"]["seeds_and_images_interval"]
            == plain["loss"]["seeds_and_images_interval"])
    assert recorded["error"]["difference"] == pytest.approx(plain["error"]["difference"])


def test_the_image_floor_leaves_out_the_seeds_own_spread_on_each_image(sweep):
    folder, labels, stored = sweep
    _, labels, probabilities = long_report.load(folder)
    outcome = long_report.compare(probabilities, labels, "dropout", "no-drop")["error"]
    rows = np.array([100 * ((np.argmax(stored["dropout", s]["mean"], 1) != labels).astype(float)
                            - (np.argmax(stored["no-drop", s]["mean"], 1) != labels))
                     for s in SEEDS])
    expected = rows.mean(axis=0).var(ddof=1) - rows.var(axis=0, ddof=1).mean() / len(SEEDS)
    assert outcome["images_half_width"] == pytest.approx(
        1.959964 * np.sqrt(max(expected, 0.0) / IMAGES), rel=1e-5)
    assert outcome["bootstrap_difference"] == pytest.approx(rows.mean())
    seed_differences = rows.mean(axis=1)
    assert outcome["seeds_sd"] == pytest.approx(np.std(seed_differences, ddof=1))


def test_seeds_that_agree_on_every_image_leave_the_whole_image_spread_as_the_floor(sweep):
    # The same network under every seed: no seed-by-image spread, so the floor is the plain
    # standard error of the per-image differences; independent seeds with no method effect on
    # any image (pure noise) leave a floor near 0.
    folder, labels, stored = sweep
    _, labels, probabilities = long_report.load(folder)
    same = {name: {s: probabilities[name][0] for s in SEEDS} for name in ("dropout", "no-drop")}
    outcome = long_report.compare(same, labels, "dropout", "no-drop")["error"]
    d = 100 * ((np.argmax(same["dropout"][0], 1) != labels).astype(float)
               - (np.argmax(same["no-drop"][0], 1) != labels))
    assert outcome["images_half_width"] == pytest.approx(
        1.959964 * d.std(ddof=1) / np.sqrt(IMAGES), rel=1e-5)
    noise = long_report.compare(probabilities, labels, "dropout", "no-drop")["error"]
    assert noise["images_half_width"] < 0.5 * outcome["images_half_width"]


def test_complete_seeds_and_restriction_keep_only_seeds_every_arm_has(sweep):
    folder, *_ = sweep
    results, labels, probabilities = long_report.load(folder)
    assert long_report.complete_seeds(results) == list(SEEDS)
    del results["runs"]["dropout seed=3"]
    assert long_report.complete_seeds(results) == [0, 1, 2]
    kept_results, kept = long_report.restricted(results, probabilities, [0, 2])
    assert {run["settings"]["seed"] for run in kept_results["runs"].values()} == {0, 2}
    assert all(sorted(by_seed) == [0, 2] for by_seed in kept.values())
    assert len(results["runs"]) == 11 and sorted(probabilities["no-drop"]) == list(SEEDS)


def test_a_temperature_undoes_overconfidence_and_leaves_calibrated_probabilities_alone():
    from scipy.special import softmax

    rng = np.random.default_rng(3)
    logits = rng.normal(0, 2, size=(4000, 5))
    labels = np.array([rng.choice(5, p=p) for p in softmax(logits, axis=1)])  # calibrated
    fit, score = np.arange(2000), np.arange(2000, 4000)
    t, before, after = long_report.temperature_scaled(softmax(logits, axis=1), labels, fit, score)
    assert t == pytest.approx(1.0, abs=0.1) and after == pytest.approx(before, abs=0.01)
    t, before, after = long_report.temperature_scaled(softmax(3 * logits, axis=1), labels, fit,
                                                      score)
    assert t == pytest.approx(3.0, rel=0.1) and after < before - 0.1


def test_a_scoring_compared_with_itself_differs_by_exactly_nothing(sweep):
    folder, *_ = sweep
    _, labels, probabilities = long_report.load(folder)
    outcome = long_report.compare(probabilities, labels, "dropout", "dropout")
    for metric in ("error", "loss"):
        assert outcome[metric]["difference"] == 0
        assert outcome[metric]["seeds_and_images_interval"] == (0.0, 0.0)


def test_compare_needs_two_paired_seeds(sweep):
    folder, *_ = sweep
    _, labels, probabilities = long_report.load(folder)
    with pytest.raises(ValueError, match="needs two paired seeds"):
        long_report.compare(probabilities, labels, "dropout", "dropconnect unscaled, mean rule")


def test_votes_average_the_seeds_probabilities_and_mcnemar_counts_disagreements(sweep):
    folder, labels, stored = sweep
    _, labels, probabilities = long_report.load(folder)
    average = np.mean([stored["dropout", s]["mean"].astype(np.float64) for s in SEEDS], axis=0)
    correct, error = long_report.vote(probabilities, "dropout", labels)
    np.testing.assert_array_equal(correct, np.argmax(average, 1) == labels)
    assert error == pytest.approx(100 * np.mean(np.argmax(average, 1) != labels))
    counts = long_report.vote_comparison(probabilities, labels, "dropout", "no-drop")
    other, _ = long_report.vote(probabilities, "no-drop", labels)
    assert counts["a_only"] == int(np.sum(correct & ~other))
    assert counts["b_only"] == int(np.sum(~correct & other))
    assert counts["n_seeds"] == len(SEEDS)


def test_two_ensembles_are_compared_over_the_seeds_both_have(sweep):
    folder, labels, stored = sweep
    _, labels, probabilities = long_report.load(folder)
    del probabilities["no-drop"][3]  # a run not stored yet: the other ensemble leaves seed 3 out
    counts = long_report.vote_comparison(probabilities, labels, "dropout", "no-drop")
    first_three, _ = long_report.vote(probabilities, "dropout", labels, [0, 1, 2])
    other, _ = long_report.vote(probabilities, "no-drop", labels)
    assert counts["n_seeds"] == 3
    assert counts["a_only"] == int(np.sum(first_three & ~other))
    with pytest.raises(ValueError, match="needs a seed both have"):
        long_report.vote_comparison(probabilities, labels, "dropout",
                                    "dropconnect unscaled, mean rule")


def test_curves_and_the_epoch_a_threshold_is_first_reached(sweep):
    folder, *_ = sweep
    results, _, _ = long_report.load(folder)
    assert long_report.curves(results, "dropout").shape == (len(SEEDS), 3)
    assert long_report.epochs_to_reach(results, "dropout", 0.6) == [2] * len(SEEDS)
    assert long_report.epochs_to_reach(results, "dropout", 0.1) == [None] * len(SEEDS)


def test_the_two_level_interval_holds_the_test_sets_sampling_error_that_seeds_cannot_see():
    # Every seed gives the same per-image differences: the seed-paired interval has width 0,
    # but the test set is still one draw; the two-level interval's half-width is then the
    # images' standard error times 1.96 (within 15 %: 4,000 resamples put the percentiles'
    # own error near 3 %).
    rng = np.random.default_rng(1)
    per_image = rng.choice([-1.0, 0.0, 1.0], size=2000, p=[0.1, 0.8, 0.1])
    rows = np.tile(per_image, (5, 1))
    assert stats.paired_interval(rows.mean(axis=1), np.zeros(5))["high"] == pytest.approx(
        rows.mean())
    low, high = stats.two_level_interval(rows, resamples=4000, seed=0)
    expected = 1.96 * per_image.std(ddof=1) / np.sqrt(per_image.size)
    assert (high - low) / 2 == pytest.approx(expected, rel=0.15)


def test_the_sweeps_progress_table_gives_mean_and_sd_over_the_seeds_done():
    def run(seed, error):
        return {"settings": {"variant": "dropconnect", "inverted": False, "seed": seed},
                "final_by_inference": {"gaussian": {"test_error": error, "test_loss": 0.3}},
                "early_stopped": {"epoch": 5, "test_error": 0.2, "test_loss": 0.4}}

    table = long_report.long_table({"runs": {"a": run(0, 0.10), "b": run(1, 0.12)}})
    assert "| dropconnect unscaled | last epoch, gaussian rule | 2 | 11.00 ± 1.41 | 0.300 ± 0.000 |" in table
    single = long_report.long_table({"runs": {"a": run(0, 0.10)}})
    assert "| dropconnect unscaled | early-stopped, mean rule | 1 | 20.00 | 0.400 |" in single
