"""Losses with their gradients, each in one fused, threaded C call.

Every function but linear_cross_entropy (see the end) has the name,
arguments, defaults and numbers of its torch.nn.functional 2.13 namesake
(docs/losses.md), and returns both
the loss and its gradient with respect to ``input``::

    loss, grad = optkern.losses.cross_entropy(logits, labels)

What is returned
    loss  reduction 'mean' or 'sum' (and kl_div's 'batchmean'): a NumPy
          scalar, numpy.float64 for a float64 input, else numpy.float32.
          reduction 'none': an array of that dtype, one loss per
          element (the elementwise losses: the input's shape) or per
          sample (cross_entropy, nll_loss, multi_margin_loss: the shape of
          class targets, (N, d1, ...), or () for a single sample;
          multilabel_soft_margin_loss: input.shape[:-1];
          multilabel_margin_loss: (N,), or () for one sample; ctc_loss:
          (N,), or () unbatched).
    grad  d loss / d input, as torch.autograd gives it (for 'none': the
          gradient of loss.sum()), an array of the input's shape and dtype:
          ``out`` when it is given, else a new array. gaussian_nll_loss,
          margin_ranking_loss and the pair losses, cosine_embedding_loss and
          triplet_margin_loss (per sample losses of the inputs' shape
          without its last dimension), return the gradients of all their
          inputs as a tuple, and take ``out`` as a tuple of arrays in that
          order, each of which may be its own input.

``out`` (keyword-only, every loss): where to write the gradient, an array
of the input's shape and dtype. It may be ``input`` itself: the input is
then overwritten by its gradient and the call allocates nothing of the
input's size (a (N, C) logits buffer becomes its own gradient). It may not
otherwise overlap any array the call reads.

Arrays: input, and every array that goes with it (target, weight, out), are
C-contiguous NumPy arrays of float32, float64, bfloat16 (ml_dtypes.bfloat16)
or float16, in native byte order; the others must have the input's dtype.
Class targets are integers: int64 and int32 are read in place, other
integer dtypes are converted (a copy). Sums are accumulated in double;
results are the same bitwise for any number of threads.

bfloat16 and float16 (docs/precision.md#losses-in-16-bits): the arithmetic
is float32's, the loss is float32, and the gradient is rounded once to the
input's dtype (to nearest even). linear_cross_entropy and ctc_loss take
float32 and float64 only (ctc_loss has no GPU form either: CuPy arrays
raise NotImplementedError).

Errors (each raised before anything is written: a call that raises has
changed nothing, out included)
    TypeError   a non-array, an unsupported dtype, or mismatched dtypes;
    ValueError  mismatched shapes, a non-contiguous array, a read-only or
                overlapping out, an unknown reduction, an argument out of
                its range;
    IndexError  a class target outside [0, C) that is not ignore_index
                (multilabel_margin_loss: outside [-1, C));
    DomainError (optkern._core.DomainError, a ValueError and a RuntimeError)
                a value outside a loss's domain: binary_cross_entropy's
                probabilities outside [0, 1].

Differences from torch: inputs are not broadcast against targets (the
shapes must match; torch warns and broadcasts; the pair losses' inputs
likewise); triplet_margin_loss takes finite p > 0 only; the deprecated
size_average and reduce arguments work as in torch, without the warning.
Beyond torch: cross_entropy's z_loss (PaLM) and softcap (Gemma 2), and out;
and linear_cross_entropy, with no torch namesake: the cross-entropy of a
linear layer's logits, taken in chunks of rows, which returns (loss,
grad_hidden, grad_weight, grad_bias).
"""

import math
import numbers

import numpy as np

from optkern import _backend, _core
from optkern._checks import real
from optkern.clip import _is_array, _ops

__all__ = [
    "mse_loss",
    "l1_loss",
    "huber_loss",
    "smooth_l1_loss",
    "cross_entropy",
    "nll_loss",
    "binary_cross_entropy_with_logits",
    "kl_div",
    "binary_cross_entropy",
    "poisson_nll_loss",
    "gaussian_nll_loss",
    "hinge_embedding_loss",
    "soft_margin_loss",
    "margin_ranking_loss",
    "cosine_embedding_loss",
    "triplet_margin_loss",
    "multi_margin_loss",
    "multilabel_soft_margin_loss",
    "multilabel_margin_loss",
    "ctc_loss",
    "linear_cross_entropy",
]


def _reduction(reduction, size_average=None, reduce=None, allowed=("none", "mean", "sum")):
    """The C reduction code of `reduction`, or of torch's legacy pair."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else "mean" if size_average else "sum"
    if not isinstance(reduction, str) or reduction not in allowed:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return _core.REDUCTIONS[reduction]


def _array(value, name):
    if not _is_array(value):
        raise TypeError(f"{name} must be a numpy.ndarray (or a cupy.ndarray), got {type(value).__name__}")
    return value


def _kernels(*arrays):
    """The loss kernels a call's arrays take (None entries skipped): the C
    library's (optkern._core), or the GPU's for CuPy arrays (docs/gpu.md),
    with the same functions; TypeError for a mix of the two."""
    device = _backend.device_for(arrays, "a loss's arrays")
    if device is None:
        return _core
    from optkern.cuda._losses import Losses

    return Losses(device)


def _cpu_kernels(function, *arrays):
    """The C library's loss kernels, for a loss with no GPU form yet:
    NotImplementedError for CuPy arrays (docs/gpu.md#losses)."""
    if _backend.device_for(arrays, "a loss's arrays") is not None:
        raise NotImplementedError(f"optkern.losses.{function} has no GPU form yet: call it on NumPy arrays")
    return _core


def _same_shape(input, target, name="target"):
    if _array(target, name).shape != _array(input, "input").shape:
        raise ValueError(f"{name} has shape {target.shape} but input has shape {input.shape}; "
                         "optkern does not broadcast them")


# ----------------------------------------------------------------- regression

def _regression(name, input, target, reduction_code, weight, param, out):
    """The four regression losses; param: delta or beta, weight: the input's shape."""
    _same_shape(input, target)
    if weight is not None:
        _same_shape(input, weight, "weight")
    kernels = _kernels(input, target, weight, out)
    return kernels.elementwise_loss(name, input, target, weight, 1, input.size, None, 1, 1, param, 0, 0,
                                    reduction_code, out)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None, *, out=None):
    """Mean squared error (x - y)^2 and its gradient 2 (x - y).

    weight (optional, the input's shape): multiplies each element's loss;
    'mean' then divides by weight.sum() instead of the element count.
    Returns (loss, grad); see the module's docstring.
    """
    return _regression("mse_loss", input, target, _reduction(reduction, size_average, reduce), weight, 0.0, out)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None, *, out=None):
    """Absolute error |x - y| and its gradient sign(x - y) (0 where x = y).

    weight as for mse_loss ('mean' divides by weight.sum()).
    Returns (loss, grad); see the module's docstring.
    """
    return _regression("l1_loss", input, target, _reduction(reduction, size_average, reduce), weight, 0.0, out)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None, *, out=None):
    """Huber loss: (x-y)^2/2 where |x - y| < delta, else delta (|x - y| - delta/2).

    delta must be > 0. weight (optional, the input's shape) multiplies each
    element's loss; 'mean' still divides by the element count (torch 2.13).
    Returns (loss, grad); see the module's docstring.
    """
    red = _reduction(reduction)
    delta = real(delta, "delta")
    if not delta > 0:
        raise ValueError("huber_loss does not support non-positive values for delta.")
    return _regression("huber_loss", input, target, red, weight, delta, out)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0, *, out=None):
    """Smooth L1 loss: huber_loss(delta=beta) / beta; beta = 0 is l1_loss.

    beta must be >= 0. Returns (loss, grad); see the module's docstring.
    """
    red = _reduction(reduction, size_average, reduce)
    beta = real(beta, "beta")
    if not beta >= 0:
        raise ValueError("smooth_l1_loss does not support negative values for beta.")
    return _regression("smooth_l1_loss", input, target, red, None, beta, out)


