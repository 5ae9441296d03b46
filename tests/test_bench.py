"""The benchmark command: its timing protocol, its arithmetic and the files it writes."""
import json

import pytest

from dcscratch import bench
from dcscratch.per_example import DEFAULT_CHUNK_SIZE

TINY = {"mask_sizes": (16, 32), "layers": (8, 16, 16, 4), "batch": 4}


def test_median_interleaved_runs_every_candidate_equally_and_rotates_the_order():
    calls = []
    candidates = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    medians = bench.median_interleaved(candidates, repeats=3)
    assert set(medians) == set("abc") and all(value >= 0 for value in medians.values())
    assert calls[:3] == ["a", "b", "c"]                     # warm-up, one each
    assert calls[3:] == list("abc") + list("bca") + list("cab")  # three rotated rounds


def test_paired_ratio_divides_round_by_round_and_reports_the_quartiles():
    times = {"base": [1.0, 2.0, 1.0, 4.0], "x": [2.0, 4.0, 3.0, 4.0]}  # ratios 2, 2, 3, 1
    spread = bench.paired_ratio(times, "x", "base")
    assert spread == {"ratio": 2.0, "ratio_q1": 1.75, "ratio_q3": 2.25}
    assert bench.paired_ratio(times, "base", "base") == {"ratio": 1.0, "ratio_q1": 1.0,
                                                         "ratio_q3": 1.0}


def test_binary_entropy_is_the_random_bits_an_exact_mask_needs():
    assert bench.binary_entropy(0.5) == 1.0
    assert bench.binary_entropy(1.0) == 0.0
    assert bench.binary_entropy(0.25) == pytest.approx(0.8112781244591328, abs=1e-15)
    assert bench.binary_entropy(0.1) == pytest.approx(bench.binary_entropy(0.9), abs=1e-15)


def test_per_example_mask_arithmetic():
    memory = bench.per_example_mask_bytes(batch=128, fan_in=784, fan_out=800)
    assert memory["entries"] == 128 * 784 * 800 == 80_281_600
    assert memory["float32"] == 4 * memory["entries"]
    assert memory["bits"] == memory["entries"] / 8
    # keep_prob 0.5 takes one random bit per entry: a chunk draws its masks' bits, 32-bit words
    # rounded up to whole four-word Philox blocks per example (784·800 bits fill 4900 blocks).
    assert memory["one_chunk_random_words"] == DEFAULT_CHUNK_SIZE * 784 * 800 / 8


def test_bench_writes_json_markdown_and_figure_with_a_device_on_every_row(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "QUICK", TINY)
    assert bench.main(["--quick", "--repeats", "1", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "bench.json").read_text())
    assert {row["way"] for row in results["masks"]} == {
        "python", "numpy", "tf-hard", "tf-easy", "tf-easy dropconnect",
        "float uniforms (tf.random.uniform)", bench.STATELESS_UNIFORM, bench.LAYER_SAMPLER,
        bench.RANDOM_BITS}
    assert [row["variant"] for row in results["training_step"]] == list(bench.MODEL_VARIANTS)
    assert [row["variant"] for row in results["training_step_xla"]] == list(
        bench.XLA_MODEL_VARIANTS)
    assert [row["variant"] for row in results["per_example"]] == list(bench.PER_EXAMPLE_VARIANTS)
    rows = (results["masks"] + results["training_step"] + results["training_step_xla"]
            + results["per_example"])
    assert all(row["device"] == results["device"] for row in rows)
    assert results["training_step"][0]["time_ratio"] == 1.0
    assert results["training_step_xla"][0]["time_ratio"] == 1.0
    assert all(row["ratio_to_random_bits"] == 1.0 for row in results["masks"]
               if row["way"] == bench.RANDOM_BITS)
    assert all(row["time_ratio_q1"] <= row["time_ratio"] <= row["time_ratio_q3"] for row in rows
               if "time_ratio" in row)
    assert all("peak_mb" in row and "memory_ratio" in row for row in results["per_example"])
    assert bench.PER_EXAMPLE_PASSES == 2  # forward and dW; the timed step computes no dx
    entry_passes = 2 * TINY["batch"] * TINY["layers"][0] * TINY["layers"][1]
    assert all(row["ns_per_entry_pass"] == pytest.approx(row["ms_per_step"] * 1e6 / entry_passes)
               for row in results["per_example"])
    markdown = (tmp_path / "bench.md").read_text()
    assert markdown.count("| 16x16 |") == 9 and "time × Dense" in markdown
    assert "floor" not in markdown and "under XLA" in markdown
    assert (tmp_path / "bench.png").stat().st_size > 10_000
    assert [row["variant"] for row in results["inference"]] == list(
        bench.inference_models(TINY["layers"], samples=bench.INFERENCE_SAMPLES))
    assert "**Inference**" in markdown and "time × Dense" in markdown


def test_bench_rejects_a_non_positive_repeat_count(capsys):
    with pytest.raises(SystemExit):
        bench.main(["--repeats", "0"])
    assert "`--repeats`" in capsys.readouterr().err


def test_inference_section_times_each_rule_on_one_network_against_dense():
    models = bench.inference_models(TINY["layers"], samples=3)
    assert list(models) == ["Dense", "DropConnect mean", "DropConnect Gaussian (3 samples)",
                            "DropConnect MC (3 masks)"]
    rules = [model.layers[0].inference for model in list(models.values())[1:]]
    assert rules == ["mean", "gaussian", "mc"]
    # The three DropConnect networks are one network under three rules: the same weights.
    weights = [model.get_weights() for model in list(models.values())[1:]]
    for other in weights[1:]:
        assert all((a == b).all() for a, b in zip(weights[0], other))
    rows = bench.bench_inference(TINY["layers"], TINY["batch"], repeats=1, device="/CPU:0",
                                 samples=3)
    assert [row["variant"] for row in rows] == list(models)
    assert rows[0]["time_ratio"] == 1.0 and all(row["ms_per_predict"] > 0 for row in rows)
    lines = bench.inference_markdown({"settings": {**TINY, "repeats": 1}, "inference": rows})
    assert sum(line.startswith("| DropConnect") for line in lines) == 3
