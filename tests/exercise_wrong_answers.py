"""Plausible wrong answers to the exercises, which their tests must catch.

WRONG_ANSWERS[master stem][question] lists answers a student could well write. Each replaces the
question's answer cell in a copy of the student notebook; tests/test_exercises.py grades the copy
and requires that the question loses points and that a failure message contains `hint` (the part
of the message that tells the student what went wrong). Answers at the same position in their
lists are graded together, in one notebook.
"""
from collections import namedtuple
from textwrap import dedent

WrongAnswer = namedtuple("WrongAnswer", "why source hint")


def wrong(why, source, hint):
    return WrongAnswer(why, dedent(source).strip(), hint)


# Exercise 10, Q4 asks for two functions: a wrong answer to one keeps the other right.
_VOTING_ERROR = """
def voting_error(probabilities, labels):
    average = np.mean(np.asarray(probabilities, dtype=float), axis=0)
    return float(np.mean(np.argmax(average, axis=1) != np.asarray(labels)))


"""
_MCNEMAR = """


def mcnemar(correct_a, correct_b):
    correct_a, correct_b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    a_only, b_only = int(np.sum(correct_a & ~correct_b)), int(np.sum(~correct_a & correct_b))
    if a_only + b_only == 0:
        return 0, 0, 1.0
    return a_only, b_only, float(stats.binomtest(a_only, a_only + b_only).pvalue)
"""


