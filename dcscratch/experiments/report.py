"""The experiments' report: tables and paired comparisons from ``results.json``, and plots.

Reads a results dict (:mod:`dcscratch.experiments.store`) and never trains; the statistics
come from :mod:`dcscratch.stats`.
"""
import math
import textwrap
from pathlib import Path

import numpy as np

from dcscratch.experiments.configs import (LABELS, SPLIT_PER_SEED, SWEPT, VARIANTS, run_key,
                                          run_settings, sweep_runs)
from dcscratch.stats import NOT_RESOLVED, mean_sd, min_detectable_difference, paired_interval
from dcscratch.stats import verdict as stats_verdict


# ---------------------------------------------------------------- tables from the results
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


# ---------------------------------------------------------------- report and plots
def _percent(mean, sd, n):
    sd_text = "–" if math.isnan(sd) else f"{100 * sd:.2f}"
    return f"{100 * mean:.2f} ± {sd_text} (n={n})"


def _nats(mean, sd, n):
    sd_text = "–" if math.isnan(sd) else f"{sd:.3f}"
    return f"{mean:.3f} ± {sd_text} (n={n})"


# Each reported metric: its name in a table, how a mean ± sd is printed, and a paired
# difference's scale and unit.
_METRIC_TEXT = {"test_error": ("test error (%)", _percent, 100, "points", 2),
                "test_loss": ("test cross-entropy (nats)", _nats, 1, "nats", 3)}
# The paired comparisons at the default setting: every regulariser against No-Drop and the
# DropConnect variants against Dropout (DropConnect's own choices: :func:`dropconnect_choices`).
COMPARISONS = (("dropout", "no-drop"), ("dropconnect", "no-drop"),
               ("dropconnect-batch", "no-drop"), ("dropconnect", "dropout"),
               ("dropconnect-batch", "dropout"))
# Sweeps whose values are numbers, drawn as a line against them; the others (DropConnect's mask
# mode, its convention) are tables only.
PLOTTED_SWEEPS = ("width", "keep_prob", "train_size", "curves")
FAMILY_CONFIDENCE = 0.95


def machine_cores(results):
    """The core counts recorded in the runs' provenance (``usable_cores``), as a sorted list."""
    return sorted({run["provenance"]["machine"]["usable_cores"]
                   for run in results["runs"].values()
                   if "machine" in run.get("provenance", {})})


def _value_text(value):
    """A swept value in a table: numbers as ``%g``, names and True/False as they are."""
    return str(value) if isinstance(value, (str, bool)) else f"{value:g}"


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


def _rules_of(results, variant):
    """The rules a variant's default runs were scored by, the paper's first."""
    rules = []
    for _, settings in sweep_runs(results["config"], "curves"):
        run = results["runs"].get(run_key(settings))
        if run is not None and settings["variant"] == variant:
            own = PAPER_RULE.get(variant, run["final"].get("inference", "mean"))
            rules = [own, *(rule for rule in run.get("final_by_inference", {}) if rule != own)]
            break
    return rules


def _difference_rows(rows, family_rows, scale, unit, digits):
    """Markdown rows ``| label | mean | CI | pairs | verdict | family verdict |``."""
    lines = []
    for (label, difference), (_, family) in zip(rows, family_rows):
        if difference["n"] < 2:
            continue
        low, mean, high = (f"{scale * difference[key]:+.{digits}f}"
                           for key in ("low", "mean", "high"))
        lines.append(f"| {label} | {mean} | [{low}, {high}] | {difference['n']} | "
                     f"{describe_difference(difference, scale, unit, digits=digits)} | "
                     f"{verdict(family)} |")
    return lines


