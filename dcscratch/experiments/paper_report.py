"""The paper-scale experiments' report: Table 2, Figure 2a/b/c analogues, from ``results.json``.

Reads what ``python -m dcscratch.experiments --config paper`` wrote (and never trains):
``results.json`` and, for the voting column, ``probabilities/*.npz`` (each run's predicted
test probabilities at the default setting, float16). Notebook 10 and ``results.md`` use it.

Every run of the paper config records ``final_by_inference``: ``mean`` for all, ``gaussian``
(the paper's rule, in closed form) for DropConnect, ``sampling`` (the mean of passes with
fresh masks) for Dropout no wider than the config's limit. Comparisons pair runs by seed.
"""
import math
from pathlib import Path

import numpy as np

from dcscratch.experiments.configs import run_key, sweep_runs
from dcscratch.stats import (mean_sd, min_detectable_difference, n_to_resolve, paired_counts,
                             paired_interval, verdict)

# Where ``make experiments-paper`` writes the committed results (notebook 10 reads them).
COMMITTED = Path(__file__).resolve().parents[2] / "results" / "fashion-mnist"
# Wan et al. (2013), Table 2, MNIST, 784-800-800-10 ReLU: test error (%), mean ± sd over 5
# networks, and the error of the 5 networks' averaged probabilities ("voting").
PAPER_TABLE2 = {"no-drop": (1.62, 0.037, 1.40), "dropout": (1.28, 0.040, 1.20),
                "dropconnect": (1.20, 0.034, 1.12)}
# Each variant's inference rules, the paper's first: Dropout by the mean rule, DropConnect by
# its Gaussian sampling rule.
RULES = {"no-drop": ("mean",), "dropout": ("mean", "sampling"), "dropconnect": ("gaussian", "mean")}
NAMES = {"no-drop": "No-Drop", "dropout": "Dropout", "dropconnect": "DropConnect"}
COLORS = {"no-drop": "C0", "dropout": "C1", "dropconnect": "C3"}


# ---------------------------------------------------------------- reading runs
def sweep_cells(results, sweep, metric="test_error", rule="mean"):
    """``{variant: {value: {seed: metric}}}`` for the runs of ``sweep`` present with ``rule``."""
    table = {}
    for value, settings in sweep_runs(results["config"], sweep):
        run = results["runs"].get(run_key(settings))
        if run is None or rule not in run.get("final_by_inference", {}):
            continue
        number = run["final_by_inference"][rule].get(metric)
        if number is not None:
            table.setdefault(settings["variant"], {}).setdefault(value, {})[
                settings["seed"]] = number
    return table


def values_of(results, sweep, variant, metric="test_error", rule="mean", value=None):
    """``{seed: metric}`` of one cell of a sweep (``value`` None for ``curves``)."""
    return sweep_cells(results, sweep, metric, rule).get(variant, {}).get(value, {})


def compare(results, a, b, metric="test_error", sweep="curves", value=None):
    """Seed-paired ``a − b``; ``a`` and ``b`` are ``(variant, rule)``.

    Returns:
        :func:`dcscratch.stats.paired_interval`'s dict over the seeds both have, plus
        ``verdict``, ``detectable`` (the smallest difference n pairs resolve with 80 % power
        at this spread; NaN for n < 2) and ``n_to_resolve`` (pairs that would resolve a
        difference of the observed size; None where n < 2).
    """
    first = values_of(results, sweep, a[0], metric, a[1], value)
    second = values_of(results, sweep, b[0], metric, b[1], value)
    seeds = sorted(set(first) & set(second))
    if not seeds:
        return {"mean": math.nan, "sd": math.nan, "n": 0, "low": math.nan, "high": math.nan,
                "verdict": verdict({"low": math.nan, "high": math.nan, "n": 0}),
                "detectable": math.nan, "n_to_resolve": None}
    interval = paired_interval([first[s] for s in seeds], [second[s] for s in seeds])
    enough = interval["n"] >= 2
    interval["verdict"] = verdict(interval)
    interval["detectable"] = (min_detectable_difference(interval["sd"], interval["n"])
                              if enough else math.nan)
    interval["n_to_resolve"] = (n_to_resolve(interval["mean"], interval["sd"])
                                if enough and interval["mean"] != 0 else None)
    return interval