# --------------------------------------------------------- class-index losses

def _rows_layout(input, name="input"):
    """(n, c, inner, per-sample shape) of logits of shape (C,) or (N, C, d1, ...)."""
    shape = _array(input, name).shape
    if len(shape) == 0:
        raise ValueError(f"{name} must have at least one dimension (the classes), got a 0-d array")
    if len(shape) == 1:
        return 1, shape[0], 1, ()
    inner = math.prod(shape[2:])
    return shape[0], shape[1], inner, (shape[0],) + shape[2:]


def _class_targets(input, target, samples_shape):
    """target as int64/int32 indices of shape samples_shape, checked torch's way."""
    if not np.issubdtype(target.dtype, np.integer):
        raise TypeError(f"class targets must have an integer dtype, got {target.dtype} "
                        f"(probability targets have the input's shape, {input.shape})")
    if target.shape != samples_shape:
        if input.ndim >= 2 and target.ndim >= 1 and target.shape[0] != input.shape[0]:
            raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match "
                             f"target batch_size ({target.shape[0]}).")
        raise ValueError(f"target has shape {target.shape}; for input of shape {input.shape} "
                         f"class targets have shape {samples_shape}")
    return _index_array(target)


def _index_array(target):
    """Integer class targets as int64 or int32, the index types C reads."""
    if target.dtype not in (np.int64, np.int32):
        if target.dtype.kind == "u" and target.dtype.itemsize >= 8 and target.size:
            flat = target.ravel()
            too_big = flat[flat > np.iinfo(np.int64).max]
            if too_big.size:  # astype(int64) would wrap them round to negative numbers
                raise IndexError(f"Target {too_big[0]} is out of bounds.")
        target = target.astype(np.int64)
    return target


def _class_weights(weight, c):
    if weight is not None and _array(weight, "weight").shape != (c,):
        raise ValueError(f"weight tensor should be defined either for all {c} classes or no classes "
                         f"but got weight tensor of shape: {list(weight.shape)}")
    return weight


def _ignore_index(value, function):
    """ignore_index as an int: torch takes ints (numpy's too), not bools, floats or strings."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{function}(): argument 'ignore_index' must be int, not {type(value).__name__}")
    return int(value)


def _softmax_options(label_smoothing, z_loss, softcap):
    """cross_entropy's options on the softmax, checked: (label_smoothing,
    z_loss, cap), cap 0 for no soft cap (C's convention)."""
    label_smoothing = real(label_smoothing, "label_smoothing")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    z_loss = real(z_loss, "z_loss")
    if not 0.0 <= z_loss < math.inf:
        raise ValueError(f"z_loss must be a finite number >= 0, got {z_loss}")
    cap = 0.0 if softcap is None else real(softcap, "softcap")
    if softcap is not None and not 0.0 < cap < math.inf:
        raise ValueError(f"softcap must be None or a finite number > 0, got {softcap}")
    return label_smoothing, z_loss, cap


def _is_float(dtype):
    """Whether dtype is a floating dtype: NumPy's, or ml_dtypes.bfloat16."""
    return np.issubdtype(dtype, np.floating) or dtype.name == "bfloat16"


def _index_error(target, c, ignore_index):
    """torch's message for the first class target out of range."""
    flat = target.ravel()
    bad = flat[(flat != ignore_index) & ((flat < 0) | (flat >= c))]
    return IndexError(f"Target {bad[0] if bad.size else '?'} is out of bounds.")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0, *, z_loss=0.0, softcap=None, out=None):
    """Cross-entropy of logits and its gradient, in one pass over the logits.

    input: logits of shape (N, C), (C,) or (N, C, d1, ...), class axis 1.
    target: class indices of shape (N,), () or (N, d1, ...), or class
    probabilities of the input's shape and dtype (torch's rule: a target of
    the input's shape holds probabilities).
    weight: (C,) class weights. ignore_index: class targets with this value
    count for nothing (loss 0, gradient 0; probability targets do not allow
    ignore_index >= 0). label_smoothing in [0, 1].
    reduction 'mean' divides by the summed weight of the non-ignored samples
    (class targets; NaN when all are ignored) or by the sample count
    (probability targets).

    Beyond torch:
    z_loss >= 0 adds z_loss * lse^2 per sample (PaLM), lse = logsumexp of the
      sample's (soft-capped) logits, with gradient 2 z_loss lse softmax; with
      class targets it is weighted by w[y] like the rest of the sample's
      loss, so 'mean' (the same denominator, z-loss included) stays a
      weighted mean.
    softcap None or > 0: the logits become softcap * tanh(x / softcap) first
      (Gemma 2), with the chain rule in the gradient.

    Returns (loss, grad); see the module's docstring. out=input overwrites
    the logits with their gradient.
    """
    red = _reduction(reduction, size_average, reduce)
    n, c, inner, samples_shape = _rows_layout(input)
    label_smoothing, z_loss, cap = _softmax_options(label_smoothing, z_loss, softcap)
    ignore_index = _ignore_index(ignore_index, "cross_entropy")
    _class_weights(weight, c)
    if _array(target, "target").shape == input.shape:
        if not _is_float(target.dtype):
            raise TypeError(f"probability targets (the input's shape) must be floating, got {target.dtype}")
        if ignore_index >= 0:
            raise ValueError("ignore_index is not supported for floating point target")
    else:
        target = _class_targets(input, target, samples_shape)
    try:
        kernels = _kernels(input, target, weight, out)
        return kernels.cross_entropy(input, target, n, c, inner, weight, ignore_index, label_smoothing, z_loss, cap,
                                     red, out, samples_shape)
    except IndexError:
        raise _index_error(target, c, ignore_index) from None


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean", *,
             out=None):
    """Negative log-likelihood -w[y] x[y] of log-probabilities, and its gradient.

    input, target, weight, ignore_index and the 'mean' denominator as for
    cross_entropy with class targets. Returns (loss, grad); see the module's
    docstring.
    """
    red = _reduction(reduction, size_average, reduce)
    n, c, inner, samples_shape = _rows_layout(input)
    ignore_index = _ignore_index(ignore_index, "nll_loss")
    _class_weights(weight, c)
    target = _class_targets(input, _array(target, "target"), samples_shape)
    try:
        kernels = _kernels(input, target, weight, out)
        return kernels.nll_loss(input, target, n, c, inner, weight, ignore_index, red, out, samples_shape)
    except IndexError:
        raise _index_error(target, c, ignore_index) from None


