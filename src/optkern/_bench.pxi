# Benchmark support: the memory roofline and the threading break-even size.

def roofline(list streams, int n_inplace, int n_writeonly):
    """The memory roofline over a tensor list (see kernels/src/roofline.h).

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
    cdef size_t elem = 4
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
            if i and <size_t>cnp.PyArray_ITEMSIZE(lead) != elem:
                raise TypeError("every array of a roofline run must have the same dtype")
            elem = <size_t>cnp.PyArray_ITEMSIZE(lead)
            numel[i] = <size_t>cnp.PyArray_SIZE(lead)
            for s in range(n_streams):
                a = as_companion(streams[s][i], f"streams[{s}]", i, lead, "streams[0]", s < n_inplace + n_writeonly)
                lists[s][i] = cnp.PyArray_DATA(a)
        with nogil:
            st = ok_roofline(elem, n_inplace, n_writeonly, n_streams - n_inplace - n_writeonly,
                             <size_t>n, numel, lists)
    finally:
        PyMem_Free(numel)
        PyMem_Free(table)
    raise_for(st)


def set_parallel_min(size_t elements):
    """Move the size below which kernels stay on one thread (0: the measured
    default). For bench/threshold.py, which measures that size."""
    ok_mt_set_parallel_min(elements)
