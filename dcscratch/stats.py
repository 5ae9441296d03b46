"""Statistics for comparing networks: paired intervals, power, paired counts, nulls, AUROC.

One home for what notebooks 06, 07, 08, 10 and the exercises compute when they compare two
variants (style note "One home for the statistics"):

- :func:`mean_sd` and :func:`paired_interval`: runs paired by seed, the mean difference with a
  Student t interval; :func:`verdict` reads it as "lower", "higher" or "not resolved at this n"
  (an interval that holds 0 is absence of evidence, never "no difference");
- :func:`paired_p_value` and :func:`holm`: the same comparison's paired t p-value, and Holm's
  correction when a verdict is drawn from a family of comparisons;
- :func:`paired_bootstrap`: runs paired by seed *and* scored on the same test examples, an
  interval that resamples both (the t interval over seeds conditions on the one test set);
- :func:`min_detectable_difference` and :func:`n_to_resolve`: the power of that comparison —
  the smallest difference n pairs would resolve, and the n that would resolve a given one;
- :func:`paired_counts`: two classifiers on one test set, their discordant counts, McNemar's
  exact test and an interval for the difference in accuracy;
- :func:`permutation_null`: a seeded permutation test of any statistic, optionally shuffling
  only within strata (for example only among a layer's surviving connections);
- :func:`correlation_interval`: Pearson's r with the Fisher-z interval;
- :func:`auroc` and :func:`auroc_interval`: the area under the ROC curve with DeLong's interval;
  :func:`auroc_difference`: two scores of the same examples, DeLong's paired test.

Everything takes NumPy arrays (or lists) and returns plain Python numbers and dicts.
"""
import functools
import math
import numbers
from collections import namedtuple

import numpy as np

from dcscratch.validation import (_describe, _invalid, check_choice, check_positive_int, check_real,
                                  check_seed)

ALTERNATIVES = ("greater", "less", "two-sided")
NOT_RESOLVED = "not resolved at this n"
#: An sd this small relative to the mean difference is rounding, not spread.
ZERO_SPREAD = 1e-9

PermutationTest = namedtuple("PermutationTest", ["observed", "null", "p_value"])
PermutationTest.__doc__ = """What :func:`permutation_null` returns.

observed: the statistic on the data as given (a float).
null: ``(permutations,)`` the statistic on each shuffled copy.
p_value: ``(1 + #null at least as extreme) / (permutations + 1)``, never 0 (Phipson & Smyth, 2010).
"""


# ---------------------------------------------------------------- argument checks
def _check_probability(value, argument, expected_name):
    """A float strictly between 0 and 1 (a confidence level or a power)."""
    expected = f"a real number in the open interval (0, 1) ({expected_name})"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(_invalid(argument, expected, value))
    number = float(value)
    if not 0.0 < number < 1.0:  # also refuses NaN
        raise ValueError(_invalid(argument, expected, value))
    return number


def _check_sample(values, argument, *, length=None):
    """A 1-D float64 array of finite numbers (``length`` of them if given, at least one)."""
    expected = "a non-empty 1-D array of finite real numbers" + (
        f" of length {length}" if length is not None else "")
    array = np.asarray(values)
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.integer)
                                   or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(_invalid(argument, expected, _describe(array)))
    if array.ndim != 1 or array.size == 0 or (length is not None and array.size != length):
        raise ValueError(_invalid(argument, expected, _describe(array)))
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(_invalid(argument, expected, "<array holding NaN or infinity>"))
    return array