# ------------------------------------------------------------- other losses

def _broadcast_layout(operand, name, shape):
    """(array, block, period): element i of an array of `shape` pairs with
    array.ravel()[(i // block) % period]. That holds whenever the operand's
    non-broadcast dimensions are adjacent (a scalar, a per-class (C,) or a
    per-sample (N, 1) weight, the full shape); any other broadcast is made
    into a full-size contiguous copy."""
    if operand is None:
        return None, 1, 1
    operand = _array(operand, name)
    try:
        if np.broadcast_shapes(operand.shape, shape) != tuple(shape):
            raise ValueError
    except ValueError:
        raise ValueError(f"{name} of shape {operand.shape} does not broadcast to the input's shape {shape}") from None
    padded = (1,) * (len(shape) - operand.ndim) + operand.shape
    dims = [d for d, size in enumerate(shape) if size != 1]  # the others never matter
    kept = [k for k, d in enumerate(dims) if padded[d] != 1]
    if not kept:
        return operand, 1, 1
    if kept != list(range(kept[0], kept[-1] + 1)):
        xp = _backend.namespace(operand)
        copy = xp.ascontiguousarray(xp.broadcast_to(operand, shape))
        return copy, 1, max(copy.size, 1)
    block = math.prod(shape[d] for d in dims[kept[-1] + 1:])
    return operand, block, math.prod(shape[dims[k]] for k in kept)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None, *, out=None):
    """Binary cross-entropy of logits x with targets y, and its gradient:
    -w [p y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))], computed stably.

    target: the input's shape. weight and pos_weight (p): broadcastable to
    the input's shape (pos_weight usually (C,), the last dimension).
    Returns (loss, grad); see the module's docstring.
    """
    red = _reduction(reduction, size_average, reduce)
    if _array(target, "target").shape != _array(input, "input").shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    w, w_block, w_period = _broadcast_layout(weight, "weight", input.shape)
    p, p_block, p_period = _broadcast_layout(pos_weight, "pos_weight", input.shape)
    kernels = _kernels(input, target, w, p, out)
    return kernels.elementwise_loss("binary_cross_entropy_with_logits", input, target, w, w_block, w_period, p,
                                    p_block, p_period, 0.0, 0, 0, red, out)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False, *, out=None):
    """Kullback-Leibler divergence of log-probabilities x from targets y,
    y (log y - x) (0 where y = 0), or e^y (y - x) with log_target, and its
    gradient -y (or -e^y).

    reduction 'mean' divides by the element count, 'batchmean' by the batch
    size input.shape[0] (the KL divergence proper). Returns (loss, grad);
    see the module's docstring.
    """
    red = _reduction(reduction, size_average, reduce, allowed=("none", "mean", "sum", "batchmean"))
    if not isinstance(log_target, bool):
        raise TypeError(f"kl_div(): argument 'log_target' must be bool, not {type(log_target).__name__}")
    _same_shape(input, target)
    batch = input.shape[0] if input.ndim else 1
    return _kernels(input, target, out).elementwise_loss("kl_div", input, target, None, 1, 1, None, 1, 1, 0.0,
                                                         log_target, batch, red, out)


# ------------------------------------- probabilities, counts and variances

def _bool(value, function, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{function}(): argument '{name}' must be bool, not {type(value).__name__}")
    return bool(value)


def _outs(out, count, function):
    """out= of a loss with `count` gradients: None, or a tuple of that many
    arrays (None entries: new arrays)."""
    if out is None:
        return (None,) * count
    if not isinstance(out, (tuple, list)) or len(out) != count:
        raise TypeError(f"{function} returns {count} gradients: out must be a tuple of {count} arrays (or None)")
    return tuple(out)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean", *, out=None):
    """Binary cross-entropy of probabilities x in [0, 1] with targets y in
    [0, 1], and its gradient: -w [y log x + (1 - y) log(1 - x)], each log
    clamped at -100 as torch does (docs/losses.md#binary_cross_entropy).

    target: the input's shape. weight: broadcastable to it. A value of input
    or target outside [0, 1] (or NaN) raises optkern's DomainError, a
    ValueError and a RuntimeError (torch's), before anything is written.
    Returns (loss, grad); see the module's docstring.
    """
    red = _reduction(reduction, size_average, reduce)
    if _array(target, "target").shape != _array(input, "input").shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size "
                         f"({input.shape}) is deprecated. Please ensure they have the same size.")
    w, w_block, w_period = _broadcast_layout(weight, "weight", input.shape)
    kernels = _cpu_kernels("binary_cross_entropy", input, target, w, out)
    try:
        return kernels.elementwise_loss("binary_cross_entropy", input, target, w, w_block, w_period, None, 1, 1, 0.0,
                                        0, 0, red, out)
    except _core.DomainError:
        bad = "input" if not ((input >= 0) & (input <= 1)).all() else "target"
        raise _core.DomainError(f"all elements of {bad} should be between 0 and 1") from None


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean", *, out=None):
    """Poisson negative log-likelihood of counts y, and its gradient
    (docs/losses.md#poisson_nll_loss): with log_input, e^x - y x (the rate
    is e^x), else x - y log(x + eps); full adds Stirling's approximation of
    log(y!) where y > 1.

    target: the input's shape. Returns (loss, grad); see the module's docstring.
    """
    red = _reduction(reduction, size_average, reduce)
    log_input = _bool(log_input, "poisson_nll_loss", "log_input")
    full = _bool(full, "poisson_nll_loss", "full")
    eps = real(eps, "eps")
    _same_shape(input, target)
    return _kernels(input, target, out).elementwise_loss("poisson_nll_loss", input, target, None, 1, 1, None, 1, 1,
                                                         0.0, log_input, 0, red, out, eps=eps, full=full)


