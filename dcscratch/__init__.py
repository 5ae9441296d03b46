"""dcscratch: DropConnect from scratch, the helper package of the course.

The light modules (``python_way``, ``numpy_way``, ``numpy_layers``, ``mlp``,
``gradcheck``, ``data``) import without TensorFlow; ``DropConnectDense`` and the
TensorFlow ways import it (silently) when first used.
"""
from dcscratch.data import Splits, load_dataset, load_digits, load_fashion_mnist, load_mnist
from dcscratch.gradcheck import numerical_gradient, rel_error
from dcscratch.mlp import MLP

__version__ = "0.1.0"

__all__ = ["ClassGatedDense", "ClassGatedMLP", "ConcreteDropConnectDense", "DropConnectDense",
           "L0GateDense", "MLP", "PersistentDropConnectDense", "Splits",
           "load_dataset", "load_digits", "load_fashion_mnist", "load_mnist",
           "numerical_gradient", "rel_error", "set_seeds", "__version__"]


def __getattr__(name):
    # Lazy: `import dcscratch` for the NumPy chapters should not pay for TensorFlow.
    if name == "DropConnectDense":
        from dcscratch.keras_layer import DropConnectDense
        return DropConnectDense
    if name in ("ConcreteDropConnectDense", "L0GateDense"):
        from dcscratch import extensions
        return getattr(extensions, name)
    if name in ("ClassGatedDense", "ClassGatedMLP"):
        from dcscratch import class_gates
        return getattr(class_gates, name)
    if name == "PersistentDropConnectDense":
        from dcscratch.persistent import PersistentDropConnectDense
        return PersistentDropConnectDense
    if name == "set_seeds":
        from dcscratch.seeding import set_seeds
        return set_seeds
    raise AttributeError(f"module 'dcscratch' has no attribute {name!r}")
