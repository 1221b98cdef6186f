# The 8-bit optimizer states (optkern/optim.h, docs/precision.md#8-bit-states):
# ok_optimizer_step_8bit over tensor lists, and the format's conversions.

Q8_BLOCK = 256


cdef cnp.ndarray q8_array(object obj, str name, Py_ssize_t i, int npy_type, tuple shape, bint writable):
    """obj as an array of NumPy type npy_type and the given shape, C-contiguous
    and aligned (TypeError / ValueError otherwise)."""
    if not cnp.PyArray_Check(obj):
        raise not_an_array(obj, name, i)
    cdef cnp.ndarray a = <cnp.ndarray>obj
    want = np.dtype("uint8" if npy_type == cnp.NPY_UINT8 else "float32")
    if cnp.PyArray_TYPE(a) != npy_type:
        raise TypeError(f"{label(name, i)} has dtype {a.dtype}; it must be {want}")
    if (<object>a).shape != shape:
        raise ValueError(f"{label(name, i)} has shape {(<object>a).shape}; it must be {shape}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(a):
        raise ValueError(f"{label(name, i)} is not C-contiguous")
    check_layout(a, name, i, writable)
    return a


def step_8bit(Kind kind, list params, list grads, tuple states, list hparams, hp_index=None, tuple scaling=None,
              list master=None, tuple rounding=None):
    """One 8-bit update of `kind` (adam, sgd, lion, rmsprop, adagrad) over
    every tensor of params (one C call, ok_optimizer_step_8bit).

    states: (state1, absmax1, state2, absmax2), lists aligned with params
    (state2 and absmax2 None for a one-state optimizer): uint8 codes of the
    parameter's shape and float32 scales of shape (ceil(size / 256),).
    hparams, hp_index, scaling, master, rounding: as step()'s; every grad
    must be present (the caller leaves out the parameters without one).
    """
    cdef Py_ssize_t n = len(params), n_sets = len(hparams), i, k
    cdef Py_ssize_t size = <Py_ssize_t>ok_optimizer_hparams_size(kind.opt)
    if n_sets == 0:
        raise ValueError("no hyperparameter set")
    state1, absmax1, state2, absmax2 = states
    two = state2 is not None
    for name, lst in (("grads", grads), ("state1", state1), ("absmax1", absmax1)) + \
            ((("state2", state2), ("absmax2", absmax2)) if two else ()):
        if len(lst) != n:
            raise ValueError(f"expected {n} {name}, one per parameter; got {len(lst)}")
    if master is not None and len(master) != n:
        raise ValueError(f"expected {n} master copies, one per parameter; got {len(master)}")
    cdef const uint32_t[::1] index
    if hp_index is not None:
        index = hp_index
        if index.shape[0] != n:
            raise ValueError(f"expected {n} set indices, one per parameter; got {index.shape[0]}")
    cdef bytearray memory = bytearray(n_sets * size + n * (sizeof(size_t) + sizeof(ok_dtypes) + 7 * sizeof(void *)
                                                           + sizeof(uint64_t)) + 64)
    cdef char *hp = <char *>memory
    for k in range(n_sets):
        kind.fill(hp + k * size, hparams[k])
        if ok_optimizer_check(kind.opt, hp + k * size) != OK_SUCCESS:
            raise ValueError(f"invalid {kind.name} hyperparameters {hparams[k]}")
    cdef size_t *numel = <size_t *>(hp + n_sets * size + (-(n_sets * size) & 7))
    cdef ok_dtypes *dtypes = <ok_dtypes *>(numel + n)
    cdef void **ptrs = <void **>(dtypes + n)  # 6 streams, then the master copies
    cdef uint64_t *keys = <uint64_t *>(ptrs + 7 * n)
    cdef cnp.ndarray p, g, a
    cdef int dt
    for i in range(n):
        p = as_param(params[i], "params", i)
        if not cnp.PyArray_IS_C_CONTIGUOUS(p):
            raise ValueError(f"params[{i}] is not C-contiguous")
        dt = dtype_of(p)
        if dt == OK_FLOAT64:
            raise TypeError(f"params[{i}] has dtype float64; 8-bit optimizer states are for float32, bfloat16 "
                            "and float16 parameters")
        g = as_companion(grads[i], "grads", i, p, "params", False, OK_STATE_PARAM, GRAD_DTYPE)
        if not cnp.PyArray_IS_C_CONTIGUOUS(g):
            raise ValueError(f"grads[{i}] is not C-contiguous")
        shape = (<object>p).shape
        blocks = ((<object>p).size + Q8_BLOCK - 1) // Q8_BLOCK
        numel[i] = <size_t>cnp.PyArray_SIZE(p)
        dtypes[i].param, dtypes[i].grad, dtypes[i].state = <ok_dtype>dt, <ok_dtype>dtype_of(g), OK_FLOAT32
        ptrs[i] = cnp.PyArray_DATA(p)
        ptrs[n + i] = cnp.PyArray_DATA(g)
        ptrs[2 * n + i] = cnp.PyArray_DATA(q8_array(state1[i], "state1", i, cnp.NPY_UINT8, shape, True))
        ptrs[4 * n + i] = cnp.PyArray_DATA(q8_array(absmax1[i], "absmax1", i, cnp.NPY_FLOAT32, (blocks,), True))
        ptrs[3 * n + i] = cnp.PyArray_DATA(q8_array(state2[i], "state2", i, cnp.NPY_UINT8, shape, True)) if two else NULL
        ptrs[5 * n + i] = cnp.PyArray_DATA(q8_array(absmax2[i], "absmax2", i, cnp.NPY_FLOAT32, (blocks,), True)) if two else NULL
        ptrs[6 * n + i] = NULL
        if master is not None and master[i] is not None:
            if dt != OK_BFLOAT16 and dt != OK_FLOAT16:
                raise TypeError(f"master[{i}]: params[{i}] has dtype {p.dtype}; master copies are for bfloat16 "
                                "and float16 parameters")
            ptrs[6 * n + i] = cnp.PyArray_DATA(q8_array(master[i], "master", i, cnp.NPY_FLOAT32, shape, True))
        if rounding is not None:
            keys[i] = ok_rounding_key(<uint64_t>rounding[0], <uint64_t>rounding[1][i], <uint64_t>i)
    cdef void **streams[6]
    for k in range(6):
        streams[k] = ptrs + k * n if (k < 2 or two or k % 2 == 0) else NULL
    cdef ok_step_options options
    options.scaling.unscale, options.scaling.clip = (1.0, 1.0) if scaling is None else scaling
    options.master = ptrs + 6 * n if master is not None else NULL
    options.rounding_key = keys if rounding is not None else NULL
    cdef const uint32_t *idx = &index[0] if hp_index is not None and n else NULL
    cdef ok_status st
    with nogil:
        st = ok_optimizer_step_8bit(kind.opt, hp, <size_t>n_sets, idx, <size_t>n, numel, dtypes, streams, &options)
    if st == OK_ERR_ALIASING:
        raise ValueError("an array of a parameter's 8-bit update overlaps another of its arrays; they must be "
                         "separate arrays")
    raise_for(st)


def q8_map(bint unsigned_map):
    """The 256 sorted float32 entries of the signed or unsigned dynamic map."""
    cdef const float *m = ok_q8_map(unsigned_map)
    return np.array(<float[:256]>m, dtype=np.float32)


def quantize_8bit(x, bint unsigned_map):
    """(codes, absmax) of a float32 array x: uint8 codes of x's shape and
    float32 scales, one per block of 256 elements (of x in C order)."""
    cdef cnp.ndarray a = np.ascontiguousarray(x, dtype=np.float32)
    cdef cnp.ndarray q = np.empty((<object>a).shape, dtype=np.uint8)
    cdef cnp.ndarray m = np.empty(((a.size + Q8_BLOCK - 1) // Q8_BLOCK,), dtype=np.float32)
    raise_for(ok_quantize_8bit(unsigned_map, <size_t>a.size, <const float *>cnp.PyArray_DATA(a),
                               <uint8_t *>cnp.PyArray_DATA(q), <float *>cnp.PyArray_DATA(m)))
    return q, m


def dequantize_8bit(codes, absmax, bint unsigned_map):
    """The float32 array of 8-bit codes (uint8) and their scales (float32,
    one per block of 256)."""
    cdef cnp.ndarray q = np.ascontiguousarray(codes, dtype=np.uint8)
    cdef cnp.ndarray m = np.ascontiguousarray(absmax, dtype=np.float32)
    if m.ndim != 1 or m.shape[0] != (q.size + Q8_BLOCK - 1) // Q8_BLOCK:
        raise ValueError(f"absmax must have one float per block of {Q8_BLOCK} codes, "
                         f"{(q.size + Q8_BLOCK - 1) // Q8_BLOCK}; got shape {(<object>m).shape}")
    cdef cnp.ndarray x = np.empty((<object>q).shape, dtype=np.float32)
    raise_for(ok_dequantize_8bit(unsigned_map, <size_t>q.size, <const uint8_t *>cnp.PyArray_DATA(q),
                                 <const float *>cnp.PyArray_DATA(m), <float *>cnp.PyArray_DATA(x)))
    return x
