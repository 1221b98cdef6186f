# Overlap detection and gathering the pointers of a multi-tensor call.

cdef class WrittenIndex:
    """The byte ranges of the arrays a multi-tensor call writes, sorted.

    Built from named lists of arrays (the parameters, then each list of
    state arrays; None entries are skipped) whenever they change; building
    raises ValueError when two of them overlap (the same array listed twice,
    or two views of one buffer). find() then tells in O(log n) which of them,
    if any, another array overlaps: each step checks its gradients so.
    """
    cdef ok_span *spans
    cdef size_t n
    cdef list names     # the name of each list
    cdef list starts    # the id of each list's first entry

    def __cinit__(self, list named_lists):
        cdef Py_ssize_t total = 0, i
        self.names, self.starts = [], []
        for name, arrays in named_lists:
            self.names.append(name)
            self.starts.append(total)
            total += len(arrays)
        self.n = 0
        self.spans = <ok_span *>PyMem_Calloc(total + 1, sizeof(ok_span))
        if self.spans == NULL:
            raise MemoryError()
        cdef cnp.ndarray a
        cdef size_t id = 0
        for name, arrays in named_lists:
            for i in range(len(arrays)):
                if arrays[i] is not None:
                    a = as_param(arrays[i], name, i)
                    if cnp.PyArray_SIZE(a):
                        self.spans[self.n].begin = begin_of(a)
                        self.spans[self.n].end = end_of(a)
                        self.spans[self.n].id = id
                        self.spans[self.n].written = 1
                        self.n += 1
                id += 1
        cdef size_t first = 0, second = 0
        if ok_check_overlap(self.spans, self.n, &first, &second) != OK_SUCCESS:
            raise ValueError(f"{self.describe(first)} and {self.describe(second)} overlap in memory; "
                             "each array must be listed once")

    def __dealloc__(self):
        PyMem_Free(self.spans)

    cdef str describe(self, size_t id):
        """"name[i]" of entry id."""
        cdef Py_ssize_t k = len(self.starts) - 1
        while self.starts[k] > id:
            k -= 1
        return f"{self.names[k]}[{id - self.starts[k]}]"

    cdef Py_ssize_t find(self, uintptr_t begin, uintptr_t end) noexcept:
        """The id of an indexed array overlapping [begin, end), or -1."""
        if end <= begin:
            return -1
        # The spans are disjoint, so sorted by begin they are sorted by end
        # too: find the first one that ends after `begin`.
        cdef size_t lo = 0, hi = self.n, mid
        while lo < hi:
            mid = (lo + hi) // 2
            if self.spans[mid].end <= begin:
                lo = mid + 1
            else:
                hi = mid
        if lo < self.n and self.spans[lo].begin < end:
            return <Py_ssize_t>self.spans[lo].id
        return -1