def _variance(var, input):
    """gaussian_nll_loss's var as an array of the input's shape, and the
    axis its gradient is summed over (None: var has the input's shape; ()
    for a number, which gets no gradient)."""
    if isinstance(var, numbers.Real) and not isinstance(var, bool) and not _is_array(var):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        return _backend.namespace(input).full(input.shape, var, input.dtype), ()
    shape, vshape = input.shape, _array(var, "var").shape
    if vshape == shape:
        return var, None
    if vshape == shape[:-1]:
        axis, var = len(shape) - 1, var[..., None]
    elif len(vshape) == len(shape) and sum(v for d, v in zip(shape, vshape) if d != v) == 1:
        axis = next(k for k, (d, v) in enumerate(zip(shape, vshape)) if d != v)
    else:
        raise ValueError("var is of incorrect size")
    if var.dtype != input.dtype:
        raise TypeError(f"var has dtype {var.dtype} but input has dtype {input.dtype}")
    xp = _backend.namespace(var)
    return xp.ascontiguousarray(xp.broadcast_to(var, shape)), axis


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean", *, out=None):
    """Gaussian negative log-likelihood of targets y under means x and
    variances var, and its gradients with respect to input and var
    (docs/losses.md#gaussian_nll_loss): (log v + (x - y)^2 / v) / 2, with
    v = max(var, eps), plus log(2 pi) / 2 with full.

    var: the input's shape, or one dimension short of it (input.shape[:-1]),
    or the input's shape with one dimension of size 1 (one variance shared
    along it), or a number, as torch takes it. A negative var raises
    ValueError before anything is written. Returns (loss, (grad_input,
    grad_var)): grad_var has var's shape (None for a number), summed over
    the shared dimension. out: None or a tuple (for grad_input, for
    grad_var), either may be None. Not on the GPU yet.
    """
    red = _reduction(reduction)
    full = _bool(full, "gaussian_nll_loss", "full")
    eps = real(eps, "eps")
    _same_shape(input, target)
    out_input, out_var = _outs(out, 2, "gaussian_nll_loss")
    kernels = _cpu_kernels("gaussian_nll_loss", input, target, var if _is_array(var) else None, out_input, out_var)
    full_var, axis = _variance(var, input)
    if axis is not None and out_var is not None:  # written after the kernel: checked now
        if axis == ():
            raise ValueError("a number var has no gradient: out[1] must be None")
        if _array(out_var, "out[1]").shape != var.shape or out_var.dtype != input.dtype:
            raise ValueError(f"out[1] must be an array of var's shape {var.shape} and dtype {input.dtype}")
        if not out_var.flags.writeable:
            raise ValueError("out[1] is read-only")
    if axis not in (None, ()) and input.dtype.itemsize == 2:
        # 16 bits: float32's loss, and its gradients rounded once, var's
        # summed before it is (docs/precision.md#losses-in-16-bits)
        if out_input is not None and (_array(out_input, "out[0]").shape != input.shape
                                      or out_input.dtype != input.dtype or not out_input.flags.writeable):
            raise ValueError(f"out[0] must be a writeable array of the input's shape {input.shape} and dtype")
        wide = [a.astype(np.float32) for a in (input, target, var)]
        loss, grads = gaussian_nll_loss(*wide, full=full, eps=eps, reduction=reduction)
        outs = [np.empty(a.shape, input.dtype) if o is None else o for a, o in zip((input, var), (out_input, out_var))]
        for o, g in zip(outs, grads):
            o[...] = g
        return loss, tuple(outs)
    try:
        loss, (grad, grad_var) = kernels.elementwise_loss(
            "gaussian_nll_loss", input, target, None, 1, 1, None, 1, 1, 0.0, 0, 0, red, out_input, eps=eps,
            full=full, input2=full_var, out2=out_var if axis is None else None, input2_name="var")
    except _core.DomainError:
        raise ValueError("var has negative entry/entries") from None
    if axis == ():
        return loss, (grad, None)
    if axis is not None:
        summed = grad_var.sum(axis=axis, keepdims=True).reshape(var.shape)
        if out_var is None:
            grad_var = summed
        else:
            out_var[...] = summed
            grad_var = out_var
    return loss, (grad, grad_var)


# ------------------------------------------------------------------ margins

def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean", *,
                         out=None):
    """Hinge embedding loss of distances x with labels y (1: similar, -1:
    dissimilar), and its gradient (docs/losses.md#hinge_embedding_loss):
    x where y = 1, max(0, margin - x) where y = -1 (both terms for any
    other y, as torch computes them).

    target: the input's shape. Returns (loss, grad); see the module's docstring.
    """
    red = _reduction(reduction, size_average, reduce)
    margin = real(margin, "margin")
    _same_shape(input, target)
    return _kernels(input, target, out).elementwise_loss("hinge_embedding_loss", input, target, None, 1, 1, None, 1,
                                                         1, margin, 0, 0, red, out)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean", *, out=None):
    """Two-class logistic loss log(1 + exp(-y x)) of scores x with labels y
    (1 or -1), and its gradient (docs/losses.md#soft_margin_loss), computed
    stably: finite where torch's exp(-y x) overflows to inf.

    target: the input's shape. Returns (loss, grad); see the module's docstring.
    """
    red = _reduction(reduction, size_average, reduce)
    _same_shape(input, target)
    return _kernels(input, target, out).elementwise_loss("soft_margin_loss", input, target, None, 1, 1, None, 1, 1,
                                                         0.0, 0, 0, red, out)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean", *,
                        out=None):
    """Ranking loss max(0, -y (x1 - x2) + margin) of pairs of scores x1, x2
    with y = 1 where x1 should rank higher and -1 where x2 should, and its
    gradients (docs/losses.md#margin_ranking_loss).

    input1, input2 and target: one shape (optkern does not broadcast them).
    Returns (loss, (grad_input1, grad_input2)). out: None or a tuple of two
    arrays (either may be None; each may be its own input). Not on the GPU
    yet.
    """
    red = _reduction(reduction, size_average, reduce)
    margin = real(margin, "margin")
    _same_shape(input1, input2, "input2")
    _same_shape(input1, target)
    out1, out2 = _outs(out, 2, "margin_ranking_loss")
    kernels = _cpu_kernels("margin_ranking_loss", input1, input2, target, out1, out2)
    return kernels.elementwise_loss("margin_ranking_loss", input1, target, None, 1, 1, None, 1, 1, margin, 0, 0, red,
                                    out1, input2=input2, out2=out2)


