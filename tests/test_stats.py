"""dcscratch.stats: intervals that cover, tests that hold their level, references that agree."""
import math

import numpy as np
import pytest
from scipy import stats as scipy_stats
from sklearn.metrics import roc_auc_score

from dcscratch import stats


def binomial_bound(probability, trials, sds=4):
    """``sds`` binomial standard deviations of a share of ``trials`` events of ``probability``."""
    return sds * math.sqrt(probability * (1 - probability) / trials)


# ---------------------------------------------------------------- paired intervals
def test_paired_interval_covers_the_true_difference_at_its_confidence():
    rng = np.random.default_rng(0)
    trials, n, true_difference = 2000, 5, 0.3
    covered = 0
    for _ in range(trials):
        b = rng.normal(0.0, 1.0, n)
        a = b + true_difference + rng.normal(0.0, 0.5, n)
        interval = stats.paired_interval(a, b)
        covered += interval["low"] <= true_difference <= interval["high"]
    assert abs(covered / trials - 0.95) < binomial_bound(0.95, trials)


def test_paired_interval_matches_scipy_t_interval():
    a, b = np.array([0.10, 0.20, 0.15, 0.31]), np.array([0.12, 0.21, 0.18, 0.30])
    interval = stats.paired_interval(a, b, confidence=0.9)
    d = a - b
    low, high = scipy_stats.t.interval(0.9, len(d) - 1, loc=d.mean(), scale=scipy_stats.sem(d))
    assert interval["n"] == 4 and interval["confidence"] == 0.9
    assert interval["mean"] == pytest.approx(d.mean())
    assert (interval["low"], interval["high"]) == pytest.approx((low, high))


def test_one_pair_gives_no_interval_and_the_verdict_says_so():
    interval = stats.paired_interval([0.10], [0.15])
    assert interval["n"] == 1 and math.isnan(interval["low"]) and math.isnan(interval["high"])
    # The review's bug: a mean of −0.05 without an interval was called "higher".
    assert stats.verdict(interval).startswith("not resolved at this n (n = 1")


def test_equal_differences_are_not_a_confident_verdict():
    interval = stats.paired_interval([0.30, 0.40, 0.50], [0.20, 0.30, 0.40])  # all +0.1
    assert interval["high"] - interval["low"] == pytest.approx(0.0, abs=1e-12)
    assert stats.verdict(interval).startswith("not resolved at this n (every difference")


@pytest.mark.parametrize("low, high, expected", [
    (-0.3, -0.1, "lower"), (0.1, 0.3, "higher"), (-0.1, 0.2, "not resolved at this n"),
    (0.0, 0.2, "not resolved at this n")])
def test_verdict_reads_the_sign_only_when_the_interval_excludes_zero(low, high, expected):
    words = stats.verdict({"low": low, "high": high, "n": 5, "sd": 0.1})
    assert words == expected
    assert "no difference" not in words


# ---------------------------------------------------------------- families and test sets
def test_paired_p_value_matches_scipy_and_agrees_with_the_interval():
    a, b = np.array([0.10, 0.20, 0.15, 0.31, 0.22]), np.array([0.12, 0.21, 0.18, 0.30, 0.25])
    assert stats.paired_p_value(a, b) == pytest.approx(scipy_stats.ttest_rel(a, b).pvalue)
    rng = np.random.default_rng(1)
    for _ in range(200):
        a, b = rng.normal(size=5), rng.normal(size=5)
        excluded = stats.verdict(stats.paired_interval(a, b)) != stats.NOT_RESOLVED
        assert excluded == (stats.paired_p_value(a, b) < 0.05)
    assert math.isnan(stats.paired_p_value([0.3, 0.4], [0.2, 0.3]))  # all differences equal
    assert math.isnan(stats.paired_p_value([0.3], [0.2]))


def test_holm_matches_the_hand_computed_step_down():
    # Sorted 0.01, 0.02, 0.03, 0.04 times 4, 3, 2, 1: 0.04, 0.06, 0.06 (made monotone), 0.06.
    np.testing.assert_allclose(stats.holm([0.03, 0.01, 0.04, 0.02]), [0.06, 0.04, 0.06, 0.06])
    np.testing.assert_allclose(stats.holm([0.5, 0.9]), [1.0, 1.0])
    adjusted = stats.holm([0.01, np.nan, 0.04])  # a missing test still counts in m = 3
    assert adjusted[0] == pytest.approx(0.03) and math.isnan(adjusted[1])
    assert adjusted[2] == pytest.approx(0.08)  # the second smallest, times m − 1 = 2


