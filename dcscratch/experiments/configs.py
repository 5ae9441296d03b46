"""The experiments' configurations: variants, sweeps, training settings, and the runs they plan.

What changes when an experiment is redesigned: which variants and sweeps exist, the training
settings of each config and dataset, and how a run is named in ``results.json``. Used by the
sweep (:mod:`dcscratch.experiments.runner`), the command line and the reports.
"""
from dcscratch.data import DATASET_NAMES
from dcscratch.validation import check_choice, check_positive_int

VARIANTS = ("no-drop", "dropout", "dropconnect-batch", "dropconnect-example",
            "dropconnect-gaussian", "dropconnect")
SWEEPS = ("width", "keep_prob", "train_size", "curves", "exact", "convention")
CONFIG_NAMES = ("quick", "full", "paper", "long")
# The paper-scale config's DropConnect (variant ``dropconnect``) masks every example
# separately; its mask mode is a run setting: ``flipout`` (keep_prob 0.5, about 2× a Dense
# step on a CPU), ``gaussian`` (any keep_prob, as cheap; the keep_prob sweep) or ``example``
# (exact, about 38× a Dense step on two cores in `make bench` of 2026-12-08:
# ``--exact-per-example``, for a GPU).
DROPCONNECT_MASKS = ("flipout", "gaussian", "example")
DATASETS = DATASET_NAMES  # digits, mnist, fashion-mnist
# How a run's train/validation/test split is drawn (``config["split"]``): on the digits,
# ``"per-seed"``, each run's split drawn with the run's own seed (``data.load_digits(seed)``),
# so that the intervals over seeds include the split's sampling error (review of 07, finding
# 6). The MNIST-shaped datasets have an official test set and one fixed split: their configs
# have no ``split`` key.
SPLIT_PER_SEED = "per-seed"
METRICS = ("train_loss", "train_error", "val_loss", "val_error", "test_loss", "test_error")
# Which parameter each sweep varies, as named in a run's settings.
SWEPT = {"width": "hidden", "keep_prob": "keep_prob", "train_size": "train_fraction",
         "curves": None, "exact": "mask", "convention": "inverted"}
LABELS = {"hidden": "hidden width (units per layer)", "keep_prob": "keep_prob",
          "train_fraction": "fraction of the training set", "mask": "DropConnect's mask mode",
          "inverted": "DropConnect's convention (inverted: (M⊙W)/keep_prob)"}
# The quick and full configs (notebook 07's digits; MNIST and Fashion-MNIST too). Their
# DropConnect is the variant ``dropconnect``: per-example masks, inverted ((M⊙W)/keep_prob, so
# that one learning rate moves its weights as fast as Dense's and Keras's inverted Dropout's;
# the unscaled M⊙W moves its expected weights keep_prob² as fast: review of 07, finding 6), and
# scored by the paper's Gaussian rule in closed form as well as the mean rule. Its masks come
# from Flipout at keep_prob 0.5 (each example's mask exactly Bernoulli(½), about 2× a Dense
# step in `make bench`) and from the Gaussian mask in the keep_prob sweep (any keep_prob, as cheap), so every
# sweep has a per-example DropConnect (finding 10; per-batch masks, the blog's variant, run only
# at the default setting). At the default setting (``curves``) the ``exact`` sweep sets
# Flipout beside the Gaussian mask and the exact per-example mask (``mask="example"``, about
# 2× a Flipout run's CPU time on the digits), and the ``convention`` sweep the unscaled
# convention beside the inverted one, per example and per batch (one mask per batch shares its
# noise across the batch, so the step size it tolerates may differ from per-example masks').
SWEEP_VARIANTS = {"width": ("no-drop", "dropout", "dropconnect"),
                  "keep_prob": ("dropout", "dropconnect"),
                  "train_size": ("no-drop", "dropout", "dropconnect"),
                  "curves": ("no-drop", "dropout", "dropconnect", "dropconnect-batch"),
                  "exact": ("dropconnect",),
                  "convention": ("dropconnect", "dropconnect-batch")}
