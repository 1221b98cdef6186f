# Losses with their gradients (optkern/losses.h): check the arrays, allocate
# what is returned, release the GIL, call C. optkern.losses checks the
# arguments torch's way and works out shapes; this layer re-checks every
# size the C call relies on, so no call here can read or write out of bounds.
#
# Every function returns (loss, grad): loss is a 0-d array's scalar for a
# reduction, else an array (per element, or per sample), of loss_dtype;
# grad is `out` when given (it may be the input itself), else a new array.
# Every float array a loss takes (target, weights, out) has the input's
# dtype (same_dtype).

# The C reductions (ok_reduction) by torch's names.
REDUCTIONS = {"none": OK_REDUCTION_NONE, "mean": OK_REDUCTION_MEAN, "sum": OK_REDUCTION_SUM,
              "batchmean": OK_REDUCTION_BATCHMEAN}


cdef object loss_dtype(cnp.ndarray x):
    """The dtype of the losses of input x: float64 for float64, else float32
    (a bfloat16 or float16 input's loss is computed, and returned, in float32)."""
    return np.float64 if cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT64 else np.float32


cdef same_dtype(object obj, str name, cnp.ndarray x):
    """TypeError unless obj (an array) has x's dtype."""
    if cnp.PyArray_Check(obj) and cnp.PyArray_TYPE(<cnp.ndarray>obj) != cnp.PyArray_TYPE(x):
        raise TypeError(f"{name} has dtype {obj.dtype} but input has dtype {x.dtype}; "
                        "a loss's float arrays (target, weights, out) have the input's dtype")


cdef bint spans_overlap(cnp.ndarray a, cnp.ndarray b) noexcept:
    return begin_of(a) < end_of(b) and begin_of(b) < end_of(a)


cdef cnp.ndarray gradient_output(object out, cnp.ndarray input, tuple reads, tuple names):
    """The array the gradient goes to: a new one, or `out` checked. out may
    be the input itself (same memory, overwritten by its gradient) but may
    not overlap it otherwise, nor any other array in `reads`."""
    if out is None:
        return np.empty_like(input)
    same_dtype(out, "out", input)
    cdef cnp.ndarray g = as_companion(out, "out", -1, input, "input", True)
    if cnp.PyArray_SIZE(g) == 0:
        return g
    if begin_of(g) != begin_of(input) and spans_overlap(g, input):
        raise ValueError("out overlaps input without being the same array; "
                         "pass out=input to overwrite the input, or a separate array")
    cdef Py_ssize_t k
    for k in range(len(reads)):
        if reads[k] is not None and cnp.PyArray_SIZE(reads[k]) and spans_overlap(g, <cnp.ndarray>reads[k]):
            raise ValueError(f"out overlaps {names[k]}; it may only be the input itself or a separate array")
    return g


cdef cnp.ndarray loss_output(cnp.ndarray input, int reduction, object per_sample_shape, size_t count):
    """Where C writes the loss: `count` values (per element or sample) of
    per_sample_shape for 'none', else one value."""
    if reduction != OK_REDUCTION_NONE:
        return np.empty((), dtype=loss_dtype(input))
    cdef cnp.ndarray loss = np.empty(per_sample_shape, dtype=loss_dtype(input))
    if <size_t>cnp.PyArray_SIZE(loss) != count:
        raise ValueError(f"loss shape {(<object>loss).shape} does not hold the {count} values of reduction 'none'")
    return loss


cdef tuple loss_and_grad(cnp.ndarray loss, object grad, int reduction):
    return (loss if reduction == OK_REDUCTION_NONE else loss[()]), grad


cdef const void *data_or_null(cnp.ndarray a) noexcept:
    return NULL if a is None else cnp.PyArray_DATA(a)


