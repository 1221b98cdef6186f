# The vector operations (optkern/vector.h): a list of arrays taken as one
# vector. Every array of a call shares one dtype; entry i of y goes with
# entry i of x (same shape). Checked here, before the call: nothing is
# written when a check fails.

cdef class Vectors:
    """The pointers and lengths of one or two aligned lists of arrays, checked."""
    cdef list keep     # private copies of the lists: the arrays stay alive through the call
    cdef size_t count
    cdef size_t *numel
    cdef const void **x
    cdef void **y
    cdef ok_dtype dtype

    def __dealloc__(self):
        PyMem_Free(self.numel)

    cdef fill(self, list x, object y, bint y_written):
        cdef Py_ssize_t n = len(x), i
        cdef cnp.ndarray a, b
        if y is not None and len(y) != n:
            raise ValueError(f"expected {n} arrays in y, one per entry of x; got {len(y)}")
        # y is x, the very list: an in-place operation, y[i] is x[i]
        cdef bint same = y is x
        self.keep = [list(x), None if y is None or same else list(y)]
        self.count = <size_t>n
        self.numel = <size_t *>PyMem_Malloc(n * (sizeof(size_t) + 2 * sizeof(void *)) + 1)
        if self.numel == NULL:
            raise MemoryError()
        self.x = <const void **>(self.numel + n)
        self.y = <void **>(self.x + n)
        self.dtype = OK_FLOAT64
        for i in range(n):
            a = as_param(self.keep[0][i], "x", i, same and y_written)
            if i == 0:
                self.dtype = <ok_dtype>dtype_of(a)
            elif <ok_dtype>dtype_of(a) != self.dtype:
                raise TypeError(f"x[{i}] has dtype {a.dtype} but x[0] has dtype {self.keep[0][0].dtype}; "
                                "a vector has one dtype")
            self.numel[i] = <size_t>cnp.PyArray_SIZE(a)
            self.x[i] = cnp.PyArray_DATA(a)
            self.y[i] = NULL
            if same:
                self.y[i] = cnp.PyArray_DATA(a)
            elif y is not None:
                b = as_companion(self.keep[1][i], "y", i, a, "x", y_written)
                self.y[i] = cnp.PyArray_DATA(b)

    cdef check_written(self):
        """No array of y overlaps another array of the call, but its own x
        entry when it is that very array (an in-place scaling)."""
        cdef size_t total = 2 * self.count, k, n = 0, first = 0, second = 0
        cdef size_t elem = ok_dtype_size(self.dtype)
        cdef ok_span *spans = <ok_span *>PyMem_Malloc(total * sizeof(ok_span) + 1)
        if spans == NULL:
            raise MemoryError()
        for k in range(self.count):
            if self.numel[k] == 0:
                continue
            spans[n].begin = <uintptr_t>self.y[k]
            spans[n].end = spans[n].begin + self.numel[k] * elem
            spans[n].id = 2 * k + 1
            spans[n].written = 1
            n += 1
            if self.x[k] != self.y[k]:
                spans[n].begin = <uintptr_t>self.x[k]
                spans[n].end = spans[n].begin + self.numel[k] * elem
                spans[n].id = 2 * k
                spans[n].written = 0
                n += 1
        cdef ok_status st = ok_check_overlap(spans, n, &first, &second)
        PyMem_Free(spans)
        if st != OK_SUCCESS:
            raise ValueError(f"{'xy'[first % 2]}[{first // 2}] overlaps {'xy'[second % 2]}[{second // 2}], "
                             "which is written; y[i] may only be x[i] itself or apart from every other array")


cdef Vectors vectors(list x, object y=None, bint y_written=False):
    cdef Vectors v = Vectors()
    v.fill(x, y, y_written)
    return v


def vec_dot(list x, list y):
    """The dot product of two vectors (lists of arrays), in double."""
    cdef Vectors v = vectors(x, y)
    cdef double result = 0.0
    cdef ok_status st
    with nogil:
        st = ok_vec_dot(v.dtype, v.count, v.numel, v.x, <const void **>v.y, &result)
    raise_for(st)
    return result


def vec_abs_sum(list x):
    """The sum of |x| over a vector (a list of arrays), in double."""
    cdef Vectors v = vectors(x)
    cdef double result = 0.0
    cdef ok_status st
    with nogil:
        st = ok_vec_abs_sum(v.dtype, v.count, v.numel, v.x, &result)
    raise_for(st)
    return result


def vec_abs_max(list x):
    """The largest |x| over a vector (a list of arrays): NaN if one is NaN, 0.0 if it is empty."""
    cdef Vectors v = vectors(x)
    cdef double result = 0.0
    cdef ok_status st
    with nogil:
        st = ok_vec_abs_max(v.dtype, v.count, v.numel, v.x, &result)
    raise_for(st)
    return result


def vec_axpby(double alpha, list x, double beta, list y):
    """y <- alpha x + beta y over a vector (lists of arrays), in place; with
    beta == 0, y is not read. y[i] may be x[i] itself."""
    cdef Vectors v = vectors(x, y, True)
    v.check_written()
    cdef ok_status st
    with nogil:
        st = ok_vec_axpby(v.dtype, v.count, v.numel, alpha, v.x, beta, v.y)
    raise_for(st)
