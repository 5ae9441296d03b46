"""The course's figures: small functions so that every notebook draws the same way."""
import matplotlib.pyplot as plt
import numpy as np


def plot_digits(images, labels, *, columns=10, rows=2, side=8):
    """Show the first ``columns × rows`` images (flattened ``side × side``) with their labels."""
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 0.9, rows * 1.1))
    for ax, image, label in zip(axes.ravel(), images, labels):
        ax.imshow(np.asarray(image).reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(str(label), fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    return fig


def plot_learning_curves(histories, *, metric="val_acc", title=None, ylabel="validation accuracy"):
    """One line per model: ``histories`` maps a model's name to a dict of per-epoch lists."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, history in histories.items():
        values = history[metric]
        ax.plot(range(1, len(values) + 1), values, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_mask(mask, *, title="mask", ax=None):
    """Draw a 0/1 mask: black = kept connection, white = dropped."""
    if ax is None:
        _, ax = plt.subplots(figsize=(3, 3))
    ax.imshow(np.asarray(mask), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def plot_reliability_diagram(probs_by_rule, labels, *, bins=15):
    """One reliability diagram per rule: accuracy per confidence bin against the diagonal.

    Args:
        probs_by_rule: ``{name: (batch, classes) probabilities}``, e.g. one entry per
            inference rule, all for the same examples.
        labels: ``(batch,)`` integer classes.
        bins: number of equal-width confidence bins (as in ``expected_calibration_error``).

    A perfectly calibrated model's bars reach their bin's mean confidence (the red dots, close
    to the diagonal); bars below it mean over-confidence, bars above it under-confidence.
    The number over each bar is how many predictions its bin holds. Each title gives the
    rule's expected calibration error (ECE).
    """
    from dcscratch.inference import calibration_bins, expected_calibration_error

    fig, axes = plt.subplots(1, len(probs_by_rule), figsize=(3.2 * len(probs_by_rule), 3.4),
                             squeeze=False, sharey=True)
    for ax, (name, probs) in zip(axes[0], probs_by_rule.items()):
        table = calibration_bins(probs, labels, bins)
        edges, used = table["edges"], table["count"] > 0
        width = edges[1] - edges[0]
        ax.bar(edges[:-1][used], table["accuracy"][used], width=width, align="edge",
               color="C0", edgecolor="white", label="accuracy in the bin")
        # Calibrated means each bar reaches its own mean confidence, which lies near the diagonal.
        ax.plot(edges[:-1][used] + width / 2, table["confidence"][used], "o", color="C3", ms=4,
                label="mean confidence in the bin")
        # A bar of 2 images looks as solid as one of 200: print how many each holds, upright so
        # that the counts of neighbouring bins (say 20 and 283) cannot run together.
        for left, accuracy, count in zip(edges[:-1][used], table["accuracy"][used],
                                         table["count"][used]):
            ax.text(left + width / 2, accuracy + 0.02, str(count), ha="center", va="bottom",
                    rotation=90, fontsize=6)
        ax.plot([0, 1], [0, 1], color="k", lw=0.8, ls="--", label="calibrated")
        ece = expected_calibration_error(probs, labels, bins)
        # Headroom above 1 for the counts of full bars.
        ax.set(xlim=(0, 1), ylim=(0, 1.12), yticks=np.linspace(0, 1, 6), xlabel="confidence",
               title=f"{name}: ECE {ece:.3f}")
    axes[0, 0].set_ylabel("accuracy")
    # One legend under the panels, where it hides no bar.
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="lower center", ncol=3, fontsize=8)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig
