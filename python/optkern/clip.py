"""Gradient clipping with torch.nn.utils' semantics: clip_grad_norm_ and
clip_grad_value_, over NumPy arrays, or CuPy arrays on the GPU (docs/gpu.md;
the same operations in kernels/cuda/vector.cu): the gradients themselves,
not parameters with a .grad.

clip_grad_norm_ takes the gradients as ONE vector (their concatenation):
for norm_type 1, 2 and inf the total norm is one multi-tensor C call per
dtype (optkern/vector.h: ok_vec_abs_sum, ok_vec_dot, ok_vec_abs_max),
accumulated in double and bitwise the same for any thread count, and the
scaling is one more call (ok_vec_axpby, in place). Any other positive p
sums |g|**p with NumPy, in double. Gradients may be bfloat16 or float16
too. See docs/clipping.md.
"""

import math

import numpy as np

from optkern import _backend, _core

__all__ = ["clip_grad_norm_", "clip_grad_value_"]

#: the gradient dtypes the kernels take (bfloat16 is ml_dtypes')
_DTYPES = ("float32", "float64", "bfloat16", "float16")


def _is_array(a):
    return isinstance(a, np.ndarray) or _backend.is_device_array(a)


def _ops(arrays):
    """The vector operations for `arrays`: the C library's (optkern._core)
    or, for CuPy arrays, the GPU's (docs/gpu.md), with the same names."""
    return _backend.vector_ops(_backend.device_for(arrays, "grads"))


def _as_list(grads, what):
    """grads (one array or an iterable of them) as a list."""
    if _is_array(grads):
        return [grads]
    if grads is None or isinstance(grads, (str, bytes, dict, np.generic, int, float)):
        raise TypeError(f"{what}: grads must be a numpy.ndarray or an iterable of them, got {type(grads).__name__}")
    try:
        return list(grads)
    except TypeError:
        raise TypeError(
            f"{what}: grads must be a numpy.ndarray or an iterable of them, got {type(grads).__name__}"
        ) from None


def _gradients(grads, what, written=True):
    """The arrays of the list `grads` (None entries skipped, as torch skips
    parameters without a .grad), every one checked (writable too, when
    they are `written`), grouped by dtype in order of first appearance."""
    groups = {}
    for i, g in enumerate(grads):
        if g is None:
            continue
        if not _is_array(g):
            raise TypeError(f"{what}: grads[{i}] must be a numpy.ndarray (or None), got {type(g).__name__}")
        if g.dtype.name not in _DTYPES:
            raise TypeError(f"{what}: grads[{i}] has dtype {g.dtype}; optkern supports float32, float64, bfloat16 "
                            "and float16")
        if not g.dtype.isnative:
            raise TypeError(f"{what}: grads[{i}] has non-native byte order ({g.dtype.str})")
        if not g.flags.c_contiguous:
            raise ValueError(f"{what}: grads[{i}] is not C-contiguous; pass numpy.ascontiguousarray(...)")
        if not getattr(g.flags, "aligned", True):  # CuPy's arrays are always aligned and writable
            raise ValueError(f"{what}: grads[{i}] is not aligned to its dtype")
        if written and not getattr(g.flags, "writeable", True):
            raise ValueError(f"{what}: grads[{i}] is read-only; it is clipped in place")
        groups.setdefault(g.dtype, []).append(g)
    return groups


def _grouped(grads, what, written, fn):
    """fn(groups), groups {dtype: arrays} of the gradients (None entries
    skipped; {} when there are none). The usual case, one dtype, takes the
    fast path: the arrays go to fn unchecked, since the binding checks each
    C call's arrays before it writes. Should that fail, _gradients checks
    every array: it raises the error naming grads[i], or, when the
    gradients are fine but of several dtypes, fn runs on its groups, all
    checked first, so that nothing is written when one group's array is bad."""
    arrays = [g for g in grads if g is not None]
    device = _backend.device_for(arrays, f"{what}: grads")  # TypeError for a mix of NumPy and CuPy arrays
    if arrays and device is None and isinstance(arrays[0], np.ndarray):
        try:
            return fn({arrays[0].dtype: arrays})
        except (TypeError, ValueError):
            groups = _gradients(grads, what, written)
            if len(groups) == 1:
                raise
            return fn(groups)
    return fn(_gradients(grads, what, written))