# Settings a quick or full sweep holds fixed away from the config's defaults: the keep_prob
# sweep's DropConnect masks by the Gaussian mask (Flipout needs keep_prob 0.5).
SWEEP_SETTINGS = {"keep_prob": {"mask": "gaussian"}}
# The paper-scale config: Table 2 (``curves``: every variant at 784-800-800-10, whose
# per-epoch training and validation numbers also give Figure 2c at width 400 through the
# ``width`` sweep), Figure 2a (``width``), Figure 2b (``keep_prob`` at 400-400, DropConnect
# with the Gaussian mask since Flipout needs keep_prob 0.5) and one short run of the exact
# per-example mask beside Flipout (``exact``).
PAPER_SWEEP_VARIANTS = {"curves": ("no-drop", "dropout", "dropconnect"),
                        "width": ("no-drop", "dropout", "dropconnect"),
                        "keep_prob": ("dropout", "dropconnect"),
                        "exact": ("dropconnect",)}
# Settings a sweep holds fixed away from the config's defaults.
PAPER_SWEEP_SETTINGS = {"keep_prob": {"hidden": 400, "mask": "gaussian"},
                        "exact": {"hidden": 400, "epochs": 3}}

# What the quick and full configs add to every dataset's settings: DropConnect per example and
# inverted (``SWEEP_VARIANTS``), and the inference rules every run is scored with after
# training (``experiments.train_run`` reads them): DropConnect by the mean rule and by the
# paper's Gaussian rule in closed form (Z → ∞) on every split, checked against Z =
# ``gaussian_samples`` samples on the first ``sampled_test_images`` test images at the default
# setting; Dropout by the mean rule and by sampling (the mean of ``dropout_samples`` passes,
# the paper's Figure 2b) up to ``dropout_samples_max_hidden`` units.
_PER_EXAMPLE = {"dropconnect_mask": "flipout", "dropconnect_inverted": True,
                "gaussian_samples": 1000, "dropout_samples": 50}
_TRAINING = {
    # digits: 1,077 training images of 64 pixels. Sized so that ``full`` takes about ten minutes
    # of CPU on two cores (175 runs, 10.2 CPU-min on 2026-12-07; docs/measurements.md) and
    # ``quick`` seconds (notebook 07 runs its ``curves`` sweep live: 8 of its 30 runs). Every
    # test image (360) is in the Z = 1000 check, and Dropout samples at every width swept.
    ("quick", "digits"): {"hidden": 32, "keep_prob": 0.5, "epochs": 10, "batch_size": 32,
                          "learning_rate": 0.05, "momentum": 0.9, **_PER_EXAMPLE,
                          "sampled_test_images": 360, "dropout_samples_max_hidden": 256},
    ("full", "digits"): {"hidden": 128, "keep_prob": 0.5, "epochs": 30, "batch_size": 32,
                         "learning_rate": 0.05, "momentum": 0.9, **_PER_EXAMPLE,
                         "sampled_test_images": 360, "dropout_samples_max_hidden": 256},
    # MNIST: the paper's 784-800-800-10 network; hours on a CPU, for a GPU or patience.
    ("quick", "mnist"): {"hidden": 800, "keep_prob": 0.5, "epochs": 3, "batch_size": 128,
                         "learning_rate": 0.05, "momentum": 0.9, **_PER_EXAMPLE,
                         "sampled_test_images": 1000, "dropout_samples_max_hidden": 400},
    ("full", "mnist"): {"hidden": 800, "keep_prob": 0.5, "epochs": 50, "batch_size": 128,
                        "learning_rate": 0.05, "momentum": 0.9, **_PER_EXAMPLE,
                        "sampled_test_images": 1000, "dropout_samples_max_hidden": 400},
}
# Fashion-MNIST has MNIST's shapes and sizes: the same quick and full settings.
_TRAINING.update({(name, "fashion-mnist"): _TRAINING[name, "mnist"] for name in ("quick", "full")})
# The paper's protocol (Wan et al. 2013, section 6.1) compressed to a CPU budget: 784-800-800-10
# ReLU, batches of 128, SGD with momentum 0.9, keep_prob 0.5, per-example DropConnect masks,
# and the paper's step schedule (rate × 1, 0.5, 0.1, then 0.01) squeezed from about 1,000
# epochs into ``epochs``: ``schedule`` lists [fraction of the epochs done, multiplier] steps.
# Initial rate 0.05, not the paper's 0.1: at 0.1 (with Keras's Glorot initialisation, not the
# paper's N(0, 0.1)) Dropout reached 78.8 % validation accuracy after 2 epochs against No-Drop's
# 84.7 % (a two-epoch check, not a search). The test set is read once per run, at the end;
# the per-epoch curves are the training and validation splits'.
_PAPER_TRAINING = {"hidden": 800, "keep_prob": 0.5, "epochs": 15, "batch_size": 128,
                   "learning_rate": 0.05, "momentum": 0.9,
                   "schedule": [[0.5, 1.0], [0.75, 0.5], [0.9, 0.1], [1.0, 0.01]],
                   "dropconnect_mask": "flipout", "test_each_epoch": False,
                   # Inference: DropConnect by the mean rule and the paper's Gaussian rule, the
                   # latter in closed form (E[relu(u)], its Z → ∞ limit) on every split and
                   # with Z = 1000 samples on the first ``test_images`` test images.
                   "gaussian_samples": 1000, "sampled_test_images": 1000,
                   # Dropout's sampling inference (Figure 2b): the mean of this many passes,
                   # for runs no wider than 400 units (at 800 the 50 passes over the validation
                   # and test images would cost about a minute per run on two cores).
                   "dropout_samples": 50, "dropout_samples_max_hidden": 400}