cdef cnp.ndarray broadcast_operand(object obj, str name, cnp.ndarray x, size_t block, size_t period,
                                   ok_bcast *b):
    """An array broadcast against x as element i -> data[(i / block) % period]:
    checked to hold `period` values of x's dtype. An empty x reads none of
    it (C gets NULL): its block and period may then be 0, as they are for
    an operand with a dimension of size 0."""
    b.data = NULL
    b.block = 1
    b.period = 1
    if obj is None:
        return None
    if not cnp.PyArray_Check(obj):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(obj).__name__}")
    same_dtype(obj, name, x)
    cdef cnp.ndarray a = <cnp.ndarray>obj
    check_layout(a, name, -1, False)
    if cnp.PyArray_SIZE(x) == 0:
        return a
    if block < 1 or period < 1 or <size_t>cnp.PyArray_SIZE(a) != period:
        raise ValueError(f"{name} of shape {(<object>a).shape} does not broadcast to {(<object>x).shape}")
    b.data = cnp.PyArray_DATA(a)
    b.block = block
    b.period = period
    return a


def elementwise_loss(str name, input, target, weight, size_t w_block, size_t w_period, pos_weight,
                     size_t p_block, size_t p_period, double param, bint flag, size_t batch, int reduction, out,
                     double eps=0.0, bint full=False, input2=None, out2=None, str input2_name="input2"):
    """The elementwise loss `name` (torch's: "mse_loss", ..., ok_elementwise_loss)
    and its gradient. weight and pos_weight (or None): contiguous arrays of
    *_period values, element i of the input using value (i / *_block) %
    *_period (a full-shape weight: 1, its size). param: huber_loss's delta,
    smooth_l1_loss's beta, a margin; flag: kl_div's log_target,
    poisson_nll_loss's log_input; batch: kl_div's 'batchmean' divisor; eps
    and full: poisson_nll_loss's and gaussian_nll_loss's. input2: the second
    input of the losses that have one (the input's shape; input2_name in
    messages), whose gradient goes to out2 (or a new array); the gradient is
    then a tuple (input's, input2's). What a loss does not take is None or 0."""
    cdef const char *cn = PyUnicode_AsUTF8(name)  # kept by `name`, as long as it lives
    cdef cnp.ndarray x = as_param(input, "input", -1, False)
    same_dtype(target, "target", x)
    cdef cnp.ndarray y = as_companion(target, "target", -1, x, "input", False)
    cdef ok_bcast wb, pb
    cdef cnp.ndarray w = broadcast_operand(weight, "weight", x, w_block, w_period, &wb)
    cdef cnp.ndarray p = broadcast_operand(pos_weight, "pos_weight", x, p_block, p_period, &pb)
    cdef cnp.ndarray x2 = None, g2 = None
    if input2 is not None:
        same_dtype(input2, input2_name, x)
        x2 = as_companion(input2, input2_name, -1, x, "input", False)
    cdef cnp.ndarray g = gradient_output(out, x, (y, w, p, x2), ("target", "weight", "pos_weight", input2_name))
    if x2 is not None:
        g2 = gradient_output(out2, x2, (x, y, w, p, g), ("input", "target", "weight", "pos_weight", "out"))
    cdef size_t n = <size_t>cnp.PyArray_SIZE(x)
    cdef cnp.ndarray loss = loss_output(x, reduction, (<object>x).shape, n)
    cdef ok_elementwise_options opt
    opt.weight = &wb
    opt.pos_weight = &pb
    opt.param = param
    opt.flag = flag
    opt.batch = batch
    opt.eps = eps
    opt.full = full
    opt.input2 = data_or_null(x2)
    opt.grad2 = <void *>data_or_null(g2)
    cdef const void *xp = cnp.PyArray_DATA(x)
    cdef const void *yp = cnp.PyArray_DATA(y)
    cdef void *lp = cnp.PyArray_DATA(loss)
    cdef void *gp = cnp.PyArray_DATA(g)
    cdef ok_reduction red = <ok_reduction>reduction
    cdef ok_dtype dt = <ok_dtype>dtype_of(x)
    cdef ok_status st
    with nogil:
        st = ok_elementwise_loss(cn, dt, n, xp, yp, &opt, red, lp, gp)
    raise_for(st)
    return loss_and_grad(loss, g if x2 is None else (g, g2), reduction)