# ---------------------------------------------------------------- pair losses

def _out_arrays(out):
    """The arrays of a pair loss's out (a tuple), for the device check."""
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean", *,
                          out=None):
    """Cosine embedding loss of pairs of rows, and the gradients of both.

    input1, input2: (N, D) with target (N,), or (D,) with a 0-d target; the
    two inputs have one shape (optkern does not broadcast them). target:
    1 (similar) or -1 (dissimilar); a sample with any other target counts
    for nothing (loss and gradient 0, as torch). Floating targets have the
    inputs' dtype; integer (and bool) targets are converted.
    With cos = x1.x2 / sqrt((|x1|^2 + eps)(|x2|^2 + eps)), eps torch's 1e-12
    (a float), the loss is 1 - cos where y = 1 and max(0, cos - margin)
    where y = -1; 'mean' divides by N. docs/losses.md#cosine_embedding_loss.

    Returns (loss, (grad_input1, grad_input2)); 'none' gives one loss per
    sample, (N,) or (). out (keyword-only): a tuple of the two gradients'
    arrays, either of which may be its own input (out=(input1, input2)
    overwrites both). No GPU form yet: CuPy arrays raise NotImplementedError.
    """
    red = _reduction(reduction, size_average, reduce)
    margin = real(margin, "margin")
    kernels = _cpu_kernels("cosine_embedding_loss", input1, input2, target, *_out_arrays(out))
    _array(input1, "input1")
    target = _array(target, "target")
    if target.ndim not in (0, 1):
        raise ValueError("0D or 1D target tensor expected, multi-target not supported")
    if input1.ndim != target.ndim + 1:
        raise ValueError(f"{target.ndim}D target tensor expects {target.ndim + 1}D input tensors, but found "
                         f"inputs with sizes {list(input1.shape)} and {list(_array(input2, 'input2').shape)}.")
    _same_shape(input1, input2, "input2")
    if target.shape != input1.shape[:-1]:
        raise ValueError(f"target has shape {target.shape} but the inputs have {input1.shape[:-1]} samples "
                         f"(shape {input1.shape})")
    if not _is_float(target.dtype):
        if not (np.issubdtype(target.dtype, np.integer) or target.dtype == np.bool_):
            raise TypeError(f"target must hold numbers, got {target.dtype}")
        if _is_float(input1.dtype):
            target = target.astype(input1.dtype)  # 1 and -1 stay exact in every float dtype
    n = input1.shape[0] if input1.ndim == 2 else 1
    return kernels.cosine_embedding_loss(input1, input2, target, n, input1.shape[-1], margin, red, out,
                                         target.shape)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-06, swap=False, size_average=None,
                        reduce=None, reduction="mean", *, out=None):
    """Triplet margin loss of anchors, positives and negatives, and the
    gradients of all three.

    anchor, positive, negative: one shape (optkern does not broadcast
    them), samples along every dimension but the last, the features (a 0-d
    input is one sample of one feature). With d(x, y) = |x - y + eps|_p over
    the last dimension, the loss of a sample is max(0, margin + d(a, p) -
    d(a, n)); swap replaces d(a, n) by min(d(a, n), d(p, n)) (at a tie each
    distance takes half the gradient, as torch). margin > 0; p > 0 finite
    (torch also takes p <= 0 and inf: a ValueError here). 'mean' divides by
    the number of samples. docs/losses.md#triplet_margin_loss.

    Returns (loss, (grad_anchor, grad_positive, grad_negative)); 'none'
    gives one loss per sample, of shape anchor.shape[:-1]. out
    (keyword-only): a tuple of the three gradients' arrays, each of which
    may be its own input. No GPU form yet: CuPy arrays raise
    NotImplementedError.
    """
    red = _reduction(reduction, size_average, reduce)
    margin, p, eps = real(margin, "margin"), real(p, "p"), real(eps, "eps")
    if not isinstance(swap, (bool, np.bool_)):
        raise TypeError(f"triplet_margin_loss(): argument 'swap' must be bool, not {type(swap).__name__}")
    if not margin > 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if not 0 < p < math.inf:
        raise ValueError(f"p must be a finite number > 0, got {p} (optkern has no p-norm of p <= 0 or inf)")
    kernels = _cpu_kernels("triplet_margin_loss", anchor, positive, negative, *_out_arrays(out))
    shapes = [_array(a, name).shape for a, name in ((anchor, "anchor"), (positive, "positive"),
                                                     (negative, "negative"))]
    if len({len(s) for s in shapes}) != 1:
        raise ValueError("The anchor, positive, and negative tensors are expected to have the same number of "
                         f"dimensions, but got: anchor {len(shapes[0])}D, positive {len(shapes[1])}D, and "
                         f"negative {len(shapes[2])}D inputs")
    _same_shape(anchor, positive, "positive")
    _same_shape(anchor, negative, "negative")
    d = anchor.shape[-1] if anchor.ndim else 1
    samples_shape = anchor.shape[:-1]
    return kernels.triplet_margin_loss(anchor, positive, negative, math.prod(samples_shape), d, margin, p, eps,
                                       bool(swap), red, out, samples_shape)
# ------------------------------------------------------------ margin losses

def _per_class_weight(weight, c, ndim):
    """multilabel_soft_margin_loss's weight as (C,) class weights: shape
    (C,) or (1, ..., 1, C), or one value for every class, of at most the
    input's ndim dimensions (the broadcasts that keep the loss's shape)."""
    if weight is None:
        return None
    w = _array(weight, "weight")
    if w.ndim <= ndim and all(d == 1 for d in w.shape[:-1]):
        if w.ndim and w.shape[-1] == c:
            return w.reshape(c)
        if w.size == 1:
            return _backend.namespace(w).full(c, w.reshape(()), dtype=w.dtype)
    raise ValueError(f"weight of shape {w.shape} is not per-class for input with {c} classes: optkern takes "
                     f"(C,) = ({c},) class weights (or one value)")


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean", *,
                                out=None):
    """Multi-label one-versus-all loss of logits x with labels y (floats,
    usually 0 or 1), and its gradient: per sample, the mean over the C
    classes (the last axis) of -w [y log sigmoid(x) + (1 - y) log sigmoid(-x)],
    computed stably; gradient w (sigmoid(x) - y) / C times the reduction's scale.

    input: (C,), (N, C) or (..., C); target: the input's shape and dtype.
    weight: (C,) class weights (or (1, C), or one value). 'none' gives one
    loss per sample (input.shape[:-1]); 'mean' divides their sum by their
    number. Returns (loss, grad); see the module's docstring.
    """
    red = _reduction(reduction, size_average, reduce)
    shape = _array(input, "input").shape
    if len(shape) == 0:
        raise ValueError("input must have at least one dimension (the classes), got a 0-d array")
    _same_shape(input, target)
    c, samples_shape = shape[-1], shape[:-1]
    weight = _per_class_weight(weight, c, len(shape))
    kernels = _cpu_kernels("multilabel_soft_margin_loss", input, target, weight, out)
    return kernels.multilabel_soft_margin_loss(input, target, math.prod(samples_shape), c, weight, red, out,
                                               samples_shape)