_TRAINING.update({("paper", dataset): dict(_PAPER_TRAINING) for dataset in ("mnist",
                                                                            "fashion-mnist")})
# The long config: the fair fight of notebook 10 at Figure 2's 784-400-400-10 network, long
# enough to see where validation stops moving. Every arm gets the same learning rate (0.05,
# one for all, not tuned per arm; 0.2 diverged for every method in a probe), batch, momentum
# and schedule: the paper's proportions (rate × 1 for 600 of its 1,020 epochs, × 0.5 for
# 400, × 0.1 for the last 20), over ``epochs``. DropConnect runs twice per seed: inverted
# ((M⊙W)/keep_prob, the step size of Dense and Keras's inverted Dropout) and unscaled (the
# paper's M⊙W, whose expected weights move keep_prob² as fast at one learning rate): the
# ``convention`` sweep measures what that costs. Both by Flipout (exact per-example masks at
# keep_prob ½). Each run records its early-stopped numbers (the weights of the epoch with the
# best validation cross-entropy; No-Drop's are the practitioner's baseline) and, for
# DropConnect, the Gaussian rule's validation curve.
_LONG_TRAINING = {"hidden": 400, "keep_prob": 0.5, "epochs": 200, "batch_size": 128,
                  "learning_rate": 0.05, "momentum": 0.9,
                  "schedule": [[600 / 1020, 1.0], [1000 / 1020, 0.5], [1.0, 0.1]],
                  "dropconnect_mask": "flipout", "dropconnect_inverted": True,
                  "test_each_epoch": False, "gaussian_samples": 1000,
                  "sampled_test_images": 1000, "dropout_samples": 50,
                  "dropout_samples_max_hidden": 400, "early_stopping": True,
                  "gaussian_curves": True}
_TRAINING.update({("long", dataset): dict(_LONG_TRAINING) for dataset in ("mnist",
                                                                          "fashion-mnist")})
_SWEEP_VALUES = {
    ("quick", "digits"): {"width": (16, 32), "keep_prob": (0.5, 0.8),
                          "train_size": (0.5, 1.0), "exact": ("flipout", "gaussian"),
                          "convention": (True, False), "seeds": 2},
    ("full", "digits"): {"width": (16, 32, 64, 128, 256), "keep_prob": (0.3, 0.5, 0.7, 0.9),
                         "train_size": (0.1, 0.25, 0.5, 1.0),
                         "exact": ("flipout", "gaussian", "example"),
                         "convention": (True, False), "seeds": 5},
    ("quick", "mnist"): {"width": (400, 800), "keep_prob": (0.5, 0.8),
                         "train_size": (0.1, 1.0), "exact": ("flipout", "gaussian"),
                         "convention": (True, False), "seeds": 2},
    ("full", "mnist"): {"width": (200, 400, 800, 1600), "keep_prob": (0.3, 0.5, 0.7, 0.9),
                        "train_size": (0.1, 0.25, 0.5, 1.0),
                        "exact": ("flipout", "gaussian", "example"),
                        "convention": (True, False), "seeds": 5},
}
_SWEEP_VALUES.update({(name, "fashion-mnist"): _SWEEP_VALUES[name, "mnist"]
                      for name in ("quick", "full")})
