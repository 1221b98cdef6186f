# The checks of a single array every call makes, and the exception of a C
# status: shared by optkern._core and optkern._testing.

cdef int dtype_of(cnp.ndarray a) noexcept:
    """The ok_dtype of a's elements, or -1 for a dtype optkern has no kernels for."""
    cdef int t = cnp.PyArray_TYPE(a)
    if t == cnp.NPY_FLOAT32:
        return OK_FLOAT32
    if t == cnp.NPY_FLOAT64:
        return OK_FLOAT64
    return -1


cdef inline uintptr_t begin_of(cnp.ndarray a) noexcept:
    return <uintptr_t>cnp.PyArray_DATA(a)


cdef inline uintptr_t end_of(cnp.ndarray a) noexcept:
    return <uintptr_t>cnp.PyArray_DATA(a) + <uintptr_t>(cnp.PyArray_SIZE(a) * cnp.PyArray_ITEMSIZE(a))


cdef str label(str name, Py_ssize_t i):
    """How messages name an array: name[i] in a list, or name alone (i < 0)."""
    return f"{name}[{i}]" if i >= 0 else name


cdef check_layout(cnp.ndarray a, str name, Py_ssize_t i, bint writable):
    # On the hot path of every call: messages are formatted only on failure.
    if not cnp.PyArray_ISNOTSWAPPED(a):
        raise TypeError(f"{label(name, i)} has non-native byte order ({a.dtype.str}); "
                        f"use .astype({a.dtype.name!r})")
    if not cnp.PyArray_IS_C_CONTIGUOUS(a):
        raise ValueError(f"{label(name, i)} is not C-contiguous; pass numpy.ascontiguousarray(...)")
    if not cnp.PyArray_ISALIGNED(a):
        raise ValueError(f"{label(name, i)} is not aligned to its dtype")
    if writable and not cnp.PyArray_ISWRITEABLE(a):
        raise ValueError(f"{label(name, i)} is read-only; it is updated in place")


cdef object not_an_array(object obj, str name, Py_ssize_t i):
    """The TypeError for an object that is not an array."""
    if isinstance(obj, np.generic):
        return TypeError(f"{label(name, i)} must be a numpy.ndarray, got a NumPy scalar ({type(obj).__name__}); "
                         "pass a 0-d array: numpy.asarray(value)")
    if isinstance(obj, dict):
        return TypeError(f"{label(name, i)} must be a numpy.ndarray, got a dict (a dict is not a list of arrays)")
    return TypeError(f"{label(name, i)} must be a numpy.ndarray, got {type(obj).__name__}")


cdef cnp.ndarray as_param(object obj, str name, Py_ssize_t i, bint writable=True):
    """A tensor's leading array (a parameter, a prediction): any float array."""
    if not cnp.PyArray_Check(obj):
        raise not_an_array(obj, name, i)
    cdef cnp.ndarray a = <cnp.ndarray>obj
    if dtype_of(a) < 0:
        raise TypeError(f"{label(name, i)} has dtype {a.dtype}; optkern supports float32 and float64")
    check_layout(a, name, i, writable)
    return a


cdef cnp.ndarray as_companion(object obj, str name, Py_ssize_t i, cnp.ndarray lead, str lead_name, bint writable):
    """An array that goes with `lead` element for element: same dtype and shape."""
    if not cnp.PyArray_Check(obj):
        raise not_an_array(obj, name, i)
    cdef cnp.ndarray a = <cnp.ndarray>obj
    if cnp.PyArray_TYPE(a) != cnp.PyArray_TYPE(lead):
        raise TypeError(f"{label(name, i)} has dtype {a.dtype} but {label(lead_name, i)} has dtype {lead.dtype}")
    cdef int nd = cnp.PyArray_NDIM(a)
    cdef bint same = nd == cnp.PyArray_NDIM(lead)
    cdef int d
    if same:
        for d in range(nd):
            if cnp.PyArray_DIMS(a)[d] != cnp.PyArray_DIMS(lead)[d]:
                same = False
                break
    if not same:
        raise ValueError(f"{label(name, i)} has shape {(<object>a).shape} but {label(lead_name, i)} "
                         f"has shape {(<object>lead).shape}")
    check_layout(a, name, i, writable)
    return a

cdef cnp.ndarray as_scalar_state(object obj, str name, Py_ssize_t i):
    """A scalar state: a writeable 0-d float32 array (torch's 0-d state
    tensor), whatever its parameter's dtype."""
    if not cnp.PyArray_Check(obj):
        raise not_an_array(obj, name, i)
    cdef cnp.ndarray a = <cnp.ndarray>obj
    if cnp.PyArray_TYPE(a) != cnp.NPY_FLOAT32 or cnp.PyArray_NDIM(a) != 0:
        raise TypeError(f"{label(name, i)} must be a 0-d float32 array (a scalar state), got "
                        f"{a.dtype} with shape {(<object>a).shape}; pass numpy.zeros((), numpy.float32)")
    check_layout(a, name, i, True)
    return a


cdef inline char *scalar_data(object obj) noexcept:
    """The data of obj when it is a well-formed scalar state, else NULL (the
    caller then asks as_scalar_state() what is wrong)."""
    if not cnp.PyArray_Check(obj):
        return NULL
    cdef cnp.ndarray a = <cnp.ndarray>obj
    cdef int need = cnp.NPY_ARRAY_ALIGNED | cnp.NPY_ARRAY_WRITEABLE
    if cnp.PyArray_TYPE(a) != cnp.NPY_FLOAT32 or cnp.PyArray_NDIM(a) != 0 or \
            (cnp.PyArray_FLAGS(a) & need) != need or not cnp.PyArray_ISNOTSWAPPED(a):
        return NULL
    return <char *>cnp.PyArray_DATA(a)


cdef inline char *companion_data(object obj, cnp.ndarray lead, bint writable) noexcept:
    """The data of obj when it is a well-formed companion of lead, else NULL.

    The hot path of gather(): C-level tests only. On NULL the caller goes
    through as_companion(), which says what is wrong (or, for an array whose
    data pointer happens to be NULL, returns it after all).
    """
    if not cnp.PyArray_Check(obj):
        return NULL
    cdef cnp.ndarray a = <cnp.ndarray>obj
    cdef int nd = cnp.PyArray_NDIM(a), d
    if cnp.PyArray_TYPE(a) != cnp.PyArray_TYPE(lead) or nd != cnp.PyArray_NDIM(lead):
        return NULL
    for d in range(nd):
        if cnp.PyArray_DIMS(a)[d] != cnp.PyArray_DIMS(lead)[d]:
            return NULL
    cdef int need = cnp.NPY_ARRAY_C_CONTIGUOUS | cnp.NPY_ARRAY_ALIGNED | (cnp.NPY_ARRAY_WRITEABLE if writable else 0)
    if (cnp.PyArray_FLAGS(a) & need) != need or not cnp.PyArray_ISNOTSWAPPED(a):
        return NULL
    return <char *>cnp.PyArray_DATA(a)


cdef raise_for(ok_status st):
    if st == OK_SUCCESS:
        return
    msg = ok_status_string(st).decode()
    if st == OK_ERR_NO_MEMORY:
        raise MemoryError(msg)
    if st == OK_ERR_INDEX:
        raise IndexError(msg)
    if st == OK_ERR_UNSUPPORTED:
        raise RuntimeError(msg)
    raise ValueError(msg)
