"""The experiments' report: tables and paired comparisons from ``results.json``, and plots.

Reads a results dict (:mod:`dcscratch.experiment_store`) and never trains; the statistics
come from :mod:`dcscratch.stats`.
"""
import math
from pathlib import Path

import numpy as np

from dcscratch.experiment_configs import (LABELS, SPLIT_PER_SEED, SWEPT, VARIANTS, run_key,
                                          run_settings, sweep_runs)
from dcscratch.stats import NOT_RESOLVED, mean_sd, min_detectable_difference, paired_interval
from dcscratch.stats import verdict as stats_verdict


# ---------------------------------------------------------------- tables from the results
def sweep_table(results, sweep, metric="test_error"):
    """``{variant: {value: [metric of each seed]}}`` for the runs of ``sweep`` present."""
    config = results["config"]
    table = {}
    for value, settings in sweep_runs(config, sweep):
        run = results["runs"].get(run_key(settings))
        if run is not None:
            cell = table.setdefault(settings["variant"], {}).setdefault(value, [])
            cell.append(run["final"][metric])
    return table


def curves(results, metric="test_error"):
    """``{variant: array (seeds, epochs)}`` of the per-epoch ``metric`` in the curves sweep."""
    table = {}
    for _, settings in sweep_runs(results["config"], "curves"):
        run = results["runs"].get(run_key(settings))
        if run is not None:
            table.setdefault(settings["variant"], []).append(run["history"][metric])
    return {variant: np.array(rows) for variant, rows in table.items()}


def paired_difference(results, variant, baseline="dropout", metric="test_error",
                      confidence=0.95):
    """Seed-paired difference ``variant − baseline`` at the default setting, with a t interval.

    The two runs of a pair share the seed and so the initial weights' generator, the
    example order, on the digits the data split, and (for a training-set subset) the
    examples. Pairing does not necessarily remove the seed-to-seed spread: it does only as far
    as the two variants' errors correlate across seeds, and in the first committed digits
    sweep those correlations were between −0.43 and +0.34 (review of notebook 07), so a
    paired interval there was about as wide as an unpaired one. The interval is right either
    way.

    Returns:
        :func:`dcscratch.stats.paired_interval` of the seeds where both runs exist: a dict
        with ``mean``, ``sd``, ``n``, ``low``, ``high`` (the two-sided ``confidence``
        interval of the mean difference, Student t with n − 1 degrees of freedom; NaN for
        n < 2) and ``confidence``.
    """
    config = results["config"]
    pairs = []
    for seed in config["seeds"]:
        pair = [results["runs"].get(run_key(run_settings(config, name, seed)))
                for name in (variant, baseline)]
        if all(pair):
            pairs.append([run["final"][metric] for run in pair])
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


def best_on_validation(results, sweep="keep_prob"):
    """For each variant, the swept value with the lowest mean validation error, and its test error.

    The choice is made on the validation split and the test error of the chosen value is then
    read once: choosing on the test set would bias the reported error downwards.

    Returns:
        ``{variant: {"value": v, "val_error": (mean, sd, n), "test_error": (mean, sd, n),
        "test_loss": (mean, sd, n)}}``, only values where every seed has run (ties: the
        smaller value).
    """
    validation = sweep_table(results, sweep, "val_error")
    chosen = {}
    seeds = len(results["config"]["seeds"])
    for variant, cells in validation.items():
        complete = sorted(value for value in cells if len(cells[value]) == seeds)
        if not complete:
            continue
        value = min(complete, key=lambda value: np.mean(cells[value]))
        chosen[variant] = {"value": value, "val_error": mean_sd(cells[value]),
                           **{metric: mean_sd(sweep_table(results, sweep, metric)[variant][value])
                              for metric in ("test_error", "test_loss")}}
    return chosen


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
# The paired comparisons at the default setting: every regulariser against No-Drop, the
# DropConnect variants against Dropout, and DropConnect's two choices against each other.
COMPARISONS = (("dropout", "no-drop"), ("dropconnect-batch", "no-drop"),
               ("dropconnect-example", "no-drop"), ("dropconnect-gaussian", "no-drop"),
               ("dropconnect-batch", "dropout"), ("dropconnect-example", "dropout"),
               ("dropconnect-gaussian", "dropout"),
               ("dropconnect-example", "dropconnect-batch"),
               ("dropconnect-gaussian", "dropconnect-batch"))


def machine_cores(results):
    """The core counts recorded in the runs' provenance (``usable_cores``), as a sorted list."""
    return sorted({run["provenance"]["machine"]["usable_cores"]
                   for run in results["runs"].values()
                   if "machine" in run.get("provenance", {})})


def held_fixed(results, sweep):
    """What a sweep holds fixed, in words (for its table and its figure's title)."""
    training = results["config"]["training"]
    fixed = {"hidden": f"width {training['hidden']}",
             "keep_prob": f"keep_prob {training['keep_prob']}",
             "train_fraction": "the whole training split"}
    fixed.pop(SWEPT.get(sweep), None)
    return ", ".join([*fixed.values(), f"{training['epochs']} epochs"])


