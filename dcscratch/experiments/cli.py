"""The paper's MNIST comparisons at classroom scale: sweeps over seeds, a results file, a report.

    python -m dcscratch.experiments [--config quick|full|paper] [--exact-per-example]
                                    [--dataset digits|mnist|fashion-mnist]
                                    [--out build/experiments] [--sweeps width,keep_prob]
                                    [--variants no-drop,dropout] [--seeds 5] [--fresh]
                                    [--mnist-file PATH] [--data-dir DIR] [--no-progress]

Wan et al. (2013, section 6.1) train a 784-800-800-10 ReLU network on MNIST and show that
DropConnect (a) keeps test error down as the hidden layers grow, (b) depends on the drop
rate, (c) converges more slowly but generalises better, and tabulate No-Drop, Dropout and
DropConnect. This command runs the same comparisons on a two-hidden-layer network:

- variants (``VARIANTS``): ``no-drop``; ``dropout`` (Keras ``Dropout`` after each hidden
  layer); ``dropconnect`` (``DropConnectDense`` with per-example masks: its mask mode,
  ``flipout``, ``gaussian`` or ``example``, and its convention, inverted or unscaled, are run
  settings); ``dropconnect-batch`` (one mask per batch, the blog's variant); and the older
  ``dropconnect-example`` (exact per-example masks) and ``dropconnect-gaussian`` (trained as
  ``dropconnect-batch``, predicting with the Gaussian rule at Z = ``GAUSSIAN_SAMPLES``), which
  no sweep runs any more;
- sweeps (``SWEEPS``): hidden width, keep_prob, training-set size, ``curves`` (every
  variant at the default setting, whose per-epoch errors give the convergence plot), and
  DropConnect's mask mode (``exact``) and convention (``convention``) at the default setting;
- every run is repeated over several seeds; a seed fixes the initial weights, the masks
  and the order of the examples, and on the digits also the train/validation/test split
  (``config["split"] == "per-seed"``: each run's split drawn with its seed, so the spread over
  seeds includes the split's; MNIST and Fashion-MNIST keep their one official split).

Every run evaluates train, validation and test loss and error after each epoch in
inference mode with the mean rule (cheap); ``final`` holds the last epoch's numbers under
the variant's own inference rule, and ``final_by_inference`` (where the config names the
rules) every rule's: DropConnect's Gaussian rule in closed form, Dropout's sampling. Under
``--out`` the command writes ``results.json`` (rewritten atomically after every run, so an
interrupted sweep resumes where it stopped), ``results.md`` and one PNG per sweep whose values
are numbers.

This module is the command line and the report written at its end; the sweep itself is
:func:`dcscratch.experiments.runner.run_experiments`.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

from dcscratch.data import DataFileError
from dcscratch.experiments import paper_report
from dcscratch.experiments.configs import CONFIG_NAMES, DATASETS, SWEEPS, VARIANTS, make_config
from dcscratch.experiments.data import paper_test_labels
from dcscratch.experiments.long_report import long_table
from dcscratch.experiments.report import markdown, write_report
from dcscratch.experiments.runner import run_experiments
from dcscratch.experiments.store import SchemaError, write_json_atomic
from dcscratch.validation import check_choice, check_positive_int


def _argument_type(check):
    """An argparse ``type`` from a check of ``dcscratch.validation``: its error is the message."""
    def parse(text):
        try:
            return check(text)
        except (TypeError, ValueError) as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    return parse


def _names(text, allowed, argument):
    """The comma-separated names in ``text``, each one of ``allowed``."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    for name in names or [text]:
        check_choice(name, allowed, argument)
    return tuple(names)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m dcscratch.experiments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)

    def choice(allowed, argument):
        return _argument_type(lambda text: check_choice(text, allowed, argument))

    def names(allowed, argument):
        return _argument_type(lambda text: _names(text, allowed, argument))

    positive = _argument_type(
        lambda text: check_positive_int(int(text) if text.isdigit() else text, "seeds"))

    parser.add_argument("--config", default="full", type=choice(CONFIG_NAMES, "config"),
                        help="quick (seconds), full (default; about ten minutes on the "
                             "digits), paper (the paper's network and protocol compressed "
                             "to a CPU budget; mnist or fashion-mnist) or long (the fair "
                             "fight of notebook 10 at 400-400 over many epochs; mnist or "
                             "fashion-mnist)")
    parser.add_argument("--epochs", default=None, type=positive,
                        help="epochs per run (default: the config's)")
    parser.add_argument("--exact-per-example", action="store_true",
                        help="config paper: train DropConnect with the exact per-example mask "
                             "instead of Flipout / the Gaussian mask (for a GPU)")
    parser.add_argument("--dataset", default="digits", type=choice(DATASETS, "dataset"),
                        help="digits (bundled, default), mnist (a local mnist.npz or IDX "
                             "files) or fashion-mnist (local IDX files); never downloaded")
    parser.add_argument("--mnist-file", default=None,
                        help="mnist.npz to read (default: ~/.keras/datasets/mnist.npz)")
    parser.add_argument("--data-dir", default=None,
                        help="folder of the IDX files of fashion-mnist (default: "
                             "/usr/share/datasets/fashion-mnist, from Debian's "
                             "dataset-fashion-mnist) or mnist")
    parser.add_argument("--out", default="build/experiments", help="output folder")
    parser.add_argument("--sweeps", default=",".join(SWEEPS),
                        type=names(SWEEPS, "sweeps"),
                        help="comma-separated sweeps: " + ", ".join(SWEEPS))
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        type=names(VARIANTS, "variants"),
                        help="comma-separated variants: " + ", ".join(VARIANTS))
    parser.add_argument("--seeds", default=None, type=positive,
                        help="number of seeds (default: the config's)")
    parser.add_argument("--fresh", action="store_true",
                        help="start over instead of resuming from --out/results.json")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        config = make_config(args.config, args.dataset, sweeps=args.sweeps,
                             variants=args.variants, seeds=args.seeds,
                             exact_per_example=args.exact_per_example, epochs=args.epochs)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    command = "python -m dcscratch.experiments " + " ".join(
        sys.argv[1:] if argv is None else argv)
    started, load_at_start = time.perf_counter(), os.getloadavg()
    out = Path(args.out)
    try:
        before = set(json.loads((out / "results.json").read_text())["runs"]) if (
            out / "results.json").exists() and not args.fresh else set()
    except (ValueError, KeyError):
        before = set()  # not a results file: run_experiments says so by name
    try:
        results = run_experiments(config, out, fresh=args.fresh, progress=not args.no_progress,
                                  mnist_file=args.mnist_file, data_dir=args.data_dir)
    except FileNotFoundError as error:
        where = ("--mnist-file PATH (an mnist.npz) or --data-dir DIR (IDX files)"
                 if args.dataset == "mnist" else "--data-dir DIR")
        print(f"error: {error}\nOn this command line the data is given with {where}.",
              file=sys.stderr)
        return 2
    except (SchemaError, DataFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    # How this file was made: the command, its time and how busy the machine was (the
    # 1-minute load averages; a quiet two-core machine reads below 2).
    invocation = {"command": command.strip(), "elapsed_s": time.perf_counter() - started,
                  "load_average": {"start": load_at_start[0], "end": os.getloadavg()[0]},
                  "runs_trained": len(set(results["runs"]) - before)}
    # The last command at the top level (as before); every command that trained runs in
    # ``commands``, so a resumed sweep's file still tells how long each part took.
    history = [] if args.fresh else results.get("commands", [])
    if invocation["runs_trained"]:
        history = [*history, invocation]
    results.update({key: invocation[key] for key in ("command", "elapsed_s", "load_average")},
                   commands=history)
    write_json_atomic(out / "results.json", results)
    if config["name"] == "long":
        paper_test_labels(out, config, args.mnist_file, args.data_dir)
        (out / "results.md").write_text(f"# {results['command']}\n\n{long_table(results)}\n")
        written = [out / "results.md"]
        print(long_table(results))
    elif config["name"] == "paper":
        labels = paper_test_labels(out, config, args.mnist_file, args.data_dir)
        written = paper_report.write_report(results, out, results["command"], labels)
        print(paper_report.markdown(results, results["command"], labels, out / "probabilities"))
    else:
        written = write_report(results, out, results["command"])
        print(markdown(results, results["command"]))
    print(f"Written: {', '.join(str(path) for path in [out / 'results.json', *written])} "
          f"({results['elapsed_s']:.0f} s)")
    return 0