def _comparison_section(title, what, compute, metric):
    """A section of paired comparisons with its 95 % verdicts and its family's (Bonferroni)."""
    name, _, scale, unit, digits = _METRIC_TEXT[metric]
    rows = [row for row in compute(metric, 0.95) if row[1]["n"] > 1]
    if not rows:
        return []
    m = len(rows)
    family_rows = compute(metric, 1 - (1 - FAMILY_CONFIDENCE) / m)
    family_rows = [row for row in family_rows if row[1]["n"] > 1]
    return [f"## {title}: {name}", "",
            f"{what}{' ' if what else ''}Difference in {unit}, runs paired by seed; 95% confidence interval from "
            "Student's t with n − 1 degrees of freedom. Where the interval holds 0 the difference "
            "is not resolved at this n (not \"no difference\"); the verdict then gives the "
            "smallest difference this n resolves with 80 % power (from the observed sd of the "
            f"differences). The last column reads the {m} rows as one family: each interval at "
            f"{100 * (1 - (1 - FAMILY_CONFIDENCE) / m):.2f} % (Bonferroni), so that all {m} "
            f"hold together with at least {100 * FAMILY_CONFIDENCE:.0f} % confidence.", "",
            f"| difference | mean | 95% CI | pairs | verdict | verdict of the family of {m} |",
            "|---|---:|---|---:|---|---|",
            *_difference_rows(rows, family_rows, scale, unit, digits), ""]


