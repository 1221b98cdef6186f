# Optimizer updates over tensor lists, for every optimizer of the C library
# alike: each is read from its descriptor (optkern/optim.h), nothing here is
# written per optimizer.

cdef class Kind:
    """One optimizer of the C library, as its descriptor describes it.

    name          its C name ("sgd", "adam")
    fields        the members of its hyperparameter struct, in order
    states        its states, torch's names, in stream order
    scalars       those of its states that are scalars, one 0-d float32
                  array per tensor (NAdam's mu_product), not arrays like
                  the parameter
    state_shapes  how each state's shape follows its parameter's (the C
                  enum ok_state_shape: 0 its shape, 1 its shape for
                  ndim < 2 only, 2 one per row and 3 one per column of a
                  matrix, for ndim >= 2 only); state_shape() applies them
    shaped        whether any state's shape differs from its parameter's
    work          its work arrays, in stream order after the states:
                  written by a step, not kept as state (most optimizers
                  have none; Muon's "update")
    elementwise   whether a step is one elementwise pass of its kernel
                  body (not Adafactor, LAMB or LARS, which run passes of
                  their own)
    """
    cdef const ok_optimizer *opt
    cdef readonly str name
    cdef readonly tuple fields
    cdef readonly tuple states
    cdef readonly tuple scalars
    cdef unsigned scalar_bits  # bit k: states[k] is a scalar
    cdef readonly tuple state_shapes
    cdef readonly bint shaped  # some state's shape differs from its parameter's
    cdef readonly tuple work
    cdef readonly bint elementwise
    cdef tuple lists   # the names of the state and work lists in messages: "exp_avgs"

    @staticmethod
    cdef Kind of(const ok_optimizer *opt):
        cdef Kind kind = Kind.__new__(Kind)
        cdef size_t k
        kind.opt = opt
        kind.name = ok_optimizer_name(opt).decode()
        kind.fields = tuple(ok_optimizer_field(opt, k).name.decode() for k in range(ok_optimizer_field_count(opt)))
        kind.states = tuple(ok_optimizer_state_name(opt, k).decode() for k in range(ok_optimizer_state_count(opt)))
        kind.state_shapes = tuple(ok_optimizer_state_shape(opt, k) for k in range(ok_optimizer_state_count(opt)))
        kind.work = tuple(ok_optimizer_work_name(opt, k).decode() for k in range(ok_optimizer_work_count(opt)))
        kind.elementwise = ok_optimizer_is_elementwise(opt)
        kind.lists = tuple(name + "s" for name in kind.states + kind.work)
        kind.scalar_bits = 0
        for k in range(len(kind.states)):
            if ok_optimizer_state_is_scalar(opt, k):
                kind.scalar_bits |= 1u << k
        kind.scalars = tuple(name for k, name in enumerate(kind.states) if kind.scalar_bits >> k & 1)
        kind.shaped = any(rule != OK_STATE_PARAM for rule in kind.state_shapes)
        return kind

    def state_shape(self, str name, tuple shape):
        """The shape of state `name` of a parameter of shape `shape`, or
        None when a parameter of that shape has no such state."""
        cdef int rule = self.state_shapes[self.states.index(name)]
        cdef Py_ssize_t nd = len(shape)
        if rule == OK_STATE_PARAM:
            return shape
        if (nd >= 2) == (rule == OK_STATE_VECTOR):
            return None
        if rule == OK_STATE_ROWS:
            return shape[:-1] + (1,)
        if rule == OK_STATE_COLS:
            return shape[:-2] + (1,) + shape[-1:]
        return shape

    cdef fill(self, char *hp, dict values):
        """Write a hyperparameter set, {field: value} with every field, into
        the C struct at hp."""
        cdef size_t k
        cdef const ok_field *f
        cdef char *at
        if len(values) != len(self.fields):
            self.mismatch(values)
        for k in range(<size_t>len(self.fields)):
            f = ok_optimizer_field(self.opt, k)
            at = hp + f.offset
            value = values.get(self.fields[k], self)  # self: no such key
            if value is self:
                self.mismatch(values)
            if f.type == OK_FIELD_DOUBLE:
                (<double *>at)[0] = value
            elif f.type == OK_FIELD_INT:
                (<int *>at)[0] = 1 if value else 0
            else:
                (<int64_t *>at)[0] = value

    cdef mismatch(self, dict values):
        unknown = sorted(set(values) - set(self.fields))
        missing = [name for name in self.fields if name not in values]
        raise ValueError(f"{self.name} hyperparameters: missing {missing}, unknown {unknown}")

    def required_states(self, dict hparams):
        """The states a tensor updated with this hyperparameter set needs
        (torch's names; not its work arrays); ValueError when the set is not
        valid."""
        cdef bytearray hp = bytearray(ok_optimizer_hparams_size(self.opt))
        self.fill(hp, hparams)
        if ok_optimizer_check(self.opt, <char *>hp) != OK_SUCCESS:
            raise ValueError(f"invalid {self.name} hyperparameters {hparams}")
        cdef unsigned bits = ok_optimizer_required_states(self.opt, <char *>hp)
        return tuple(name for k, name in enumerate(self.states) if bits >> k & 1)

    def required_streams(self, dict hparams):
        """required_states(hparams) and the work arrays the set needs:
        bit k for states[k], bit len(states) + j for work[j]."""
        cdef bytearray hp = bytearray(ok_optimizer_hparams_size(self.opt))
        self.fill(hp, hparams)
        if ok_optimizer_check(self.opt, <char *>hp) != OK_SUCCESS:
            raise ValueError(f"invalid {self.name} hyperparameters {hparams}")
        return ok_optimizer_required_states(self.opt, <char *>hp)

    def coefficients(self, dict hparams):
        """The per-step coefficients the kernels read for this set, as bytes
        (the layout of the optimizer's coefficient struct in C)."""
        cdef bytearray hp = bytearray(ok_optimizer_hparams_size(self.opt))
        cdef bytearray out = bytearray(ok_optimizer_coefficients_size(self.opt))
        self.fill(hp, hparams)
        raise_for(ok_optimizer_coefficients(self.opt, <char *>hp, <char *>out))
        return bytes(out)

    def __repr__(self):
        return f"<optimizer kind {self.name}: fields {self.fields}, states {self.states}, scalars {self.scalars}>"


