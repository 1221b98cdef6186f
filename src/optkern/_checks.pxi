# The checks of a single array every call makes, and the exception of a C
# status: shared by optkern._core and optkern._testing.

# ml_dtypes.bfloat16's NumPy type number (a user-defined type's number is
# given out at run time), or -1 without ml_dtypes: bfloat16 arrays need it.
cdef int BFLOAT16_TYPE = -1
try:
    import ml_dtypes
    BFLOAT16_TYPE = np.dtype(ml_dtypes.bfloat16).num
except ImportError:
    pass

SUPPORTED_DTYPES = "float32, float64, bfloat16 (ml_dtypes.bfloat16) and float16"


def bfloat16():
    """numpy.dtype(ml_dtypes.bfloat16); ImportError without ml_dtypes."""
    require_bfloat16()
    return np.dtype(ml_dtypes.bfloat16)


def require_bfloat16():
    """ImportError, with what to install, unless ml_dtypes is importable."""
    if BFLOAT16_TYPE < 0:
        raise ImportError("bfloat16 needs ml_dtypes (NumPy's bfloat16 dtype): pip install 'optkern[bfloat16]'")


cdef int dtype_of(cnp.ndarray a) noexcept:
    """The ok_dtype of a's elements, or -1 for a dtype optkern has no kernels for."""
    return dtype_of_type(cnp.PyArray_TYPE(a))


cdef size_t itemsize_of(int t) noexcept:
    """The bytes of an element of NumPy type t, one dtype_of_type knows."""
    return ok_dtype_size(<ok_dtype>dtype_of_type(t))


cdef int dtype_of_type(int t) noexcept:
    """The ok_dtype of NumPy type number t, or -1."""
    if t == cnp.NPY_FLOAT32:
        return OK_FLOAT32
    if t == cnp.NPY_FLOAT64:
        return OK_FLOAT64
    if t == cnp.NPY_FLOAT16:
        return OK_FLOAT16
    if t == BFLOAT16_TYPE:
        return OK_BFLOAT16
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
        raise TypeError(f"{label(name, i)} has dtype {a.dtype}; optkern supports {SUPPORTED_DTYPES}")
    check_layout(a, name, i, writable)
    return a


# An optimizer state's shape follows its parameter's by a rule (the C
# descriptor's ok_state_shape): the parameter's own, or, for a parameter of
# ndim >= 2, its shape with the last (ROWS) or second-to-last (COLS) dim 1.
# VECTOR states exist for ndim < 2 only, ROWS and COLS for ndim >= 2 only.

cdef inline bint state_exists(cnp.ndarray lead, int rule) noexcept:
    """Does a parameter like lead have a state of shape rule `rule`?"""
    return rule == OK_STATE_PARAM or (cnp.PyArray_NDIM(lead) >= 2) == (rule != OK_STATE_VECTOR)


cdef inline cnp.npy_intp state_dim(cnp.ndarray lead, int rule, int d) noexcept:
    """Dim d of the state of shape rule `rule` of a parameter like lead."""
    cdef int nd = cnp.PyArray_NDIM(lead)
    if (rule == OK_STATE_ROWS and d == nd - 1) or (rule == OK_STATE_COLS and d == nd - 2):
        return 1
    return cnp.PyArray_DIMS(lead)[d]


cdef inline size_t state_elements(cnp.ndarray lead, int rule) noexcept:
    """The elements of that state (0 where it does not exist)."""
    cdef size_t n = <size_t>cnp.PyArray_SIZE(lead), extent = 1
    cdef int d
    if not state_exists(lead, rule):
        return 0
    if n == 0 or rule == OK_STATE_PARAM or rule == OK_STATE_VECTOR:
        return n
    for d in range(cnp.PyArray_NDIM(lead)):
        extent *= <size_t>state_dim(lead, rule, d)
    return extent


# Which dtypes an array may have beside its lead's (companion_data's `kind`):
# SAME_DTYPE its lead's; GRAD_DTYPE also float32 for a 16-bit parameter;
# STATE_DTYPE also float32 for a 16-bit parameter and bfloat16 for a
# float32 one. These are the signatures the C library has kernels for
# (ok_dtypes, optkern/optim.h); gather() holds a tensor's states to one dtype.
cdef enum:
    SAME_DTYPE = 0
    GRAD_DTYPE = 1
    STATE_DTYPE = 2


