# The library's test and benchmark hooks (optkern/internal/testing.h): the
# memory roofline, the threading break-even size, the vector math functions
# the SIMD primitives and the 8-bit encoder. Not public API: for optkern's tests and
# benchmarks.

def roofline(list streams, int n_inplace, int n_writeonly):
    """The memory roofline over a tensor list (see kernels/src/target/roofline-inl.h).

    streams[s][i] is array s of tensor i: first n_inplace arrays read and
    written back, then n_writeonly written, then the rest read. No
    arithmetic: the time this takes is the bandwidth limit of a kernel that
    moves the same bytes.
    """
    cdef int n_streams = len(streams), s
    if n_streams == 0 or n_streams > MAX_STREAMS:
        raise ValueError(f"between 1 and {MAX_STREAMS} streams")
    cdef Py_ssize_t n = len(streams[0]), i
    cdef size_t *numel = <size_t *>PyMem_Malloc((n + 1) * sizeof(size_t))
    cdef void **table = <void **>PyMem_Malloc((n * n_streams + 1) * sizeof(void *))
    cdef void **lists[MAX_STREAMS]
    cdef cnp.ndarray lead, a
    cdef int dtype = OK_FLOAT32
    cdef ok_status st = OK_SUCCESS
    if numel == NULL or table == NULL:
        PyMem_Free(numel)
        PyMem_Free(table)
        raise MemoryError()
    try:
        for s in range(n_streams):
            lists[s] = table + s * n
        for i in range(n):
            lead = as_param(streams[0][i], "streams[0]", i)
            if i and dtype_of(lead) != dtype:
                raise TypeError("every array of a roofline run must have the same dtype")
            dtype = dtype_of(lead)
            numel[i] = <size_t>cnp.PyArray_SIZE(lead)
            for s in range(n_streams):
                a = as_companion(streams[s][i], f"streams[{s}]", i, lead, "streams[0]", s < n_inplace + n_writeonly)
                lists[s][i] = cnp.PyArray_DATA(a)
        with nogil:
            st = ok_roofline(<ok_dtype>dtype, n_inplace, n_writeonly, n_streams - n_inplace - n_writeonly,
                             <size_t>n, numel, lists)
    finally:
        PyMem_Free(numel)
        PyMem_Free(table)
    raise_for(st)


def threads_for(size_t elements):
    """The threads a kernel over `elements` of work would use now."""
    return ok_threads_for(elements)


def threads_observe(double wall, double busiest):
    """Report a threaded region's wall time and busiest thread's time, as
    the drivers do (the contention backoff)."""
    ok_threads_observe(wall, busiest)


def set_threads_backoff(bint on):
    """The contention backoff on (the default) or off, for tests that must
    really run on several threads whatever the machine's load."""
    ok_threads_set_backoff(on)


def threads_regions():
    """How many threaded regions the kernels have run so far."""
    return ok_threads_regions()


def set_parallel_min(size_t elements):
    """Move the size below which kernels stay on one thread (0: the measured
    default). For bench/threshold.py, which measures that size."""
    ok_mt_set_parallel_min(elements)


_VMATH_OPS = {"exp": 0, "log": 1, "log1p": 2, "tanh": 3}   # OK_VMATH_* of testing.h


def vmath(str name, x):
    """f(x) elementwise with the selected instruction set's vector math
    (kernels/src/target/vmath-inl.h), for accuracy tests: name is "exp",
    "log", "log1p" or "tanh"; x a C-contiguous float32 or float64 array.
    Returns a new array."""
    if name not in _VMATH_OPS:
        raise ValueError(f"unknown function {name!r}; expected one of {sorted(_VMATH_OPS)}")
    cdef cnp.ndarray a = as_param(x, "x", -1, False)
    cdef cnp.ndarray y = np.empty_like(a)
    cdef int op = _VMATH_OPS[name]
    cdef ok_dtype dtype = <ok_dtype>dtype_of(a)
    cdef size_t n = <size_t>cnp.PyArray_SIZE(a)
    cdef const void *src = cnp.PyArray_DATA(a)
    cdef void *dst = cnp.PyArray_DATA(y)
    cdef ok_status st
    with nogil:
        st = ok_vmath(op, dtype, n, src, dst)
    raise_for(st)
    return y


# OK_SIMD_* of testing.h
_SIMD_OPS = {"maxn": 0, "maxb": 1, "clamp": 2, "ldexp": 3, "frexp": 4, "hmax": 5, "round": 6, "copysign": 7,
             "load_part": 8}


def simd_width(dtype):
    """The lanes of a vector of `dtype` on the selected instruction set."""
    cdef cnp.ndarray probe = np.empty(0, dtype=dtype)
    if dtype_of(probe) < 0:
        raise TypeError(f"no vectors of {np.dtype(dtype)}")
    return ok_simd_width(<ok_dtype>dtype_of(probe))


def simd_probe(str name, x, y=None):
    """One SIMD primitive of the selected instruction set applied along x
    (and y, for maxn, maxb, ldexp and copysign), a vector at a time, the
    tail through the masked loads and stores every kernel uses
    (kernels/src/target/probes-inl.h). Returns z, a new array like x (hmax:
    one value per vector); frexp returns (mantissa, exponent)."""
    if name not in _SIMD_OPS:
        raise ValueError(f"unknown primitive {name!r}; expected one of {sorted(_SIMD_OPS)}")
    cdef cnp.ndarray a = as_param(x, "x", -1, False)
    cdef cnp.ndarray b = np.zeros_like(a) if y is None else as_companion(y, "y", -1, a, "x", False)
    if name == "frexp":
        b = np.zeros_like(a)
    cdef ok_dtype dtype = <ok_dtype>dtype_of(a)
    cdef size_t n = <size_t>cnp.PyArray_SIZE(a), width = ok_simd_width(dtype)
    cdef cnp.ndarray z = np.zeros((n + width - 1) // width if name == "hmax" else n, dtype=a.dtype)
    cdef ok_status st = ok_simd_probe(_SIMD_OPS[name], dtype, n, cnp.PyArray_DATA(a), cnp.PyArray_DATA(b),
                                      cnp.PyArray_DATA(z))
    raise_for(st)
    return (z, b) if name == "frexp" else z


def q8_codes(x, bint unsigned_map):
    """The 8-bit codes of the float32 values x themselves (no scale), by the
    selected instruction set's encoder (kernels/src/quant8.h)."""
    cdef cnp.ndarray a = np.ascontiguousarray(x, dtype=np.float32).reshape(-1)
    cdef cnp.ndarray q = np.zeros(a.size, dtype=np.uint8)
    raise_for(ok_q8_probe_codes(unsigned_map, <size_t>a.size, <const float *>cnp.PyArray_DATA(a),
                          <uint8_t *>cnp.PyArray_DATA(q)))
    return q


def q8_check_all(bint unsigned_map):
    """The selected instruction set's 8-bit encoder against the format's
    heap search at every float32 from -1 to 1: (number of values whose codes
    differ, the lowest of them or None)."""
    cdef uint32_t first = 0
    cdef size_t bad
    with nogil:
        bad = ok_q8_check_all(unsigned_map, &first)
    if bad == <size_t>-1:
        raise MemoryError("ok_q8_check_all")
    return bad, (np.array([first], np.uint32).view(np.float32)[0] if bad else None)