cdef dict _KINDS = {}

# Gathered.shapes points into NumPy's dims (npy_intp) as C's size_t.
if sizeof(cnp.npy_intp) != sizeof(size_t):
    raise ImportError("optkern needs npy_intp and size_t of one width")


def kinds():
    """{name: Kind} of every optimizer the C library has."""
    cdef size_t i
    if not _KINDS:
        for i in range(ok_optimizer_count()):
            kind = Kind.of(ok_optimizer_at(i))
            _KINDS[kind.name] = kind
    return _KINDS


def step(Kind kind, list params, list grads, tuple states, list hparams, hp_index=None, WrittenIndex written=None,
         tuple work=None, tuple scaling=None, list master=None, tuple rounding=None):
    """One update of `kind` over a tensor list (one C call).

    states: one entry per state of kind.states, each a list (aligned with
    params; None entries are absent states), a StateTable, or None.
    hparams: the hyperparameter sets, dicts {field: value} with every field
    of kind.fields; hp_index: uint32 array, the set of each tensor (None:
    set 0). written: see gather(). work: one list (or None) per work array
    of kind.work, like states; None: all absent. scaling: None, or
    (unscale, clip), the factors each gradient is multiplied by as the
    kernel reads it (ok_grad_scaling, optkern/optim.h). master: None, or
    one entry per parameter, None or the float32 master copy of a 16-bit
    parameter (C-contiguous, its shape). rounding: None (round to nearest),
    or (seed, steps): round bfloat16 stores stochastically, tensor i with
    the key ok_rounding_key(seed, steps[i], i) (steps: int64, one per
    parameter). See ok_step_options, optkern/optim.h.
    """
    cdef Py_ssize_t n_sets = len(hparams), k, size = <Py_ssize_t>ok_optimizer_hparams_size(kind.opt)
    if n_sets == 0:
        raise ValueError("no hyperparameter set")
    if len(states) != len(kind.states):
        raise ValueError(f"{kind.name} has {len(kind.states)} states {kind.states}, got {len(states)} lists")
    if work is None:
        work = (None,) * len(kind.work)
    elif len(work) != len(kind.work):
        raise ValueError(f"{kind.name} has {len(kind.work)} work arrays {kind.work}, got {len(work)} lists")
    cdef bytearray memory = bytearray(n_sets * size + n_sets * sizeof(uint32_t))
    cdef char *hp = <char *>memory
    cdef uint32_t *required = <uint32_t *>(hp + n_sets * size)
    for k in range(n_sets):
        kind.fill(hp + k * size, hparams[k])
        if ok_optimizer_check(kind.opt, hp + k * size) != OK_SUCCESS:
            raise ValueError(f"invalid {kind.name} hyperparameters {hparams[k]}")
        # gather's bits: stream 2 + j for state j
        required[k] = ok_optimizer_required_states(kind.opt, hp + k * size) << 2
    cdef Gathered g = gather("params", params, "grads", grads, kind.lists, states + work, hp_index, <uint32_t>n_sets,
                             required, written, kind.scalar_bits, kind.state_shapes if kind.shaped else None)
    cdef void **streams[MAX_STREAMS]
    cdef int s
    for s in range(g.n_streams):
        streams[s] = g.stream[s]
    cdef ok_status st
    cdef ok_grad_scaling factors
    if master is not None or rounding is not None:
        return step_with_options(kind, hp, n_sets, g, streams, params, grads, scaling, master, rounding)
    if scaling is not None:
        factors.unscale, factors.clip = scaling
        with nogil:
            st = ok_optimizer_step_scaled(kind.opt, hp, <size_t>n_sets, g.index, g.count, g.shapes, g.dtypes, streams,
                                          &factors)
        raise_for(st)
        return
    with nogil:
        if kind.shaped:
            st = ok_optimizer_step_shaped(kind.opt, hp, <size_t>n_sets, g.index, g.count, g.shapes, g.dtypes, streams)
        else:
            st = ok_optimizer_step(kind.opt, hp, <size_t>n_sets, g.index, g.count, g.numel, g.dtypes, streams)
    raise_for(st)


