"""The long sweep's evidence (``make experiments-long``, notebook 10): arms, intervals, votes.

The long config trains, per seed, No-Drop, Dropout, and DropConnect inverted and unscaled, and
stores every run's test probabilities under each of its scorings (``results.json`` names the
files). A *scoring* is an arm read one way:

- ``no-drop`` and ``no-drop early-stopped`` (the same run's weights at its best validation
  cross-entropy, the practitioner's baseline);
- ``dropout`` (Keras's mean rule) and ``dropout sampling`` (50 sampled masks averaged);
- ``dropconnect inverted`` / ``dropconnect unscaled``, each by the ``mean`` and the
  ``gaussian`` rule (the paper's, in closed form).

Two arms scored on the same 10,000 test images with the same seeds differ by a number with two
sources of noise: the seeds (training) and the images (this test set is one draw of the world).
:func:`compare` gives both intervals — the seed-paired t interval, which conditions on this test
set, and a two-level bootstrap over seeds and images, which does not — for error and
cross-entropy. :func:`long_table` is the sweep's own progress table (``results.md``).
"""
import json
from pathlib import Path

import numpy as np

from dcscratch.stats import mean_sd, paired_counts, paired_interval, two_level_interval

# (scoring name, arm, stored rule): the scorings in the order the tables list them.
SCORINGS = (
    ("no-drop", "no-drop", "mean"),
    ("no-drop early-stopped", "no-drop", "early_stopped"),
    ("dropout", "dropout", "mean"),
    ("dropout sampling", "dropout", "sampling"),
    ("dropconnect inverted, mean rule", "dropconnect inverted", "mean"),
    ("dropconnect inverted, gaussian rule", "dropconnect inverted", "gaussian"),
    ("dropconnect unscaled, mean rule", "dropconnect unscaled", "mean"),
    ("dropconnect unscaled, gaussian rule", "dropconnect unscaled", "gaussian"),
)
SCORING_NAMES = tuple(name for name, _, _ in SCORINGS)
_SCORING = {name: (arm, rule) for name, arm, rule in SCORINGS}
# The long sweep's committed results (``make experiments-long``), which notebook 10 reads.
COMMITTED = Path(__file__).resolve().parents[2] / "results" / "fashion-mnist-long"


def arm_of(run):
    """The arm a run belongs to: its variant, and for DropConnect its convention."""
    settings = run["settings"]
    if settings["variant"] != "dropconnect":
        return settings["variant"]
    return "dropconnect " + ("inverted" if settings.get("inverted") else "unscaled")


def load(out):
    """``(results, labels, probabilities)`` of a long sweep's folder.

    ``probabilities[scoring]`` is ``{seed: (images, classes) float64}`` for every scoring whose
    runs are stored; ``labels`` are the test labels.
    """
    out = Path(out)
    results = json.loads((out / "results.json").read_text())
    labels = np.load(out / "probabilities" / "test_labels.npy").astype(np.int64)
    probabilities = {}
    for run in results["runs"].values():
        if "probabilities" not in run:
            continue
        stored = np.load(out / "probabilities" / run["probabilities"]["file"])
        for name, arm, rule in SCORINGS:
            if arm == arm_of(run) and rule in stored:
                probabilities.setdefault(name, {})[run["settings"]["seed"]] = (
                    stored[rule].astype(np.float64))
    return results, labels, probabilities


def recorded(results, scoring):
    """``{seed: {"error": e, "loss": l}}``: a scoring's test error (fraction) and cross-entropy
    (nats) per seed, as the run records hold them (computed from the logits, exact), for the runs
    stored so far. The stored float16 probabilities floor a probability below 6e-8 (see
    :func:`per_image`); these do not.
    """
    arm, rule = _SCORING[scoring]
    values = {}
    for run in results["runs"].values():
        if arm_of(run) != arm:
            continue
        record = (run.get("early_stopped") if rule == "early_stopped"
                  else run["final_by_inference"].get(rule))
        if record is not None:
            values[run["settings"]["seed"]] = {"error": record["test_error"],
                                               "loss": record["test_loss"]}
    return dict(sorted(values.items()))


def complete_seeds(results):
    """The seeds for which every arm in ``results`` has a stored run, sorted: comparing arms over
    these only keeps every mean, curve and ensemble over the same networks' seeds."""
    seeds = {}
    for run in results["runs"].values():
        seeds.setdefault(arm_of(run), set()).add(run["settings"]["seed"])
    return sorted(set.intersection(*seeds.values())) if seeds else []


