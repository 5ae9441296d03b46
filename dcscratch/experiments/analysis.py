"""What the results say: tables of the runs' final numbers and paired comparisons.

Reads a results dict (:mod:`dcscratch.experiments.store`) and never trains; the statistics come
from :mod:`dcscratch.stats`. The report (:mod:`dcscratch.experiments.report`) and the plots
(:mod:`dcscratch.experiments.plots`) print and draw what these functions return.
"""
import numpy as np

from dcscratch.experiments.configs import SWEPT, run_key, run_settings, sweep_runs
from dcscratch.stats import NOT_RESOLVED, mean_sd, min_detectable_difference, paired_interval
from dcscratch.stats import verdict as stats_verdict


# The rule each variant is scored by where a table says "the paper's rule" (``rule="paper"``):
# DropConnect (``dropconnect``) by the paper's Gaussian rule in closed form, as the paper scores
# DropConnect; every other variant by its run's ``final`` numbers (the mean rule, as the paper
# scores Dropout; ``dropconnect-gaussian``: its Gaussian rule with Z samples).
PAPER_RULE = {"dropconnect": "gaussian"}
RULE_NAMES = {"gaussian": "Gaussian rule (closed form)", "mean": "mean rule",
              "sampling": "sampling (mean of the passes)"}


def final_numbers(run, rule="paper", variant=None):
    """A run's final numbers (every split's loss and error) under an inference ``rule``.

    Args:
        run: a run record of ``results.json``.
        rule: ``"paper"`` (:data:`PAPER_RULE`, else the run's own ``final``) or a rule the run
            was scored by: ``"mean"``, ``"gaussian"`` (DropConnect, closed form) or
            ``"sampling"`` (Dropout), from its ``final_by_inference``.
        variant: the run's variant (default: its ``settings``).

    Raises:
        ValueError: the run was not scored by ``rule`` (named, with the rules it has).
    """
    variant = run["settings"]["variant"] if variant is None else variant
    own = run["final"].get("inference", "mean")
    if rule == "paper":
        rule = PAPER_RULE.get(variant, own)
    by_rule = run.get("final_by_inference", {})
    if rule in by_rule:
        return by_rule[rule]
    if rule == own:
        return run["final"]
    raise ValueError(f"Invalid value received for argument `rule`: a {variant} run scored by "
                     f"{sorted({own, *by_rule})} has no numbers under {rule!r}")


def sweep_table(results, sweep, metric="test_error", rule="paper", variants=None):
    """``{variant: {value: [metric of each seed]}}`` for the runs of ``sweep`` present.

    ``rule``: see :func:`final_numbers` (``"paper"``: DropConnect by its Gaussian rule);
    ``variants``: only these (default: every variant of the sweep).
    """
    config = results["config"]
    table = {}
    for value, settings in sweep_runs(config, sweep):
        run = results["runs"].get(run_key(settings))
        if run is not None and (variants is None or settings["variant"] in variants):
            cell = table.setdefault(settings["variant"], {}).setdefault(value, [])
            cell.append(final_numbers(run, rule, settings["variant"])[metric])
    return table


def curves(results, metric="test_error"):
    """``{variant: array (seeds, epochs)}`` of the per-epoch ``metric`` in the curves sweep
    (the mean rule: runs are evaluated after every epoch with it)."""
    table = {}
    for _, settings in sweep_runs(results["config"], "curves"):
        run = results["runs"].get(run_key(settings))
        if run is not None:
            table.setdefault(settings["variant"], []).append(run["history"][metric])
    return {variant: np.array(rows) for variant, rows in table.items()}