def markdown(results, command=None):
    """``results.md``: mean ± sd test error and cross-entropy, keep_prob chosen on validation,
    and the paired comparisons (error and cross-entropy) with what their n could resolve."""
    config = results["config"]
    if config["name"] == "paper":
        from dcscratch import paper_report  # Table 2 and Figure 2: its own report

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
              "plots cross-entropy), mean ± sample standard deviation over n seeds.", ""]
    for sweep in config["sweeps"]:
        table = sweep_table(results, sweep)
        if not table:
            continue
        if sweep == "curves":
            lines += ["## All variants at the default setting", "",
                      "| variant | inference | test error | test cross-entropy | "
                      "validation error | train error |",
                      "|---|---|---:|---:|---:|---:|"]
            for variant in table:
                inference = {"dropconnect-gaussian": "gaussian"}.get(variant, "mean")
                cells = [(_nats if metric == "test_loss" else _percent)(
                    *mean_sd(sweep_table(results, sweep, metric)[variant][None]))
                    for metric in ("test_error", "test_loss", "val_error", "train_error")]
                lines.append(f"| {variant} | {inference} | " + " | ".join(cells) + " |")
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
                lines.append(f"| {value:g} | " + " | ".join(cells) + " |")
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
    for metric, (name, _, scale, unit, digits) in _METRIC_TEXT.items():
        rows = []
        for variant, baseline in COMPARISONS:
            difference = paired_difference(results, variant, baseline, metric)
            if difference["n"] > 1:
                low, mean, high = (f"{scale * difference[key]:+.{digits}f}"
                                   for key in ("low", "mean", "high"))
                rows.append(f"| {variant} − {baseline} | {mean} | [{low}, {high}] | "
                            f"{difference['n']} | "
                            f"{describe_difference(difference, scale, unit, digits=digits)} |")
        if rows:
            lines += [f"## Paired comparisons at the default setting: {name}", "",
                      f"Difference in {unit}, runs paired by seed; 95% confidence interval from "
                      "Student's t with n − 1 degrees of freedom. Where the interval holds 0 the "
                      "difference is not resolved at this n (not \"no difference\"); the verdict "
                      "then gives the smallest difference this n resolves with 80 % power "
                      "(from the observed sd of the differences).", "",
                      "| difference | mean | 95% CI | pairs | verdict |", "|---|---:|---|---:|---|",
                      *rows, ""]
    return "\n".join(lines)


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


def plot_sweep(results, sweep, ax=None, metric="test_error"):
    """``metric`` (test error in percent, or a cross-entropy) against the swept value.

    Mean ± sd over seeds, one line per variant. The bars show the spread of single runs: two
    bars that overlap (or not) are no test of a difference (that is the paired intervals').
    The title says what the sweep holds fixed; the width sweep's error axis is logarithmic
    so that the narrowest layers' collapse does not flatten the rest; the training-set-size
    axis gives the number of images under each fraction.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.8))
    scale = 100 if metric.endswith("_error") else 1
    top, bottom = 0.0, math.inf
    for variant, cells in sweep_table(results, sweep, metric).items():
        values = sorted(cells)
        stats = [mean_sd(cells[value]) for value in values]
        means = [scale * mean for mean, _, _ in stats]
        sds = [scale * np.nan_to_num(sd) for _, sd, _ in stats]
        top = max(top, max(mean + sd for mean, sd in zip(means, sds)))
        bottom = min(bottom, min(mean - sd if mean > sd else mean for mean, sd in zip(means, sds)))
        ax.errorbar(values, means, yerr=sds, marker="o", capsize=3, label=variant,
                    color=variant_color(variant))
    seeds = len(results["config"]["seeds"])
    name = ("test error (%)" if metric == "test_error"
            else "test cross-entropy (nats)" if metric == "test_loss" else metric)
    ax.set(xlabel=LABELS[SWEPT[sweep]], ylabel=name)
    swept = {"hidden": "width", "train_fraction": "training-set fraction"}.get(SWEPT[sweep],
                                                                             SWEPT[sweep])
    ax.set_title(f"{name} against {swept}, mean ± sd over {seeds} seeds\n"
                 f"held fixed: {held_fixed(results, sweep)}", fontsize=9)
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
    """Write ``results.md`` and one PNG per sweep under ``out``; return the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if results["config"]["name"] == "paper":
        from dcscratch import paper_report

        return paper_report.write_report(results, out, command)
    out = Path(out)
    written = [out / "results.md"]
    written[0].write_text(markdown(results, command))
    for sweep in results["config"]["sweeps"]:
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
def long_arm(run):
    """The arm a long-config run belongs to: variant, and DropConnect's convention."""
    settings = run["settings"]
    if settings["variant"] != "dropconnect":
        return settings["variant"]
    return "dropconnect " + ("inverted" if settings.get("inverted") else "unscaled")


def long_table(results):
    """A markdown table of the long config's runs so far: every arm under every rule.

    Test error (%) and cross-entropy, mean ± sd over the seeds done (n); the early-stopped
    row is each run's weights at its best validation cross-entropy. Intervals and paired
    comparisons are notebook 10's; this is the sweep's progress report.
    """
    rows = {}
    for run in results["runs"].values():
        arm = long_arm(run)
        for rule, numbers in run["final_by_inference"].items():
            rows.setdefault((arm, f"last epoch, {rule} rule"), []).append(numbers)
        if "early_stopped" in run:
            rows.setdefault((arm, "early-stopped, mean rule"), []).append(run["early_stopped"])
    lines = ["| arm | weights, inference | n | test error % | test cross-entropy |",
             "|---|---|---|---|---|"]
    for (arm, rule), values in sorted(rows.items()):
        error_mean, error_sd, _ = mean_sd([100 * value["test_error"] for value in values])
        loss_mean, loss_sd, _ = mean_sd([value["test_loss"] for value in values])
        lines.append(f"| {arm} | {rule} | {len(values)} | {error_mean:.2f} ± {error_sd:.2f} | "
                     f"{loss_mean:.3f} ± {loss_sd:.3f} |")
    return "\n".join(lines)
