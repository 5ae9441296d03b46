"""The benchmark: DropConnect against the baseline a user would pick instead.

    python -m dcscratch.bench [--out build/bench] [--quick] [--repeats 15]

Writes ``bench.json``, ``bench.md`` (a Markdown table) and ``bench.png`` under ``--out``.
It runs on the device TensorFlow prefers (the GPU when present) and names it in every
row. Machines are noisy, so every comparison is a ratio against a baseline measured in
the same run, and every time is the median of repeated runs interleaved across the
candidates (a slow moment hits all candidates alike).

Sections:
1. mask generation per way, in nanoseconds per weight, as a ratio to the random bits
   an exact mask needs: in·out·H(keep_prob) bits, timed as that many bits of raw 32-bit
   Philox words (on average no exact sampler draws fewer bits: a floor on bits, not on
   time, for at small sizes TensorFlow's fixed cost per call dominates this baseline and a
   NumPy sampler can come in below it). Beside the ways: float
   uniforms (``tf.random.uniform``), ``stateless_uniform < keep_prob``, and the layer's
   mask sampler (:mod:`dcscratch.mask_sampler`);
2. one training step of the paper's MNIST network (784→800→800→10, batch 128) with
   ``Dense``, ``Dropout``, and ``DropConnectDense`` per batch and per example, as ratios
   to ``Dense``, with peak memory; then ``Dense`` and the per-batch layer again, both
   under ``jit_compile=True`` (XLA);
3. per-example masks stored whole (naive) against the package's, which draws them where they are
   used and never stores them, at chunk sizes 1, 8, 16 (the default), 32 and 64 (the results are
   the same at every size up to floating-point rounding), in time and peak memory.

A ratio is the median over rounds of (candidate's time ÷ baseline's time in the same
round); the table gives its interquartile range beside it, so the spread is in view.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from dcscratch.tf_import import quiet_tensorflow

FULL = {"mask_sizes": (100, 256, 512, 1024, 2048), "layers": (784, 800, 800, 10), "batch": 128}
QUICK = {"mask_sizes": (100, 256, 512), "layers": (64, 256, 256, 10), "batch": 32}
MODEL_VARIANTS = ("Dense", "Dropout", "DropConnect (batch)", "DropConnect (example)",
                  "DropConnect (flipout)", "DropConnect (gaussian)")
XLA_MODEL_VARIANTS = ("Dense", "DropConnect (batch)")
# The regenerated-mask layer at several chunk sizes (the same masks and, up to floating-point
# rounding, the same results for every one; only speed changes): one example at a time, 8,
# 16 (the default), 32 and 64.
PER_EXAMPLE_CHUNK_SIZES = (1, 8, 16, 32, 64)
PER_EXAMPLE_VARIANTS = ("naive (stored masks)",
                        *(f"package, chunks of {size}" for size in PER_EXAMPLE_CHUNK_SIZES))
KEEP_PROB = 0.5


def device_label(device):
    """A readable name for ``device`` (``"/CPU:0"`` or ``"/GPU:0"``)."""
    tf = quiet_tensorflow()
    if "GPU" in device:
        gpu = tf.config.list_physical_devices("GPU")[0]
        return f"GPU ({tf.config.experimental.get_device_details(gpu).get('device_name', 'GPU')})"
    return f"CPU ({os.cpu_count()} cores)"


def sync(result):
    """Wait until ``result`` (a tensor, an array, nested lists or a tuple) is computed."""
    while isinstance(result, (tuple, list)):
        result = result[0]
    if hasattr(result, "numpy"):
        # Fetching one element forces completion without copying the whole tensor.
        result[(0,) * len(result.shape)].numpy()


def interleaved_times(candidates, repeats):
    """``{name: [seconds per round]}``: each round runs every candidate once, order rotating."""
    for function in candidates.values():
        sync(function())  # trace, compile and warm caches before timing
    names = list(candidates)
    times = {name: [] for name in names}
    for round_index in range(repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            sync(candidates[name]())
            times[name].append(time.perf_counter() - start)
    return times


def median_interleaved(candidates, repeats):
    """``{name: median seconds}`` of :func:`interleaved_times`."""
    return {name: float(np.median(values))
            for name, values in interleaved_times(candidates, repeats).items()}


def paired_ratio(times, name, baseline):
    """Median and interquartile range of ``name``'s time ÷ ``baseline``'s, round by round.

    Both ran in the same round, so a slow moment of a shared machine mostly cancels.
    """
    ratios = np.asarray(times[name]) / np.asarray(times[baseline])
    return {"ratio": float(np.median(ratios)), "ratio_q1": float(np.percentile(ratios, 25)),
            "ratio_q3": float(np.percentile(ratios, 75))}


def binary_entropy(keep_prob):
    """H(keep_prob) in bits: the random bits per entry that an exact Bernoulli mask needs."""
    if keep_prob in (0.0, 1.0):
        return 0.0
    return -(keep_prob * math.log2(keep_prob) + (1 - keep_prob) * math.log2(1 - keep_prob))


# ---------------------------------------------------------------- 1. masks
RANDOM_BITS = "random bits (raw Philox words)"
LAYER_SAMPLER = "layer sampler (keep_mask)"
STATELESS_UNIFORM = "stateless_uniform < keep_prob"


def mask_candidates(size):
    """The ways' ``bernoulli_mask`` for a ``size × size`` matrix, the layer's sampler, and
    the references: float uniforms, ``stateless_uniform < keep_prob``, raw random bits."""
    from dcscratch import numpy_way, python_way, tf_easy_way, tf_hard_way
    from dcscratch.mask_sampler import keep_mask, random_words

    tf = quiet_tensorflow()
    shape = (size, size)
    weights = tf.random.stateless_normal(shape, seed=[0, 0])
    # A variable, not a constant: TensorFlow would fold a stateless op of a constant seed.
    seed = tf.Variable([6, 6], dtype=tf.int64)
    words = math.ceil(size * size * binary_entropy(KEEP_PROB) / 32)
    return {
        "python": lambda: python_way.bernoulli_mask(shape, KEEP_PROB),
        "numpy": lambda: numpy_way.bernoulli_mask(shape, KEEP_PROB),
        "tf-hard": tf.function(lambda: tf_hard_way.bernoulli_mask(shape, KEEP_PROB)),
        "tf-easy": tf.function(lambda: tf_easy_way.bernoulli_mask(shape, KEEP_PROB)),
        "tf-easy dropconnect": tf.function(lambda: tf_easy_way.dropconnect(weights, KEEP_PROB)),
        "float uniforms (tf.random.uniform)": tf.function(lambda: tf.random.uniform(shape)),
        STATELESS_UNIFORM: tf.function(
            lambda: tf.random.stateless_uniform(shape, seed=seed) < KEEP_PROB),
        LAYER_SAMPLER: tf.function(lambda: keep_mask(shape, KEEP_PROB, seed)),
        RANDOM_BITS: tf.function(lambda: random_words(words, seed)),
    }


def bench_masks(sizes, repeats, device):
    rows = []
    tf = quiet_tensorflow()
    for size in sizes:
        with tf.device(device):
            times = interleaved_times(mask_candidates(size), repeats)
        for way, values in times.items():
            rows.append({"size": f"{size}x{size}", "way": way,
                         "ns_per_weight": float(np.median(values)) / size**2 * 1e9,
                         **{key.replace("ratio", "ratio_to_random_bits"): value
                            for key, value in paired_ratio(times, way, RANDOM_BITS).items()},
                         "ratio_to_stateless_uniform":
                             paired_ratio(times, way, STATELESS_UNIFORM)["ratio"]})
    return rows


# ---------------------------------------------------------------- 2. training step
def build_model(variant, layers, seed=0):
    """The MLP of ``layers`` widths with hidden layers of the given variant."""
    import keras

    from dcscratch.keras_layer import DropConnectDense

    keras.utils.set_random_seed(seed)
    stack = [keras.Input((layers[0],))]
    for width in layers[1:-1]:
        if variant == "Dense":
            stack.append(keras.layers.Dense(width, activation="relu"))
        elif variant == "Dropout":
            stack += [keras.layers.Dense(width, activation="relu"),
                      keras.layers.Dropout(1 - KEEP_PROB)]  # Keras wants the drop rate
        else:
            mask = variant[variant.index("(") + 1:-1]  # "DropConnect (flipout)" -> "flipout"
            stack.append(DropConnectDense(width, KEEP_PROB, activation="relu", mask=mask))
    stack.append(keras.layers.Dense(layers[-1]))
    return keras.Sequential(stack)


def training_step(model, batch, layers, jit_compile=False):
    """A ``tf.function`` running one SGD step of ``model`` on a fixed random batch."""
    import keras

    tf = quiet_tensorflow()
    x = tf.random.stateless_normal((batch, layers[0]), seed=[1, 1])
    y = tf.random.stateless_uniform((batch,), seed=[2, 2], maxval=layers[-1], dtype=tf.int32)
    optimizer = keras.optimizers.SGD(0.01)
    loss_function = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function(jit_compile=jit_compile)
    def step():
        with tf.GradientTape() as tape:
            loss = loss_function(y, model(x, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                                      model.trainable_variables))
        return loss

    return step


# Passes of batch·in·out work in ``per_example_step``: the forward product and dW (no dx: x is a
# constant there, and TensorFlow prunes its gradient: timed in docs/measurements.md, section
# "Input gradient of the first layer").
PER_EXAMPLE_PASSES = 2


def per_example_step(variant, batch, layers):
    """Forward and backward of one per-example DropConnect layer ``layers[0]→layers[1]``.

    The backward takes the gradient with respect to W only: x is a constant, so dx is never
    computed (``PER_EXAMPLE_PASSES`` = 2 passes of batch·in·out work, forward and dW)."""
    from dcscratch.per_example import (DEFAULT_CHUNK_SIZE, per_example_matmul,
                                       per_example_matmul_naive)

    tf = quiet_tensorflow()
    naive = variant.startswith("naive")
    chunk_size = DEFAULT_CHUNK_SIZE if naive else int(variant.rsplit(" ", 1)[1])
    x = tf.random.stateless_normal((batch, layers[0]), seed=[3, 3])
    W = tf.Variable(tf.random.stateless_normal(layers[:2], seed=[4, 4]) * 0.05)
    seed = tf.constant([5, 5], tf.int64)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            out = (per_example_matmul_naive(x, W, KEEP_PROB, seed) if naive
                   else per_example_matmul(x, W, KEEP_PROB, seed, chunk_size))
            loss = tf.reduce_sum(tf.nn.relu(out))
        return tape.gradient(loss, W)

    return step


def make_step(section, variant, batch, layers):
    if section in ("model", "model_xla"):
        return training_step(build_model(variant, layers), batch, layers,
                             jit_compile=section == "model_xla")
    return per_example_step(variant, batch, layers)


def peak_memory_mb(section, variant, batch, layers, device):
    """Peak memory of three steps above the resting footprint, in MiB (2**20 bytes).

    On a GPU TensorFlow's allocator reports its peak. On a CPU it does not, so the steps
    run in a fresh process whose peak resident set size (Linux's ``VmHWM``) is compared
    with its resident size before them.
    """
    tf = quiet_tensorflow()
    if "GPU" in device:
        with tf.device(device):
            step = make_step(section, variant, batch, layers)
            tf.config.experimental.reset_memory_stats("GPU:0")
            base = tf.config.experimental.get_memory_info("GPU:0")["current"]
            for _ in range(3):
                sync(step())
            return (tf.config.experimental.get_memory_info("GPU:0")["peak"] - base) / 2**20
    request = json.dumps({"section": section, "variant": variant, "batch": batch,
                          "layers": list(layers)})
    result = subprocess.run([sys.executable, "-m", "dcscratch.bench", "--memory-probe", request],
                            capture_output=True, text=True, timeout=600,
                            env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    if result.returncode != 0:
        raise RuntimeError(f"memory probe failed for {variant}:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])["peak_mb"]


def _status_mb(field):
    """A memory field of /proc/self/status (``VmRSS``, ``VmHWM``) in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # the kernel reports kB, which are KiB
    raise RuntimeError(f"/proc/self/status has no {field}")


def memory_probe(request):
    """Child process of :func:`peak_memory_mb` on a CPU: prints ``{"peak_mb": ...}``.

    The step is traced first (not run), then the peak resident size is reset (writing 5
    to /proc/self/clear_refs) and three steps measured. Not a warm-up step: the memory a
    step frees is not always handed back to the system (it was not on the project's
    machine, 2026-11-24), so after one step the resting size already held its peak.
    """
    request = json.loads(request)
    step = make_step(request["section"], request["variant"], request["batch"],
                     tuple(request["layers"]))
    step.get_concrete_function()
    resting = _status_mb("VmRSS")
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # resets VmHWM, the peak resident set size, to the current size
    for _ in range(3):
        sync(step())
    print(json.dumps({"peak_mb": _status_mb("VmHWM") - resting}))


def bench_section(section, variants, baseline, batch, layers, repeats, device, memory=True):
    tf = quiet_tensorflow()
    with tf.device(device):
        steps = {variant: make_step(section, variant, batch, layers) for variant in variants}
        times = interleaved_times(steps, repeats)
    rows = []
    for variant in variants:
        spread = paired_ratio(times, variant, baseline)
        row = {"variant": variant, "ms_per_step": float(np.median(times[variant])) * 1e3,
               "time_ratio": spread["ratio"], "time_ratio_q1": spread["ratio_q1"],
               "time_ratio_q3": spread["ratio_q3"]}
        if memory:
            row["peak_mb"] = peak_memory_mb(section, variant, batch, layers, device)
        rows.append(row)
    if memory:
        base = next(row["peak_mb"] for row in rows if row["variant"] == baseline)
        for row in rows:
            row["memory_ratio"] = row["peak_mb"] / base if base > 0 else float("nan")
    return rows


# ---------------------------------------------------------------- 4. inference
INFERENCE_SAMPLES = 64


def inference_models(layers, samples=INFERENCE_SAMPLES):
    """``{name: model}``: a Dense network, and one DropConnect network under each rule."""
    from dcscratch.model_tools import with_inference

    dropconnect = build_model("DropConnect (batch)", layers)
    return {"Dense": build_model("Dense", layers),
            "DropConnect mean": with_inference(dropconnect, "mean"),
            f"DropConnect Gaussian ({samples} samples)": with_inference(dropconnect, "gaussian",
                                                                         samples=samples),
            f"DropConnect MC ({samples} masks)": with_inference(dropconnect, "mc",
                                                               samples=samples)}


def inference_candidates(models, x):
    """``{name: one prediction}`` for each model: a compiled forward pass at inference.

    A ``tf.function`` call rather than ``model.predict``, whose fixed cost per call (it
    builds a dataset) would hide the differences on a small network.
    """
    tf = quiet_tensorflow()
    return {name: tf.function(lambda model=model: model(x, training=False))
            for name, model in models.items()}


def bench_inference(layers, batch, repeats, device, samples=INFERENCE_SAMPLES):
    """Rows of predict time per rule, as ratios to the Dense network's in the same run."""
    tf = quiet_tensorflow()
    with tf.device(device):
        x = tf.random.stateless_normal((batch, layers[0]), seed=[6, 6])
        seconds = median_interleaved(inference_candidates(inference_models(layers, samples), x),
                                     repeats)
    label = device_label(device)
    return [{"variant": name, "ms_per_predict": value * 1e3,
             "time_ratio": value / seconds["Dense"], "device": label}
            for name, value in seconds.items()]


def inference_markdown(results):
    """The inference section's table, as Markdown lines."""
    settings = results["settings"]
    layers = "→".join(str(width) for width in settings["layers"])
    lines = ["", f"**Inference**, one prediction of {layers}, batch {settings['batch']}, "
             "`tf.function`", "", "| variant | ms per predict | time × Dense | device |",
             "|---|---:|---:|---|"]
    for row in results["inference"]:
        lines.append(f"| {row['variant']} | {row['ms_per_predict']:.2f} | "
                     f"{row['time_ratio']:.2f} | {row['device']} |")
    return lines


# ---------------------------------------------------------------- report
def per_example_mask_bytes(batch, fan_in, fan_out):
    """Bytes of per-example masks for one layer: as float32, as bits, and the random words one
    chunk of the package's layer draws at keep_prob ``KEEP_PROB`` (its only mask-sized buffer:
    the masks themselves are used where they are drawn and never stored)."""
    from dcscratch.mask_sampler import WORDS_PER_BLOCK, blocks_per_mask
    from dcscratch.per_example import DEFAULT_CHUNK_SIZE

    entries = batch * fan_in * fan_out
    words = WORDS_PER_BLOCK * blocks_per_mask(fan_in * fan_out, KEEP_PROB)
    return {"entries": entries, "float32": 4 * entries, "bits": entries / 8,
            "one_chunk_random_words": 4 * words * DEFAULT_CHUNK_SIZE}


def run(quick=False, repeats=15, device=None, memory=True):
    """Run the benchmark and return its results as a dict (also what ``bench.json`` holds)."""
    from dcscratch.devices import preferred_device

    settings = QUICK if quick else FULL
    device = device or preferred_device()
    label = device_label(device)
    started = time.perf_counter()
    masks = bench_masks(settings["mask_sizes"], repeats, device)
    models = bench_section("model", MODEL_VARIANTS, "Dense", settings["batch"],
                           settings["layers"], repeats, device, memory)
    models_xla = bench_section("model_xla", XLA_MODEL_VARIANTS, "Dense", settings["batch"],
                               settings["layers"], repeats, device, memory=False)
    per_example = bench_section("per_example", PER_EXAMPLE_VARIANTS, PER_EXAMPLE_VARIANTS[0],
                                settings["batch"], settings["layers"], repeats, device, memory)
    inference = bench_inference(settings["layers"], settings["batch"], repeats, device)
    # The timed per-example step asks for dW only (x is a constant, and TensorFlow prunes dx), so
    # it does batch·in·out work in each of two passes: the forward product and dW.
    entry_passes = PER_EXAMPLE_PASSES * settings["batch"] * settings["layers"][0] * settings["layers"][1]
    for row in per_example:
        row["ns_per_entry_pass"] = row["ms_per_step"] * 1e6 / entry_passes
    for row in masks + models + models_xla + per_example:
        row["device"] = label
    return {"device": label, "settings": {**settings, "repeats": repeats, "keep_prob": KEEP_PROB},
            "masks": masks, "training_step": models, "training_step_xla": models_xla,
            "per_example": per_example,
            "mask_memory": per_example_mask_bytes(settings["batch"], *settings["layers"][:2]),
            "inference": inference,
            "seconds": time.perf_counter() - started}


def markdown(results):
    """The results as Markdown tables."""
    settings = results["settings"]
    lines = [f"Device: {results['device']}; keep_prob {settings['keep_prob']}; medians of "
             f"{settings['repeats']} interleaved runs; ratios are medians of same-round ratios, "
             "with their interquartile range in brackets.", "",
             "**Mask generation** (nanoseconds per weight; ratio to the random bits an exact "
             f"mask needs, H({settings['keep_prob']}) per weight drawn as raw 32-bit Philox words; "
             "ratio to `stateless_uniform < keep_prob`)", "",
             "| size | way | ns per weight | × random bits | × stateless_uniform | device |",
             "|---|---|---:|---:|---:|---|"]
    for row in results["masks"]:
        lines.append(f"| {row['size']} | {row['way']} | {row['ns_per_weight']:.2f} | "
                     f"{_ratio_with_spread(row, 'ratio_to_random_bits')} | "
                     f"{row['ratio_to_stateless_uniform']:.2f} | {row['device']} |")
    layers = "→".join(str(width) for width in settings["layers"])
    for title, key, baseline in (
            (f"**One training step**, {layers}, batch {settings['batch']}, float32, "
             "`tf.function`, SGD", "training_step", "Dense"),
            ("**One training step under XLA**, the same, `tf.function(jit_compile=True)`",
             "training_step_xla", "Dense"),
            (f"**Per-example masks**, one {layers.split('→')[0]}→{layers.split('→')[1]} layer, "
             f"batch {settings['batch']}, forward + backward", "per_example",
             PER_EXAMPLE_VARIANTS[0])):
        lines += ["", title, "", f"| variant | ms per step | time × {baseline} | "
                  f"peak MiB | memory × {baseline} | device |", "|---|---:|---:|---:|---:|---|"]
        for row in results[key]:
            peak = f"{row['peak_mb']:.0f}" if "peak_mb" in row else "–"
            memory_ratio = f"{row['memory_ratio']:.2f}" if "memory_ratio" in row else "–"
            lines.append(f"| {row['variant']} | {row['ms_per_step']:.1f} | "
                         f"{_ratio_with_spread(row, 'time_ratio')} | {peak} | {memory_ratio} | "
                         f"{row['device']} |")
    lines += inference_markdown(results)
    return "\n".join(lines) + "\n"


def _ratio_with_spread(row, key):
    """``"1.23 (1.20–1.27)"``: a ratio and its interquartile range over rounds."""
    return f"{row[key]:.2f} ({row[key + '_q1']:.2f}–{row[key + '_q3']:.2f})"


def plot(results):
    """Figure: ns per weight against size for each way; step time ratios, with their
    interquartile ranges, to Dense and to the naive per-example step."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    ways = dict.fromkeys(row["way"] for row in results["masks"])
    for way in ways:
        rows = [row for row in results["masks"] if row["way"] == way]
        sizes = [int(row["size"].split("x")[0]) ** 2 for row in rows]
        left.plot(sizes, [row["ns_per_weight"] for row in rows], marker="o", label=way)
    left.set(xscale="log", yscale="log", xlabel="weights in the mask",
             ylabel="ns per weight", title=f"mask generation ({results['device']})")
    left.legend(fontsize=7)
    left.grid(alpha=0.3, which="both")
    rows = results["training_step"] + results["per_example"]
    # The bars are medians of same-round ratios; the whiskers their interquartile range, so that
    # a bar on the wrong side of 1 shows how far the rounds spread.
    spread = [[row["time_ratio"] - row["time_ratio_q1"] for row in rows],
              [row["time_ratio_q3"] - row["time_ratio"] for row in rows]]
    right.barh([row["variant"] for row in rows], [row["time_ratio"] for row in rows],
               xerr=spread, capsize=2,
               color=["C0"] * len(results["training_step"]) + ["C1"] * len(results["per_example"]))
    right.axvline(1, color="k", lw=0.8)
    right.set(xscale="log", xlabel="time ratio, median and interquartile range over rounds\n"
              "(blue: × Dense step, orange: × naive)", title="training step")
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m dcscratch.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="build/bench", help="output folder")
    parser.add_argument("--quick", action="store_true", help="classroom sizes, a few seconds")
    parser.add_argument("--repeats", type=int, default=15, help="interleaved runs per median")
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_probe:
        memory_probe(args.memory_probe)
        return 0
    if args.repeats < 1:
        parser.error(f"Invalid value received for argument `--repeats`. Expected a positive "
                     f"integer. Received: --repeats={args.repeats}")
    results = run(quick=args.quick, repeats=args.repeats)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(results, indent=2))
    (out / "bench.md").write_text(markdown(results))
    plot(results).savefig(out / "bench.png", dpi=120)
    print(markdown(results))
    print(f"Written: {out / 'bench.md'}, {out / 'bench.json'}, {out / 'bench.png'} "
          f"({results['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