def test_holm_holds_the_familywise_error_rate():
    rng = np.random.default_rng(2)
    trials, m = 4000, 8
    any_false = sum(np.any(stats.holm(rng.uniform(size=m)) <= 0.05) for _ in range(trials))
    assert any_false / trials <= 0.05 + binomial_bound(0.05, trials)


def test_paired_bootstrap_widens_the_seed_interval_by_the_test_sets_sampling():
    rng = np.random.default_rng(3)
    runs, examples = 5, 400
    hard = rng.uniform(size=examples) < 0.3  # examples both variants find hard
    correct_b = ~hard & (rng.uniform(size=(runs, examples)) < 0.97)
    correct_a = correct_b & (rng.uniform(size=(runs, examples)) < 0.99)  # a loses ≈ 0.7 %
    result = stats.paired_bootstrap(correct_a, correct_b, resamples=2000, seed=0)
    difference = correct_a.mean(axis=1) - correct_b.mean(axis=1)
    assert result["mean"] == pytest.approx(difference.mean())
    assert result["low"] < result["mean"] < result["high"] <= 0
    seeds_only = stats.paired_interval(correct_a.mean(axis=1), correct_b.mean(axis=1))
    assert result["high"] - result["low"] > 0.5 * (seeds_only["high"] - seeds_only["low"])
    assert stats.paired_bootstrap(correct_a, correct_b, seed=0) == stats.paired_bootstrap(
        correct_a, correct_b, seed=0)


def test_paired_bootstrap_covers_the_true_difference_of_examples_drawn_afresh():
    # The task: two classifiers with per-example accuracies; each trial draws a new test set.
    rng = np.random.default_rng(4)
    trials, covered = 200, 0
    for _ in range(trials):
        difficulty = rng.uniform(0.8, 1.0, size=300)
        correct_b = rng.uniform(size=(5, 300)) < difficulty
        correct_a = rng.uniform(size=(5, 300)) < difficulty - 0.02
        result = stats.paired_bootstrap(correct_a, correct_b, resamples=500, seed=1)
        covered += result["low"] <= -0.02 <= result["high"]
    # 95 % intervals; 5 runs make the percentile bootstrap a little narrow: 0.9 at least.
    assert covered / trials > 0.9 - binomial_bound(0.9, trials)


def test_correlation_interval_is_fisher_z_and_its_critical_r():
    rng = np.random.default_rng(5)
    x = rng.normal(size=32)
    y = -0.1 * x + rng.normal(size=32)
    result = stats.correlation_interval(x, y)
    r = scipy_stats.pearsonr(x, y)
    assert result["r"] == pytest.approx(r.statistic)
    low, high = r.confidence_interval(0.95)  # SciPy's Fisher-z interval
    assert (result["low"], result["high"]) == pytest.approx((low, high))
    # At n = 32 an |r| below 0.35 is not resolved from 0.
    assert result["critical_r"] == pytest.approx(0.349, abs=1e-3)


# ---------------------------------------------------------------- power
def test_min_detectable_difference_is_the_reviews_two_points_at_five_seeds():
    # Review of notebook 07, finding 4: n = 5 and a spread of 1.2–1.3 points → ≈ 2 points.
    assert stats.min_detectable_difference(1.25, 5) == pytest.approx(2.08, abs=0.01)


def test_min_detectable_difference_is_resolved_with_the_stated_power():
    rng = np.random.default_rng(1)
    trials, n, sd = 2000, 12, 1.0
    difference = stats.min_detectable_difference(sd, n)
    samples = rng.normal(difference, sd, size=(trials, n))
    resolved = sum(stats.verdict(stats.paired_interval(row, np.zeros(n))) == "higher"
                   for row in samples)
    # The t approximation of the noncentral t power is within about 0.02 at n = 12.
    assert abs(resolved / trials - 0.8) < binomial_bound(0.8, trials) + 0.02