def paired_difference(results, variant, baseline="dropout", metric="test_error",
                      confidence=0.95, *, rule="paper", baseline_rule=None, settings=None,
                      baseline_settings=None):
    """Seed-paired difference ``variant − baseline`` at the default setting, with a t interval.

    The two runs of a pair share the seed and so the initial weights' generator, the
    example order, on the digits the data split, and (for a training-set subset) the
    examples. Pairing does not necessarily remove the seed-to-seed spread: it does only as far
    as the two variants' errors correlate across seeds, and in the first committed digits
    sweep those correlations were between −0.43 and +0.34 (review of notebook 07), so a
    paired interval there was about as wide as an unpaired one. The interval is right either
    way. On the digits each seed draws its own split, so the interval also holds the split's
    sampling error (given the 1,797 images of the data set); on a fixed test set it holds
    only training's seed-to-seed spread, on that test set.

    Args:
        rule, baseline_rule: the inference rules compared (:func:`final_numbers`; the
            baseline's default is ``rule``): ``variant`` may equal ``baseline`` to compare two
            rules of the same runs.
        settings, baseline_settings: settings that differ from the default (``{"keep_prob":
            0.9, "mask": "gaussian"}``, ``{"inverted": False}``), passed to
            :func:`dcscratch.experiments.configs.run_settings`.

    Returns:
        :func:`dcscratch.stats.paired_interval` of the seeds where both runs exist: a dict
        with ``mean``, ``sd``, ``n``, ``low``, ``high`` (the two-sided ``confidence``
        interval of the mean difference, Student t with n − 1 degrees of freedom; NaN for
        n < 2) and ``confidence``.
    """
    config = results["config"]
    baseline_rule = rule if baseline_rule is None else baseline_rule
    pairs = []
    for seed in config["seeds"]:
        sides = ((variant, rule, settings or {}), (baseline, baseline_rule, baseline_settings or {}))
        runs = [(results["runs"].get(run_key(run_settings(config, name, seed, **swept))), name,
                 side_rule) for name, side_rule, swept in sides]
        if all(run is not None for run, _, _ in runs):
            pairs.append([final_numbers(run, side_rule, name)[metric]
                          for run, name, side_rule in runs])
    if not pairs:
        return {"mean": float("nan"), "sd": float("nan"), "n": 0, "low": float("nan"),
                "high": float("nan"), "confidence": confidence}
    variant_values, baseline_values = zip(*pairs)
    return paired_interval(variant_values, baseline_values, confidence=confidence)


def verdict(difference):
    """:func:`dcscratch.stats.verdict`: ``"lower"``, ``"higher"`` or ``"not resolved at this n"``.

    An interval that holds 0 says that this n cannot tell the sign, never that there is no
    difference; :func:`describe_difference` adds the smallest difference that n could detect.
    """
    return stats_verdict(difference)


def describe_difference(difference, scale=100, unit="points", power=0.8, digits=2):
    """The verdict of a paired difference, with what its n could resolve where it is not resolved.

    Args:
        difference: from :func:`paired_difference`.
        scale, unit: how the detectable difference is printed (100, ``"points"`` for an error
            rate; 1, ``"nats"`` for a cross-entropy).
        power: the probability of resolving a true difference of the printed size.
        digits: decimals of the printed difference.

    Returns:
        :func:`verdict`'s words; where the interval holds 0 (n ≥ 2, some spread) followed by
        ``"; n = 5 detects a difference of x.xx points with 80 % power"``
        (:func:`dcscratch.stats.min_detectable_difference` with the observed sd).
    """
    words = verdict(difference)
    if words != NOT_RESOLVED:
        return words
    detectable = min_detectable_difference(difference["sd"], difference["n"],
                                           confidence=difference["confidence"], power=power)
    return (f"{words}; n = {difference['n']} detects a difference of "
            f"{scale * detectable:.{digits}f} {unit} with {100 * power:.0f} % power")


def best_on_validation(results, sweep="keep_prob", rule="paper"):
    """For each variant, the swept value with the lowest mean validation error, and its test error.

    The choice is made on the validation split and the test error of the chosen value is then
    read once: choosing on the test set would bias the reported error downwards. ``rule``
    scores both (:func:`final_numbers`; ``"paper"``: DropConnect by its Gaussian rule).

    Returns:
        ``{variant: {"value": v, "val_error": (mean, sd, n), "test_error": (mean, sd, n),
        "test_loss": (mean, sd, n)}}``, only values where every seed has run (ties: the
        smaller value).
    """
    validation = sweep_table(results, sweep, "val_error", rule)
    chosen = {}
    seeds = len(results["config"]["seeds"])
    for variant, cells in validation.items():
        complete = sorted(value for value in cells if len(cells[value]) == seeds)
        if not complete:
            continue
        value = min(complete, key=lambda value: np.mean(cells[value]))
        chosen[variant] = {"value": value, "val_error": mean_sd(cells[value]),
                           **{metric: mean_sd(sweep_table(results, sweep, metric, rule)[variant][value])
                              for metric in ("test_error", "test_loss")}}
    return chosen


def swept_settings(results, sweep, value):
    """The settings a run of ``sweep`` at ``value`` has away from the default (for
    :func:`paired_difference`): the swept one and those the sweep holds fixed."""
    spec = results["config"]["sweeps"][sweep]
    settings = dict(spec.get("fixed", {}))
    if value is not None:
        settings[SWEPT[sweep]] = value
    return settings