def markdown(results, command=None):
    """``results.md``: mean ± sd test error and cross-entropy, keep_prob chosen on validation,
    and the paired comparisons (error and cross-entropy) with what their n could resolve."""
    config = results["config"]
    if config["name"] == "paper":
        from dcscratch.experiments import paper_report  # Table 2 and Figure 2: its own report

        return paper_report.markdown(results, command)
    training = config["training"]
    runs = results["runs"]
    lines = ["# Experiments: " + f"config `{config['name']}`, dataset `{config['dataset']}`", ""]
    if command:
        lines += [f"Produced by `{command}`.", ""]
    wall = sum(run["wall_s"] for run in runs.values())
    cpu = sum(run["cpu_s"] for run in runs.values())
    versions = next(iter(runs.values()))["versions"] if runs else {}
    cores = machine_cores(results)
    if "elapsed_s" in results:
        load = results["load_average"]
        busy = (f" (on {cores[0]} cores, above {cores[0]} means other work was competing)"
                if len(cores) == 1 else "")
        lines += [f"The last command took {results['elapsed_s'] / 60:.1f} min; the machine's "
                  f"1-minute load average was {load['start']:.1f} at the start and "
                  f"{load['end']:.1f} at the end{busy}.", ""]
    if results.get("commands"):
        lines += ["Every command that trained runs into this file:", ""]
        lines += [f"- `{entry['command']}`: {entry['runs_trained']} runs, "
                  f"{entry['elapsed_s'] / 60:.1f} min" for entry in results["commands"]]
        lines.append("")
    split = ("each run's train/validation/test split drawn with the run's seed"
             if config.get("split") == SPLIT_PER_SEED else "one fixed train/validation/test split")
    lines += [f"{len(runs)} runs, {wall / 60:.1f} min of training in all "
              f"({cpu / 60:.1f} CPU-min); "
              f"two hidden ReLU layers, SGD (learning rate {training['learning_rate']}, "
              f"momentum {training['momentum']}), batch {training['batch_size']}, "
              f"{training['epochs']} epochs; default width {training['hidden']}, keep_prob "
              f"{training['keep_prob']}. Seeds {config['seeds']}; {split}.",
              "Versions: " + ", ".join(f"{name} {version}" for name, version in versions.items()),
              "", "Test error in percent and test cross-entropy in nats (the paper's Figure 2c "
              "plots cross-entropy), mean ± sample standard deviation over n seeds."]
    if "dropconnect_mask" in training:
        lines += ["`dropconnect` masks every example separately (by "
                  f"{training['dropconnect_mask']}, except where a table says otherwise), "
                  + ("inverted ((M⊙W)/keep_prob: its weights move as fast as Dense's at one "
                     "learning rate)" if training.get("dropconnect_inverted") else "unscaled")
                  + "; it is scored by the paper's Gaussian rule in closed form (Z → ∞) unless "
                  "a table says otherwise, every other variant by the mean rule."]
    lines.append("")
    for sweep in config["sweeps"]:
        table = sweep_table(results, sweep)
        if not table:
            continue
        if sweep == "curves":
            lines += ["## All variants at the default setting", "",
                      f"Held fixed: {held_fixed(results, sweep)}.", "",
                      "| variant | inference | test error | test cross-entropy | "
                      "validation error | train error |",
                      "|---|---|---:|---:|---:|---:|"]
            for variant in table:
                for rule in _rules_of(results, variant):
                    scored = [final_numbers(results["runs"][run_key(settings)], rule)
                              for _, settings in sweep_runs(config, sweep)
                              if settings["variant"] == variant
                              and run_key(settings) in results["runs"]]
                    # Dropout's sampling rule is scored on validation and test only.
                    cells = [(_nats if metric == "test_loss" else _percent)(
                        *mean_sd([numbers[metric] for numbers in scored]))
                        if all(metric in numbers for numbers in scored) else "–"
                        for metric in ("test_error", "test_loss", "val_error", "train_error")]
                    lines.append(f"| {variant} | {RULE_NAMES.get(rule, rule)} | "
                                 + " | ".join(cells) + " |")
            lines.append("")
            continue
        values = config["sweeps"][sweep]["values"]
        for metric, (name, text, *_) in _METRIC_TEXT.items():
            table = sweep_table(results, sweep, metric)
            lines += [f"## Sweep: {LABELS[SWEPT[sweep]]}, {name}", "",
                      f"Held fixed: {held_fixed(results, sweep)}.", "",
                      f"| {SWEPT[sweep]} | " + " | ".join(table) + " |",
                      "|---|" + "---:|" * len(table)]
            for value in values:
                cells = [text(*mean_sd(table[variant][value])) if value in table[variant]
                         else "–" for variant in table]
                lines.append(f"| {_value_text(value)} | " + " | ".join(cells) + " |")
            lines.append("")
    if "keep_prob" in config["sweeps"]:
        chosen = best_on_validation(results, "keep_prob")
        if chosen:
            lines += ["## keep_prob chosen on the validation split", "",
                      "The keep_prob with the lowest mean validation error, then its test numbers "
                      "(the test set is not used to choose).", "",
                      "| variant | keep_prob | validation error | test error | "
                      "test cross-entropy |",
                      "|---|---:|---:|---:|---:|"]
            lines += [f"| {variant} | {choice['value']:g} | {_percent(*choice['val_error'])} | "
                      f"{_percent(*choice['test_error'])} | {_nats(*choice['test_loss'])} |"
                      for variant, choice in chosen.items()]
            lines.append("")
            for metric in _METRIC_TEXT:
                lines += _comparison_section(
                    "Paired comparisons at the keep_prob chosen on validation",
                    "Each regulariser at the keep_prob its validation error chose.",
                    lambda metric, confidence: chosen_comparisons(results, metric,
                                                                  confidence=confidence),
                    metric)
    for metric in _METRIC_TEXT:
        lines += _comparison_section(
            "Paired comparisons at the default setting",
            "Every regulariser against No-Drop, and DropConnect against Dropout.",
            lambda metric, confidence: [
                (f"{variant} − {baseline}",
                 paired_difference(results, variant, baseline, metric, confidence))
                for variant, baseline in COMPARISONS], metric)
    for metric in _METRIC_TEXT:
        lines += _comparison_section(
            "DropConnect's choices at the default setting",
            "Inference rules of the same runs, and DropConnect's mask modes and conventions.",
            lambda metric, confidence: dropconnect_choices(results, metric, confidence), metric)
    checks = gaussian_checks(results)
    if checks:
        lines += ["## The Gaussian rule: Z samples against the closed form", "",
                  "Each default-setting DropConnect run's test images under the Gaussian rule "
                  "with Z samples per unit and in closed form (Z → ∞), the same weights.", "",
                  "| runs | Z | test images | same prediction | test error, sampled − closed "
                  "(points) |", "|---|---:|---:|---:|---|"]
        for (label, samples, images), rows in checks.items():
            same = mean_sd([row["same_prediction"] for row in rows])
            gap = [100 * (row["sampled_error"] - row["closed_error"]) for row in rows]
            lines.append(f"| {label} | {samples} | {images} | {100 * same[0]:.1f} % (n={same[2]}) | "
                         f"{min(gap):+.2f} to {max(gap):+.2f} |")
        lines.append("")
    return "\n".join(lines)