def elementwise_task(str name, size_t n, tuple weight, tuple pos_weight, double param, bint flag, size_t batch,
                     int reduction, double eps=0.0, bint full=False):
    """The task ok_elementwise_loss would run (ok_elementwise_task,
    optkern/internal/gpu.h), for the GPU backend: (task bytes, the
    reduction's denominator, whether 'mean' divides by the sum of the
    weights instead). weight and pos_weight: None or (address, block,
    period) of an operand the caller holds (not read here)."""
    cdef const char *cn = PyUnicode_AsUTF8(name)
    cdef ok_bcast wb, pb
    cdef ok_elementwise_options opt
    opt.weight = opt.pos_weight = NULL
    if weight is not None:
        wb.data, wb.block, wb.period = <const void *><uintptr_t>weight[0], weight[1], weight[2]
        opt.weight = &wb
    if pos_weight is not None:
        pb.data, pb.block, pb.period = <const void *><uintptr_t>pos_weight[0], pos_weight[1], pos_weight[2]
        opt.pos_weight = &pb
    opt.param = param
    opt.flag = flag
    opt.batch = batch
    opt.eps = eps
    opt.full = full
    opt.input2 = opt.grad2 = NULL
    cdef uint64_t[OK_EW_TASK_WORDS] task
    cdef size_t size = 0
    cdef double denominator = 0
    cdef int by_weight = 0
    raise_for(ok_elementwise_task(cn, n, &opt, <ok_reduction>reduction, task, &size, &denominator, &by_weight))
    return (<char *>task)[:size], denominator, bool(by_weight)


cdef cnp.ndarray class_targets(object target, size_t samples, ok_index_type *kind):
    """Class-index targets: an int64 or int32 array of `samples` entries."""
    if not cnp.PyArray_Check(target):
        raise TypeError(f"target must be a numpy.ndarray, got {type(target).__name__}")
    cdef cnp.ndarray t = <cnp.ndarray>target
    cdef int tt = cnp.PyArray_TYPE(t)
    if tt == cnp.NPY_INT64:
        kind[0] = OK_INDEX_INT64
    elif tt == cnp.NPY_INT32:
        kind[0] = OK_INDEX_INT32
    else:
        raise TypeError(f"class targets must be int64 or int32, got {t.dtype}")
    check_layout(t, "target", -1, False)
    if <size_t>cnp.PyArray_SIZE(t) != samples:
        raise ValueError(f"target has {cnp.PyArray_SIZE(t)} entries for {samples} samples")
    return t


def read_operand(obj, str name, cnp.ndarray lead=None, str lead_name="input"):
    """An array a loss reads, checked as the input is (a float array,
    C-contiguous, aligned, native byte order), of lead's dtype when given."""
    cdef cnp.ndarray a = as_param(obj, name, -1, False)
    if lead is not None and cnp.PyArray_TYPE(a) != cnp.PyArray_TYPE(lead):
        raise TypeError(f"{name} has dtype {a.dtype} but {lead_name} has dtype {lead.dtype}")
    return a


cdef cnp.ndarray class_weights(object weight, cnp.ndarray x, size_t c):
    if weight is None:
        return None
    same_dtype(weight, "weight", x)
    cdef cnp.ndarray w = read_operand(weight, "weight", x)
    if <size_t>cnp.PyArray_SIZE(w) != c:
        raise ValueError(f"weight has {cnp.PyArray_SIZE(w)} entries for {c} classes")
    return w


cdef check_rows_shape(cnp.ndarray x, size_t n, size_t c, size_t inner):
    if <size_t>cnp.PyArray_SIZE(x) != n * c * inner:
        raise ValueError(f"input of shape {(<object>x).shape} is not {n} x {c} x {inner}")


