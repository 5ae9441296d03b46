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