def gaussian_checks(results):
    """``{(label, Z, images): [gaussian_sampled records]}`` of the default DropConnect runs."""
    checks = {}
    for run in results["runs"].values():
        sampled = run.get("gaussian_sampled")
        if sampled is None:
            continue
        settings = run["settings"]
        label = " ".join([settings["variant"], *(f"{key}={settings[key]}" for key in
                                                 ("mask", "inverted") if key in settings)])
        checks.setdefault((label, sampled["samples"], sampled["test_images"]), []).append(sampled)
    return dict(sorted(checks.items()))


def variant_color(variant):
    """The same colour for a variant in every figure."""
    return f"C{VARIANTS.index(variant)}"


def _readable_log_ticks(ax, axis_max, axis_min=0.0, ticks=(0, 0.5, 1, 2, 3, 5, 10, 20, 30, 50, 100)):
    """Plain-number ticks on a log or symlog y axis (matplotlib's default shows only decades).

    Only ticks within [axis_min, axis_max] (give or take 5 %): more would widen the axis.
    """
    from matplotlib.ticker import NullFormatter, NullLocator

    shown = [tick for tick in ticks if axis_min / 1.05 <= tick <= axis_max * 1.05]
    if ax.get_yscale() == "log":
        shown = [tick for tick in shown if tick > 0]
    ax.set_yticks(shown, [f"{tick:g}" for tick in shown])
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_minor_formatter(NullFormatter())


def plot_sweep(results, sweep, ax=None, metric="test_error", rule="paper"):
    """``metric`` (test error in percent, or a cross-entropy) against the swept value.

    Mean ± sd over seeds, one line per variant, each scored by ``rule`` (:func:`final_numbers`;
    the legend names a rule other than the mean rule). The bars show the spread of single runs:
    two bars that overlap (or not) are no test of a difference (that is the paired intervals').
    The title says what the sweep holds fixed; the width sweep's error axis is logarithmic
    so that the narrowest layers' collapse does not flatten the rest; the training-set-size
    axis gives the number of images under each fraction. Only ``PLOTTED_SWEEPS`` (numbers on
    the axis).
    """
    import matplotlib.pyplot as plt

    if sweep not in PLOTTED_SWEEPS or sweep == "curves":
        raise ValueError(f"Invalid value received for argument `sweep`: plot_sweep draws "
                         f"{[name for name in PLOTTED_SWEEPS if name != 'curves']}, not "
                         f"{sweep!r} (curves: plot_curves; the other sweeps are tables)")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.8))
    scale = 100 if metric.endswith("_error") else 1
    top, bottom = 0.0, math.inf
    for variant, cells in sweep_table(results, sweep, metric, rule).items():
        values = sorted(cells)
        stats = [mean_sd(cells[value]) for value in values]
        means = [scale * mean for mean, _, _ in stats]
        sds = [scale * np.nan_to_num(sd) for _, sd, _ in stats]
        top = max(top, max(mean + sd for mean, sd in zip(means, sds)))
        bottom = min(bottom, min(mean - sd if mean > sd else mean for mean, sd in zip(means, sds)))
        used = PAPER_RULE.get(variant, "mean") if rule == "paper" else rule
        label = variant if used == "mean" else f"{variant}, {RULE_NAMES.get(used, used)}"
        ax.errorbar(values, means, yerr=sds, marker="o", capsize=3, label=label,
                    color=variant_color(variant))
    seeds = len(results["config"]["seeds"])
    name = ("test error (%)" if metric == "test_error"
            else "test cross-entropy (nats)" if metric == "test_loss" else metric)
    ax.set(xlabel=LABELS[SWEPT[sweep]], ylabel=name)
    swept = {"hidden": "width", "train_fraction": "training-set fraction"}.get(SWEPT[sweep],
                                                                             SWEPT[sweep])
    # Wrapped: two panels side by side would run their titles together.
    ax.set_title(f"{name} against {swept}, mean ± sd over {seeds} seeds\n" + textwrap.fill(
        f"held fixed: {held_fixed(results, sweep)}", 70), fontsize=9)
    values = results["config"]["sweeps"][sweep]["values"]
    labels = [f"{value:g}" for value in values]
    if sweep in ("width", "train_size"):
        ax.set_xscale("log", base=2)
    if sweep == "train_size":
        sizes = {value: results["runs"][run_key(settings)]["train_size"]
                 for value, settings in sweep_runs(results["config"], sweep)
                 if run_key(settings) in results["runs"]}
        labels = [f"{value:g}\n({sizes[value]} images)" if value in sizes else f"{value:g}"
                  for value in values]
    ax.set_xticks(values, labels)
    ax.minorticks_off()
    if sweep == "width" and metric == "test_error":
        ax.set_yscale("log")
        _readable_log_ticks(ax, top, bottom)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_curves(results, axes=None):
    """Per-epoch train error, test error (percent) and test cross-entropy at the default setting.

    Mean ± sd band over seeds, mean-rule inference. ``dropconnect-gaussian`` is left out: its
    training, hence its per-epoch curve, is ``dropconnect-batch``'s.

    Args:
        axes: three axes (train error, test error, test cross-entropy); None makes a figure.
    """
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    seeds = len(results["config"]["seeds"])
    panels = (("train_error", "train error (%)"), ("test_error", "test error (%)"),
              ("test_loss", "test cross-entropy (nats)"))
    error_top, loss_range = 0.0, [math.inf, 0.0]
    for ax, (metric, name) in zip(axes, panels):
        scale = 100 if metric.endswith("_error") else 1
        for variant, values in curves(results, metric).items():
            if variant == "dropconnect-gaussian":
                continue
            mean = scale * values.mean(axis=0)
            # One seed has no spread to draw (ddof=1 would divide by zero).
            sd = scale * values.std(axis=0, ddof=1) if len(values) > 1 else np.zeros_like(mean)
            epochs = np.arange(1, len(mean) + 1)
            ax.plot(epochs, mean, color=variant_color(variant), label=variant)
            ax.fill_between(epochs, np.maximum(mean - sd, 0), mean + sd,
                            color=variant_color(variant), alpha=0.2)
            if scale == 100:
                error_top = max(error_top, float(np.max(mean + sd)))
            else:
                loss_range = [min(loss_range[0], float(np.min(mean))),
                              max(loss_range[1], float(np.max(mean + sd)))]
        ax.set(xlabel="epoch", ylabel=name)
        ax.set_title(f"{name}, mean ± sd over {seeds} seeds", fontsize=9)
        if scale == 100:
            ax.set_yscale("symlog", linthresh=1)  # logarithmic above 1 %, so late epochs show
        else:
            ax.set_yscale("log")  # as the paper's Figure 2c
        ax.grid(alpha=0.3, which="both")
    for ax in axes[:2]:
        ax.set_ylim(0, error_top * 1.1)
        _readable_log_ticks(ax, error_top)
    _readable_log_ticks(axes[2], loss_range[1], loss_range[0],
                        ticks=(0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2, 3))
    axes[0].legend(fontsize=8)
    axes[0].figure.suptitle(f"held fixed: {held_fixed(results, 'curves')}; mean-rule inference",
                            fontsize=9)
    return axes