def cross_entropy(input, target, size_t n, size_t c, size_t inner, weight, int64_t ignore_index,
                  double label_smoothing, double z_loss, double softcap, int reduction, out, loss_shape):
    """cross_entropy loss and gradient over logits laid out n x c x inner.
    target: class indices (int64/int32, n * inner of them) or probabilities
    (the input's shape and dtype). loss_shape: the shape of 'none' losses."""
    cdef cnp.ndarray x = as_param(input, "input", -1, False)
    check_rows_shape(x, n, c, inner)
    cdef ok_index_type kind = OK_INDEX_INT64
    cdef bint probs = cnp.PyArray_Check(target) and (cnp.PyArray_ISFLOAT(<cnp.ndarray>target) or
                                                     cnp.PyArray_TYPE(<cnp.ndarray>target) == BFLOAT16_TYPE)
    if probs:
        same_dtype(target, "target", x)
    cdef cnp.ndarray t = (as_companion(target, "target", -1, x, "input", False) if probs
                          else class_targets(target, n * inner, &kind))
    cdef cnp.ndarray w = class_weights(weight, x, c)
    cdef cnp.ndarray g = gradient_output(out, x, (t, w), ("target", "weight"))
    cdef cnp.ndarray loss = loss_output(x, reduction, loss_shape, n * inner)
    cdef ok_cross_entropy_options opt
    opt.weight = data_or_null(w)
    opt.ignore_index = ignore_index
    opt.label_smoothing = label_smoothing
    opt.z_loss = z_loss
    opt.softcap = softcap
    opt.reduction = <ok_reduction>reduction
    cdef const void *xp = cnp.PyArray_DATA(x)
    cdef const void *tp = cnp.PyArray_DATA(t)
    cdef void *lp = cnp.PyArray_DATA(loss)
    cdef void *gp = cnp.PyArray_DATA(g)
    cdef ok_dtype dt = <ok_dtype>dtype_of(x)
    cdef ok_status st
    with nogil:
        if probs:
            st = ok_cross_entropy_probs(dt, n, c, inner, xp, tp, &opt, lp, gp)
        else:
            st = ok_cross_entropy(dt, n, c, inner, xp, tp, kind, &opt, lp, gp)
    if st == OK_ERR_INDEX:
        raise IndexError("a class target is out of range (neither in [0, C) nor ignore_index)")
    raise_for(st)
    return loss_and_grad(loss, g, reduction)


def nll_loss(input, target, size_t n, size_t c, size_t inner, weight, int64_t ignore_index, int reduction, out,
             loss_shape):
    """nll_loss and gradient over log-probabilities laid out n x c x inner."""
    cdef cnp.ndarray x = as_param(input, "input", -1, False)
    check_rows_shape(x, n, c, inner)
    cdef ok_index_type kind = OK_INDEX_INT64
    cdef cnp.ndarray t = class_targets(target, n * inner, &kind)
    cdef cnp.ndarray w = class_weights(weight, x, c)
    cdef cnp.ndarray g = gradient_output(out, x, (t, w), ("target", "weight"))
    cdef cnp.ndarray loss = loss_output(x, reduction, loss_shape, n * inner)
    cdef const void *xp = cnp.PyArray_DATA(x)
    cdef const void *tp = cnp.PyArray_DATA(t)
    cdef const void *wp = data_or_null(w)
    cdef void *lp = cnp.PyArray_DATA(loss)
    cdef void *gp = cnp.PyArray_DATA(g)
    cdef ok_reduction red = <ok_reduction>reduction
    cdef ok_dtype dt = <ok_dtype>dtype_of(x)
    cdef ok_status st
    with nogil:
        st = ok_nll_loss(dt, n, c, inner, xp, tp, kind, wp, ignore_index, red, lp, gp)
    if st == OK_ERR_INDEX:
        raise IndexError("a class target is out of range (neither in [0, C) nor ignore_index)")
    raise_for(st)
    return loss_and_grad(loss, g, reduction)


cdef tuple gradient_outputs(object out, tuple inputs, tuple names, cnp.ndarray target):
    """The arrays the gradients of `inputs` (a pair loss's) go to: new ones,
    or the arrays of the tuple `out`, one per input, each checked as
    gradient_output checks it against the other inputs, the target and the
    outputs before it."""
    cdef Py_ssize_t k, m, count = len(inputs)
    if out is None:
        return tuple(np.empty_like(x) for x in inputs)
    if not isinstance(out, tuple) or len(out) != count:
        raise TypeError(f"out must be a tuple of {count} arrays, the gradients of {', '.join(names)}; "
                        f"got {type(out).__name__}" + (f" of {len(out)}" if isinstance(out, tuple) else ""))
    grads = []
    for k in range(count):
        reads = [inputs[m] for m in range(count) if m != k] + [target] + grads
        labels = [names[m] for m in range(count) if m != k] + ["target"] + [f"out[{m}]" for m in range(k)]
        try:
            grads.append(gradient_output(out[k], inputs[k], tuple(reads), tuple(labels)))
        except (TypeError, ValueError) as e:
            raise type(e)(f"out[{k}] (the gradient of {names[k]}): {e}") from None
    return tuple(grads)