# ---------------------------------------------------------------- voting
def load_probabilities(folder, run, rule):
    """One run's test probabilities under ``rule`` (float64, rows summing to 1)."""
    with np.load(Path(folder) / run["probabilities"]["file"]) as stored:
        probs = stored[rule].astype(np.float64)
    return probs / probs.sum(axis=1, keepdims=True)


def vote(results, folder, variant, rule, labels):
    """The error and cross-entropy of the averaged probabilities of a variant's networks.

    Args:
        results: the results dict; its ``curves`` sweep (Table 2) runs are averaged.
        folder: the ``probabilities`` folder next to ``results.json``.
        variant, rule: e.g. ``("dropconnect", "gaussian")``.
        labels: the test labels (``Splits.y_test``, or ``probabilities/test_labels.npy``
            next to ``results.json``, which the command writes).

    Returns:
        dict with ``error``, ``loss``, ``networks`` and ``correct`` (per test image).
    """
    probs = []
    for _, settings in sweep_runs(results["config"], "curves"):
        run = results["runs"].get(run_key(settings))
        if settings["variant"] == variant and run is not None and "probabilities" in run:
            probs.append(load_probabilities(folder, run, rule))
    if not probs:
        raise ValueError(f"no stored probabilities for variant {variant!r} (rule {rule!r}) in "
                         f"{folder}")
    mean = np.mean(probs, axis=0)
    labels = np.asarray(labels)
    correct = np.argmax(mean, axis=1) == labels
    loss = float(-np.mean(np.log(np.maximum(mean[np.arange(len(labels)), labels], 1e-12))))
    return {"error": float(1 - correct.mean()), "loss": loss, "networks": len(probs),
            "correct": correct}


def vote_comparison(results, folder, a, b, labels):
    """Paired counts (McNemar) of two votes on the same test images; ``a``, ``b``: (variant, rule)."""
    return paired_counts(vote(results, folder, *a, labels)["correct"],
                         vote(results, folder, *b, labels)["correct"])


# ---------------------------------------------------------------- the figures' data
def curves(results, variant, metric="val_loss", hidden=400):
    """``array (seeds, epochs)`` of a per-epoch metric of the width sweep's runs at ``hidden``."""
    rows = []
    for value, settings in sweep_runs(results["config"], "width"):
        run = results["runs"].get(run_key(settings))
        if value == hidden and settings["variant"] == variant and run is not None:
            rows.append(run["history"][metric])
    return np.array(rows)


def best_keep_prob(results, variant, rule):
    """The keep_prob with the lowest mean **validation** error, and its mean test error.

    Returns:
        dict with ``keep_prob``, ``val_error``, ``test_error`` (means over seeds) and ``n``.
    """
    val = sweep_cells(results, "keep_prob", "val_error", rule).get(variant, {})
    test = sweep_cells(results, "keep_prob", "test_error", rule).get(variant, {})
    if not val:
        return None
    best = min(val, key=lambda value: np.mean(list(val[value].values())))
    return {"keep_prob": best, "val_error": float(np.mean(list(val[best].values()))),
            "test_error": float(np.mean(list(test[best].values()))), "n": len(val[best])}


# ---------------------------------------------------------------- report
def _cell(values, scale=100, digits=2):
    if not values:
        return "–"
    mean, sd, n = mean_sd(list(values.values()))
    sd_text = "–" if math.isnan(sd) else f"{scale * sd:.{digits}f}"
    return f"{scale * mean:.{digits}f} ± {sd_text} (n={n})"


def _difference_row(label, interval, scale=100, unit="points", digits=2):
    if interval["n"] < 2:
        return f"| {label} | – | – | {interval['n']} | {interval['verdict']} | – |"
    f = f".{digits}f"
    detect = (f"{scale * interval['detectable']:{f}} {unit}; ≈ {interval['n_to_resolve']} pairs "
              f"for {abs(scale * interval['mean']):{f}}" if "not resolved" in interval["verdict"]
              and interval["n_to_resolve"] is not None else "–")
    return (f"| {label} | {scale * interval['mean']:+{f}} | [{scale * interval['low']:+{f}}, "
            f"{scale * interval['high']:+{f}}] | {interval['n']} | {interval['verdict']} | "
            f"{detect} |")