cdef inline bint dtype_allowed(int t, int lead, int kind) noexcept:
    if t == lead:
        return True
    if kind == SAME_DTYPE:
        return False
    if t == cnp.NPY_FLOAT32 and (lead == cnp.NPY_FLOAT16 or lead == BFLOAT16_TYPE):
        return True
    return kind == STATE_DTYPE and t == BFLOAT16_TYPE and lead == cnp.NPY_FLOAT32


cdef cnp.ndarray as_companion(object obj, str name, Py_ssize_t i, cnp.ndarray lead, str lead_name, bint writable,
                              int rule=OK_STATE_PARAM, int kind=SAME_DTYPE):
    """An array that goes with `lead`: its dtype (or another that `kind`
    allows), and its shape (or, for a state, the shape its rule gives)."""
    if not cnp.PyArray_Check(obj):
        raise not_an_array(obj, name, i)
    cdef cnp.ndarray a = <cnp.ndarray>obj
    if not dtype_allowed(cnp.PyArray_TYPE(a), cnp.PyArray_TYPE(lead), kind):
        allowed = {GRAD_DTYPE: " (a 16-bit parameter's may also be float32)",
                   STATE_DTYPE: " (a 16-bit parameter's may also be float32, a float32 one's bfloat16)"}
        raise TypeError(f"{label(name, i)} has dtype {a.dtype} but {label(lead_name, i)} has dtype {lead.dtype}"
                        + allowed.get(kind, ""))
    cdef int nd = cnp.PyArray_NDIM(a)
    cdef bint same = nd == cnp.PyArray_NDIM(lead)
    cdef int d
    if same:
        for d in range(nd):
            if cnp.PyArray_DIMS(a)[d] != state_dim(lead, rule, d):
                same = False
                break
    if not same:
        if rule == OK_STATE_PARAM or rule == OK_STATE_VECTOR:
            raise ValueError(f"{label(name, i)} has shape {(<object>a).shape} but {label(lead_name, i)} "
                             f"has shape {(<object>lead).shape}")
        expected = tuple([state_dim(lead, rule, d) for d in range(cnp.PyArray_NDIM(lead))])
        raise ValueError(f"{label(name, i)} has shape {(<object>a).shape} but {label(lead_name, i)} of shape "
                         f"{(<object>lead).shape} needs one of shape {expected}")
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


cdef inline char *companion_data(object obj, cnp.ndarray lead, bint writable, int rule=OK_STATE_PARAM,
                                 int kind=SAME_DTYPE) noexcept:
    """The data of obj when it is a well-formed companion of lead (of shape
    rule `rule`), else NULL.

    The hot path of gather(): C-level tests only. On NULL the caller goes
    through as_companion(), which says what is wrong (or, for an array whose
    data pointer happens to be NULL, returns it after all).
    """
    if not cnp.PyArray_Check(obj):
        return NULL
    cdef cnp.ndarray a = <cnp.ndarray>obj
    cdef int nd = cnp.PyArray_NDIM(a), d
    if not dtype_allowed(cnp.PyArray_TYPE(a), cnp.PyArray_TYPE(lead), kind) or nd != cnp.PyArray_NDIM(lead):
        return NULL
    for d in range(nd):
        if cnp.PyArray_DIMS(a)[d] != state_dim(lead, rule, d):
            return NULL
    cdef int need = cnp.NPY_ARRAY_C_CONTIGUOUS | cnp.NPY_ARRAY_ALIGNED | (cnp.NPY_ARRAY_WRITEABLE if writable else 0)
    if (cnp.PyArray_FLAGS(a) & need) != need or not cnp.PyArray_ISNOTSWAPPED(a):
        return NULL
    return <char *>cnp.PyArray_DATA(a)


class DomainError(ValueError, RuntimeError):
    """A value outside a function's domain (OK_ERR_DOMAIN): a ValueError,
    and a RuntimeError as torch raises for some of them."""


cdef raise_for(ok_status st):
    if st == OK_SUCCESS:
        return
    msg = ok_status_string(st).decode()
    if st == OK_ERR_DOMAIN:
        raise DomainError(msg)
    if st == OK_ERR_NO_MEMORY:
        raise MemoryError(msg)
    if st == OK_ERR_INDEX:
        raise IndexError(msg)
    if st == OK_ERR_UNSUPPORTED:
        raise RuntimeError(msg)
    raise ValueError(msg)
