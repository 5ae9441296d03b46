"""The experiments' configurations: variants, sweeps, training settings, and the runs they plan.

What changes when an experiment is redesigned: which variants and sweeps exist, the training
settings of each config and dataset, and how a run is named in ``results.json``. Used by the
runner (:mod:`dcscratch.experiments`) and the report (:mod:`dcscratch.experiment_report`).
"""
from dcscratch.data import DATASET_NAMES
from dcscratch.validation import check_choice, check_positive_int

VARIANTS = ("no-drop", "dropout", "dropconnect-batch", "dropconnect-example",
            "dropconnect-gaussian")
SWEEPS = ("width", "keep_prob", "train_size", "curves")
CONFIG_NAMES = ("quick", "full")
DATASETS = DATASET_NAMES  # digits, mnist, fashion-mnist
METRICS = ("train_loss", "train_error", "val_loss", "val_error", "test_loss", "test_error")
# Which parameter each sweep varies, as named in a run's settings.
SWEPT = {"width": "hidden", "keep_prob": "keep_prob", "train_size": "train_fraction",
         "curves": None}
LABELS = {"hidden": "hidden width (units per layer)", "keep_prob": "keep_prob",
          "train_fraction": "fraction of the training set"}
# The cheap variants go into every sweep; per-example masks cost about five times a
# per-batch run, so they appear only at the default setting (the ``curves`` sweep).
SWEEP_VARIANTS = {"width": ("no-drop", "dropout", "dropconnect-batch"),
                  "keep_prob": ("dropout", "dropconnect-batch"),
                  "train_size": ("no-drop", "dropout", "dropconnect-batch"),
                  "curves": VARIANTS}

_TRAINING = {
    # digits: 1,078 training images of 64 pixels. Sized so that ``full`` fits in about ten
    # minutes on two CPU cores (measured; see the README) and ``quick`` in seconds.
    ("quick", "digits"): {"hidden": 32, "keep_prob": 0.5, "epochs": 10, "batch_size": 32,
                          "learning_rate": 0.05, "momentum": 0.9},
    ("full", "digits"): {"hidden": 128, "keep_prob": 0.5, "epochs": 30, "batch_size": 32,
                         "learning_rate": 0.05, "momentum": 0.9},
    # MNIST: the paper's 784-800-800-10 network; hours on a CPU, for a GPU or patience.
    ("quick", "mnist"): {"hidden": 800, "keep_prob": 0.5, "epochs": 3, "batch_size": 128,
                         "learning_rate": 0.05, "momentum": 0.9},
    ("full", "mnist"): {"hidden": 800, "keep_prob": 0.5, "epochs": 50, "batch_size": 128,
                        "learning_rate": 0.05, "momentum": 0.9},
}
# Fashion-MNIST has MNIST's shapes and sizes: the same settings until the paper-scale config
# of issue 18 replaces them.
_TRAINING.update({(name, "fashion-mnist"): _TRAINING[name, "mnist"] for name in CONFIG_NAMES})
_SWEEP_VALUES = {
    ("quick", "digits"): {"width": (16, 32), "keep_prob": (0.5, 0.8),
                          "train_size": (0.5, 1.0), "seeds": 2},
    ("full", "digits"): {"width": (16, 32, 64, 128, 256), "keep_prob": (0.3, 0.5, 0.7, 0.9),
                         "train_size": (0.1, 0.25, 0.5, 1.0), "seeds": 5},
    ("quick", "mnist"): {"width": (400, 800), "keep_prob": (0.5, 0.8),
                         "train_size": (0.1, 1.0), "seeds": 2},
    ("full", "mnist"): {"width": (200, 400, 800, 1600), "keep_prob": (0.3, 0.5, 0.7, 0.9),
                        "train_size": (0.1, 0.25, 0.5, 1.0), "seeds": 5},
}
_SWEEP_VALUES.update({(name, "fashion-mnist"): _SWEEP_VALUES[name, "mnist"]
                      for name in CONFIG_NAMES})


# ---------------------------------------------------------------- configuration
def make_config(name="full", dataset="digits", *, sweeps=SWEEPS, variants=VARIANTS, seeds=None):
    """The full description of an experiment: training settings, sweeps and seeds.

    Args:
        name: ``"quick"`` (seconds; what notebook 07 runs live) or ``"full"``.
        dataset: ``"digits"`` (bundled), ``"mnist"`` or ``"fashion-mnist"`` (local files only).
        sweeps: names from ``SWEEPS`` to run.
        variants: names from ``VARIANTS``; each sweep keeps those of its own it lists.
        seeds: number of seeds (0, 1, ..., seeds-1); default the config's.

    Returns:
        A JSON-serialisable dict; ``results.json`` stores it and a rerun must match it.
    """
    check_choice(name, CONFIG_NAMES, "config")
    check_choice(dataset, DATASETS, "dataset")
    for sweep in sweeps:
        check_choice(sweep, SWEEPS, "sweeps")
    for variant in variants:
        check_choice(variant, VARIANTS, "variants")
    values = _SWEEP_VALUES[name, dataset]
    seeds = values["seeds"] if seeds is None else check_positive_int(seeds, "seeds")
    training = _TRAINING[name, dataset]
    plan = {}
    for sweep in SWEEPS:
        chosen = [variant for variant in SWEEP_VARIANTS[sweep] if variant in variants]
        if sweep in sweeps and chosen:
            plan[sweep] = {"variants": chosen,
                           "values": list(values[sweep]) if sweep in values else []}
    return {"name": name, "dataset": dataset, "training": dict(training), "sweeps": plan,
            "seeds": list(range(seeds))}


def run_settings(config, variant, seed, **swept):
    """One run's settings: the config's defaults, with ``swept`` values replaced."""
    training = config["training"]
    settings = {"variant": variant, "hidden": training["hidden"],
                "keep_prob": training["keep_prob"], "train_fraction": 1.0, "seed": seed}
    settings.update(swept)
    if variant == "no-drop":
        settings["keep_prob"] = None  # nothing is dropped: one run serves every keep_prob
    return settings


def run_key(settings):
    """The name of a run in ``results.json``; runs shared by two sweeps share the key."""
    keep_prob = "-" if settings["keep_prob"] is None else f"{settings['keep_prob']:g}"
    return (f"{settings['variant']} hidden={settings['hidden']} keep_prob={keep_prob} "
            f"train_fraction={settings['train_fraction']:g} seed={settings['seed']}")


def sweep_runs(config, sweep):
    """``[(value, settings), ...]`` for every run of one sweep (value None for ``curves``)."""
    spec = config["sweeps"][sweep]
    values = spec["values"] or [None]
    runs = []
    for variant in spec["variants"]:
        for value in values:
            swept = {} if value is None else {SWEPT[sweep]: value}
            for seed in config["seeds"]:
                runs.append((value, run_settings(config, variant, seed, **swept)))
    return runs


def planned_runs(config):
    """Every distinct run of the config, in sweep order: ``{key: settings}``."""
    plan = {}
    for sweep in config["sweeps"]:
        for _, settings in sweep_runs(config, sweep):
            plan.setdefault(run_key(settings), settings)
    return plan