def rounding_keys(uint64_t seed, const int64_t[::1] steps):
    """uint64 array: the stochastic rounding key of each tensor i,
    ok_rounding_key(seed, steps[i], i) (optkern/optim.h)."""
    cdef Py_ssize_t i, n = steps.shape[0]
    cdef cnp.ndarray out = np.empty(n, dtype=np.uint64)
    cdef uint64_t[::1] keys = out
    for i in range(n):
        keys[i] = ok_rounding_key(seed, <uint64_t>steps[i], <uint64_t>i)
    return out


cdef step_with_options(Kind kind, char *hp, Py_ssize_t n_sets, Gathered g, void ***streams, list params, list grads,
                       tuple scaling, list master, tuple rounding):
    """step()'s call with master copies or stochastic rounding: the lists
    are checked, then one ok_optimizer_step_ex."""
    cdef Py_ssize_t n = len(params), i
    cdef size_t k = 0
    if master is not None and len(master) != n:
        raise ValueError(f"expected {n} master copies, one per parameter; got {len(master)}")
    cdef bytearray memory = bytearray(g.count * (sizeof(void *) + sizeof(uint64_t)) + 8)
    cdef void **copies = <void **>(<char *>memory)
    cdef uint64_t *keys = <uint64_t *>(<char *>memory + g.count * sizeof(void *))
    cdef cnp.ndarray lead, a
    cdef uint64_t seed = 0
    cdef const int64_t[::1] steps
    if rounding is not None:
        seed = <uint64_t>rounding[0]
        steps = rounding[1]
        if steps.shape[0] != n:
            raise ValueError(f"expected {n} step numbers, one per parameter; got {steps.shape[0]}")
    for i in range(n):
        if grads[i] is None:
            continue
        copies[k] = NULL
        if master is not None and master[i] is not None:
            lead = <cnp.ndarray>params[i]
            if not cnp.PyArray_Check(master[i]):
                raise not_an_array(master[i], "master", i)
            a = <cnp.ndarray>master[i]
            if cnp.PyArray_TYPE(a) != cnp.NPY_FLOAT32 or (<object>a).shape != (<object>lead).shape:
                raise TypeError(f"master[{i}] must be a float32 array of params[{i}]'s shape "
                                f"{(<object>lead).shape}, got {a.dtype} {(<object>a).shape}")
            if dtype_of(lead) != OK_BFLOAT16 and dtype_of(lead) != OK_FLOAT16:
                raise TypeError(f"master[{i}]: params[{i}] has dtype {lead.dtype}; master copies are for bfloat16 "
                                "and float16 parameters")
            check_layout(a, "master", i, True)
            copies[k] = cnp.PyArray_DATA(a)
        if rounding is not None:
            keys[k] = ok_rounding_key(seed, <uint64_t>steps[i], <uint64_t>i)
        k += 1
    cdef ok_step_options options
    options.scaling.unscale, options.scaling.clip = (1.0, 1.0) if scaling is None else scaling
    options.master = copies if master is not None else NULL
    options.rounding_key = keys if rounding is not None else NULL
    cdef ok_status st
    with nogil:
        st = ok_optimizer_step_ex(kind.opt, hp, <size_t>n_sets, g.index, g.count, g.shapes, g.dtypes, streams,
                                  &options)
    if st == OK_ERR_ALIASING:
        raise ValueError("a master copy overlaps another array of its parameter; they must be separate arrays")
    raise_for(st)