def test_n_to_resolve_is_the_smallest_n_whose_detectable_difference_is_small_enough():
    for difference, sd in ((0.2, 1.25), (0.8, 1.25), (1.0, 0.5), (-0.5, 1.0)):
        n = stats.n_to_resolve(difference, sd)
        assert stats.min_detectable_difference(sd, n) <= abs(difference)
        if n > 2:
            assert stats.min_detectable_difference(sd, n - 1) > abs(difference)
    assert stats.n_to_resolve(0.0, 1.0) == math.inf
    assert stats.n_to_resolve(0.1, 0.0) == 2


# ---------------------------------------------------------------- paired counts
def test_paired_counts_counts_discordant_examples_and_matches_scipy_binomtest():
    rng = np.random.default_rng(2)
    correct_a = rng.random(500) < 0.9
    correct_b = np.where(rng.random(500) < 0.1, ~correct_a, correct_a)
    result = stats.paired_counts(correct_a, correct_b)
    a_only = int(np.sum(correct_a & ~correct_b))
    b_only = int(np.sum(~correct_a & correct_b))
    assert (result["a_only"], result["b_only"], result["n"]) == (a_only, b_only, 500)
    assert result["difference"] == pytest.approx(correct_a.mean() - correct_b.mean())
    assert result["p_value"] == pytest.approx(
        scipy_stats.binomtest(a_only, a_only + b_only, 0.5).pvalue)
    assert result["low"] < result["difference"] < result["high"]


def test_paired_counts_interval_covers_the_true_accuracy_difference():
    # Per example: both right 0.80, only a 0.12, only b 0.06, both wrong 0.02 → a − b = 0.06.
    rng = np.random.default_rng(3)
    trials, n, covered = 1000, 400, 0
    for _ in range(trials):
        cell = rng.choice(4, size=n, p=[0.80, 0.12, 0.06, 0.02])
        result = stats.paired_counts(np.isin(cell, (0, 1)), np.isin(cell, (0, 2)))
        covered += result["low"] <= 0.06 <= result["high"]
    assert abs(covered / trials - 0.95) < binomial_bound(0.95, trials)


def test_identical_classifiers_are_not_resolved():
    correct = np.array([True, False, True, True])
    result = stats.paired_counts(correct, correct)
    assert (result["a_only"], result["b_only"], result["p_value"]) == (0, 0, 1.0)
    assert stats.verdict(result) == "not resolved at this n"


# ---------------------------------------------------------------- permutation nulls
def mean_gap(groups, values):
    return lambda labels: values[labels].mean() - values[~labels].mean()


def test_permutation_p_values_are_uniform_under_the_null():
    rng = np.random.default_rng(4)
    labels = np.arange(40) < 20
    trials, small = 300, 0
    for trial in range(trials):
        values = rng.normal(size=40)  # no effect: the labels are exchangeable
        result = stats.permutation_null(mean_gap(None, values), labels, permutations=99,
                                        seed=trial)
        small += result.p_value <= 0.05
    # P(p ≤ 0.05) is exactly 5/100 with 99 permutations under exchangeability.
    assert abs(small / trials - 0.05) < binomial_bound(0.05, trials)


def test_permutation_p_value_is_small_under_a_planted_effect():
    rng = np.random.default_rng(5)
    labels = np.arange(60) < 30
    values = rng.normal(size=60) + 1.5 * labels
    result = stats.permutation_null(mean_gap(None, values), labels, permutations=999, seed=0)
    assert result.p_value == pytest.approx(1 / 1000)  # no shuffle reaches the planted gap
    assert result.null.shape == (999,)
    assert stats.permutation_null(mean_gap(None, values), labels, permutations=999,
                                  seed=0).null.tolist() == result.null.tolist()  # seeded


def test_permute_within_keeps_every_row_in_its_stratum():
    rng = np.random.default_rng(6)
    alive = np.arange(100) % 3 == 0
    values = np.arange(100)
    shuffled = stats.permute_within(values, alive, rng)
    assert sorted(shuffled[alive]) == sorted(values[alive])
    assert sorted(shuffled[~alive]) == sorted(values[~alive])
    assert not np.array_equal(shuffled, values)