cdef cnp.ndarray pair_input(object obj, str name, cnp.ndarray lead, str lead_name):
    """Another input of a pair loss: lead's dtype and shape."""
    same_dtype(obj, name, lead)
    return as_companion(obj, name, -1, lead, lead_name, False)


def cosine_embedding_loss(input1, input2, target, size_t n, size_t d, double margin, int reduction, out,
                          loss_shape):
    """cosine_embedding_loss and the gradients of input1 and input2, n rows
    of d; target: n values of the inputs' dtype."""
    cdef cnp.ndarray x1 = as_param(input1, "input1", -1, False)
    check_rows_shape(x1, n, d, 1)
    cdef cnp.ndarray x2 = pair_input(input2, "input2", x1, "input1")
    same_dtype(target, "target", x1)
    cdef cnp.ndarray t = read_operand(target, "target", x1)
    if <size_t>cnp.PyArray_SIZE(t) != n:
        raise ValueError(f"target has {cnp.PyArray_SIZE(t)} entries for {n} samples")
    cdef tuple grads = gradient_outputs(out, (x1, x2), ("input1", "input2"), t)
    cdef cnp.ndarray loss = loss_output(x1, reduction, loss_shape, n)
    cdef const void *p1 = cnp.PyArray_DATA(x1)
    cdef const void *p2 = cnp.PyArray_DATA(x2)
    cdef const void *tp = cnp.PyArray_DATA(t)
    cdef void *lp = cnp.PyArray_DATA(loss)
    cdef void *g1 = cnp.PyArray_DATA(<cnp.ndarray>grads[0])
    cdef void *g2 = cnp.PyArray_DATA(<cnp.ndarray>grads[1])
    cdef ok_reduction red = <ok_reduction>reduction
    cdef ok_dtype dt = <ok_dtype>dtype_of(x1)
    cdef ok_status st
    with nogil:
        st = ok_cosine_embedding_loss(dt, n, d, p1, p2, tp, margin, red, lp, g1, g2)
    raise_for(st)
    return (loss if reduction == OK_REDUCTION_NONE else loss[()]), grads


def triplet_margin_loss(anchor, positive, negative, size_t n, size_t d, double margin, double p, double eps,
                        bint swap, int reduction, out, loss_shape):
    """triplet_margin_loss and the gradients of anchor, positive and
    negative, n rows of d."""
    cdef cnp.ndarray a = as_param(anchor, "anchor", -1, False)
    check_rows_shape(a, n, d, 1)
    cdef cnp.ndarray pos = pair_input(positive, "positive", a, "anchor")
    cdef cnp.ndarray neg = pair_input(negative, "negative", a, "anchor")
    cdef tuple grads = gradient_outputs(out, (a, pos, neg), ("anchor", "positive", "negative"), None)
    cdef cnp.ndarray loss = loss_output(a, reduction, loss_shape, n)
    cdef const void *ap = cnp.PyArray_DATA(a)
    cdef const void *pp = cnp.PyArray_DATA(pos)
    cdef const void *np_ = cnp.PyArray_DATA(neg)
    cdef void *lp = cnp.PyArray_DATA(loss)
    cdef void *ga = cnp.PyArray_DATA(<cnp.ndarray>grads[0])
    cdef void *gp = cnp.PyArray_DATA(<cnp.ndarray>grads[1])
    cdef void *gn = cnp.PyArray_DATA(<cnp.ndarray>grads[2])
    cdef ok_reduction red = <ok_reduction>reduction
    cdef ok_dtype dt = <ok_dtype>dtype_of(a)
    cdef ok_status st
    with nogil:
        st = ok_triplet_margin_loss(dt, n, d, ap, pp, np_, margin, p, eps, swap, red, lp, ga, gp, gn)
    raise_for(st)
    return (loss if reduction == OK_REDUCTION_NONE else loss[()]), grads