TABLE2_COMPARISONS = ((("dropout", "mean"), ("no-drop", "mean")),
                      (("dropconnect", "gaussian"), ("no-drop", "mean")),
                      (("dropconnect", "gaussian"), ("dropout", "mean")),
                      (("dropconnect", "mean"), ("dropout", "mean")),
                      (("dropconnect", "gaussian"), ("dropconnect", "mean")))


def markdown(results, command=None, labels=None, folder=None):
    """``results.md`` for the paper config: Table 2, the sweeps, the checks, the costs.

    Args:
        results: the results dict.
        command: the command that produced it.
        labels: the test labels, for the voting column (None leaves the column out).
        folder: the ``probabilities`` folder (needed with ``labels``).
    """
    config = results["config"]
    training = config["training"]
    runs = results["runs"]
    lines = [f"# Paper-scale experiments: config `paper`, dataset `{config['dataset']}`", ""]
    if command:
        lines += [f"Produced by `{command}`.", ""]
    wall = sum(run["wall_s"] for run in runs.values())
    lines += [f"{len(runs)} runs, {wall / 60:.1f} min of training and evaluation in all. "
              f"784-{training['hidden']}-{training['hidden']}-10 ReLU (the sweeps vary the "
              f"width), SGD with momentum {training['momentum']}, batch "
              f"{training['batch_size']}, learning rate {training['learning_rate']} with the "
              f"step schedule {training['schedule']} over {training['epochs']} epochs, "
              f"keep_prob {training['keep_prob']}, DropConnect masks "
              f"`{training['dropconnect_mask']}` (per example). Test error and cross-entropy "
              f"once per run, after the last epoch.", ""]
    for entry in results.get("commands", []):
        lines.append(f"- `{entry['command']}`: {entry['runs_trained']} runs in "
                     f"{entry['elapsed_s'] / 60:.1f} min (1-minute load average "
                     f"{entry['load_average']['start']:.1f} → {entry['load_average']['end']:.1f})")
    lines += ["", "## Table 2 analogue (test error %, mean ± sd over n networks)", "",
              "| method | inference | test error | test cross-entropy | voting error | "
              "paper (MNIST): error / voting |", "|---|---|---:|---:|---:|---:|"]
    for variant, rules in RULES.items():
        for rule in rules:
            error = values_of(results, "curves", variant, "test_error", rule)
            if not error:
                continue
            loss = values_of(results, "curves", variant, "test_loss", rule)
            voting = "–"
            if labels is not None and folder is not None and rule in ("mean", "gaussian"):
                voted = vote(results, folder, variant, rule, labels)
                voting = f"{100 * voted['error']:.2f} ({voted['networks']} networks)"
            paper = PAPER_TABLE2[variant]
            paper_text = (f"{paper[0]:.2f} ± {paper[1]:.3f} / {paper[2]:.2f}"
                          if rule == RULES[variant][0] else "–")
            lines.append(f"| {NAMES[variant]} | {rule} | {_cell(error)} | "
                         f"{_cell(loss, 1, 4)} | {voting} | {paper_text} |")
    lines += ["", "Paired by seed (95 % t interval); where the interval holds 0 the last column "
              "gives the smallest difference these n pairs resolve with 80 % power, and the "
              "pairs a difference of the observed size would need.", "",
              "| test error, a − b | mean | 95 % CI | n | verdict | not resolved: detectable |",
              "|---|---:|---|---:|---|---|"]
    for a, b in TABLE2_COMPARISONS:
        lines.append(_difference_row(f"{NAMES[a[0]]} ({a[1]}) − {NAMES[b[0]]} ({b[1]})",
                                     compare(results, a, b)))
    lines += ["", "| test cross-entropy, a − b | mean | 95 % CI | n | verdict | "
              "not resolved: detectable |", "|---|---:|---|---:|---|---|"]
    for a, b in TABLE2_COMPARISONS:
        lines.append(_difference_row(f"{NAMES[a[0]]} ({a[1]}) − {NAMES[b[0]]} ({b[1]})",
                                     compare(results, a, b, "test_loss"), 1, "nats", 3))
    sampled = [run["gaussian_sampled"] for run in runs.values() if "gaussian_sampled" in run]
    if sampled:
        lines += ["", f"## The Gaussian rule: Z = {sampled[0]['samples']} samples against its "
                  f"closed form (first {sampled[0]['test_images']} test images)", "",
                  "| run | sampled error | closed-form error | same prediction |",
                  "|---:|---:|---:|---:|"]
        for index, record in enumerate(sampled):
            lines.append(f"| {index} | {100 * record['sampled_error']:.2f} | "
                         f"{100 * record['closed_error']:.2f} | "
                         f"{100 * record['same_prediction']:.2f} % |")
    if "width" in config["sweeps"]:
        lines += ["", "## Figure 2a analogue: hidden width (test error %)", "",
                  "| width | " + " | ".join(f"{NAMES[v]} ({r})" for v in RULES for r in RULES[v][:1])
                  + " | DropConnect − Dropout |", "|---:|---:|---:|---:|---|"]
        for width in config["sweeps"]["width"]["values"]:
            cells = [_cell(values_of(results, "width", variant, "test_error",
                                     RULES[variant][0], width)) for variant in RULES]
            difference = compare(results, ("dropconnect", "gaussian"), ("dropout", "mean"),
                                 sweep="width", value=width)
            interval = (f"{100 * difference['mean']:+.2f} [{100 * difference['low']:+.2f}, "
                        f"{100 * difference['high']:+.2f}], {difference['verdict']}"
                        if difference["n"] >= 2 else "–")
            lines.append(f"| {width} | " + " | ".join(cells) + f" | {interval} |")
    if "keep_prob" in config["sweeps"]:
        fixed = config["sweeps"]["keep_prob"].get("fixed", {})
        lines += ["", f"## Figure 2b analogue: keep_prob at width {fixed.get('hidden')} "
                  f"(DropConnect mask `{fixed.get('mask')}`), validation / test error %", "",
                  "| keep_prob | Dropout mean | Dropout sampling | DropConnect mean | "
                  "DropConnect Gaussian |", "|---:|---|---|---|---|"]
        for value in config["sweeps"]["keep_prob"]["values"]:
            cells = []
            for variant, rule in (("dropout", "mean"), ("dropout", "sampling"),
                                  ("dropconnect", "mean"), ("dropconnect", "gaussian")):
                val = values_of(results, "keep_prob", variant, "val_error", rule, value)
                test = values_of(results, "keep_prob", variant, "test_error", rule, value)
                cells.append("–" if not val else
                             f"{100 * np.mean(list(val.values())):.2f} / "
                             f"{100 * np.mean(list(test.values())):.2f} (n={len(val)})")
            lines.append(f"| {value:g} | " + " | ".join(cells) + " |")
        lines += ["", "Chosen on validation error:"]
        for variant, rule in (("dropout", "mean"), ("dropout", "sampling"),
                              ("dropconnect", "mean"), ("dropconnect", "gaussian")):
            best = best_keep_prob(results, variant, rule)
            if best:
                lines.append(f"- {NAMES[variant]} ({rule}): keep_prob {best['keep_prob']:g}, "
                             f"validation {100 * best['val_error']:.2f} %, test "
                             f"{100 * best['test_error']:.2f} % (n={best['n']})")
    exact = [(settings["mask"], results["runs"].get(run_key(settings)))
             for _, settings in sweep_runs(config, "exact")] if "exact" in config["sweeps"] else []
    exact = [(mask, run) for mask, run in exact if run is not None]
    if exact:
        lines += ["", "## Flipout against the exact per-example mask (one seed, width "
                  f"{exact[0][1]['settings']['hidden']})", "",
                  "| mask | validation error by epoch (%) | test error | wall time |",
                  "|---|---|---:|---:|"]
        for mask, run in exact:
            curve = ", ".join(f"{100 * value:.2f}" for value in run["history"]["val_error"])
            lines.append(f"| {mask} | {curve} | {100 * run['final']['test_error']:.2f} | "
                         f"{run['wall_s']:.0f} s |")
    return "\n".join(lines + [""])