def _check_outcomes(values, argument, *, length=None):
    """A 1-D boolean array: True/False or 0/1 per example (``length`` of them if given)."""
    expected = "a non-empty 1-D array of booleans (or 0/1), one per example" + (
        f", of length {length}" if length is not None else "")
    array = np.asarray(values)
    if not (array.dtype == bool or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(_invalid(argument, expected, _describe(array)))
    if (array.ndim != 1 or array.size == 0 or (length is not None and array.size != length)
            or not np.all((array == 0) | (array == 1))):
        raise ValueError(_invalid(argument, expected, _describe(array)))
    return array.astype(bool)


# ---------------------------------------------------------------- paired runs
def mean_sd(values):
    """``(mean, sample standard deviation, n)``; the sd is nan for a single value.

    Args:
        values: ``(n,)`` numbers, n ≥ 1.
    """
    values = np.asarray(values, dtype=float)
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")
    return float(np.mean(values)), sd, len(values)


def paired_interval(a, b, *, confidence=0.95):
    """Mean of the paired differences ``a − b`` with a Student t interval.

    The pairs are runs that share everything but the variant (for example the seed). The
    interval is ``mean ± t(1/2 + confidence/2, n − 1) · sd / √n``: exact when the differences
    are independent draws from a normal distribution, approximate otherwise.

    Args:
        a, b: ``(n,)`` numbers, the i-th entries paired.
        confidence: the interval's coverage, in (0, 1).

    Returns:
        dict with ``mean``, ``sd`` (sample sd of the differences), ``n``, ``low``, ``high``
        and ``confidence``. With n < 2 there is no interval: ``sd``, ``low`` and ``high`` are
        NaN (and :func:`verdict` says so).
    """
    from scipy import stats

    a = _check_sample(a, "a")
    b = _check_sample(b, "b", length=len(a))
    confidence = _check_probability(confidence, "confidence", "the interval's coverage")
    mean, sd, n = mean_sd(a - b)
    half_width = (stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n)
                  if n > 1 else float("nan"))
    return {"mean": mean, "sd": sd, "n": n, "low": float(mean - half_width),
            "high": float(mean + half_width), "confidence": confidence}


def verdict(interval):
    """``"lower"``, ``"higher"`` or ``"not resolved at this n ..."`` for an interval of a − b.

    An interval that holds 0 says that this n cannot tell the sign, not that there is no
    difference. Two more cases are not resolved, whatever the mean says: no interval (n < 2,
    NaN bounds) and a zero-width interval from differences that are all equal (sd = 0, easy
    with error rates quantised at 1/test size), where the t interval claims a certainty the
    runs do not have.

    Args:
        interval: a dict with ``low`` and ``high`` (and optionally ``n`` and ``sd``), as
            returned by :func:`paired_interval` or :func:`paired_counts`.

    Returns:
        A string that starts with ``"lower"``, ``"higher"`` or ``"not resolved at this n"``;
        the unresolved cases that are not an interval holding 0 add why in parentheses.
    """
    expected = "a dict with numbers under 'low' and 'high' (as paired_interval returns)"
    if not hasattr(interval, "get") or not all(
            isinstance(interval.get(key), numbers.Real) for key in ("low", "high")):
        raise TypeError(_invalid("interval", expected, interval))
    low, high = float(interval["low"]), float(interval["high"])
    n, sd = interval.get("n"), interval.get("sd")
    if math.isnan(low) or math.isnan(high) or (n is not None and n < 2):
        return f"{NOT_RESOLVED} (n = {n}: an interval needs n ≥ 2)"
    # Differences of quantised error rates are equal up to rounding: sd ~ 1e-17, not 0.
    if sd is not None and sd <= ZERO_SPREAD * abs(interval.get("mean", (low + high) / 2)):
        return f"{NOT_RESOLVED} (every difference is equal, so the t interval has zero width)"
    if low <= 0 <= high:
        return NOT_RESOLVED
    return "lower" if high < 0 else "higher"


def paired_p_value(a, b):
    """Two-sided p-value of the paired t test of "mean(a − b) = 0" (the test behind
    :func:`paired_interval`: its 95 % interval excludes 0 exactly when this is below 0.05).

    Args:
        a, b: ``(n,)`` numbers, the i-th entries paired.

    Returns:
        A float in [0, 1]; NaN when there is no test (n < 2, or every difference equal, where
        :func:`verdict` says "not resolved" too).
    """
    from scipy import stats

    a = _check_sample(a, "a")
    b = _check_sample(b, "b", length=len(a))
    mean, sd, n = mean_sd(a - b)
    if n < 2 or not sd > ZERO_SPREAD * abs(mean):
        return float("nan")
    return float(2 * stats.t.sf(abs(mean) / (sd / math.sqrt(n)), n - 1))