def test_stratified_null_removes_an_effect_carried_by_the_strata():
    # The gap comes from the strata alone: shuffling across strata finds it, within does not.
    rng = np.random.default_rng(7)
    strata = np.arange(80) < 40
    labels = np.where(strata, rng.random(80) < 0.8, rng.random(80) < 0.2)
    values = rng.normal(size=80) + 2.0 * strata
    across = stats.permutation_null(mean_gap(None, values), labels, permutations=499, seed=0)
    within = stats.permutation_null(mean_gap(None, values), labels, strata=strata,
                                    permutations=499, seed=0)
    assert across.p_value < 0.01 < within.p_value


# ---------------------------------------------------------------- AUROC
def test_auroc_matches_sklearn_with_ties():
    rng = np.random.default_rng(8)
    labels = rng.random(300) < 0.3
    scores = np.round(rng.normal(size=300) + labels, 1)  # rounding makes ties
    assert stats.auroc(scores, labels) == pytest.approx(roc_auc_score(labels, scores))


def test_delong_standard_error_matches_the_pairwise_definition():
    rng = np.random.default_rng(9)
    labels = rng.random(80) < 0.4
    scores = np.round(rng.normal(size=80) + labels, 1)
    positives, negatives = scores[labels], scores[~labels]
    kernel = (positives[:, None] > negatives[None, :]) + 0.5 * (positives[:, None] == negatives)
    expected = math.sqrt(kernel.mean(axis=1).var(ddof=1) / len(positives)
                         + kernel.mean(axis=0).var(ddof=1) / len(negatives))
    result = stats.auroc_interval(scores, labels)
    assert result["auroc"] == pytest.approx(kernel.mean())
    assert result["se"] == pytest.approx(expected)


def test_auroc_interval_covers_the_binormal_area():
    # Positives N(1, 1), negatives N(0, 1): AUROC = Φ(1/√2) ≈ 0.760.
    rng = np.random.default_rng(10)
    true_area = scipy_stats.norm.cdf(1 / math.sqrt(2))
    labels = np.arange(120) < 60
    trials, covered = 1000, 0
    for _ in range(trials):
        result = stats.auroc_interval(rng.normal(size=120) + labels, labels)
        covered += result["low"] <= true_area <= result["high"]
    # DeLong's normal interval runs slightly below its level at 60 + 60 examples.
    assert abs(covered / trials - 0.95) < binomial_bound(0.95, trials) + 0.01


def correlated_scores(rng, labels, shift_a, shift_b, shared=0.8):
    """Two scores of the same examples: a shared part plus each its own noise, unit variance."""
    common = rng.normal(size=len(labels))
    own = math.sqrt(1 - shared**2)
    return (shared * common + own * rng.normal(size=len(labels)) + shift_a * labels,
            shared * common + own * rng.normal(size=len(labels)) + shift_b * labels)


def test_auroc_difference_matches_the_pairwise_definition():
    rng = np.random.default_rng(11)
    labels = rng.random(90) < 0.3
    a, b = (np.round(score, 1) for score in correlated_scores(rng, labels, 1.0, 0.5))
    components = []
    for scores in (a, b):
        positives, negatives = scores[labels], scores[~labels]
        kernel = ((positives[:, None] > negatives[None, :])
                  + 0.5 * (positives[:, None] == negatives))
        components.append((kernel.mean(), kernel.mean(axis=1), kernel.mean(axis=0)))
    (area_a, v10_a, v01_a), (area_b, v10_b, v01_b) = components
    # Var(A − B) = Var(A) + Var(B) − 2 Cov(A, B), each from the per-example components.
    (var_a10, cov10), (_, var_b10) = np.cov(v10_a, v10_b)
    (var_a01, cov01), (_, var_b01) = np.cov(v01_a, v01_b)
    expected = math.sqrt((var_a10 + var_b10 - 2 * cov10) / len(v10_a)
                         + (var_a01 + var_b01 - 2 * cov01) / len(v01_a))
    result = stats.auroc_difference(a, b, labels)
    assert result["auroc_a"] == pytest.approx(area_a)
    assert result["auroc_b"] == pytest.approx(area_b)
    assert result["difference"] == pytest.approx(area_a - area_b)
    assert result["se"] == pytest.approx(expected)
    assert result["p_value"] == pytest.approx(2 * scipy_stats.norm.sf(abs(result["z"])))