def _margin_layout(input, name):
    """(n, c) of scores of shape (N, C), (C,) or () (one sample of one class),
    C > 0, torch's rule for the class-target margin losses."""
    shape = _array(input, "input").shape
    if len(shape) > 2 or (len(shape) and shape[-1] == 0):
        raise ValueError(f"{name}: expected a non-empty vector or matrix with optional 0-dim batch size, "
                         f"but got input of shape {shape}")
    return (shape[0] if len(shape) == 2 else 1), (shape[-1] if shape else 1)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean", *, out=None):
    """Multi-class hinge loss of scores x with class targets y, and its
    gradient: per sample, w[y] sum over the classes i != y of
    max(0, margin - x[y] + x[i])^p / C, p 1 or 2.

    input: (N, C), (C,) or () scores; target: (N,) class indices ((), or
    (1,), for a single sample; any integer dtype), each in [0, C).
    weight: (C,) class weights. 'none' gives one loss per sample (the
    target's shape); 'mean' divides their sum by N. Returns (loss, grad);
    see the module's docstring.
    """
    red = _reduction(reduction, size_average, reduce)
    n, c = _margin_layout(input, "multi_margin_loss")
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    margin = real(margin, "margin")
    if weight is not None and _array(weight, "weight").ndim != 1:
        raise ValueError("weight must be one-dimensional")
    if weight is not None and weight.shape != (c,):
        raise ValueError(f"inconsistent weight size, expected {c} but got {list(weight.shape)}")
    if not np.issubdtype(_array(target, "target").dtype, np.integer):
        raise TypeError(f"class targets must have an integer dtype, got {target.dtype}")
    if (target.shape != (n,) if input.ndim == 2 else target.ndim > 1 or target.size != 1):
        raise ValueError(f"multi_margin_loss: target tensor should be 1-D with size equal to the number of input "
                         f"samples (batch size). Expected target size [{n}], but got {list(target.shape)}")
    target = _index_array(target)
    try:
        kernels = _cpu_kernels("multi_margin_loss", input, target, weight, out)
        return kernels.multi_margin_loss(input, target, n, c, int(p), margin, weight, red, out,
                                         target.shape if input.ndim < 2 else (n,))
    except IndexError:
        flat = target.ravel()
        bad = flat[(flat < 0) | (flat >= c)]
        raise IndexError(f"target out of range: {bad[0] if bad.size else '?'} is not in [0, {c})") from None


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean", *, out=None):
    """Multi-class multi-label hinge loss of scores x with class-index
    targets, and its gradient: per sample, with its targets j (the entries
    of its target row before the first -1; a duplicate counted each time)
    and its non-target classes i, the sum of max(0, 1 - (x[j] - x[i])) / C.
    A hinge of exactly 0 gets no gradient, as torch.

    input: (N, C), (C,) or () scores; target: integers (any integer dtype)
    of the input's shape (one entry for a () input), every entry in
    [-1, C), those after the first -1 included. 'none' gives one loss per
    sample ((N,), or () for a single one); 'mean' divides their sum by N.
    Returns (loss, grad); see the module's docstring.
    """
    red = _reduction(reduction, size_average, reduce)
    n, c = _margin_layout(input, "multilabel_margin_loss")
    if not np.issubdtype(_array(target, "target").dtype, np.integer):
        raise TypeError(f"class targets must have an integer dtype, got {target.dtype}")
    if (target.shape != input.shape if input.ndim == 2 else target.ndim > 1 or target.size != c):
        raise ValueError(f"multilabel_margin_loss: inconsistent target size: {list(target.shape)} for input of "
                         f"size: {list(input.shape)}")
    target = _index_array(target)
    try:
        kernels = _cpu_kernels("multilabel_margin_loss", input, target, out)
        return kernels.multilabel_margin_loss(input, target, n, c, red, out, (n,) if input.ndim == 2 else ())
    except IndexError:
        flat = target.ravel()
        bad = flat[(flat < -1) | (flat >= c)]
        raise IndexError(f"target out of range: {bad[0] if bad.size else '?'} is not in [-1, {c})") from None


# ---------------------------------------------------------------- CTC loss