def holm(p_values):
    """Holm's (1979) adjusted p-values for a family of tests: a verdict at level α holds for the
    whole family (the chance of any false verdict stays ≤ α) where the adjusted p is ≤ α.

    Sort the m p-values; the k-th smallest (k = 1 … m) is multiplied by m − k + 1, the results
    are made non-decreasing in that order and capped at 1. Uniformly more powerful than
    Bonferroni's m·p, under no assumption about how the tests depend on each other. A NaN
    p-value (no test) stays NaN and counts in m.

    Args:
        p_values: ``(m,)`` numbers in [0, 1] (or NaN).

    Returns:
        ``(m,)`` NumPy array of adjusted p-values, in the order given.
    """
    p_values = np.asarray(p_values, dtype=float)
    expected = "a non-empty 1-D array of p-values in [0, 1] (NaN for no test)"
    if p_values.ndim != 1 or p_values.size == 0:
        raise ValueError(_invalid("p_values", expected, _describe(p_values)))
    tested = ~np.isnan(p_values)
    if np.any((p_values[tested] < 0) | (p_values[tested] > 1)):
        raise ValueError(_invalid("p_values", expected, _describe(p_values)))
    m = p_values.size
    order = np.argsort(np.where(tested, p_values, np.inf), kind="stable")
    adjusted = np.full(m, np.nan)
    running = 0.0
    for rank, index in enumerate(order):
        if not tested[index]:
            continue
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def paired_bootstrap(correct_a, correct_b, *, resamples=2000, seed=0, confidence=0.95):
    """Accuracy(a) − accuracy(b) over runs *and* test examples, by a two-level bootstrap.

    Runs paired by seed and scored on one fixed test set: the t interval over the seeds says how
    the difference varies with the seed *on this test set*. Here every resample draws the runs
    with replacement and, independently, the test examples with replacement (the same examples
    for every run and both variants, which are all scored on the same images), so the interval
    also holds the test set's sampling. A percentile interval; with few runs (5) it is on the
    narrow side (the bootstrap over runs cannot see tails that 5 runs do not show).

    Args:
        correct_a, correct_b: ``(runs, examples)`` booleans (or 0/1): whether run r of each
            variant got example i right, runs paired by row and examples by column.
        resamples: positive integer. seed: non-negative integer. confidence: in (0, 1).

    Returns:
        dict with ``mean`` (the observed difference), ``low``, ``high``, ``runs``, ``examples``,
        ``resamples``, ``confidence`` and ``method``.
    """
    expected = "a 2-D array (runs, examples) of booleans or 0/1"
    arrays = []
    for argument, values in (("correct_a", correct_a), ("correct_b", correct_b)):
        array = np.asarray(values)
        if not (array.dtype == bool or np.issubdtype(array.dtype, np.integer)):
            raise TypeError(_invalid(argument, expected, _describe(array)))
        if array.ndim != 2 or array.size == 0 or not np.all((array == 0) | (array == 1)):
            raise ValueError(_invalid(argument, expected, _describe(array)))
        arrays.append(array.astype(np.float64))
    if arrays[0].shape != arrays[1].shape:
        raise ValueError(_invalid("correct_b", f"the shape of correct_a, {arrays[0].shape}",
                                  _describe(np.asarray(correct_b))))
    resamples = check_positive_int(resamples, "resamples")
    seed = check_seed(seed)
    if seed is None:
        raise TypeError(_invalid("seed", "a non-negative integer (the interval must be "
                                 "reproducible)", seed))
    confidence = _check_probability(confidence, "confidence", "the interval's coverage")
    difference = arrays[0] - arrays[1]
    runs, examples = difference.shape
    low, high = two_level_interval(difference, resamples=resamples, seed=seed,
                                   confidence=confidence)
    return {"mean": float(difference.mean()), "low": float(low), "high": float(high),
            "runs": runs, "examples": examples, "resamples": resamples,
            "confidence": confidence,
            "method": "two-level percentile bootstrap (runs and test examples)"}


@functools.lru_cache(maxsize=2)
def _resample_counts(runs, examples, resamples, seed):
    """How often each run and each example is drawn in each of ``resamples`` resamples.

    A resample's mean is w_runs · D · w_examples / (runs · examples), with w the counts of a
    multinomial draw: one matrix product for all resamples. The draws depend only on the shape
    and the seed, so a family of comparisons on the same seeds and test set shares them (the
    multinomial over 10,000 examples is most of the cost); read-only, as they are shared.
    """
    rng = np.random.default_rng(seed)
    run_counts = rng.multinomial(runs, np.full(runs, 1 / runs), size=resamples)
    example_counts = rng.multinomial(examples, np.full(examples, 1 / examples), size=resamples)
    run_counts.flags.writeable = example_counts.flags.writeable = False
    return run_counts, example_counts