def held_fixed(results, sweep):
    """What a sweep holds fixed, in words (for its table and its figure's title)."""
    config = results["config"]
    training = config["training"]
    swept = SWEPT.get(sweep)
    fixed = {"hidden": f"width {training['hidden']}",
             "keep_prob": f"keep_prob {training['keep_prob']}",
             "train_fraction": "the whole training split"}
    fixed.pop(swept, None)
    spec_fixed = config["sweeps"].get(sweep, {}).get("fixed", {})
    dropconnect = []
    if "dropconnect_mask" in training and swept != "mask":
        dropconnect.append(f"{spec_fixed.get('mask', training['dropconnect_mask'])} masks")
    if "dropconnect_inverted" in training and swept != "inverted":
        dropconnect.append("inverted" if spec_fixed.get(
            "inverted", training["dropconnect_inverted"]) else "unscaled")
    text = ", ".join([*fixed.values(), f"{training['epochs']} epochs"])
    return text + (f"; DropConnect: {', '.join(dropconnect)}" if dropconnect else "")


def chosen_comparisons(results, metric="test_error", sweep="keep_prob", rule="paper",
                       confidence=0.95):
    """Paired comparisons at the keep_prob each variant's **validation** error chose.

    Every regulariser at its chosen value against No-Drop, and DropConnect at its chosen value
    against Dropout at its own (the variants present).

    Returns:
        ``[(label, difference), ...]`` with :func:`paired_difference`'s dicts.
    """
    chosen = best_on_validation(results, sweep, rule)
    at = {variant: swept_settings(results, sweep, choice["value"])
          for variant, choice in chosen.items()}
    label = {variant: f"{variant} at {SWEPT[sweep]} {chosen[variant]['value']:g}"
             for variant in chosen}
    rows = []
    if "no-drop" in results["config"]["sweeps"].get("curves", {}).get("variants", ()):
        for variant in chosen:
            rows.append((f"{label[variant]} − no-drop", paired_difference(
                results, variant, "no-drop", metric, confidence, rule=rule, settings=at[variant])))
    for variant, baseline in (("dropconnect", "dropout"), ("dropconnect-batch", "dropout")):
        if variant in chosen and baseline in chosen:
            rows.append((f"{label[variant]} − {label[baseline]}", paired_difference(
                results, variant, baseline, metric, confidence, rule=rule, settings=at[variant],
                baseline_settings=at[baseline])))
    return rows


def dropconnect_choices(results, metric="test_error", confidence=0.95):
    """Paired comparisons of DropConnect's own choices at the default setting.

    The Gaussian rule against the mean rule (the same runs), the Gaussian and the exact mask
    against Flipout (the ``exact`` sweep), the unscaled convention against the inverted one
    (``convention``, for each variant it runs), per-batch masks against per-example ones
    (both by the mean rule, the only rule per-batch runs have), and Dropout's sampling rule
    against its mean rule; only those whose runs are in ``results``. DropConnect runs are scored
    by the Gaussian rule except where the rule is what is compared.

    Returns:
        ``[(label, difference), ...]``.
    """
    config = results["config"]
    training, sweeps = config["training"], config["sweeps"]
    rows = []

    def add(label, *args, **kwargs):
        try:
            difference = paired_difference(results, *args, metric, confidence, **kwargs)
        except ValueError:  # runs not scored by that rule (an older file)
            return
        if difference["n"]:
            rows.append((label, difference))

    if "dropconnect" in sweeps.get("curves", {}).get("variants", ()):
        default_mask = training.get("dropconnect_mask")
        add("dropconnect: Gaussian rule − mean rule", "dropconnect", "dropconnect",
            rule="gaussian", baseline_rule="mean")
        for mask in sweeps.get("exact", {}).get("values", ()):
            if mask != default_mask:
                add(f"dropconnect: mask {mask} − {default_mask}", "dropconnect", "dropconnect",
                    settings={"mask": mask})
        convention = sweeps.get("convention", {})
        for variant in convention.get("variants", ()):
            for inverted in convention["values"]:
                if inverted != training.get("dropconnect_inverted"):
                    words = "inverted − unscaled" if inverted else "unscaled − inverted"
                    add(f"{variant}: {words}" + (" (mean rule)" if variant != "dropconnect"
                                                 else ""),
                        variant, variant, settings={"inverted": inverted})
        if "dropconnect-batch" in sweeps["curves"]["variants"]:
            add(f"dropconnect-batch (mean rule) − dropconnect (mask {default_mask}, mean rule)",
                "dropconnect-batch", "dropconnect", rule="mean")
    if "dropout" in sweeps.get("curves", {}).get("variants", ()):
        add("dropout: sampling − mean rule", "dropout", "dropout", rule="sampling",
            baseline_rule="mean")
    return rows
