"""Which backend a call runs on, decided once at the Python entry point by
the type of its arrays (docs/gpu.md): NumPy arrays go to the C kernels,
CuPy arrays to the CUDA kernels (optkern.cuda), and a call that mixes them
raises TypeError: optkern never copies between host and GPU on its own.

CuPy is imported only once a CuPy array is seen, so `import optkern` and
every CPU feature work without it.
"""

import threading

__all__ = ["device_for", "emulating", "is_device_array", "namespace", "vector_ops"]

_local = threading.local()
_cupy_device = None


def is_device_array(a):
    """Whether a is a CuPy array (without importing CuPy)."""
    return type(a).__module__.split(".")[0] == "cupy"


def namespace(a):
    """The array module of a: cupy for a CuPy array, else numpy."""
    if is_device_array(a):
        import cupy

        return cupy
    import numpy

    return numpy


def device_for(arrays, what="arrays"):
    """The GPU device (optkern.cuda._device) that runs a call on `arrays`
    (None entries skipped), or None for the C kernels. TypeError when they
    mix NumPy and CuPy arrays."""
    emulated = getattr(_local, "device", None)
    if emulated is not None:
        return emulated
    cupy = numpy = 0
    for a in arrays:
        if a is None:
            continue
        if is_device_array(a):
            cupy += 1
        else:
            numpy += 1
    if not cupy:
        return None
    if numpy:
        raise TypeError(f"{what} mix CuPy and NumPy arrays; optkern never copies between host and GPU: "
                        "move every array to one side first (cupy.asarray, cupy.asnumpy)")
    global _cupy_device
    if _cupy_device is None:
        from optkern.cuda._device import CupyDevice

        _cupy_device = CupyDevice()
    return _cupy_device


def vector_ops(device):
    """The vector operations (vec_dot, vec_abs_sum, vec_abs_max, vec_axpby,
    with optkern._core's names and results) on `device`: the C library's for
    None, else the GPU's (optkern.cuda._vector)."""
    if device is None:
        from optkern import _core

        return _core
    from optkern.cuda._vector import Vectors

    return Vectors(device)


class emulating:
    """with emulating(device): every call in this thread runs on `device`
    (an optkern.cuda._device.EmulatedDevice over NumPy arrays): how the
    tests run the GPU path on a machine without a GPU."""

    def __init__(self, device):
        self.device = device

    def __enter__(self):
        self._saved = getattr(_local, "device", None)
        _local.device = self.device
        return self.device

    def __exit__(self, *exc):
        _local.device = self._saved
