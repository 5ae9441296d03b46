"""What the machine offers TensorFlow, and which device the course uses."""
import os
import platform

from dcscratch.tf_import import quiet_tensorflow


def versions():
    """Versions of Python and the libraries the course depends on, as ``{name: version}``."""
    import keras
    import matplotlib
    import numpy
    import sklearn

    tf = quiet_tensorflow()
    return {"python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "numpy": numpy.__version__,
            "scikit-learn": sklearn.__version__, "matplotlib": matplotlib.__version__}


def physical_devices():
    """``[(device_type, name), ...]`` for every CPU and GPU TensorFlow can see."""
    tf = quiet_tensorflow()
    return [(device.device_type, device.name) for device in tf.config.list_physical_devices()]


def has_gpu():
    """True when TensorFlow sees at least one GPU."""
    return any(device_type == "GPU" for device_type, _ in physical_devices())


def preferred_device():
    """The device the course runs on: ``"/GPU:0"`` when present, else ``"/CPU:0"``."""
    return "/GPU:0" if has_gpu() else "/CPU:0"


def device_names():
    """Logical device strings usable in ``tf.device``: ``["/CPU:0", "/GPU:0", ...]``."""
    tf = quiet_tensorflow()
    return [f"/{device.device_type}:{device.name.rsplit(':', 1)[-1]}"
            for device in tf.config.list_logical_devices()]


def split_cpu(count=2):
    """Split the CPU into ``count`` logical devices, for trying ``tf.distribute`` without GPUs.

    Must run before TensorFlow executes its first operation (logical devices are fixed at
    start-up); returns the logical CPU names, e.g. ``["/CPU:0", "/CPU:1"]``.
    """
    from dcscratch.validation import check_positive_int

    count = check_positive_int(count, "count")
    tf = quiet_tensorflow()
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
    except RuntimeError as error:
        raise RuntimeError("split_cpu() must be called before TensorFlow runs any operation "
                           "(restart the kernel and call it first).") from error
    return [f"/CPU:{index}" for index in range(count)]


def machine():
    """The machine a computation runs on, for a results file's provenance.

    Returns:
        dict of ``platform``, ``cpu`` (the model name), ``cores`` (``os.cpu_count()``),
        ``usable_cores`` (those this process may run on), ``devices`` (TensorFlow's visible
        physical devices, e.g. ``["CPU:0", "GPU:0"]``), ``gpu`` (the first GPU's name, or
        None) and ``tensorflow_threads`` (intra- and inter-op pool sizes; 0 means TensorFlow
        chooses).
    """
    tf = quiet_tensorflow()
    gpus = tf.config.list_physical_devices("GPU")
    gpu = (tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
           if gpus else None)
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"platform": platform.platform(), "cpu": _cpu_model(), "cores": os.cpu_count(),
            "usable_cores": usable,
            "devices": [name.replace("/physical_device:", "") for _, name in physical_devices()],
            "gpu": gpu,
            "tensorflow_threads": {
                "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                "inter_op": tf.config.threading.get_inter_op_parallelism_threads()}}


def _cpu_model():
    """The CPU's model name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