cdef class StateTable:
    """The data pointers of a list of state arrays, checked once.

    An optimizer's state arrays are its own and stay put between steps, so
    it checks them once (each against its parameter: dtype, shape, layout,
    writeable) and hands the table to every step instead of the list:
    touching thousands of array objects at each step is what costs when
    they have dropped out of the cache. None entries are states not created
    yet (NULL pointers), or states a parameter's shape has none of (rule:
    the state's ok_state_shape, OK_STATE_PARAM by default). The table of a
    scalar state (scalar=True) holds 0-d float32 arrays, one per parameter,
    instead.
    """
    cdef readonly list arrays
    cdef list params
    cdef str name
    cdef int rule
    cdef char **data
    cdef Py_ssize_t n
    cdef readonly bint scalar

    def __cinit__(self, list params, list arrays, str name, bint scalar=False, int rule=OK_STATE_PARAM):
        self.n = len(arrays)
        if len(params) != self.n:
            raise ValueError(f"expected {len(params)} {name}, got {self.n}")
        self.arrays = list(arrays)  # a private copy: keeps the arrays alive and the table true
        self.params = list(params)
        self.name = name
        self.scalar = scalar
        self.rule = rule
        self.data = <char **>PyMem_Calloc(self.n + 1, sizeof(char *))
        if self.data == NULL:
            raise MemoryError()
        cdef Py_ssize_t i
        cdef cnp.ndarray lead
        for i in range(self.n):
            if self.arrays[i] is None:
                continue
            if scalar:
                self.data[i] = <char *>cnp.PyArray_DATA(as_scalar_state(self.arrays[i], name, i))
                continue
            lead = as_param(params[i], "params", i)
            check_state_exists(lead, rule, name, i)
            self.data[i] = <char *>cnp.PyArray_DATA(as_companion(self.arrays[i], name, i, lead, "params", True, rule,
                                                                 STATE_DTYPE))

    def __dealloc__(self):
        PyMem_Free(self.data)

    def check(self):
        """Check again what a user can change in place on an array after the
        table was built (its writeable flag, its shape or dtype attribute):
        a C-level test per array, the messages of the first check on failure."""
        cdef Py_ssize_t i
        cdef object a
        for i in range(self.n):
            a = self.arrays[i]
            if a is not None and self.scalar:
                if scalar_data(a) != self.data[i]:
                    as_scalar_state(a, self.name, i)
                    raise ValueError(f"{self.name}[{i}] has changed since the optimizer checked it")
                continue
            if a is None or not cnp.PyArray_Check(self.params[i]):
                continue
            if companion_data(a, <cnp.ndarray>self.params[i], True, self.rule, STATE_DTYPE) != self.data[i]:
                as_companion(a, self.name, i, as_param(self.params[i], "params", i), "params", True, self.rule,
                             STATE_DTYPE)
                raise ValueError(f"{self.name}[{i}] has changed since the optimizer checked it")


cdef check_state_exists(cnp.ndarray lead, int rule, str name, Py_ssize_t i):
    """A state given for a parameter whose shape has none of it is a mistake."""
    if not state_exists(lead, rule):
        kept = "fewer than 2" if rule == OK_STATE_VECTOR else "2 or more"
        raise ValueError(f"{label(name, i)} must be None: params[{i}] has shape {(<object>lead).shape}, and only "
                         f"parameters of {kept} dims have this state")


# --------------------------------------------------------------------------
# Gathering a multi-tensor call

cdef class Gathered:
    """The pointers of one multi-tensor call (any mix of dtypes).

    Stream 0 is the tensor's leading array (written), stream 1 its gradient
    or other read-only input, streams 2... its states (written): the order
    of the C optimizer tasks too. Each tensor's shape is its leading array's
    (shapes point into that array's dims). Tensors whose stream 1 is None are
    skipped, as torch skips a parameter whose .grad is None.

    It owns a reference to every array whose pointer it holds (`keep`:
    private copies of the call's lists, and its StateTables), so a kernel
    running without the GIL reads live memory even while another thread
    replaces entries of the caller's lists.
    """
    cdef tuple keep
    cdef size_t count
    cdef size_t *numel
    cdef ok_shape *shapes
    cdef uint32_t *index
    cdef ok_dtypes *dtypes
    cdef void **stream[MAX_STREAMS]
    cdef int rule[MAX_STREAMS]   # the ok_state_shape of each stream
    cdef void *memory
    cdef int n_streams

    def __dealloc__(self):
        PyMem_Free(self.memory)

    cdef allocate(self, size_t count, int n_streams):
        # per tensor: numel, one pointer per stream, the shape, the dtypes
        # and the index, in that order (each part keeps the next one aligned)
        cdef size_t words = count * (1 + <size_t>n_streams)
        self.memory = PyMem_Malloc(words * sizeof(void *) +
                                   count * (sizeof(ok_shape) + sizeof(ok_dtypes) + sizeof(uint32_t)) + 1)
        if self.memory == NULL:
            raise MemoryError()
        cdef void **cursor = <void **>self.memory
        self.numel = <size_t *>cursor
        cursor += count
        cdef int s
        for s in range(n_streams):
            self.stream[s] = cursor
            cursor += count
        self.shapes = <ok_shape *>cursor
        self.dtypes = <ok_dtypes *>(self.shapes + count)
        self.index = <uint32_t *>(self.dtypes + count)
        self.count = 0
        self.n_streams = n_streams