_SWEEP_VALUES.update({("paper", dataset): {"width": (200, 400, 800),
                                           "keep_prob": (0.1, 0.3, 0.5, 0.7, 0.9),
                                           "exact": ("flipout", "example"), "seeds": 5,
                                           "sweep_seeds": {"keep_prob": 2, "exact": 1}}
                      for dataset in ("mnist", "fashion-mnist")})
_SWEEP_VALUES.update({("long", dataset): {"convention": (False,), "seeds": 5}
                      for dataset in ("mnist", "fashion-mnist")})
LONG_SWEEP_VARIANTS = {"curves": ("no-drop", "dropout", "dropconnect"),
                       "convention": ("dropconnect",)}


# ---------------------------------------------------------------- configuration
def make_config(name="full", dataset="digits", *, sweeps=SWEEPS, variants=VARIANTS, seeds=None,
                exact_per_example=False, epochs=None):
    """The full description of an experiment: training settings, sweeps and seeds.

    Args:
        name: ``"quick"`` (seconds; notebook 07 runs its ``curves`` sweep live), ``"full"``, ``"paper"``
            (the paper's network and protocol compressed to a CPU budget; MNIST or
            Fashion-MNIST only) or ``"long"`` (the fair fight at 400-400 over many epochs:
            ``_LONG_TRAINING``; MNIST or Fashion-MNIST only).
        dataset: ``"digits"`` (bundled), ``"mnist"`` or ``"fashion-mnist"`` (local files only).
        sweeps: names from ``SWEEPS`` to run.
        variants: names from ``VARIANTS``; each sweep keeps those of its own it lists.
        seeds: number of seeds (0, 1, ..., seeds-1); default the config's.
        exact_per_example: ``"paper"`` and ``"long"`` only: train every DropConnect run with
            the exact per-example mask (``mask="example"``) instead of Flipout or the Gaussian mask (for
            a GPU; about 38× a Dense step on two CPU cores, `make bench` of 2026-12-08).
        epochs: epochs per run in place of the config's (the schedule keeps its proportions).

    Returns:
        A JSON-serialisable dict; ``results.json`` stores it and a rerun must match it. On the
        digits it has ``split`` (``SPLIT_PER_SEED``: each run's split drawn with its seed).
    """
    check_choice(name, CONFIG_NAMES, "config")
    check_choice(dataset, DATASETS, "dataset")
    if (name, dataset) not in _TRAINING:
        raise ValueError(f"config {name!r} is for dataset 'mnist' or 'fashion-mnist' (the "
                         f"paper's 784-pixel images), not {dataset!r}")
    for sweep in sweeps:
        check_choice(sweep, SWEEPS, "sweeps")
    for variant in variants:
        check_choice(variant, VARIANTS, "variants")
    if not isinstance(exact_per_example, bool):
        raise TypeError(f"exact_per_example must be True or False, got {exact_per_example!r}")
    if exact_per_example and name not in ("paper", "long"):
        raise ValueError("exact_per_example applies to configs 'paper' and 'long' only (the "
                         "quick and full configs train the exact mask in their 'exact' sweep)")
    values = _SWEEP_VALUES[name, dataset]
    default_seeds = values["seeds"]
    seeds = default_seeds if seeds is None else check_positive_int(seeds, "seeds")
    training = dict(_TRAINING[name, dataset])
    if exact_per_example:
        training["dropconnect_mask"] = "example"
    if epochs is not None:
        training["epochs"] = check_positive_int(epochs, "epochs")
    sweep_variants = {"paper": PAPER_SWEEP_VARIANTS, "long": LONG_SWEEP_VARIANTS}.get(
        name, SWEEP_VARIANTS)
    fixed = {"paper": PAPER_SWEEP_SETTINGS, "long": {}}.get(name, SWEEP_SETTINGS)
    plan = {}
    for sweep in SWEEPS:
        chosen = [variant for variant in sweep_variants.get(sweep, ()) if variant in variants]
        if sweep in sweeps and chosen:
            plan[sweep] = {"variants": chosen,
                           "values": list(values[sweep]) if sweep in values else []}
            if sweep in fixed:
                plan[sweep]["fixed"] = dict(fixed[sweep])
                if exact_per_example and "mask" in fixed[sweep]:
                    plan[sweep]["fixed"]["mask"] = "example"
            # A sweep may use fewer seeds than the config (never more than asked for).
            sweep_seeds = values.get("sweep_seeds", {}).get(sweep)
            if sweep_seeds is not None:
                plan[sweep]["seeds"] = list(range(min(sweep_seeds, seeds)))
    config = {"name": name, "dataset": dataset, "training": training, "sweeps": plan,
              "seeds": list(range(seeds))}
    if dataset == "digits":
        config["split"] = SPLIT_PER_SEED
    return config


