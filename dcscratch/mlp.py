"""A small NumPy multilayer perceptron trained with SGD and momentum.

Each weight layer is one of ``"dense"``, ``"dropout"`` (Dropout on the layer's
input, then dense) or ``"dropconnect"``; hidden layers use ReLU, the last one
gives logits for softmax cross-entropy.
"""
import numpy as np

from dcscratch import numpy_layers as L
from dcscratch.validation import check_choice, check_keep_prob, check_positive_int, check_seed

LAYER_KINDS = ("dense", "dropout", "dropconnect")


class MLP:
    """Multilayer perceptron with any mix of dense, Dropout and DropConnect layers.

    Args:
        sizes: layer widths including input and output, e.g. ``(64, 128, 10)``.
        kinds: one of ``LAYER_KINDS`` per weight layer (``len(sizes) - 1`` entries).
        keep_prob: probability of keeping a unit (Dropout) or a connection (DropConnect).
        mask, mask_bias, scaling: passed to :func:`numpy_layers.dropconnect_forward`.
        seed: seeds the initial weights and every mask drawn in training.
    """

    def __init__(self, sizes, kinds, *, keep_prob=0.5, mask="batch", mask_bias=False,
                 scaling="paper", seed=0):
        sizes = [check_positive_int(size, "sizes") for size in sizes]
        if len(sizes) < 2 or len(kinds) != len(sizes) - 1:
            raise ValueError("Invalid value received for argument `kinds`. Expected one kind "
                             f"per weight layer ({max(len(sizes) - 1, 0)}). Received: kinds={kinds!r}")
        self.kinds = [check_choice(kind, LAYER_KINDS, "kinds") for kind in kinds]
        self.keep_prob = check_keep_prob(keep_prob)
        self.mask = check_choice(mask, L.MASK_MODES, "mask")
        self.scaling = check_choice(scaling, L.SCALINGS, "scaling")
        self.mask_bias = bool(mask_bias)
        self.rng = np.random.default_rng(check_seed(seed))
        # He initialisation keeps ReLU activations at a steady scale from layer to layer.
        self.params = [(self.rng.normal(0, np.sqrt(2 / fan_in), (fan_in, fan_out)),
                        np.zeros(fan_out))
                       for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]
        self.velocity = [(np.zeros_like(W), np.zeros_like(b)) for W, b in self.params]

    def forward(self, x, *, training):
        """Return ``(logits, caches)`` for inputs ``x`` of shape ``(N, sizes[0])``."""
        caches = []
        h = x.astype(np.float64)
        for i, (kind, (W, b)) in enumerate(zip(self.kinds, self.params)):
            layer_cache = {}
            if kind == "dropout":
                h, layer_cache["dropout"] = L.dropout_forward(
                    h, self.keep_prob, training=training, scaling=self.scaling, rng=self.rng)
            if kind == "dropconnect":
                h, layer_cache["dropconnect"] = L.dropconnect_forward(
                    h, W, b, self.keep_prob, training=training, mask=self.mask,
                    mask_bias=self.mask_bias, scaling=self.scaling, rng=self.rng)
            else:
                h, layer_cache["dense"] = L.dense_forward(h, W, b)
            if i < len(self.params) - 1:
                h, layer_cache["relu"] = L.relu_forward(h)
            caches.append(layer_cache)
        return h, caches

    def backward(self, dlogits, caches):
        """Return ``[(dW, db), ...]`` for every layer, given the loss gradient on the logits."""
        grads = []
        dh = dlogits
        for layer_cache in reversed(caches):
            if "relu" in layer_cache:
                dh = L.relu_backward(dh, layer_cache["relu"])
            if "dropconnect" in layer_cache:
                dh, dW, db = L.dropconnect_backward(dh, layer_cache["dropconnect"])
            else:
                dh, dW, db = L.dense_backward(dh, layer_cache["dense"])
            if "dropout" in layer_cache:
                dh = L.dropout_backward(dh, layer_cache["dropout"])
            grads.append((dW, db))
        return grads[::-1]

    def loss_and_grads(self, x, labels, *, training=True):
        """Return ``(loss, grads)`` for one batch."""
        logits, caches = self.forward(x, training=training)
        loss, dlogits = L.softmax_cross_entropy(logits, labels)
        return loss, self.backward(dlogits, caches)

    def predict(self, x):
        """Return predicted class indices ``(N,)`` using the inference rule."""
        logits, _ = self.forward(x, training=False)
        return logits.argmax(axis=1)

    def accuracy(self, x, labels):
        """Fraction of ``x`` classified correctly."""
        return float((self.predict(x) == labels).mean())

    def step(self, grads, *, learning_rate, momentum, weight_decay):
        """One SGD-with-momentum update of every parameter (weight decay on W only)."""
        for i, ((W, b), (dW, db), (vW, vb)) in enumerate(zip(self.params, grads, self.velocity)):
            vW = momentum * vW - learning_rate * (dW + weight_decay * W)
            vb = momentum * vb - learning_rate * db
            self.params[i] = (W + vW, b + vb)
            self.velocity[i] = (vW, vb)

    def fit(self, x, labels, *, x_val, labels_val, epochs=30, batch_size=64,
            learning_rate=0.05, momentum=0.9, weight_decay=0.0):
        """Train with shuffled mini-batches; return per-epoch ``train_loss``, ``train_acc``, ``val_acc``."""
        epochs = check_positive_int(epochs, "epochs")
        batch_size = check_positive_int(batch_size, "batch_size")
        history = {"train_loss": [], "train_acc": [], "val_acc": []}
        for _ in range(epochs):
            order = self.rng.permutation(len(x))
            losses = []
            for start in range(0, len(x), batch_size):
                batch = order[start:start + batch_size]
                loss, grads = self.loss_and_grads(x[batch], labels[batch])
                self.step(grads, learning_rate=learning_rate, momentum=momentum,
                          weight_decay=weight_decay)
                losses.append(loss)
            history["train_loss"].append(float(np.mean(losses)))
            history["train_acc"].append(self.accuracy(x, labels))
            history["val_acc"].append(self.accuracy(x_val, labels_val))
        return history