cdef int same_state_type(int have, int t, tuple names, int s, Py_ssize_t i) except -2:
    """The states of a tensor share one dtype: t, when `have` (the dtype of
    its states so far, -1 for none) agrees."""
    if have >= 0 and t != have:
        raise TypeError(f"{names[s]}[{i}] has dtype {np.dtype(cnp.PyArray_DescrFromType(t))} but the tensor's other "
                        f"states have dtype {np.dtype(cnp.PyArray_DescrFromType(have))}; a tensor's states share one dtype")
    return t


cdef Gathered gather(str lead_name, list leads, str input_name, list inputs, tuple state_names,
                     tuple states, object hp_index, uint32_t n_sets, const uint32_t *required,
                     WrittenIndex written, unsigned scalar=0, tuple rules=None):
    """Check every array of a call and collect the pointers.

    required[k] has bit s set when stream s must be present for a tensor
    using hyperparameter set k (where the tensor's shape has the state:
    rules, the ok_state_shape of each state, None for all OK_STATE_PARAM;
    the streams past them, work arrays, have the parameter's shape).
    `written`, when given, indexes every array the call writes (leads and
    states, already checked for overlaps among themselves, as an optimizer
    keeps them); inputs are then checked against all of them. Without it,
    every array of the call is checked against every other (a sort: fine
    for the functional API). Bit s of `scalar` is set when state s is a
    scalar state (0-d float32 arrays; its StateTable is made with
    scalar=True).
    """
    cdef Py_ssize_t n = len(leads), i
    cdef int n_states = len(states), n_streams = 2 + n_states, s, t
    if n_streams > MAX_STREAMS:
        raise ValueError("too many state lists")
    if len(inputs) != n:
        raise ValueError(f"expected {n} {input_name}, one per entry of {lead_name}; got {len(inputs)}")
    for s in range(n_states):
        if states[s] is None:
            continue
        if isinstance(states[s], StateTable):
            if (<StateTable>states[s]).n != n:
                raise ValueError(f"expected {n} {state_names[s]}, got {(<StateTable>states[s]).n}")
            if (<StateTable>states[s]).scalar != (scalar >> s & 1):
                raise ValueError(f"the table of {state_names[s]} is not one of " +
                                 ("scalar states" if scalar >> s & 1 else "arrays"))
            continue
        if not isinstance(states[s], list):
            raise TypeError(f"{state_names[s]} must be a list")
        if len(states[s]) != n:
            raise ValueError(f"expected {n} {state_names[s]}, got {len(states[s])}")
    cdef const uint32_t[::1] idx
    if hp_index is not None:
        idx = hp_index
        if idx.shape[0] != n:
            raise ValueError(f"hp_index has {idx.shape[0]} entries for {n} tensors")

    # Private copies of the lists: every pointer below comes from an object
    # they hold, and g keeps them until the C call is over.
    leads = list(leads)
    inputs = list(inputs)
    states = tuple([list(st) if isinstance(st, list) else st for st in states])
    cdef Gathered g = Gathered()
    g.keep = (leads, inputs, states)
    cdef cnp.ndarray lead
    cdef size_t count = 0
    for i in range(n):
        if inputs[i] is not None:
            count += 1
    g.allocate(count, n_streams)
    for s in range(n_streams):
        g.rule[s] = rules[s - 2] if s >= 2 and rules is not None and s - 2 < len(rules) else OK_STATE_PARAM

    cdef tuple names = (lead_name, input_name) + state_names
    cdef char *ptr[MAX_STREAMS]
    cdef int grad_type, state_type
    cdef size_t size[MAX_STREAMS]
    cdef size_t k, nbytes
    cdef uint32_t set_k
    cdef object entry
    cdef Py_ssize_t other
    for i in range(n):
        if inputs[i] is None:
            continue
        lead = as_param(leads[i], lead_name, i)
        set_k = idx[i] if hp_index is not None else 0
        if set_k >= n_sets:
            raise ValueError(f"hp_index[{i}] = {set_k} but there are {n_sets} hyperparameter sets")
        ptr[0] = <char *>cnp.PyArray_DATA(lead)
        entry = inputs[i]
        ptr[1] = companion_data(entry, lead, False, OK_STATE_PARAM, GRAD_DTYPE)
        if ptr[1] == NULL:
            ptr[1] = <char *>cnp.PyArray_DATA(as_companion(entry, input_name, i, lead, lead_name, False,
                                                           OK_STATE_PARAM, GRAD_DTYPE))
        grad_type = cnp.PyArray_TYPE(<cnp.ndarray>entry)
        state_type = -1
        for s in range(n_states):
            ptr[2 + s] = NULL
            if states[s] is None:
                pass
            elif isinstance(states[s], StateTable):
                ptr[2 + s] = (<StateTable>states[s]).data[i]
                entry = (<StateTable>states[s]).arrays[i]
                if ptr[2 + s] != NULL and not (scalar >> s & 1):
                    state_type = same_state_type(state_type, cnp.PyArray_TYPE(<cnp.ndarray>entry), state_names, s, i)
            else:
                entry = (<list>states[s])[i]
                if entry is not None and scalar >> s & 1:
                    ptr[2 + s] = scalar_data(entry)
                    if ptr[2 + s] == NULL:
                        ptr[2 + s] = <char *>cnp.PyArray_DATA(as_scalar_state(entry, state_names[s], i))
                elif entry is not None:
                    check_state_exists(lead, g.rule[2 + s], state_names[s], i)
                    ptr[2 + s] = companion_data(entry, lead, True, g.rule[2 + s], STATE_DTYPE)
                    if ptr[2 + s] == NULL:
                        ptr[2 + s] = <char *>cnp.PyArray_DATA(
                            as_companion(entry, state_names[s], i, lead, lead_name, True, g.rule[2 + s], STATE_DTYPE))
                    state_type = same_state_type(state_type, cnp.PyArray_TYPE(<cnp.ndarray>entry), state_names, s, i)
            if ptr[2 + s] == NULL and required[set_k] & (1u << (2 + s)) and state_exists(lead, g.rule[2 + s]):
                raise ValueError(f"{state_names[s]}[{i}] is missing (None) but the update needs it")
        # Within the tensor: a written stream (all but 1) may overlap nothing
        # else (an empty array overlaps nothing; a scalar state is 4 bytes; a
        # state shaped by its rule spans the elements the rule gives it).
        nbytes = <size_t>(cnp.PyArray_SIZE(lead) * cnp.PyArray_ITEMSIZE(lead))
        for s in range(n_streams):
            size[s] = sizeof(float) if s >= 2 and scalar >> (s - 2) & 1 else \
                state_elements(lead, g.rule[s]) * itemsize_of(grad_type if s == 1 else
                                                             cnp.PyArray_TYPE(lead) if s == 0 or state_type < 0
                                                             else state_type)
        for s in range(n_streams):
            if ptr[s] == NULL or size[s] == 0:
                continue
            for t in range(s + 1, n_streams):
                if ptr[t] != NULL and size[t] and ptr[s] < ptr[t] + size[t] and ptr[t] < ptr[s] + size[s]:
                    raise ValueError(f"{names[t]}[{i}] overlaps {names[s]}[{i}]; "
                                     "they must be separate arrays")
        if nbytes and written is not None:
            other = written.find(<uintptr_t>ptr[1], <uintptr_t>ptr[1] + nbytes)
            if other >= 0:
                raise ValueError(f"{input_name}[{i}] overlaps {written.describe(other)}, "
                                 "which is updated in place")
        k = g.count
        g.numel[k] = <size_t>cnp.PyArray_SIZE(lead)
        g.shapes[k].ndim = <size_t>cnp.PyArray_NDIM(lead)
        g.shapes[k].dims = <const size_t *>cnp.PyArray_DIMS(lead)  # npy_intp and size_t: the same width
        g.index[k] = set_k
        # the dtypes as_companion allowed (a scalar state is float32 whatever
        # the tensor's dtype: C knows)
        g.dtypes[k].param = <ok_dtype>dtype_of(lead)
        g.dtypes[k].grad = <ok_dtype>dtype_of_type(grad_type)
        g.dtypes[k].state = g.dtypes[k].param if state_type < 0 else <ok_dtype>dtype_of_type(state_type)
        for s in range(n_streams):
            g.stream[s][k] = ptr[s]
        g.count += 1
    if written is None:
        check_all_overlaps(g, names, scalar)
    return g