def multi_margin_loss(input, target, size_t n, size_t c, int p, double margin, weight, int reduction, out,
                      loss_shape):
    """multi_margin_loss and gradient over scores laid out n x c, class targets
    (int64/int32, n of them)."""
    cdef cnp.ndarray x = as_param(input, "input", -1, False)
    check_rows_shape(x, n, c, 1)
    cdef ok_index_type kind = OK_INDEX_INT64
    cdef cnp.ndarray t = class_targets(target, n, &kind)
    cdef cnp.ndarray w = class_weights(weight, x, c)
    cdef cnp.ndarray g = gradient_output(out, x, (t, w), ("target", "weight"))
    cdef cnp.ndarray loss = loss_output(x, reduction, loss_shape, n)
    cdef const void *xp = cnp.PyArray_DATA(x)
    cdef const void *tp = cnp.PyArray_DATA(t)
    cdef const void *wp = data_or_null(w)
    cdef void *lp = cnp.PyArray_DATA(loss)
    cdef void *gp = cnp.PyArray_DATA(g)
    cdef ok_reduction red = <ok_reduction>reduction
    cdef ok_dtype dt = <ok_dtype>dtype_of(x)
    cdef ok_status st
    with nogil:
        st = ok_multi_margin_loss(dt, n, c, xp, tp, kind, p, margin, wp, red, lp, gp)
    if st == OK_ERR_INDEX:
        raise IndexError("a class target is out of range (not in [0, C))")
    raise_for(st)
    return loss_and_grad(loss, g, reduction)


def multilabel_margin_loss(input, target, size_t n, size_t c, int reduction, out, loss_shape):
    """multilabel_margin_loss and gradient over scores laid out n x c, class
    targets (int64/int32) of the same layout, each row's list ended by -1."""
    cdef cnp.ndarray x = as_param(input, "input", -1, False)
    check_rows_shape(x, n, c, 1)
    cdef ok_index_type kind = OK_INDEX_INT64
    cdef cnp.ndarray t = class_targets(target, n * c, &kind)
    cdef cnp.ndarray g = gradient_output(out, x, (t,), ("target",))
    cdef cnp.ndarray loss = loss_output(x, reduction, loss_shape, n)
    cdef const void *xp = cnp.PyArray_DATA(x)
    cdef const void *tp = cnp.PyArray_DATA(t)
    cdef void *lp = cnp.PyArray_DATA(loss)
    cdef void *gp = cnp.PyArray_DATA(g)
    cdef ok_reduction red = <ok_reduction>reduction
    cdef ok_dtype dt = <ok_dtype>dtype_of(x)
    cdef ok_status st
    with nogil:
        st = ok_multilabel_margin_loss(dt, n, c, xp, tp, kind, red, lp, gp)
    if st == OK_ERR_INDEX:
        raise IndexError("a class target is out of range (not in [-1, C))")
    raise_for(st)
    return loss_and_grad(loss, g, reduction)


def multilabel_soft_margin_loss(input, target, size_t n, size_t c, weight, int reduction, out, loss_shape):
    """multilabel_soft_margin_loss and gradient over logits laid out n x c;
    target: labels of the input's shape and dtype."""
    cdef cnp.ndarray x = as_param(input, "input", -1, False)
    check_rows_shape(x, n, c, 1)
    same_dtype(target, "target", x)
    cdef cnp.ndarray t = as_companion(target, "target", -1, x, "input", False)
    cdef cnp.ndarray w = class_weights(weight, x, c)
    cdef cnp.ndarray g = gradient_output(out, x, (t, w), ("target", "weight"))
    cdef cnp.ndarray loss = loss_output(x, reduction, loss_shape, n)
    cdef const void *xp = cnp.PyArray_DATA(x)
    cdef const void *tp = cnp.PyArray_DATA(t)
    cdef const void *wp = data_or_null(w)
    cdef void *lp = cnp.PyArray_DATA(loss)
    cdef void *gp = cnp.PyArray_DATA(g)
    cdef ok_reduction red = <ok_reduction>reduction
    cdef ok_dtype dt = <ok_dtype>dtype_of(x)
    cdef ok_status st
    with nogil:
        st = ok_multilabel_soft_margin_loss(dt, n, c, xp, tp, wp, red, lp, gp)
    raise_for(st)
    return loss_and_grad(loss, g, reduction)