def restricted(results, probabilities, seeds):
    """``(results, probabilities)`` keeping only the runs of ``seeds`` (copies; inputs untouched)."""
    seeds = set(seeds)
    runs = {key: run for key, run in results["runs"].items() if run["settings"]["seed"] in seeds}
    kept = {name: {s: p for s, p in by_seed.items() if s in seeds}
            for name, by_seed in probabilities.items()}
    return {**results, "runs": runs}, {name: by_seed for name, by_seed in kept.items() if by_seed}


def temperature_scaled(probs, labels, fit, score):
    """Fit one temperature T on the images ``fit`` and score cross-entropy on ``score``.

    The probabilities are rescaled as softmax(log p / T) (the same as dividing the logits by T;
    float16 zeros floored at 6e-8 first). T is chosen to minimise the mean cross-entropy on
    ``fit`` (over 0.05 ≤ T ≤ 20). Returns ``(T, before, after)``: the cross-entropy on ``score``
    without and with the temperature.
    """
    from scipy.optimize import minimize_scalar
    from scipy.special import log_softmax

    log_p = np.log(np.maximum(np.asarray(probs, dtype=np.float64), 6e-8))
    labels = np.asarray(labels)

    def loss(t, images):
        scaled = log_softmax(log_p[images] / t, axis=1)
        return -float(np.mean(scaled[np.arange(len(scaled)), labels[images]]))

    best = minimize_scalar(lambda log_t: loss(np.exp(log_t), fit),
                           bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    t = float(np.exp(best.x))
    return t, loss(1.0, score), loss(t, score)


def per_image(probs, labels):
    """``(wrong, loss)`` per image: 0/1 error and cross-entropy −log p(label), in nats.

    Float16 storage rounds a probability below 6e-8 to 0; such a loss is capped at
    −log(6e-8) ≈ 16.6 nats rather than infinite (and said so where it matters).
    """
    probs = np.asarray(probs, dtype=np.float64)
    wrong = (np.argmax(probs, axis=1) != labels).astype(np.float64)
    loss = -np.log(np.maximum(probs[np.arange(len(labels)), labels], 6e-8))
    return wrong, loss


def paired_seeds(probabilities, a, b):
    """The seeds both scorings have, sorted (the pairs every comparison uses)."""
    return sorted(set(probabilities.get(a, {})) & set(probabilities.get(b, {})))


def compare(probabilities, labels, a, b, *, results=None, resamples=2000, seed=0,
            confidence=0.95):
    """Scoring ``a`` minus scoring ``b``, in test error (points) and cross-entropy (nats).

    Returns a dict per metric (``"error"``, ``"loss"``) with ``difference`` (mean over the paired
    seeds), ``seeds_interval`` (paired t over seeds: conditions on this test set),
    ``seeds_and_images_interval`` (two-level percentile bootstrap: seeds and test images
    resampled, the same images for both scorings), ``bootstrap_difference`` (the mean the
    bootstrap resamples, from the probabilities), ``images_half_width`` (the normal interval's
    half-width that the images alone would leave with infinitely many seeds: the floor no number
    of seeds narrows on a test set of this size), ``seeds_sd`` (sd of the per-seed differences,
    for :func:`dcscratch.stats.n_to_resolve`) and ``n_seeds``, ``n_images``.

    The floor: image i's difference averaged over n seeds, d̄_i, varies over images by the
    variance of its expectation plus the seeds' own spread on that image, s_i²/n. With more seeds
    the second part vanishes, so the floor's variance is var(d̄_i) − mean(s_i²)/n (at least 0),
    over the number of images.

    With ``results`` (the results dict), ``difference``, ``seeds_interval`` and ``seeds_sd`` come
    from the run records (:func:`recorded`, computed from the logits); without, from the stored
    float16 probabilities, whose floor at 6e-8 understates a confidently wrong network's
    cross-entropy. The bootstrap and the image floor always read the probabilities.
    """
    from scipy.stats import norm

    seeds = paired_seeds(probabilities, a, b)
    if len(seeds) < 2:
        raise ValueError(f"comparing {a!r} with {b!r} needs two paired seeds; "
                         f"have {len(seeds)}")
    # (seeds, images) per scoring, each metric: every seed's probabilities scored once.
    scored = {name: np.array([per_image(probabilities[name][s], labels) for s in seeds])
              for name in (a, b)}
    records = ({name: recorded(results, name) for name in (a, b)} if results is not None
               else None)
    outcome = {}
    for index, (metric, scale) in enumerate((("error", 100.0), ("loss", 1.0))):
        values_a, values_b = scale * scored[a][:, index], scale * scored[b][:, index]
        rows = values_a - values_b
        if records is None:
            seed_a, seed_b = values_a.mean(axis=1), values_b.mean(axis=1)
        else:
            seed_a, seed_b = (np.array([scale * records[name][s][metric] for s in seeds])
                              for name in (a, b))
        t_interval = paired_interval(seed_a, seed_b, confidence=confidence)
        per_image_mean = rows.mean(axis=0)
        expected_variance = max(0.0, per_image_mean.var(ddof=1)
                                - rows.var(axis=0, ddof=1).mean() / len(seeds))
        outcome[metric] = {
            "difference": float(np.mean(seed_a - seed_b)),
            "seeds_interval": (t_interval["low"], t_interval["high"]),
            "seeds_and_images_interval": two_level_interval(
                rows, resamples=resamples, seed=seed, confidence=confidence),
            "bootstrap_difference": float(rows.mean()),
            "images_half_width": float(norm.ppf(0.5 + confidence / 2)
                                       * np.sqrt(expected_variance / len(per_image_mean))),
            "seeds_sd": float(np.std(seed_a - seed_b, ddof=1)),
            "n_seeds": len(seeds), "n_images": rows.shape[1]}
    return outcome


def vote(probabilities, scoring, labels, seeds=None):
    """The voting ensemble of a scoring: its runs' probabilities averaged over ``seeds``
    (default: every seed stored).

    Returns ``(correct, error)``: per-image 0/1 correctness and the ensemble's test error (%).
    """
    seeds = sorted(probabilities[scoring]) if seeds is None else seeds
    average = np.mean([probabilities[scoring][s] for s in seeds], axis=0)
    correct = np.argmax(average, axis=1) == labels
    return correct, 100.0 * float(1.0 - correct.mean())


def vote_comparison(probabilities, labels, a, b):
    """McNemar's exact test of two voting ensembles on the same images (``stats.paired_counts``),
    each ensemble over the seeds both scorings have (ensembles of equal size), with ``n_seeds``.
    """
    seeds = paired_seeds(probabilities, a, b)
    if not seeds:
        raise ValueError(f"comparing {a!r} with {b!r} needs a seed both have; have none")
    correct_a, _ = vote(probabilities, a, labels, seeds)
    correct_b, _ = vote(probabilities, b, labels, seeds)
    return {**paired_counts(correct_a, correct_b), "n_seeds": len(seeds)}


def curves(results, arm, metric="val_loss"):
    """``(seeds, epochs)`` array of one arm's per-epoch ``metric`` (``val_loss_gaussian`` too)."""
    rows = [run["history"][metric] for run in results["runs"].values()
            if arm_of(run) == arm and metric in run["history"]]
    return np.array(rows)


def epochs_to_reach(results, arm, threshold, metric="val_loss"):
    """Per seed, the first epoch (1-based) whose ``metric`` is at most ``threshold``, else None."""
    reached = []
    for row in curves(results, arm, metric):
        hits = np.flatnonzero(row <= threshold)
        reached.append(int(hits[0]) + 1 if len(hits) else None)
    return reached


def long_table(results):
    """A markdown table of the long config's runs so far: every arm under every rule.

    Test error (%) and cross-entropy, mean ± sd over the seeds done (n); the early-stopped
    row is each run's weights at its best validation cross-entropy. Intervals and paired
    comparisons are notebook 10's; this is the sweep's progress report.
    """
    rows = {}
    for run in results["runs"].values():
        arm = arm_of(run)
        for rule, numbers in run["final_by_inference"].items():
            rows.setdefault((arm, f"last epoch, {rule} rule"), []).append(numbers)
        if "early_stopped" in run:
            rows.setdefault((arm, "early-stopped, mean rule"), []).append(run["early_stopped"])
    lines = ["| arm | weights, inference | n | test error % | test cross-entropy |",
             "|---|---|---|---|---|"]
    for (arm, rule), values in sorted(rows.items()):
        error_mean, error_sd, _ = mean_sd([100 * value["test_error"] for value in values])
        loss_mean, loss_sd, _ = mean_sd([value["test_loss"] for value in values])
        spread = len(values) > 1  # one seed has no sd
        error_sd = f" ± {error_sd:.2f}" if spread else ""
        loss_sd = f" ± {loss_sd:.3f}" if spread else ""
        lines.append(f"| {arm} | {rule} | {len(values)} | {error_mean:.2f}{error_sd} | "
                     f"{loss_mean:.3f}{loss_sd} |")
    return "\n".join(lines)