cdef size_t stream_elements(Gathered g, int s, size_t k) noexcept:
    """The elements of stream s of tensor k (its numel, or its state shape's)."""
    cdef const ok_shape *shape = &g.shapes[k]
    cdef size_t nd = shape.ndim
    if g.rule[s] == OK_STATE_PARAM or g.numel[k] == 0:
        return g.numel[k]
    if (nd >= 2) == (g.rule[s] == OK_STATE_VECTOR):
        return 0
    if g.rule[s] == OK_STATE_VECTOR:
        return g.numel[k]
    return g.numel[k] // shape.dims[nd - 1 if g.rule[s] == OK_STATE_ROWS else nd - 2]


cdef check_all_overlaps(Gathered g, tuple names, unsigned scalar):
    """Every written array of the call against every other array (bit s of
    `scalar`: state s is a scalar state, 4 bytes)."""
    cdef size_t total = g.count * <size_t>g.n_streams, k, n = 0, first = 0, second = 0
    cdef int s
    if total < 2:
        return
    cdef ok_span *spans = <ok_span *>PyMem_Malloc(total * sizeof(ok_span))
    if spans == NULL:
        raise MemoryError()
    cdef bint one_float
    cdef size_t elements
    for s in range(g.n_streams):
        one_float = s >= 2 and scalar >> (s - 2) & 1
        for k in range(g.count):
            elements = stream_elements(g, s, k)
            if g.stream[s][k] == NULL or (elements == 0 and not one_float):
                continue
            spans[n].begin = <uintptr_t>g.stream[s][k]
            spans[n].end = spans[n].begin + (sizeof(float) if one_float else elements * ok_dtype_size(
                g.dtypes[k].param if s == 0 else g.dtypes[k].grad if s == 1 else g.dtypes[k].state))
            spans[n].id = <size_t>s
            spans[n].written = s != 1
            n += 1
    cdef ok_status st = ok_check_overlap(spans, n, &first, &second)
    PyMem_Free(spans)
    if st != OK_SUCCESS:
        raise ValueError(f"an array of {names[first]} overlaps an array of {names[second]} "
                         "(is one array listed twice?); every array must be separate")


def present_mask(list items):
    """None when no entry of `items` is None, else a bool array: entry is not None."""
    cdef Py_ssize_t i, n = len(items)
    for i in range(n):
        if items[i] is None:
            return np.array([x is not None for x in items], dtype=bool)
    return None


def same_objects(list a, list b):
    """True when a and b hold the very same objects in the same order."""
    cdef Py_ssize_t i, n = len(a)
    if n != len(b):
        return False
    for i in range(n):
        if a[i] is not b[i]:
            return False
    return True