def plot_width(results, ax):
    """Figure 2a analogue: test error against width, mean ± sd over seeds."""
    for variant in RULES:
        cells = sweep_cells(results, "width", "test_error", RULES[variant][0]).get(variant, {})
        widths = sorted(cells)
        stats = [mean_sd(list(cells[width].values())) for width in widths]
        ax.errorbar(widths, [100 * m for m, _, _ in stats],
                    yerr=[100 * np.nan_to_num(s) for _, s, _ in stats], marker="o", capsize=3,
                    color=COLORS[variant], label=f"{NAMES[variant]} ({RULES[variant][0]})")
    ax.set_xscale("log", base=2)
    widths = results["config"]["sweeps"]["width"]["values"]
    ax.set_xticks(widths, [str(width) for width in widths])
    ax.minorticks_off()
    ax.set(xlabel="hidden units per layer", ylabel="test error (%)",
           title="(a) width; keep_prob 0.5 (mean ± sd over seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def plot_keep_prob(results, ax, metric="val_error"):
    """Figure 2b analogue: error against keep_prob, mean and sampling inference."""
    for variant, rule, style in (("dropout", "mean", "-"), ("dropout", "sampling", "--"),
                                 ("dropconnect", "mean", "-"), ("dropconnect", "gaussian", "--")):
        cells = sweep_cells(results, "keep_prob", metric, rule).get(variant, {})
        values = sorted(cells)
        ax.plot(values, [100 * np.mean(list(cells[v].values())) for v in values], style,
                marker="o", color=COLORS[variant], label=f"{NAMES[variant]} ({rule})")
    fixed = results["config"]["sweeps"]["keep_prob"].get("fixed", {})
    ax.set(xlabel="keep_prob", ylabel=f"{metric.replace('_', ' ')} (%)",
           title=f"(b) keep_prob, {fixed.get('hidden')}-{fixed.get('hidden')} (mean of seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def plot_curves(results, axes, hidden=None):
    """Figure 2c analogue: validation cross-entropy and error against epoch, log axes.

    ``hidden`` defaults to the width of the keep_prob sweep (400, as the paper's Figure 2c).
    """
    if hidden is None:
        hidden = results["config"]["sweeps"].get("keep_prob", {}).get("fixed", {}).get(
            "hidden", 400)
    for ax, metric in zip(axes, ("val_loss", "val_error")):
        for variant in RULES:
            values = curves(results, variant, metric, hidden)
            if not len(values):
                continue
            scale = 1 if metric.endswith("loss") else 100
            epochs = np.arange(1, values.shape[1] + 1)
            mean = scale * values.mean(axis=0)
            ax.plot(epochs, mean, color=COLORS[variant], label=NAMES[variant])
            if len(values) > 1:
                sd = scale * values.std(axis=0, ddof=1)
                ax.fill_between(epochs, mean - sd, mean + sd, color=COLORS[variant], alpha=0.2)
            train = curves(results, variant, metric.replace("val", "train"), hidden)
            ax.plot(epochs, scale * train.mean(axis=0), ":", color=COLORS[variant])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set(xlabel="epoch", title=f"(c) {hidden}-{hidden}: "
               + ("cross-entropy" if metric.endswith("loss") else "error (%)")
               + " (validation solid, training dotted)")
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=8)


def write_report(results, out, command=None, labels=None):
    """Write ``results.md``, ``width.png``, ``keep_prob.png`` and ``curves.png`` under ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    written = [out / "results.md"]
    written[0].write_text(markdown(results, command, labels, out / "probabilities"))
    sweeps = results["config"]["sweeps"]
    # Each figure and the sweep it draws from (Figure 2c's curves are the width sweep's runs).
    for name, needs, draw, size in (("width", "width", plot_width, (6, 4)),
                                    ("keep_prob", "keep_prob", plot_keep_prob, (6, 4)),
                                    ("curves", "width", plot_curves, (11, 4))):
        if needs not in sweeps:
            continue
        fig, axes = plt.subplots(1, 2 if name == "curves" else 1, figsize=size)
        draw(results, axes)
        fig.tight_layout()
        fig.savefig(out / f"{name}.png", dpi=110)
        plt.close(fig)
        written.append(out / f"{name}.png")
    return written