def split_seed(config, seed):
    """The seed a run's data split is drawn with: the run's own on the digits (``"per-seed"``),
    0 (the one fixed split) otherwise."""
    return seed if config.get("split") == SPLIT_PER_SEED else 0


def run_settings(config, variant, seed, **swept):
    """One run's settings: the config's defaults, with ``swept`` values replaced.

    The ``dropconnect`` variant's runs also name their ``mask`` (the config's
    ``dropconnect_mask`` unless swept or fixed otherwise); where the config names DropConnect's
    convention (``dropconnect_inverted``), every DropConnect variant's runs name it
    (``inverted``). Other runs have neither key, so their names (:func:`run_key`) are as before.
    """
    training = config["training"]
    settings = {"variant": variant, "hidden": training["hidden"],
                "keep_prob": training["keep_prob"], "train_fraction": 1.0, "seed": seed}
    if variant == "dropconnect":
        settings["mask"] = training.get("dropconnect_mask", "flipout")
    if variant.startswith("dropconnect") and "dropconnect_inverted" in training:
        settings["inverted"] = training["dropconnect_inverted"]
    settings.update(swept)
    if variant != "dropconnect":
        settings.pop("mask", None)
    if not variant.startswith("dropconnect"):
        settings.pop("inverted", None)
    if variant == "no-drop":
        settings["keep_prob"] = None  # nothing is dropped: one run serves every keep_prob
    return settings


def run_key(settings):
    """The name of a run in ``results.json``; runs shared by two sweeps share the key."""
    keep_prob = "-" if settings["keep_prob"] is None else f"{settings['keep_prob']:g}"
    key = (f"{settings['variant']} hidden={settings['hidden']} keep_prob={keep_prob} "
           f"train_fraction={settings['train_fraction']:g} seed={settings['seed']}")
    for extra in ("mask", "inverted", "epochs"):
        if extra in settings:
            key += f" {extra}={settings[extra]}"
    return key


def sweep_runs(config, sweep):
    """``[(value, settings), ...]`` for every run of one sweep (value None for ``curves``)."""
    spec = config["sweeps"][sweep]
    values = spec["values"] or [None]
    runs = []
    for variant in spec["variants"]:
        for value in values:
            swept = dict(spec.get("fixed", {}))
            if value is not None:
                swept[SWEPT[sweep]] = value
            for seed in spec.get("seeds", config["seeds"]):
                runs.append((value, run_settings(config, variant, seed, **swept)))
    return runs


# The paper config runs Table 2 first, seed by seed, so that an interrupted sweep leaves
# whole pairs; then the width sweep, the exact-mask check and the keep_prob sweep.
PAPER_SWEEP_ORDER = ("curves", "width", "exact", "keep_prob")


def planned_runs(config):
    """Every distinct run of the config, in the order they run: ``{key: settings}``.

    Sweep order (the paper config: ``PAPER_SWEEP_ORDER``, each sweep seed by seed).
    """
    plan = {}
    sweeps = list(config["sweeps"])
    if config["name"] == "paper":
        sweeps.sort(key=PAPER_SWEEP_ORDER.index)
    runs = []
    for sweep in sweeps:
        sweep_plan = sweep_runs(config, sweep)
        if config["name"] == "paper":
            sweep_plan.sort(key=lambda run: run[1]["seed"])  # stable: variants in order per seed
        runs += sweep_plan
    if config["name"] == "long":
        # Every arm of seed 0, then of seed 1, …: an interrupted sweep leaves whole pairs.
        runs.sort(key=lambda run: run[1]["seed"])
    for _, settings in runs:
        plan.setdefault(run_key(settings), settings)
    return plan