WRONG_ANSWERS = {
    "01_from_dropout_to_dropconnect": {
        "q1": [
            wrong("variance with keep_prob² instead of keep_prob(1 − keep_prob)", """
                def preactivation_moments(W, v, keep_prob):
                    return keep_prob * W @ v, keep_prob ** 2 * (W * W) @ (v * v)
                """, "Var[M_ij] = keep_prob(1 − keep_prob)"),
            wrong("variance of the sum taken as the square of the summed terms", """
                def preactivation_moments(W, v, keep_prob):
                    return keep_prob * W @ v, keep_prob * (1 - keep_prob) * (W @ v) ** 2
                """, "sampled masks"),
        ],
        "q2": [
            wrong("coins tiled along the inputs: one row per input instead of per unit", """
                def tied_row_mask(unit_coins, n_inputs):
                    return np.tile(unit_coins, (n_inputs, 1))
                """, "expected shape (d_out, d_in) = (4, 7)"),
        ],
        "q3": [
            wrong("keep and drop swapped: counts the dropped weights", """
                expected_kept = 200 * 0.7
                kept_sd = (200 * 0.3 * 0.7) ** 0.5
                """, "you counted the dropped weights"),
            wrong("standard deviation without the square root", """
                expected_kept = 60
                kept_sd = 200 * 0.3 * 0.7
                """, "take its square root"),
        ],
        "q4": [
            wrong("the backward pass without the mask", """
                def masked_product_grad_W(delta, v, M):
                    return np.outer(delta, v)
                """, "gradient check failed"),
        ],
        "q5": [
            wrong("the factor inverted: keep_prob instead of 1 / keep_prob", """
                mixing_factor = 0.8
                """, "a simulation measures"),
        ],
    },
    "02_plain_python": {
        "q1": [
            wrong("keep and drop swapped: a 1 with probability 1 − keep_prob", """
                def bernoulli_mask_lists(rows, columns, keep_prob, seed):
                    rng = random.Random(seed)
                    return [[1 if rng.random() > keep_prob else 0 for _ in range(columns)]
                            for _ in range(rows)]
                """, "outside keep_prob ± 5 binomial standard deviations"),
            wrong("the module's global generator: the seed is ignored", """
                def bernoulli_mask_lists(rows, columns, keep_prob, seed):
                    return [[1 if random.random() < keep_prob else 0 for _ in range(columns)]
                            for _ in range(rows)]
                """, "the same seed must give the same mask"),
            wrong("the generator re-seeded for every row: every row is the same", """
                def bernoulli_mask_lists(rows, columns, keep_prob, seed):
                    mask = []
                    for _ in range(rows):
                        rng = random.Random(seed)
                        mask.append([1 if rng.random() < keep_prob else 0 for _ in range(columns)])
                    return mask
                """, "every entry needs its own coin"),
        ],
        "q2": [
            wrong("the mask scaled by 1/keep_prob (inverted convention)", """
                def dropconnect_numpy(W, keep_prob, rng):
                    keep = rng.random(W.shape) < keep_prob
                    return np.where(keep, W / keep_prob, 0).astype(W.dtype)
                """, "no division by keep_prob"),
            wrong("the blog's integer mask: a float32 W comes back float64", """
                def dropconnect_numpy(W, keep_prob, rng):
                    return W * rng.binomial(1, keep_prob, W.shape)
                """, "expected dtype float32 (that of W); got float64"),
            wrong("one coin per column, shared by every row (a draw of W.shape[1] broadcast)", """
                def dropconnect_numpy(W, keep_prob, rng):
                    keep = rng.random(W.shape[1]) < keep_prob
                    return np.where(keep, W, W.dtype.type(0))
                """, "one uniform draw per weight"),
        ],
        "q3": [
            wrong("the backward pass without the mask in dW", """
                def masked_dense_backward(dout, cache):
                    x, W, M = cache
                    return dout @ (M * W).T, x.T @ dout, dout.sum(axis=0)
                """, "gradient check failed for dW"),
            wrong("the backward pass without the mask in dx", """
                def masked_dense_backward(dout, cache):
                    x, W, M = cache
                    return dout @ W.T, M * (x.T @ dout), dout.sum(axis=0)
                """, "gradient check failed for dx"),
        ],
        "q4": [
            wrong("assumes the product keeps W's float32", """
                blog_result_dtype = np.float32
                blog_result_megabytes = 784 * 800 * 4 / 2**20
                """, "NumPy promotes float32 × int64"),
        ],
    },
    "03_tensorflow_hard_way": {
        "q1": [
            wrong("logits in the wrong order: class 1 drawn with probability 1 − keep_prob", """
                def hard_way_dropconnect(W, keep_prob):
                    samples = tf.random.categorical(tf.math.log([[keep_prob, 1.0 - keep_prob]]),
                                                    int(np.prod(W.shape)))
                    return tf.cast(tf.reshape(samples, W.shape), W.dtype) * W
                """, "outside keep_prob"),
            wrong("the blog's cast to float32: a float64 W fails", """
                def hard_way_dropconnect(W, keep_prob):
                    samples = tf.random.categorical(tf.math.log([[1.0 - keep_prob, keep_prob]]),
                                                    int(np.prod(W.shape)))
                    return tf.cast(tf.reshape(samples, W.shape), tf.float32) * W
                """, "cast the int64 samples to W.dtype"),
            wrong("one sample per column, broadcast over the rows: rows share their coins", """
                def hard_way_dropconnect(W, keep_prob):
                    samples = tf.random.categorical(tf.math.log([[1.0 - keep_prob, keep_prob]]),
                                                    W.shape[1])
                    return tf.cast(samples, W.dtype) * W
                """, "draw one sample per weight"),
        ],
        "q2": [
            wrong("differentiates with respect to M⊙W instead of W", """
                def masked_loss_gradient(x, labels, W, M):
                    masked = M * W
                    with tf.GradientTape() as tape:
                        tape.watch(masked)
                        loss = tf.reduce_mean(
                            tf.nn.sparse_softmax_cross_entropy_with_logits(labels, x @ masked))
                    return tape.gradient(loss, masked)
                """, "dropped weights got a non-zero gradient"),
        ],
        "q3": [
            wrong("thinks the samples are int32", """
                sample_dtype = tf.int32
                bytes_per_sample = 4
                """, "look at .dtype"),
        ],
    },
    "04_tensorflow_easy_way": {
        "q1": [
            wrong("keep and drop swapped: keep_prob passed as the drop rate", """
                def easy_dropconnect(W, keep_prob, seed):
                    return tf.nn.experimental.stateless_dropout(W, rate=keep_prob, seed=seed) * keep_prob
                """, "rate = 1 − keep_prob"),
            wrong("no × keep_prob: the inverted convention", """
                def easy_dropconnect(W, keep_prob, seed):
                    return tf.nn.experimental.stateless_dropout(W, rate=1 - keep_prob, seed=seed)
                """, "yours are W × 1.25"),
            wrong("a seed of its own: the seed argument is ignored", """
                def easy_dropconnect(W, keep_prob, seed):
                    return tf.nn.experimental.stateless_dropout(W, rate=1 - keep_prob,
                                                                seed=[0, 0]) * keep_prob
                """, "pass the `seed` argument on"),
        ],
        "q2": [
            wrong("divides by keep_prob instead of multiplying", """
                def paper_to_inverted_kernel(W_paper, keep_prob):
                    return W_paper / keep_prob
                """, "inference differs"),
        ],
        "q3": [
            wrong("inference with W, forgetting keep_prob", """
                def mean_inference(layer, x):
                    return layer.activation(x @ layer.kernel + layer.bias)
                """, "mean kernel keep_prob·W"),
        ],
        "q4": [
            wrong("reads the TF1 meaning: keep 80 %", """
                positional_keep_fraction = 0.8
                """, "the second argument of tf.nn.dropout is the drop rate"),
        ],
    },
    "05_cpu_and_gpu": {
        "q1": [
            wrong("one mask shared by the whole batch where one per example was asked", """
                def per_example_dropconnect(x, W, keep_prob, seed):
                    mask = tf.cast(tf.random.stateless_uniform(tf.shape(W), seed=seed) < keep_prob, W.dtype)
                    return x @ (mask * W)
                """, "the mask is shared across the batch"),
            wrong("one mask per example over its inputs (dropout on x), shared by every output", """
                def per_example_dropconnect(x, W, keep_prob, seed):
                    keep = tf.random.stateless_uniform(tf.shape(x), seed=seed) < keep_prob
                    return (x * tf.cast(keep, x.dtype)) @ W
                """, "a mask over the inputs or the outputs alone is dropout"),
        ],
        "q2": [
            wrong("the memory of one mask, not one per example", """
                def per_example_mask_bytes(batch, fan_in, fan_out):
                    return 4 * fan_in * fan_out
                """, "multiply by the batch size"),
        ],
        "q3": [
            wrong("a stateful draw: the backward pass would see another mask", """
                def example_mask(seed, example_index, shape, keep_prob):
                    return tf.cast(tf.random.uniform(shape) < keep_prob, tf.float32)
                """, "use a stateless op"),
            wrong("the example index left out of the seed: every example shares a mask", """
                def example_mask(seed, example_index, shape, keep_prob):
                    return tf.cast(tf.random.stateless_uniform(shape, seed=[seed, 0]) < keep_prob,
                                   tf.float32)
                """, "put example_index into the seed"),
            wrong("seed + example_index as one seed: seed 1's example 2 is seed 2's example 1", """
                def example_mask(seed, example_index, shape, keep_prob):
                    uniform = tf.random.stateless_uniform(shape, seed=[seed + example_index, 0])
                    return tf.cast(uniform < keep_prob, tf.float32)
                """, "the stateless seed is a pair"),
        ],
    },
    "06_inference": {
        "q1": [
            wrong("variance without the mask's keep_prob(1 − keep_prob)", """
                def layer_moments(x, W, keep_prob):
                    return keep_prob * x @ W, (x * x) @ (W * W)
                """, "Var[M_ij] = keep_prob(1 − keep_prob)"),
            wrong("variance without squaring x", """
                def layer_moments(x, W, keep_prob):
                    return keep_prob * x @ W, keep_prob * (1 - keep_prob) * x @ (W * W)
                """, "square x as well as W"),
        ],
        "q2": [
            wrong("relu(E[u]): the mean rule", """
                def relu_gaussian_expectation(mean, variance):
                    return np.maximum(mean, 0)
                """, "that is relu(E[u]), the mean rule"),
            wrong("the variance where the standard deviation belongs", """
                def relu_gaussian_expectation(mean, variance):
                    z = mean / variance
                    return mean * stats.norm.cdf(z) + variance * stats.norm.pdf(z)
                """, "σ is the standard deviation"),
        ],
        "q3": [
            wrong("u averaged over the samples before the activation", """
                def gaussian_inference(x, W, b, keep_prob, noise):
                    mean, variance = inference.gaussian_moments(x, W, keep_prob)
                    return np.maximum((mean + b + np.sqrt(variance) * noise).mean(axis=0), 0)
                """, "apply relu to every sample"),
            wrong("the bias left out of u", """
                def gaussian_inference(x, W, b, keep_prob, noise):
                    mean, variance = inference.gaussian_moments(x, W, keep_prob)
                    return np.maximum(mean + np.sqrt(variance) * noise, 0).mean(axis=0) + b
                """, "the bias b belongs in the mean of u"),
        ],
        "q4": [
            wrong("np.log of a zero probability: 0 · (−inf) is nan", """
                def entropy_nats(probs):
                    return -(probs * np.log(probs)).sum(axis=1)
                """, "0 · log 0 is taken as 0"),
            wrong("in bits instead of nats", """
                def entropy_nats(probs):
                    logs = np.log2(np.where(probs > 0, probs, 1.0))
                    return -(probs * logs).sum(axis=1)
                """, "the natural logarithm"),
        ],
        "q5": [
            wrong("every bin's gap counted equally, not weighted by its share", """
                def calibration_error(probs, labels, bins=15):
                    confidence = probs.max(axis=1)
                    correct = probs.argmax(axis=1) == labels
                    which = np.digitize(confidence, np.linspace(0, 1, bins + 1)[1:-1], right=True)
                    return float(np.mean([abs(correct[which == b].mean() - confidence[which == b].mean())
                                          for b in np.unique(which)]))
                """, "weight each bin by its share"),
            wrong("the true label's probability taken as the confidence", """
                def calibration_error(probs, labels, bins=15):
                    confidence = probs[np.arange(len(labels)), labels]
                    correct = probs.argmax(axis=1) == labels
                    which = np.digitize(confidence, np.linspace(0, 1, bins + 1)[1:-1], right=True)
                    return float(sum(np.mean(which == b) * abs(correct[which == b].mean()
                                                               - confidence[which == b].mean())
                                     for b in np.unique(which)))
                """, "not the probability of the true label"),
            wrong("bins [b/bins, (b + 1)/bins) from int(confidence · bins): an edge goes a bin up", """
                def calibration_error(probs, labels, bins=15):
                    confidence = probs.max(axis=1)
                    correct = probs.argmax(axis=1) == labels
                    which = np.minimum((confidence * bins).astype(int), bins - 1)
                    return float(sum(np.mean(which == b) * abs(correct[which == b].mean()
                                                               - confidence[which == b].mean())
                                     for b in np.unique(which)))
                """, "belongs to the bin below it"),
        ],
    },
    "07_experiments": {
        "q1": [
            wrong("every run of the variant, from every sweep, not only the default setting", """
                def default_test_errors(results, variant):
                    return np.array([run["final"]["test_error"] for run in results["runs"].values()
                                     if run["settings"]["variant"] == variant])
                """, "the runs of the other sweeps"),
        ],
        "q2": [
            wrong("np.std's default: divides by n instead of n − 1", """
                def mean_and_sd(values):
                    return float(np.mean(values)), float(np.std(values))
                """, "divides by n − 1, not n"),
        ],
        "q3": [
            wrong("an unpaired interval: the two variants' spreads instead of that of the differences", """
                def paired_interval(a, b, confidence=0.95):
                    a, b = np.asarray(a), np.asarray(b)
                    n = len(a)
                    mean = a.mean() - b.mean()
                    half_width = (stats.t.ppf(0.5 + confidence / 2, n - 1)
                                  * math.sqrt(a.var(ddof=1) / n + b.var(ddof=1) / n))
                    return mean, mean - half_width, mean + half_width
                """, "treats the runs as unpaired"),
            wrong("the standard deviation of the differences divided by n, not n − 1", """
                def paired_interval(a, b, confidence=0.95):
                    d = np.asarray(a) - np.asarray(b)
                    n = len(d)
                    half_width = stats.t.ppf(0.5 + confidence / 2, n - 1) * d.std() / math.sqrt(n)
                    return d.mean(), d.mean() - half_width, d.mean() + half_width
                """, "divides by n − 1, not n"),
        ],
        "q4": [
            wrong("reads the sign of the mean difference, not the interval", """
                def verdict(a, b):
                    mean, low, high = paired_interval(default_test_errors(results, a),
                                                      default_test_errors(results, b))
                    return "lower" if mean < 0 else "higher"


                example_vs_batch = verdict("dropconnect", "dropconnect-batch")
                example_vs_no_drop = verdict("dropconnect", "no-drop")
                """, "not only at the sign"),
        ],
    },
    "08_extensions": {
        "q1": [
            wrong("keep_prob where its logit belongs", """
                def relaxed_bernoulli_numpy(keep_prob, uniform, temperature):
                    logistic = np.log(uniform) - np.log1p(-uniform)
                    return 1 / (1 + np.exp(-(keep_prob + logistic) / temperature))
                """, "not keep_prob itself"),
            wrong("multiplied by the temperature instead of divided", """
                def relaxed_bernoulli_numpy(keep_prob, uniform, temperature):
                    keep_logit = np.log(keep_prob) - np.log1p(-keep_prob)
                    logistic = np.log(uniform) - np.log1p(-uniform)
                    return 1 / (1 + np.exp(-(keep_logit + logistic) * temperature))
                """, "divide by the temperature"),
        ],
        "q2": [
            wrong("stretched but not clipped", """
                def inference_gate(gate_logit):
                    return 1 / (1 + np.exp(-np.asarray(gate_logit))) * (ZETA - GAMMA) + GAMMA
                """, "clip the stretched value to [0, 1]"),
            wrong("the plain sigmoid: clipped but never stretched, so never exactly 0", """
                def inference_gate(gate_logit):
                    return np.clip(1 / (1 + np.exp(-np.asarray(gate_logit))), 0.0, 1.0)
                """, "stretch the sigmoid to (γ, ζ)"),
        ],
        "q3": [
            wrong("σ(log α), the unstretched sample's probability of exceeding 1/2", """
                def expected_kept_connections(gate_logit, temperature):
                    return float(np.sum(1 / (1 + np.exp(-np.asarray(gate_logit)))))
                """, "non-zero already when s > 1/12"),
            wrong("the share of kept connections, not their number", """
                def expected_kept_connections(gate_logit, temperature):
                    shifted = np.asarray(gate_logit) - temperature * np.log(-GAMMA / ZETA)
                    return float(np.mean(1 / (1 + np.exp(-shifted))))
                """, "sum over every gate"),
        ],
        "q4": [
            wrong("a mask over the features shared by the batch, as a weight mask is, not one per example", """
                def stochastic_depth(inputs, survival_prob, rng):
                    keep = rng.random(inputs.shape[1:]) < survival_prob
                    return (inputs * keep / survival_prob).astype(inputs.dtype)
                """, "one coin per example"),
            wrong("no 1/survival_prob scaling of the kept branches", """
                def stochastic_depth(inputs, survival_prob, rng):
                    keep = rng.random((inputs.shape[0],) + (1,) * (inputs.ndim - 1)) < survival_prob
                    return (inputs * keep).astype(inputs.dtype)
                """, "scale the survivors by"),
        ],
        "q5": [
            wrong("ranks every connection by score, so a dead one with a high score comes back", """
                def prune_alive_mask_numpy(alive, score, dead_wanted):
                    alive = np.asarray(alive, dtype=np.float32)
                    lowest = np.argsort(np.ravel(score), kind="stable")[:int(dead_wanted)]
                    new_alive = np.ones(alive.size, np.float32)
                    new_alive[lowest] = 0.0
                    return new_alive.reshape(alive.shape)
                """, "came back to life"),
            wrong("kills dead_wanted more, counting only the new deaths", """
                def prune_alive_mask_numpy(alive, score, dead_wanted):
                    alive = np.asarray(alive, dtype=np.float32)
                    ranked = np.where(alive > 0, score, np.inf).ravel()
                    lowest = np.argsort(ranked, kind="stable")[:int(dead_wanted)]
                    new_alive = alive.ravel().copy()
                    new_alive[lowest] = 0.0
                    return new_alive.reshape(alive.shape)
                """, "counts all the dead"),
        ],
    },
    "09_fast_per_example": {
        "q1": [
            wrong("the output signs r_n left out of the mask", """
                def flipout_mask(E, s, r):
                    return (1 + E[None, :, :] * s[:, :, None]) / 2
                """, "r_n flips whole columns"),
            wrong("the ±1 perturbation returned instead of the 0/1 mask", """
                def flipout_mask(E, s, r):
                    return E[None, :, :] * s[:, :, None] * r[:, None, :]
                """, "½(1 + a sign) is 0 or 1"),
        ],
        "q2": [
            wrong("the factor ½ left off both terms", """
                def flipout_product(x, W, E, s, r):
                    return x @ W + ((x * s) @ (W * E)) * r
                """, "both terms carry the factor ½"),
            wrong("the output signs r_n forgotten", """
                def flipout_product(x, W, E, s, r):
                    return 0.5 * x @ W + 0.5 * (x * s) @ (W * E)
                """, "multiplied by r_n"),
        ],
        "q3": [
            wrong("the noise scaled by the variance instead of the standard deviation", """
                def gaussian_sample(x, W, keep_prob, epsilon):
                    mean = keep_prob * x @ W
                    return mean + keep_prob * (1 - keep_prob) * (x * x) @ (W * W) * epsilon
                """, "square root"),
            wrong("the standard deviation from the squared mean, (xW)², not (x⊙x)(W⊙W)", """
                def gaussian_sample(x, W, keep_prob, epsilon):
                    mean = keep_prob * x @ W
                    return mean + np.sqrt(keep_prob * (1 - keep_prob) * (x @ W) ** 2) * epsilon
                """, "variance"),
        ],
        "q4": [
            wrong("the shared and per-example cases swapped", """
                def weight_gradient_variance(x, d, keep_prob, shared):
                    if not shared:
                        return keep_prob * (1 - keep_prob) * (x.T @ d) ** 2
                    return keep_prob * (1 - keep_prob) * (x * x).T @ (d * d)
                """, "with shared=True"),
            wrong("a shared mask treated like independent ones", """
                def weight_gradient_variance(x, d, keep_prob, shared):
                    return keep_prob * (1 - keep_prob) * (x * x).T @ (d * d)
                """, "one coin per weight multiplies the whole sum"),
        ],
    },
    "10_paper_scale": {
        "q1": [
            wrong("the right images marked instead of the wrong ones (argmax == label)", """
                def per_image(probs, labels):
                    probs = np.asarray(probs, dtype=np.float64)
                    wrong = (np.argmax(probs, axis=1) == labels).astype(np.float64)
                    at_label = probs[np.arange(len(labels)), labels]
                    return wrong, -np.log(np.maximum(at_label, 6e-8))
                """, "1 marks a wrong image"),
            wrong("−log of the predicted class's probability instead of the label's", """
                def per_image(probs, labels):
                    probs = np.asarray(probs, dtype=np.float64)
                    wrong = (np.argmax(probs, axis=1) != labels).astype(np.float64)
                    return wrong, -np.log(np.maximum(probs.max(axis=1), 6e-8))
                """, "predicted class's probability"),
            wrong("log10 instead of the natural log", """
                def per_image(probs, labels):
                    probs = np.asarray(probs, dtype=np.float64)
                    wrong = (np.argmax(probs, axis=1) != labels).astype(np.float64)
                    at_label = probs[np.arange(len(labels)), labels]
                    return wrong, -np.log10(np.maximum(at_label, 6e-8))
                """, "natural log"),
            wrong("the means over the images instead of one number per image", """
                def per_image(probs, labels):
                    probs = np.asarray(probs, dtype=np.float64)
                    wrong = (np.argmax(probs, axis=1) != labels).astype(np.float64)
                    at_label = probs[np.arange(len(labels)), labels]
                    return float(wrong.mean()), float(-np.log(np.maximum(at_label, 6e-8)).mean())
                """, "one number per image"),
            wrong("no floor: a probability stored as 0 costs an infinite loss", """
                def per_image(probs, labels):
                    probs = np.asarray(probs, dtype=np.float64)
                    wrong = (np.argmax(probs, axis=1) != labels).astype(np.float64)
                    return wrong, -np.log(probs[np.arange(len(labels)), labels])
                """, "np.maximum(p, 6e-8)"),
        ],
        "q2": [
            wrong("unpaired (Welch) interval of the two means", """
                def paired_interval(a, b):
                    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
                    mean = a.mean() - b.mean()
                    se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
                    half = stats.t.ppf(0.975, len(a) - 1) * se
                    return mean, mean - half, mean + half
                """, "treats the runs as unpaired"),
            wrong("the normal quantile 1.96 instead of Student's t", """
                def paired_interval(a, b):
                    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
                    half = 1.959963984540054 * d.std(ddof=1) / math.sqrt(len(d))
                    return d.mean(), d.mean() - half, d.mean() + half
                """, "Student's t with n − 1 degrees of freedom"),
            wrong("t with n degrees of freedom instead of n − 1", """
                def paired_interval(a, b):
                    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
                    half = stats.t.ppf(0.975, len(d)) * d.std(ddof=1) / math.sqrt(len(d))
                    return d.mean(), d.mean() - half, d.mean() + half
                """, "n − 1 degrees of freedom, not n"),
            wrong("the sd of the differences where their standard error belongs", """
                def paired_interval(a, b):
                    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
                    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1)
                    return d.mean(), d.mean() - half, d.mean() + half
                """, "standard error s_d / √n"),
        ],
        "q3": [
            wrong("the axes swapped: images averaged away for from_images", """
                def standard_errors(differences):
                    differences = np.asarray(differences, dtype=float)
                    seeds, images = differences.shape
                    return (differences.mean(axis=1).std(ddof=1) / math.sqrt(seeds),
                            differences.mean(axis=0).std(ddof=1) / math.sqrt(images))
                """, "swapped"),
            wrong("every (seed, image) number treated as an independent draw", """
                def standard_errors(differences):
                    differences = np.asarray(differences, dtype=float)
                    pooled = differences.std(ddof=1) / math.sqrt(differences.size)
                    return pooled, pooled
                """, "independent draws"),
            wrong("population sd (ddof=0), too small with 5 seeds", """
                def standard_errors(differences):
                    differences = np.asarray(differences, dtype=float)
                    seeds, images = differences.shape
                    return (differences.mean(axis=0).std() / math.sqrt(images),
                            differences.mean(axis=1).std() / math.sqrt(seeds))
                """, "divides by n − 1"),
        ],
        "q4": [
            wrong("a majority vote of the networks' predicted classes", dedent("""
                def voting_error(probabilities, labels):
                    votes = np.argmax(probabilities, axis=2)
                    majority = np.array([np.bincount(column).argmax() for column in votes.T])
                    return float(np.mean(majority != np.asarray(labels)))
                """) + _MCNEMAR, "majority vote"),
            wrong("averaged log-probabilities (a geometric mean)", dedent("""
                def voting_error(probabilities, labels):
                    average = np.mean(np.log(probabilities), axis=0)
                    return float(np.mean(np.argmax(average, axis=1) != np.asarray(labels)))
                """) + _MCNEMAR, "geometric mean"),
            wrong("McNemar one-sided: a better than b only", _VOTING_ERROR + dedent("""
                def mcnemar(correct_a, correct_b):
                    correct_a, correct_b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
                    a_only, b_only = int(np.sum(correct_a & ~correct_b)), int(np.sum(~correct_a & correct_b))
                    if a_only + b_only == 0:
                        return 0, 0, 1.0
                    test = stats.binomtest(a_only, a_only + b_only, 0.5, alternative="greater")
                    return a_only, b_only, float(test.pvalue)
                """), "two-sided"),
            wrong("McNemar's chi-square approximation (with continuity correction), not the exact test", _VOTING_ERROR + dedent("""
                def mcnemar(correct_a, correct_b):
                    correct_a, correct_b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
                    a_only, b_only = int(np.sum(correct_a & ~correct_b)), int(np.sum(~correct_a & correct_b))
                    if a_only + b_only == 0:
                        return 0, 0, 1.0
                    statistic = (abs(a_only - b_only) - 1) ** 2 / (a_only + b_only)
                    return a_only, b_only, float(stats.chi2.sf(statistic, 1))
                """), "chi-square approximation"),
            wrong("every image each ensemble gets right counted, the concordant ones included", _VOTING_ERROR + dedent("""
                def mcnemar(correct_a, correct_b):
                    a_right, b_right = int(np.sum(correct_a)), int(np.sum(correct_b))
                    return a_right, b_right, float(stats.binomtest(a_right, a_right + b_right).pvalue)
                """), "concordant images say nothing"),
        ],
        "q5": [
            wrong("0-based epochs (the array index)", """
                def best_epoch(val_loss):
                    return int(np.argmin(val_loss))


                def epochs_to_reach(curve, threshold):
                    hits = np.flatnonzero(np.asarray(curve) <= threshold)
                    return int(hits[0]) if len(hits) else None
                """, "epochs count from 1"),
            wrong("the last of tied epochs (a loop with <=)", """
                def best_epoch(val_loss):
                    best, lowest = None, float("inf")
                    for epoch, loss in enumerate(val_loss, start=1):
                        if loss <= lowest:
                            best, lowest = epoch, loss
                    return best


                def epochs_to_reach(curve, threshold):
                    hits = np.flatnonzero(np.asarray(curve) <= threshold)
                    return int(hits[0]) + 1 if len(hits) else None
                """, "the first of them"),
            wrong("strictly below the threshold (<) instead of at or below", """
                def best_epoch(val_loss):
                    return int(np.argmin(val_loss)) + 1


                def epochs_to_reach(curve, threshold):
                    hits = np.flatnonzero(np.asarray(curve) < threshold)
                    return int(hits[0]) + 1 if len(hits) else None
                """, "at or below means <="),
            wrong("no case for a curve that never gets there: IndexError", """
                def best_epoch(val_loss):
                    return int(np.argmin(val_loss)) + 1


                def epochs_to_reach(curve, threshold):
                    return int(np.flatnonzero(np.asarray(curve) <= threshold)[0]) + 1
                """, "return None when no epoch"),
        ],
    },
}