def two_level_interval(differences, *, resamples=2000, seed=0, confidence=0.95):
    """Percentile interval of the mean of ``differences`` (runs, examples), both levels resampled.

    Each resample draws the runs (rows) with replacement and, independently, the examples
    (columns): :func:`paired_bootstrap`'s interval, for any per-example numbers (0/1 errors,
    cross-entropies). ``differences`` is a 2-D float array; the other arguments as there.
    """
    differences = np.asarray(differences, dtype=np.float64)
    runs, examples = differences.shape
    run_counts, example_counts = _resample_counts(runs, examples, resamples, seed)
    means = np.einsum("br,re,be->b", run_counts, differences, example_counts) / (runs * examples)
    low, high = np.quantile(means, [0.5 - confidence / 2, 0.5 + confidence / 2])
    return float(low), float(high)


def correlation_interval(x, y, *, confidence=0.95):
    """Pearson's r with the Fisher-z interval: tanh(atanh r ± z / √(n − 3)).

    Exact in the limit for a bivariate normal sample of n independent pairs; with dependent
    pairs (neighbouring pixels) the effective n is smaller and the interval too narrow.

    Args:
        x, y: ``(n,)`` numbers, n ≥ 4, neither constant.
        confidence: the interval's coverage, in (0, 1).

    Returns:
        dict with ``r``, ``low``, ``high``, ``n``, ``confidence`` and ``critical_r`` (the
        smallest |r| whose interval excludes 0 at this n).
    """
    from scipy import stats

    x = _check_sample(x, "x")
    y = _check_sample(y, "y", length=len(x))
    if len(x) < 4:
        raise ValueError(_invalid("x", "at least 4 pairs (the interval's √(n − 3))",
                                  _describe(x)))
    for argument, values in (("x", x), ("y", y)):
        if np.all(values == values[0]):
            raise ValueError(_invalid(argument, "values that are not all equal",
                                      _describe(values)))
    confidence = _check_probability(confidence, "confidence", "the interval's coverage")
    r = float(np.corrcoef(x, y)[0, 1])
    half_width = stats.norm.ppf(0.5 + confidence / 2) / math.sqrt(len(x) - 3)
    z = math.atanh(min(max(r, -1 + 1e-15), 1 - 1e-15))
    return {"r": r, "low": math.tanh(z - half_width), "high": math.tanh(z + half_width),
            "n": len(x), "confidence": confidence, "critical_r": math.tanh(half_width)}


def _power_quantiles(n, confidence, power):
    """t_{1/2+confidence/2} + t_{power} on n − 1 degrees of freedom (a two-sided test)."""
    from scipy import stats

    return stats.t.ppf(0.5 + confidence / 2, n - 1) + stats.t.ppf(power, n - 1)


def min_detectable_difference(sd, n, *, confidence=0.95, power=0.8):
    """The smallest mean difference that n pairs resolve with probability ``power``.

    For a two-sided paired t test at level 1 − confidence: (t_{1/2+confidence/2} + t_{power})
    · sd / √n, with t quantiles on n − 1 degrees of freedom. This is the usual approximation
    to the noncentral t power (slightly optimistic for very small n); it assumes the spread
    of the differences, ``sd``, is known.

    Args:
        sd: standard deviation of one paired difference, ≥ 0.
        n: number of pairs, ≥ 2.
        confidence: in (0, 1). power: in (0, 1).

    Returns:
        A float ≥ 0, in the units of ``sd``.
    """
    sd = check_real(sd, "sd", minimum=0.0, include_minimum=True)
    n = check_positive_int(n, "n")
    if n < 2:
        raise ValueError(_invalid("n", "an integer ≥ 2 (a t interval needs two pairs)", n))
    confidence = _check_probability(confidence, "confidence", "the interval's coverage")
    power = _check_probability(power, "power", "the probability of resolving the difference")
    return float(_power_quantiles(n, confidence, power) * sd / math.sqrt(n))


