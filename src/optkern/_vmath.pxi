# Test support: the vector math functions of the loss kernels.

_VMATH_OPS = {"exp": 0, "log": 1, "log1p": 2, "tanh": 3}


def vmath(str name, x):
    """f(x) elementwise with the selected instruction set's vector math
    (kernels/src/vmath.h), for accuracy tests: name is "exp", "log", "log1p"
    or "tanh"; x a C-contiguous float32 or float64 array. Returns a new array."""
    if name not in _VMATH_OPS:
        raise ValueError(f"unknown function {name!r}; expected one of {sorted(_VMATH_OPS)}")
    cdef cnp.ndarray a = as_param(x, "x", -1, False)
    cdef cnp.ndarray y = np.empty_like(a)
    cdef int op = _VMATH_OPS[name]
    cdef size_t elem = <size_t>cnp.PyArray_ITEMSIZE(a), n = <size_t>cnp.PyArray_SIZE(a)
    cdef const void *src = cnp.PyArray_DATA(a)
    cdef void *dst = cnp.PyArray_DATA(y)
    cdef ok_status st
    with nogil:
        st = ok_vmath(op, elem, n, src, dst)
    raise_for(st)
    return y
