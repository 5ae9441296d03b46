"""The experiments' report: ``results.md`` (tables and paired comparisons) and its figures.

Prints what :mod:`dcscratch.experiments.analysis` computes from a results dict
(:mod:`dcscratch.experiments.store`) and never trains; the paper config's report is
:mod:`dcscratch.experiments.paper_report`'s, the long config's progress table
:func:`dcscratch.experiments.long_report.long_table`.
"""
import math
from pathlib import Path

from dcscratch.experiments import paper_report
from dcscratch.experiments.analysis import (PAPER_RULE, RULE_NAMES, best_on_validation,
                                            chosen_comparisons, describe_difference,
                                            dropconnect_choices, final_numbers, held_fixed,
                                            paired_difference, sweep_table, verdict)
from dcscratch.experiments.configs import LABELS, SPLIT_PER_SEED, SWEPT, run_key, sweep_runs
from dcscratch.experiments.plots import PLOTTED_SWEEPS, plot_curves, plot_sweep
from dcscratch.stats import mean_sd


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
FAMILY_CONFIDENCE = 0.95


def machine_cores(results):
    """The core counts recorded in the runs' provenance (``usable_cores``), as a sorted list."""
    return sorted({run["provenance"]["machine"]["usable_cores"]
                   for run in results["runs"].values()
                   if "machine" in run.get("provenance", {})})


def _value_text(value):
    """A swept value in a table: numbers as ``%g``, names and True/False as they are."""
    return str(value) if isinstance(value, (str, bool)) else f"{value:g}"


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
        return paper_report.markdown(results, command)  # Table 2 and Figure 2: its own report
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


def write_report(results, out, command=None):
    """Write ``results.md`` and one PNG per plotted sweep (``PLOTTED_SWEEPS``) under ``out``;
    return the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if results["config"]["name"] == "paper":
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