def n_to_resolve(difference, sd, *, confidence=0.95, power=0.8):
    """The smallest n whose :func:`min_detectable_difference` is at most ``|difference|``.

    Same approximation as :func:`min_detectable_difference` (t quantiles, known sd).

    Args:
        difference: the mean difference to resolve (its sign does not matter).
        sd: standard deviation of one paired difference, ≥ 0.

    Returns:
        An int ≥ 2, or ``math.inf`` for a difference of 0 (no n resolves it).
    """
    difference = abs(check_real(difference, "difference", minimum=-math.inf,
                                include_minimum=False))
    sd = check_real(sd, "sd", minimum=0.0, include_minimum=True)
    confidence = _check_probability(confidence, "confidence", "the interval's coverage")
    power = _check_probability(power, "power", "the probability of resolving the difference")
    if difference == 0:
        return math.inf
    if sd == 0:
        return 2
    from scipy import stats

    # Start from the normal approximation (a lower bound: t quantiles exceed z's) and step up.
    z = stats.norm.ppf(0.5 + confidence / 2) + stats.norm.ppf(power)
    n = max(2, math.floor((z * sd / difference) ** 2))
    if n > 100_000:
        # t and normal quantiles agree to 1e-5 there; stepping up would take forever (and a
        # difference of 1e-17 from float rounding would ask for n ≈ 1e32).
        return n + 1
    while _power_quantiles(n, confidence, power) * sd / math.sqrt(n) > difference:
        n += 1
    return n


# ---------------------------------------------------------------- paired counts
def paired_counts(correct_a, correct_b, *, confidence=0.95):
    """Two classifiers on the same test examples: discordant counts, McNemar, accuracy difference.

    Only the examples where the two disagree carry information about which is better. Under
    "equally accurate" each of the ``discordant`` examples is a fair coin between "a right"
    and "b right", so the exact McNemar p-value is the two-sided binomial test of
    ``a_only`` successes in ``a_only + b_only`` trials with probability 1/2. The interval for
    accuracy(a) − accuracy(b) = (a_only − b_only)/n is the paired Wald interval,
    ``± z · √(a_only + b_only − (a_only − b_only)²/n) / n`` (Agresti, *Categorical Data
    Analysis*, section 10.1); with few discordant examples it is too narrow, so read it beside
    the counts.

    Args:
        correct_a, correct_b: ``(n,)`` booleans (or 0/1), whether each classifier got example
            i right.
        confidence: the interval's coverage, in (0, 1).

    Returns:
        dict with ``n``, ``accuracy_a``, ``accuracy_b``, ``a_only`` (a right, b wrong),
        ``b_only`` (a wrong, b right), ``difference`` (accuracy_a − accuracy_b), ``low``,
        ``high``, ``confidence``, ``p_value`` (exact McNemar) and ``method``.
    """
    from scipy import stats

    correct_a = _check_outcomes(correct_a, "correct_a")
    correct_b = _check_outcomes(correct_b, "correct_b", length=len(correct_a))
    confidence = _check_probability(confidence, "confidence", "the interval's coverage")
    n = len(correct_a)
    a_only = int(np.sum(correct_a & ~correct_b))
    b_only = int(np.sum(~correct_a & correct_b))
    discordant = a_only + b_only
    difference = (a_only - b_only) / n
    standard_error = math.sqrt(max(discordant - (a_only - b_only) ** 2 / n, 0.0)) / n
    half_width = stats.norm.ppf(0.5 + confidence / 2) * standard_error
    p_value = (float(stats.binomtest(a_only, discordant, 0.5).pvalue) if discordant else 1.0)
    return {"n": n, "accuracy_a": float(correct_a.mean()), "accuracy_b": float(correct_b.mean()),
            "a_only": a_only, "b_only": b_only, "difference": difference,
            "low": difference - half_width, "high": difference + half_width,
            "confidence": confidence, "p_value": p_value,
            "method": "exact McNemar (binomial) test; paired Wald interval"}


# ---------------------------------------------------------------- permutation tests
def permute_within(values, strata, rng):
    """A copy of ``values`` shuffled along axis 0 only among rows of the same stratum.

    Args:
        values: array ``(n, ...)``.
        strata: ``(n,)`` labels (None: one stratum). Rows keep their stratum: with
            ``strata = alive`` (a boolean mask) the surviving entries are shuffled among
            themselves and the dropped ones stay dropped.
        rng: a ``numpy.random.Generator``.
    """
    values = np.asarray(values)
    if strata is None:
        return values[rng.permutation(len(values))]
    order = np.arange(len(values))
    for stratum in np.unique(strata):
        rows = np.flatnonzero(strata == stratum)
        order[rows] = rows[rng.permutation(len(rows))]
    return values[order]