def _norm_type(norm_type):
    try:
        p = float(norm_type)  # torch: float(norm_type); 'inf' and float('inf') both work
    except (TypeError, ValueError):
        raise TypeError(f"norm_type must be a positive number or 'inf', got {norm_type!r}") from None
    if not p > 0:  # NaN, 0, negatives: torch's norm-of-norms is not a norm of the concatenation there
        raise ValueError(f"norm_type must be positive (or 'inf'), got {norm_type!r}")
    return p


def _group_power_sum(p, arrays):
    """sum |g|**p over the arrays (inf: max |g|), in double."""
    ops = _ops(arrays)
    if p == 2.0:
        return ops.vec_dot(arrays, arrays)
    if p == 1.0:
        return ops.vec_abs_sum(arrays)
    if p == math.inf:
        return ops.vec_abs_max(arrays)
    total = 0.0
    for g in arrays:
        if g.size:
            xp = _backend.namespace(g)
            total += float(xp.sum(xp.abs(g.astype(np.float64)) ** p))
    return total


def clip_grad_norm_(grads, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale `grads` in place so that their total norm is at most `max_norm`;
    return the total norm (before clipping) as a NumPy scalar.

    As torch.nn.utils.clip_grad_norm_: the gradients are one vector (their
    concatenation); every gradient is multiplied by
    min(max_norm / (total_norm + 1e-6), 1.0), computed in the norm's dtype,
    always (a multiplication by 1.0 when the norm is under max_norm).
    norm_type: 1, 2, inf (or 'inf'), or any other positive p. grads: one
    array or an iterable of arrays (float32, float64, bfloat16 or float16,
    C-contiguous, writable); None entries are skipped. A 16-bit gradient is
    read as float32 (its norm summed in double like the others) and scaled
    in float32, the product rounded to nearest. The returned norm has the
    gradients' dtype (NumPy's promotion of them when they mix; float32 0.0
    when there are none), as torch's tensor would. error_if_nonfinite: raise RuntimeError
    (torch's message) when the norm is NaN or infinite, before anything is
    written. foreach: accepted for torch compatibility and ignored (this is
    always the multi-tensor path).
    """
    grads = _as_list(grads, "clip_grad_norm_")
    p = _norm_type(norm_type)
    max_norm = float(max_norm)
    if foreach not in (None, True, False):
        raise TypeError(f"foreach must be None or a bool, got {foreach!r}")
    return _grouped(grads, "clip_grad_norm_", True, lambda groups: _clip_norm(groups, max_norm, p, error_if_nonfinite))


def _total(groups, p):
    """The total p-norm of the gradient groups, a Python float (double)."""
    if p == math.inf:
        values = [_group_power_sum(p, arrays) for arrays in groups.values()]
        return math.nan if any(math.isnan(v) for v in values) else max(values)  # NaN propagates, as in torch
    s = sum(_group_power_sum(p, arrays) for arrays in groups.values())
    return _root(s, p)


def _root(s, p):
    return math.sqrt(s) if p == 2.0 else (s if p == 1.0 else s ** (1.0 / p))


def _coefficient(total, max_norm, dtype):
    """(total_norm, coef) in the norm's dtype, as torch computes them:
    max_norm / (total_norm + 1e-6) is total_norm.__rtruediv__, i.e.
    reciprocal(total_norm + 1e-6) * max_norm, then clamp(max=1.0), which
    keeps a NaN."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        total_norm = dtype.type(total)
        coef = (dtype.type(1.0) / (total_norm + dtype.type(1e-6))) * dtype.type(max_norm)
        return total_norm, np.minimum(coef, dtype.type(1.0))


def _clip_norm(groups, max_norm, p, error_if_nonfinite):
    if not groups:
        return np.float32(0.0)
    dtype = next(iter(groups)) if len(groups) == 1 else np.result_type(*groups)
    total_norm, coef = _coefficient(_total(groups, p), max_norm, dtype)
    if error_if_nonfinite and not np.isfinite(total_norm):
        raise RuntimeError(
            f"The total norm of order {p} for gradients from "
            "`parameters` is non-finite, so it cannot be clipped. To disable "
            "this error and scale the gradients by the non-finite norm anyway, "
            "set `error_if_nonfinite=False`"
        )
    for arrays in groups.values():
        _ops(arrays).vec_axpby(float(coef), arrays, 0.0, arrays)
    return total_norm


def _nonfinite(groups):
    """Whether any element of the groups is inf or NaN (exact: the largest
    |g| is one of the elements)."""
    return not all(math.isfinite(_ops(arrays).vec_abs_max(arrays)) for arrays in groups.values())


def step_factors(grads, max_norm=None, unscale=None, coefficient=None):
    """What a step that clips and/or unscales its gradients as its kernel
    reads them needs to know first, from one read-only pass over them
    (docs/clipping.md#fused-into-the-step).

    grads: the step's gradients (None entries skipped). max_norm: clip the
    L2 norm of the unscaled gradients to it (None: no clipping). unscale:
    a GradScaler's 1/scale (None: the gradients are not scaled, and not
    checked for inf/NaN).

    Returns (found_inf, total_norm, coef): found_inf only with unscale (a
    gradient holds an inf or NaN: the step must be skipped); total_norm
    the norm clip_grad_norm_ would return for the unscaled gradients
    (None without max_norm); coef the clipping factor (1.0 without
    max_norm). With a power-of-two scale (every scale a GradScaler with its
    default factors makes), the norm and the factor are bitwise those of
    clip_grad_norm_ on the unscaled gradients. coefficient: (total, dtype)
    -> (total_norm, coef), the factor's formula for the total norm (a
    Python float) in the norm's dtype; None: clip_grad_norm_'s (an
    optimizer whose reference clips otherwise passes its own: Adan's).
    """
    if coefficient is None:
        coefficient = lambda total, dtype: _coefficient(total, max_norm, dtype)  # noqa: E731
    return _grouped(grads, "optimizer step", False,
                    lambda groups: _step_factors(groups, max_norm, unscale, coefficient))


def _step_factors(groups, max_norm, unscale, coefficient):
    if not groups:
        return False, (None if max_norm is None else np.float32(0.0)), 1.0
    if max_norm is None:
        return unscale is not None and _nonfinite(groups), None, 1.0
    s = sum(_ops(arrays).vec_dot(arrays, arrays) for arrays in groups.values())
    if unscale is None:
        found_inf = False
    else:
        # A finite sum of squares means every element is finite; a
        # non-finite one may also come from squares that overflow.
        found_inf = not math.isfinite(s) and _nonfinite(groups)
        if not found_inf:
            s = s * unscale * unscale if math.isfinite(s) else _unscaled_square_sum(groups, unscale)
    total_norm, coef = coefficient(math.sqrt(s), np.result_type(*groups))
    return found_inf, total_norm, float(coef)


def _unscaled_square_sum(groups, unscale):
    """sum g**2 over copies of the gradients multiplied by unscale: the
    rare case of finite gradients whose scaled squares overflow."""
    total = 0.0
    for dtype, arrays in groups.items():
        copies = [_backend.namespace(g).empty_like(g) for g in arrays]
        ops = _ops(arrays)
        ops.vec_axpby(float(dtype.type(unscale)), arrays, 0.0, copies)
        total += ops.vec_dot(copies, copies)
    return total


def clip_grad_value_(grads, clip_value, foreach=None):
    """Clamp every element of `grads` to [-clip_value, clip_value], in place
    (torch.nn.utils.clip_grad_value_: clamp_min(-v) then clamp_max(v), so a
    NaN stays NaN and a negative clip_value sets every element to it).
    grads: one array or an iterable of arrays; None entries are skipped.
    Per array with NumPy (np.maximum / np.minimum with out=), not a C kernel;
    on the GPU one kernel over the list. Returns None."""
    groups = _gradients(_as_list(grads, "clip_grad_value_"), "clip_grad_value_")
    clip_value = float(clip_value)
    if foreach not in (None, True, False):
        raise TypeError(f"foreach must be None or a bool, got {foreach!r}")
    for dtype, arrays in groups.items():
        ops = _ops(arrays)
        if ops is not _core:
            ops.clamp_(arrays, float(dtype.type(clip_value)))
            continue
        lo, hi = dtype.type(-clip_value), dtype.type(clip_value)
        for g in arrays:
            np.maximum(g, lo, out=g)
            np.minimum(g, hi, out=g)