def write_report(results, out, command=None):
    """Write ``results.md`` and one PNG per plotted sweep (``PLOTTED_SWEEPS``) under ``out``;
    return the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if results["config"]["name"] == "paper":
        from dcscratch.experiments import paper_report

        return paper_report.write_report(results, out, command)
    out = Path(out)
    written = [out / "results.md"]
    written[0].write_text(markdown(results, command))
    for sweep in (name for name in results["config"]["sweeps"] if name in PLOTTED_SWEEPS):
        if sweep == "curves":
            fig, axes = plt.subplots(1, 3, figsize=(14, 4))
            plot_curves(results, axes)
        else:
            fig, ax = plt.subplots(figsize=(6, 3.8))
            plot_sweep(results, sweep, ax=ax)
        fig.tight_layout()
        fig.savefig(out / f"{sweep}.png", dpi=110)
        plt.close(fig)
        written.append(out / f"{sweep}.png")
    return written


# ---------------------------------------------------------------- the long config
def long_table(results):
    """A markdown table of the long config's runs so far: every arm under every rule.

    Test error (%) and cross-entropy, mean ± sd over the seeds done (n); the early-stopped
    row is each run's weights at its best validation cross-entropy. Intervals and paired
    comparisons are notebook 10's; this is the sweep's progress report.
    """
    from dcscratch.experiments.long_report import arm_of

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