def permutation_null(statistic, values, *, strata=None, shuffle=None, permutations=999, seed=0,
                     alternative="greater"):
    """A permutation test: ``statistic`` on the data against its distribution under shuffling.

    The null hypothesis is that the rows of ``values`` are exchangeable (within each stratum):
    for example that a unit's class labels do not matter, or that which surviving connections
    belong to which class does not. ``statistic`` closes over everything that stays fixed.

    Args:
        statistic: a function of an array like ``values`` returning a real number.
        values: array ``(n, ...)`` whose rows are shuffled.
        strata: ``(n,)`` labels; rows are shuffled only within their stratum (None: all rows).
        shuffle: instead of ``strata``, a function ``(values, rng) → shuffled copy`` for other
            null models; ``rng`` is a ``numpy.random.Generator``.
        permutations: number of shuffled copies, a positive integer.
        seed: non-negative integer for ``numpy.random.default_rng``; the same seed gives the
            same null.
        alternative: ``"greater"`` (large statistics are extreme), ``"less"`` or
            ``"two-sided"`` (large ``|statistic|``: for statistics centred at 0 under the null).

    Returns:
        :class:`PermutationTest` ``(observed, null, p_value)``.
    """
    if not callable(statistic):
        raise TypeError(_invalid("statistic", "a function of the values returning a number",
                                 statistic))
    values = np.asarray(values)
    if values.ndim < 1 or len(values) < 2:
        raise ValueError(_invalid("values", "an array with at least 2 rows to shuffle",
                                  _describe(values)))
    if strata is not None and shuffle is not None:
        raise ValueError(_invalid("shuffle", "None when strata is given (one null model)",
                                  shuffle))
    if shuffle is not None and not callable(shuffle):
        raise TypeError(_invalid("shuffle", "None or a function (values, rng) → shuffled copy",
                                 shuffle))
    if strata is not None:
        strata = np.asarray(strata)
        if strata.shape != (len(values),):
            raise ValueError(_invalid("strata", f"None or a 1-D array of {len(values)} labels, "
                                      "one per row of values", _describe(strata)))
    permutations = check_positive_int(permutations, "permutations")
    seed = check_seed(seed)
    if seed is None:
        raise TypeError(_invalid("seed", "a non-negative integer (the null must be "
                                 "reproducible)", seed))
    alternative = check_choice(alternative, ALTERNATIVES, "alternative")
    rng = np.random.default_rng(seed)
    observed = _statistic_value(statistic, values)
    null = np.array([_statistic_value(statistic, shuffle(values, rng) if shuffle is not None
                                      else permute_within(values, strata, rng))
                     for _ in range(permutations)])
    if alternative == "greater":
        extreme = null >= observed
    elif alternative == "less":
        extreme = null <= observed
    else:
        extreme = np.abs(null) >= abs(observed)
    return PermutationTest(observed, null, float((1 + extreme.sum()) / (permutations + 1)))


def _statistic_value(statistic, values):
    value = statistic(values)
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise TypeError(_invalid("statistic", "a function returning a real number (not NaN)",
                                 f"<function returning {value!r}>"))
    return float(value)


# ---------------------------------------------------------------- AUROC
def _check_scores_and_labels(scores, labels, argument="scores"):
    scores = _check_sample(scores, argument)
    labels = _check_outcomes(labels, "labels", length=len(scores))
    if labels.all() or not labels.any():
        raise ValueError(_invalid("labels", "both classes present (at least one True and one "
                                  "False)", _describe(labels)))
    return scores, labels


def _delong_components(scores, labels):
    """DeLong's structural components via midranks (Sun & Xu, 2014): ``(auc, v10, v01)``."""
    from scipy.stats import rankdata

    positives, negatives = scores[labels], scores[~labels]
    m, n = len(positives), len(negatives)
    ranks = rankdata(np.concatenate([positives, negatives]))  # midranks: ties count 1/2
    v10 = (ranks[:m] - rankdata(positives)) / n        # per positive: share of negatives below
    v01 = 1 - (ranks[m:] - rankdata(negatives)) / m    # per negative: share of positives above
    return float(v10.mean()), v10, v01


def auroc(scores, labels):
    """Area under the ROC curve: P(score of a positive > score of a negative), ties count 1/2.

    Args:
        scores: ``(n,)`` real numbers, larger meaning "more likely positive".
        labels: ``(n,)`` booleans (or 0/1), both classes present.

    Returns:
        A float in [0, 1] (0.5: the scores do not rank positives above negatives).
    """
    scores, labels = _check_scores_and_labels(scores, labels)
    return _delong_components(scores, labels)[0]