def test_paired_difference_is_narrower_than_two_marginal_intervals_suggest():
    # Correlated scores: the paired se is below √(se_a² + se_b²), which ignores the covariance.
    rng = np.random.default_rng(12)
    labels = np.arange(200) < 40
    a, b = correlated_scores(rng, labels, 1.5, 1.2, shared=0.95)
    paired = stats.auroc_difference(a, b, labels)["se"]
    unpaired = math.hypot(stats.auroc_interval(a, labels)["se"],
                          stats.auroc_interval(b, labels)["se"])
    assert paired < 0.5 * unpaired


def test_auroc_difference_holds_its_level_when_the_areas_are_equal():
    rng = np.random.default_rng(13)
    labels = np.arange(120) < 30
    trials = 1000
    rejected = sum(stats.auroc_difference(*correlated_scores(rng, labels, 1.0, 1.0), labels)
                   ["p_value"] < 0.05 for _ in range(trials))
    # DeLong's normal test holds its level only approximately at 30 + 90 examples.
    assert abs(rejected / trials - 0.05) < binomial_bound(0.05, trials) + 0.01


def test_auroc_difference_interval_covers_the_true_difference():
    # Binormal, unit variances: AUROC = Φ(shift/√2) for each score, whatever their correlation.
    rng = np.random.default_rng(14)
    labels = np.arange(150) < 50
    true_difference = (scipy_stats.norm.cdf(1.2 / math.sqrt(2))
                       - scipy_stats.norm.cdf(0.6 / math.sqrt(2)))
    trials, covered = 1000, 0
    for _ in range(trials):
        result = stats.auroc_difference(*correlated_scores(rng, labels, 1.2, 0.6), labels)
        covered += result["low"] <= true_difference <= result["high"]
    assert abs(covered / trials - 0.95) < binomial_bound(0.95, trials) + 0.01


def test_auroc_difference_without_spread_is_no_verdict():
    labels = np.array([True, False, False, False])
    same = stats.auroc_difference([0.9, 0.1, 0.2, 0.3], [0.9, 0.1, 0.2, 0.3], labels)
    assert (same["difference"], same["low"], same["high"], same["p_value"]) == (0, 0, 0, 1)
    assert stats.verdict(same) == stats.NOT_RESOLVED
    # One positive: perfect against uninformative, but no spread to test it with.
    lone = stats.auroc_difference([0.9, 0.1, 0.2, 0.3], [0.5, 0.5, 0.5, 0.5], labels)
    assert lone["difference"] == 0.5 and math.isnan(lone["p_value"])
    assert stats.verdict(lone).startswith(stats.NOT_RESOLVED)


# ---------------------------------------------------------------- bad input, by name
def never_called(values):
    raise AssertionError("not reached")