def _ctc_lengths(value, name, n, batched):
    """input_lengths or target_lengths as int64 of n entries: a sequence of
    ints or an integer array (batched), an int or one entry (unbatched)."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"ctc_loss(): {name} must hold integers, got {type(value).__name__}")
    lengths = value if _is_array(value) else np.asarray(value)
    if not _is_array(value) and lengths.size == 0:
        lengths = lengths.astype(np.int64)  # an empty sequence, of no dtype of its own
    if not np.issubdtype(lengths.dtype, np.integer):
        raise TypeError(f"ctc_loss(): {name} must hold integers, got dtype {lengths.dtype}")
    if lengths.shape != ((n,) if batched else ()) and not (not batched and lengths.shape == (1,)):
        raise ValueError(f"{name} must be of size batch_size" if batched or lengths.ndim else
                         f"{name} must be a scalar for unbatched log_probs")
    return np.ascontiguousarray(lengths, dtype=np.int64).reshape(n)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False, *,
             out=None):
    """Connectionist temporal classification loss and its gradient
    (docs/losses.md#ctc_loss), torch's forward-backward recursion in log
    space, in double.

    log_probs: (T, N, C) log-probabilities (time, batch, classes), or (T, C)
    unbatched; float32 or float64. targets: integer class indices, padded
    (N, S) (or (S,) unbatched; row b's first target_lengths[b] entries
    count, the rest is never read) or concatenated (sum(target_lengths),),
    none equal to blank. input_lengths, target_lengths: N integers (a
    sequence or an integer array; an int unbatched), with
    0 <= input_lengths <= T and target_lengths <= S (padded). blank: the
    blank class, in [0, C). reduction 'mean': the batch mean of each loss
    divided by its target length (at least 1); 'sum'; 'none': N losses.
    zero_infinity: an infinite loss (no alignment fits: the input is
    shorter than the target and its repeats need) becomes 0, with gradient 0.

    The gradient is torch's: (exp(lp) - the posteriors of each class) times
    the reduction's factor, in the first input_lengths[b] rows of sequence
    b, 0 after. Its exp(lp) term is the gradient through a log_softmax (the
    posteriors of a step sum to 1): torch's formula, which optkern keeps
    also for log_probs that are not normalised. An infinite loss without
    zero_infinity has a NaN gradient in its rows, as in torch.

    Differences from torch: the lengths and targets must be integers
    (torch casts floats); a target outside [0, C) is an IndexError and one
    equal to blank a ValueError (torch's CPU kernel checks neither, reading
    out of bounds or computing a meaningless value). Returns (loss, grad);
    see the module's docstring. out=log_probs overwrites the
    log-probabilities with their gradient.
    """
    red = _reduction(reduction)
    lp = _array(log_probs, "log_probs")
    _cpu_kernels("ctc_loss", lp, targets, out)
    if lp.dtype not in (np.float32, np.float64):
        raise TypeError(f"ctc_loss takes float32 or float64 log_probs, got {lp.dtype}")
    if lp.ndim not in (2, 3):
        raise ValueError(f"Expected 3-dimensional tensor, but got {lp.ndim}-dimensional tensor for argument #1 "
                         "'log_probs'")
    batched = lp.ndim == 3
    t_max, n, c = lp.shape if batched else (lp.shape[0], 1, lp.shape[1])
    if isinstance(blank, bool) or not isinstance(blank, numbers.Integral):
        raise TypeError(f"ctc_loss(): argument 'blank' must be int, not {type(blank).__name__}")
    if not 0 <= blank < c:
        raise ValueError("blank must be in label range")
    if not isinstance(zero_infinity, (bool, np.bool_)):
        raise TypeError(f"ctc_loss(): argument 'zero_infinity' must be bool, not {type(zero_infinity).__name__}")
    input_lengths = _ctc_lengths(input_lengths, "input_lengths", n, batched)
    target_lengths = _ctc_lengths(target_lengths, "target_lengths", n, batched)
    if not np.issubdtype(_array(targets, "targets").dtype, np.integer):
        raise TypeError(f"ctc_loss(): targets must hold class indices (an integer dtype), got {targets.dtype}")
    for name, lengths in (("input_lengths", input_lengths), ("target_lengths", target_lengths)):
        if n and lengths.min() < 0:
            raise ValueError(f"Expected {name} to have value at least 0, but got value {lengths.min()}")
    if n and input_lengths.max() > t_max:
        raise ValueError(f"Expected input_lengths to have value at most {t_max}, but got value "
                         f"{input_lengths.max()}")
    padded = targets.ndim == 2 or not batched
    rows = targets.reshape(1, -1) if not batched and targets.ndim == 1 else targets
    if rows.ndim != (2 if padded else 1):
        raise ValueError(f"targets must have 1 dimension (concatenated) or 2 (padded, N x S), got {targets.ndim}"
                         if batched else f"unbatched targets have 1 dimension, got {targets.ndim}")
    total = int(target_lengths.sum())
    if padded:
        if rows.shape[0] != n:
            raise ValueError(f"Expected tensor to have size {n} at dimension 0, but got size {rows.shape[0]} for "
                             "argument #2 'targets'")
        longest = int(target_lengths.max()) if n else 0
        if rows.shape[1] < longest:
            raise ValueError(f"Expected tensor to have size at least {longest} at dimension 1, but got size "
                             f"{rows.shape[1]} for argument #2 'targets'")
        used = rows[:, :longest][np.arange(longest) < target_lengths[:, None]]
    else:
        if rows.shape[0] != total:
            raise ValueError(f"Expected tensor to have size {total} at dimension 0, but got size {rows.shape[0]} "
                             "for argument #2 'targets'")
        used = rows
    if used.size and (used.min() < 0 or used.max() >= c):
        raise IndexError(f"Target {used[(used < 0) | (used >= c)][0]} is out of bounds.")
    if used.size and (used == blank).any():
        raise ValueError(f"targets hold the blank class {blank}; CTC targets are labels other than blank")
    width = rows.shape[1] if padded else 0  # 0: concatenated (padded of width 0 is the same: no target)
    tg = np.ascontiguousarray(rows, dtype=np.int64).reshape(-1)
    return _core.ctc_loss(lp, tg, t_max, n, c, width, input_lengths, target_lengths, blank, bool(zero_infinity),
                          red, out, (n,) if batched else ())


# ------------------------------------------------------ linear cross-entropy

# chunk_size=None: as many rows as have logits of this many bytes, and at
# least _CHUNK_MIN_ROWS: every chunk's products read all of the weight and
# read and write all of grad_weight, so fewer rows make those passes
# dominate, more so the larger the vocabulary (docs/losses.md#linear_cross_entropy).
_CHUNK_BYTES = 48 << 20
_CHUNK_MIN_ROWS = 384


def _chunk_rows(chunk_size, vocabulary, itemsize):
    if chunk_size is None:
        return max(_CHUNK_MIN_ROWS, _CHUNK_BYTES // max(vocabulary * itemsize, 1))
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, numbers.Integral):
        raise TypeError(f"chunk_size must be None or an int, got {chunk_size!r}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    return int(chunk_size)


def _read_operand(a, name, lead=None, lead_name="input"):
    """An array a loss reads, checked (_core.read_operand; on the GPU, its
    device's checks), of lead's dtype when given."""
    device = _backend.device_for([a, lead])
    if device is None:
        return _core.read_operand(a, name, lead, lead_name) if lead is not None else _core.read_operand(a, name)
    from optkern.cuda._optim import checked_array

    checked_array(device, a, name)
    if lead is not None and a.dtype != lead.dtype:
        raise TypeError(f"{name} has dtype {a.dtype} but {lead_name} has dtype {lead.dtype}")
    return a


def _linear_operands(hidden, weight, bias):
    """hidden (..., H), weight (V, H) and bias (V,) or None, checked."""
    h = _read_operand(hidden, "hidden")
    if h.dtype not in (np.float32, np.float64):
        raise TypeError(f"linear_cross_entropy takes float32 or float64 arrays (its logits are NumPy matmul "
                        f"products), got hidden of dtype {h.dtype}; pass hidden.astype(numpy.float32) "
                        "and weight.astype(numpy.float32)")
    if h.ndim == 0:
        raise ValueError("hidden must have at least one dimension (the features), got a 0-d array")
    w = _read_operand(weight, "weight", h, "hidden")
    if w.ndim != 2 or w.shape[1] != h.shape[-1]:
        raise ValueError(f"weight has shape {w.shape}; for hidden of shape {h.shape} it must be "
                         f"(vocabulary, {h.shape[-1]})")
    if bias is not None and _read_operand(bias, "bias", h, "hidden").shape != w.shape[:1]:
        raise ValueError(f"bias has shape {bias.shape}; for weight of shape {w.shape} it must be {w.shape[:1]}")
    return h, w, bias


def _add_product(acc, a, b, scratch, xp, ops):
    """acc += a @ b, as many of acc's rows at a time as `scratch` (a flat
    buffer) holds: NumPy's matmul cannot add to its output. xp: the array
    module, ops: the vector operations (clip._ops)."""
    if acc.size == 0:
        return
    width = acc.shape[1]
    step = max(1, scratch.size // width)
    for start in range(0, acc.shape[0], step):
        stop = min(start + step, acc.shape[0])
        part = scratch[:(stop - start) * width].reshape(stop - start, width)
        xp.matmul(a[start:stop], b, out=part)
        ops.vec_axpby(1.0, [part], 1.0, [acc[start:stop]])


def linear_cross_entropy(hidden, weight, target, bias=None, *, ignore_index=-100, reduction="mean",
                         label_smoothing=0.0, z_loss=0.0, softcap=None, chunk_size=None):
    """Cross-entropy of the logits hidden @ weight.T + bias, and its
    gradients, without ever holding all the logits.

    hidden: (..., H); weight: (V, H), a linear layer's (a language model's
    output embedding); bias: (V,) or None, all float32 or all float64 (the
    logits are NumPy matmul products: bfloat16 and float16 are a TypeError);
    target: class indices of shape hidden.shape[:-1]. ignore_index, reduction, label_smoothing, z_loss and
    softcap as for cross_entropy with class targets ('mean' divides by the
    number of targets not ignored; NaN when all are).

    The rows that are not ignored are taken chunk_size at a time (None: as
    many as have 48 MiB of logits, and at least 384): their logits by one matrix product,
    overwritten by their gradient G by cross_entropy's kernel, then the
    chunk's G @ weight, G.T @ hidden and column sums of G. Ignored rows are
    never read: their grad_hidden is 0. Memory: the gradients, one chunk of
    logits and a chunk's grad_hidden (and, with ignored rows, its hidden).

    Returns (loss, grad_hidden, grad_weight, grad_bias): loss as
    cross_entropy's ('none': the target's shape); the gradients shaped like
    hidden, weight and bias (grad_bias None without a bias), of their dtype.
    """
    red = _reduction(reduction)
    label_smoothing, z_loss, cap = _softmax_options(label_smoothing, z_loss, softcap)
    ignore_index = _ignore_index(ignore_index, "linear_cross_entropy")
    kernels = _kernels(hidden, weight, target, bias)  # the C library's, or the GPU's
    h, w, bias = _linear_operands(hidden, weight, bias)
    xp, ops = _backend.namespace(h), _ops([h])
    samples_shape = h.shape[:-1]
    if not np.issubdtype(_array(target, "target").dtype, np.integer):
        raise TypeError(f"target must hold class indices (an integer dtype), got {target.dtype}")
    if target.shape != samples_shape:
        raise ValueError(f"target has shape {target.shape}; for hidden of shape {h.shape} it must be {samples_shape}")
    vocabulary = w.shape[0]
    chunk = _chunk_rows(chunk_size, vocabulary, h.itemsize)

    # The rows that count, and their number (the denominator of 'mean'), before any chunk runs.
    labels = _index_array(target).reshape(-1)
    keep = labels != ignore_index
    rows = None if keep.all() else xp.flatnonzero(keep)
    if rows is not None:
        labels = labels[rows]
    if labels.size and (labels.min() < 0 or labels.max() >= vocabulary):
        raise _index_error(target, vocabulary, ignore_index)
    count = labels.size

    h = h.reshape(math.prod(samples_shape), h.shape[-1])
    grad_hidden = xp.zeros(h.shape, h.dtype)  # calloc: no pass over what the products overwrite
    grad_weight = xp.zeros(w.shape, w.dtype)
    grad_bias = None if bias is None else xp.zeros(bias.shape, bias.dtype)
    losses = xp.zeros(h.shape[0], h.dtype) if red == _core.REDUCTIONS["none"] else None
    chunk_reduction = _core.REDUCTIONS["none" if losses is not None else "sum"]
    total = 0.0

    chunk = max(1, min(chunk, count))
    logits_buffer = xp.empty((chunk, vocabulary), h.dtype)
    hidden_t = xp.empty((h.shape[1], chunk), h.dtype)  # a chunk's grad_hidden, transposed
    ones = None if bias is None else xp.ones((chunk, 1), h.dtype)
    # The shortest chunk first: its products are written straight into
    # grad_weight and grad_bias; each later chunk's products are added.
    first = count - (count - 1) // chunk * chunk if count else 0
    bounds = [0, *range(first, count + 1, chunk)] if count else [0]
    for start, stop in zip(bounds, bounds[1:]):
        m = stop - start
        at = slice(start, stop) if rows is None else rows[start:stop]
        h_chunk = h[at]  # a view; a copy of the chunk's rows when some rows are ignored
        logits = xp.matmul(h_chunk, w.T, out=logits_buffer[:m])
        if bias is not None:
            logits += bias
        loss, g = kernels.cross_entropy(logits, labels[start:stop], m, vocabulary, 1, None, ignore_index,
                                      label_smoothing, z_loss, cap, chunk_reduction, logits, (m,))
        xp.matmul(w.T, g.T, out=hidden_t[:, :m])  # faster than g @ w, which has few rows
        if start == 0:
            xp.matmul(g.T, h_chunk, out=grad_weight)
            if bias is not None:
                xp.matmul(g.T, ones[:m], out=grad_bias[:, None])
        else:
            # grad_hidden's rows from this chunk's first on are not written
            # yet (ignored ones are zeroed at the end): the products go
            # through them on their way into the sums.
            scratch = grad_hidden[at.start if rows is None else at[0]:].reshape(-1)
            _add_product(grad_weight, g.T, h_chunk, scratch, xp, ops)
            if bias is not None:
                _add_product(grad_bias[:, None], g.T, ones[:m], scratch, xp, ops)
        grad_hidden[at] = hidden_t[:, :m].T
        if losses is None:
            total += float(loss)
        else:
            losses[at] = loss
    if rows is not None:
        grad_hidden[~keep] = 0

    if losses is not None:
        loss = losses.reshape(samples_shape)
    elif red == _core.REDUCTIONS["sum"]:
        loss = h.dtype.type(total)
    else:
        loss = h.dtype.type(total / count if count else math.nan)
        if count:  # the chunks summed: the mean's gradients are 1 / count of theirs
            grads = [g for g in (grad_hidden, grad_weight, grad_bias) if g is not None]
            ops.vec_axpby(1.0 / count, grads, 0.0, grads)
    return loss, grad_hidden.reshape(hidden.shape), grad_weight, grad_bias
