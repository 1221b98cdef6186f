"""optkern's GPU backend: the same optimizers, called the same way, on
cupy.ndarray parameters, as CUDA kernels (docs/gpu.md).

Nothing here is imported until a CuPy array reaches optkern
(optkern._backend decides at each entry point). The kernels are the C
library's own bodies, compiled at first use by CuPy (NVRTC) from the CUDA
sources the package ships (optkern/kernels), and cached per process.
"""

__all__ = ["available"]


def available():
    """(True, the GPU's name) when CuPy imports and sees a CUDA device;
    else (False, why not)."""
    try:
        import cupy
    except ImportError as e:
        return False, f"CuPy is not installed ({e.msg}); pip install cupy-cuda12x (or cupy-cuda13x)"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
        if count == 0:
            return False, "CuPy sees no CUDA device"
        props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
        return True, props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    except Exception as e:  # no driver, no device: CuPy raises its own runtime errors
        return False, f"CuPy cannot use a GPU here: {e}"