@pytest.mark.parametrize("call, argument, error", [
    (lambda: stats.paired_interval([1.0, 2.0], [1.0]), "b", ValueError),
    (lambda: stats.paired_interval([], []), "a", ValueError),
    (lambda: stats.paired_interval([[1.0, 2.0]], [[1.0, 2.0]]), "a", ValueError),
    (lambda: stats.paired_interval(["x", "y"], [1.0, 2.0]), "a", TypeError),
    (lambda: stats.paired_interval([1.0, np.nan], [1.0, 2.0]), "a", ValueError),
    (lambda: stats.paired_interval([1.0, 2.0], [1.0, 2.0], confidence=1.0), "confidence",
     ValueError),
    (lambda: stats.paired_interval([1.0, 2.0], [1.0, 2.0], confidence="95%"), "confidence",
     TypeError),
    (lambda: stats.verdict((0.1, 0.2)), "interval", TypeError),
    (lambda: stats.paired_p_value([1.0, 2.0], [1.0]), "b", ValueError),
    (lambda: stats.holm([0.1, 1.5]), "p_values", ValueError),
    (lambda: stats.holm([]), "p_values", ValueError),
    (lambda: stats.paired_bootstrap([[1, 0]], [[1, 0, 1]]), "correct_b", ValueError),
    (lambda: stats.paired_bootstrap([1, 0], [1, 0]), "correct_a", ValueError),
    (lambda: stats.paired_bootstrap([[0.5, 1.0]], [[1, 0]]), "correct_a", TypeError),
    (lambda: stats.paired_bootstrap([[1, 0]], [[1, 0]], seed=None), "seed", TypeError),
    (lambda: stats.correlation_interval([1.0, 2.0, 3.0], [1.0, 2.0, 4.0]), "x", ValueError),
    (lambda: stats.correlation_interval([1.0, 2.0, 3.0, 4.0], [1.0] * 4), "y", ValueError),
    (lambda: stats.verdict({"low": 0.1}), "interval", TypeError),
    (lambda: stats.min_detectable_difference(-1.0, 5), "sd", ValueError),
    (lambda: stats.min_detectable_difference(1.0, 1), "n", ValueError),
    (lambda: stats.min_detectable_difference(1.0, 5.5), "n", TypeError),
    (lambda: stats.min_detectable_difference(1.0, 5, power=0.0), "power", ValueError),
    (lambda: stats.n_to_resolve(math.nan, 1.0), "difference", ValueError),
    (lambda: stats.n_to_resolve(0.5, math.inf), "sd", ValueError),
    (lambda: stats.n_to_resolve(0.5, 1.0, confidence=-0.1), "confidence", ValueError),
    (lambda: stats.paired_counts([True, False], [True]), "correct_b", ValueError),
    (lambda: stats.paired_counts([0.5, 1.0], [True, False]), "correct_a", TypeError),
    (lambda: stats.paired_counts([2, 1], [1, 0]), "correct_a", ValueError),
    (lambda: stats.permutation_null("mean", [1, 2, 3]), "statistic", TypeError),
    (lambda: stats.permutation_null(np.mean, [1]), "values", ValueError),
    (lambda: stats.permutation_null(np.mean, [1, 2, 3], strata=[0, 1]), "strata", ValueError),
    (lambda: stats.permutation_null(np.mean, [1, 2, 3], strata=[0, 1, 1],
                                    shuffle=lambda v, rng: v), "shuffle", ValueError),
    (lambda: stats.permutation_null(np.mean, [1, 2, 3], shuffle="yes"), "shuffle", TypeError),
    (lambda: stats.permutation_null(np.mean, [1, 2, 3], permutations=0), "permutations",
     ValueError),
    (lambda: stats.permutation_null(np.mean, [1, 2, 3], seed=None), "seed", TypeError),
    (lambda: stats.permutation_null(np.mean, [1, 2, 3], seed=-1), "seed", ValueError),
    (lambda: stats.permutation_null(np.mean, [1, 2, 3], alternative="bigger"), "alternative",
     ValueError),
    (lambda: stats.permutation_null(lambda v: "big", [1, 2, 3]), "statistic", TypeError),
    (lambda: stats.auroc([0.1, 0.2, 0.3], [True, True, True]), "labels", ValueError),
    (lambda: stats.auroc([0.1, 0.2], [True, False, True]), "labels", ValueError),
    (lambda: stats.auroc([0.1, np.inf], [True, False]), "scores", ValueError),
    (lambda: stats.auroc_interval([0.1, 0.2], [True, False], confidence=95), "confidence",
     ValueError),
    (lambda: stats.auroc_difference([0.1, np.nan], [0.1, 0.2], [True, False]), "scores_a",
     ValueError),
    (lambda: stats.auroc_difference([0.1, 0.2], [0.1, 0.2, 0.3], [True, False]), "scores_b",
     ValueError),
    (lambda: stats.auroc_difference([0.1, 0.2], [0.1, 0.2], [False, False]), "labels",
     ValueError),
    (lambda: stats.auroc_difference([0.1, 0.2], [0.2, 0.1], [True, False], confidence=1),
     "confidence", ValueError),
])
def test_bad_input_is_refused_by_name(call, argument, error):
    with pytest.raises(error, match=f"argument `{argument}`. Expected .* Received: {argument}="):
        call()


def test_a_vanishing_difference_needs_an_astronomical_n_returned_at_once():
    # A difference from float rounding (1e-17) against a spread of 0.01: about 8e30 pairs.
    n = stats.n_to_resolve(1e-17, 0.01)
    z = 1.959963984540054 + 0.8416212335729143
    assert n == pytest.approx((z * 0.01 / 1e-17) ** 2, rel=1e-6)
    assert stats.min_detectable_difference(0.01, 200_000) < stats.min_detectable_difference(
        0.01, 100_000)
