"""The experiments' figures: a sweep against its swept value, and the per-epoch curves.

Each draws on a matplotlib axis what :mod:`dcscratch.experiments.analysis` computes; a variant
keeps its colour in every figure.
"""
import math
import textwrap

import numpy as np

from dcscratch.experiments.analysis import (PAPER_RULE, RULE_NAMES, curves, held_fixed,
                                            sweep_table)
from dcscratch.experiments.configs import LABELS, SWEPT, VARIANTS, run_key, sweep_runs
from dcscratch.stats import mean_sd
from dcscratch.validation import _invalid


# Sweeps whose values are numbers, drawn as a line against them; the others (DropConnect's mask
# mode, its convention) are tables only.
PLOTTED_SWEEPS = ("width", "keep_prob", "train_size", "curves")


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


CURVE_PANELS = {"train_error": "train error (%)", "test_error": "test error (%)",
                "train_loss": "train cross-entropy (nats)",
                "test_loss": "test cross-entropy (nats)",
                "val_error": "validation error (%)", "val_loss": "validation cross-entropy (nats)"}


def plot_curves(results, axes=None, metrics=("train_error", "test_error", "test_loss")):
    """Per-epoch curves at the default setting: errors in percent, cross-entropies in nats.

    Mean ± sd band over seeds, mean-rule inference. ``dropconnect-gaussian`` is left out: its
    training, hence its per-epoch curve, is ``dropconnect-batch``'s. Error panels share one
    y range (errors compare by eye across panels); each cross-entropy panel has its own.

    Args:
        axes: one axis per metric (a 2-D array of axes is read row by row); None makes a
            figure with one row.
        metrics: the per-epoch metrics drawn, one per axis, from ``CURVE_PANELS`` (default:
            train error, test error, test cross-entropy; the paper's Figure 2c draws the
            training and test cross-entropy).
    """
    import matplotlib.pyplot as plt

    for metric in metrics:
        if metric not in CURVE_PANELS:
            raise ValueError(_invalid("metrics", f"names from {sorted(CURVE_PANELS)}", metrics))
    if axes is None:
        _, axes = plt.subplots(1, len(metrics), figsize=(4.7 * len(metrics), 3.8))
    axes = np.atleast_1d(axes).ravel()
    if len(axes) != len(metrics):
        raise ValueError(_invalid("axes", f"one axis per metric ({len(metrics)})",
                                  f"{len(axes)} axes"))
    seeds = len(results["config"]["seeds"])
    error_top, loss_ranges = 0.0, {}
    for ax, metric in zip(axes, metrics):
        name = CURVE_PANELS[metric]
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
                low, high = loss_ranges.get(metric, (math.inf, 0.0))
                loss_ranges[metric] = (min(low, float(np.min(mean))),
                                       max(high, float(np.max(mean + sd))))
        ax.set(xlabel="epoch", ylabel=name)
        ax.set_title(f"{name}, mean ± sd over {seeds} seeds", fontsize=9)
        if scale == 100:
            ax.set_yscale("symlog", linthresh=1)  # logarithmic above 1 %, so late epochs show
        else:
            ax.set_yscale("log")  # as the paper's Figure 2c
        ax.grid(alpha=0.3, which="both")
    for ax, metric in zip(axes, metrics):
        if metric.endswith("_error"):
            ax.set_ylim(0, error_top * 1.1)
            _readable_log_ticks(ax, error_top)
        else:
            low, high = loss_ranges[metric]
            # 1-2-5 steps over a range of decades; finer over less than one, so ticks stay apart.
            ticks = ((0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2) if high > 20 * low
                     else (0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2, 3))
            _readable_log_ticks(ax, high, low, ticks=ticks)
    axes[0].legend(fontsize=8)
    axes[0].figure.suptitle(f"held fixed: {held_fixed(results, 'curves')}; mean-rule inference",
                            fontsize=9)
    return axes