cdef cnp.ndarray int64_array(object obj, str name, size_t size):
    """An int64 array of `size` entries that C reads (C-contiguous, aligned)."""
    if not cnp.PyArray_Check(obj) or cnp.PyArray_TYPE(<cnp.ndarray>obj) != cnp.NPY_INT64:
        raise TypeError(f"{name} must be an int64 numpy.ndarray")
    cdef cnp.ndarray a = <cnp.ndarray>obj
    check_layout(a, name, -1, False)
    if <size_t>cnp.PyArray_SIZE(a) != size:
        raise ValueError(f"{name} has {cnp.PyArray_SIZE(a)} entries, not {size}")
    return a


def ctc_loss(input, targets, size_t t_max, size_t n, size_t c, size_t width, input_lengths, target_lengths,
             int64_t blank, bint zero_infinity, int reduction, out, loss_shape):
    """ctc_loss and its gradient over float32 or float64 log-probabilities
    laid out t_max x n x c; int64 targets padded (n rows of `width`) or
    concatenated (width 0), int64 lengths of n entries. loss_shape: the
    shape of 'none' losses."""
    cdef cnp.ndarray x = as_param(input, "log_probs", -1, False)
    if cnp.PyArray_TYPE(x) != cnp.NPY_FLOAT32 and cnp.PyArray_TYPE(x) != cnp.NPY_FLOAT64:
        raise TypeError(f"ctc_loss takes float32 or float64 log_probs, got {x.dtype}")
    if <size_t>cnp.PyArray_SIZE(x) != t_max * n * c:
        raise ValueError(f"log_probs of shape {(<object>x).shape} is not {t_max} x {n} x {c}")
    cdef cnp.ndarray tg = int64_array(targets, "targets", cnp.PyArray_SIZE(<cnp.ndarray>targets)
                                      if cnp.PyArray_Check(targets) else 0)
    if width and <size_t>cnp.PyArray_SIZE(tg) != n * width:
        raise ValueError(f"padded targets hold {cnp.PyArray_SIZE(tg)} entries, not {n} x {width}")
    cdef cnp.ndarray il = int64_array(input_lengths, "input_lengths", n)
    cdef cnp.ndarray tl = int64_array(target_lengths, "target_lengths", n)
    cdef cnp.ndarray g = gradient_output(out, x, (tg, il, tl), ("targets", "input_lengths", "target_lengths"))
    cdef cnp.ndarray loss = loss_output(x, reduction, loss_shape, n)
    cdef const void *xp = cnp.PyArray_DATA(x)
    cdef const int64_t *tp = <const int64_t *>cnp.PyArray_DATA(tg)
    cdef size_t n_targets = <size_t>cnp.PyArray_SIZE(tg)
    cdef const int64_t *ip = <const int64_t *>cnp.PyArray_DATA(il)
    cdef const int64_t *lp_ = <const int64_t *>cnp.PyArray_DATA(tl)
    cdef void *lossp = cnp.PyArray_DATA(loss)
    cdef void *gp = cnp.PyArray_DATA(g)
    cdef ok_reduction red = <ok_reduction>reduction
    cdef ok_dtype dt = <ok_dtype>dtype_of(x)
    cdef ok_status st
    with nogil:
        st = ok_ctc_loss(dt, t_max, n, c, xp, tp, n_targets, width, ip, lp_, blank, zero_infinity, red, lossp, gp)
    if st == OK_ERR_INDEX:
        raise IndexError("a length or a target of ctc_loss is out of range")
    raise_for(st)
    return loss_and_grad(loss, g, reduction)