def auroc_interval(scores, labels, *, confidence=0.95):
    """The AUROC with DeLong's (1988) standard error and a normal interval.

    The variance is var(v10)/m + var(v01)/n over the m positives' and n negatives' structural
    components (no distributional assumption on the scores); the interval is
    ``auroc ± z · se``, clipped to [0, 1].

    Args:
        scores, labels: as for :func:`auroc`.
        confidence: the interval's coverage, in (0, 1).

    Returns:
        dict with ``auroc``, ``se``, ``low``, ``high``, ``confidence``, ``positives``,
        ``negatives`` and ``method``.
    """
    from scipy import stats

    scores, labels = _check_scores_and_labels(scores, labels)
    confidence = _check_probability(confidence, "confidence", "the interval's coverage")
    area, v10, v01 = _delong_components(scores, labels)
    variance = (np.var(v10, ddof=1) / len(v10) if len(v10) > 1 else 0.0) + (
        np.var(v01, ddof=1) / len(v01) if len(v01) > 1 else 0.0)
    se = math.sqrt(variance)
    half_width = stats.norm.ppf(0.5 + confidence / 2) * se
    return {"auroc": area, "se": se, "low": max(area - half_width, 0.0),
            "high": min(area + half_width, 1.0), "confidence": confidence,
            "positives": len(v10), "negatives": len(v01),
            "method": "DeLong variance, normal interval"}


def auroc_difference(scores_a, scores_b, labels, *, confidence=0.95):
    """Two scores of the same examples and labels: AUROC(a) − AUROC(b) with DeLong's paired test.

    Scores of the same examples are correlated, so two marginal intervals that overlap say
    little about their difference. DeLong, DeLong & Clarke-Pearson (1988) give the variance of
    the difference from the per-example structural components of both scores:
    ``var(v10_a − v10_b)/m + var(v01_a − v01_b)/n`` over the m positives and n negatives. The
    interval is ``difference ± z · se``; the p-value is the two-sided normal test of
    "equal areas". For a family of k such comparisons, pass ``confidence = 1 − 0.05/k``
    (Bonferroni) and read each interval as :func:`verdict` does.

    Args:
        scores_a, scores_b: ``(n,)`` real numbers for the same n examples, larger meaning
            "more likely positive".
        labels: ``(n,)`` booleans (or 0/1), shared by both scores, both classes present.
        confidence: the interval's coverage, in (0, 1).

    Returns:
        dict with ``auroc_a``, ``auroc_b``, ``difference`` (a − b), ``se``, ``low``, ``high``,
        ``z``, ``p_value``, ``confidence``, ``positives``, ``negatives`` and ``method``. With no
        spread in the components (se = 0, e.g. a single positive) there is no test: ``low``,
        ``high``, ``z`` and ``p_value`` are NaN, unless the difference is 0 as well (two scores
        that order every pair alike), which gives the interval [0, 0], z = 0 and p = 1.
    """
    from scipy import stats

    scores_a, labels = _check_scores_and_labels(scores_a, labels, "scores_a")
    scores_b = _check_sample(scores_b, "scores_b", length=len(scores_a))
    confidence = _check_probability(confidence, "confidence", "the interval's coverage")
    area_a, v10_a, v01_a = _delong_components(scores_a, labels)
    area_b, v10_b, v01_b = _delong_components(scores_b, labels)
    v10, v01 = v10_a - v10_b, v01_a - v01_b
    variance = (np.var(v10, ddof=1) / len(v10) if len(v10) > 1 else 0.0) + (
        np.var(v01, ddof=1) / len(v01) if len(v01) > 1 else 0.0)
    se = math.sqrt(variance)
    difference = area_a - area_b
    if se > 0:
        z = difference / se
    else:  # a z of ±∞ would claim a certainty that the components cannot show
        z = 0.0 if difference == 0 else float("nan")
    half_width = stats.norm.ppf(0.5 + confidence / 2) * se if not math.isnan(z) else z
    return {"auroc_a": area_a, "auroc_b": area_b, "difference": difference, "se": se,
            "low": difference - half_width, "high": difference + half_width, "z": float(z),
            "p_value": float(2 * stats.norm.sf(abs(z))), "confidence": confidence,
            "positives": len(v10), "negatives": len(v01),
            "method": "DeLong paired variance, normal interval"}
