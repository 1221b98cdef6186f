"""L-BFGS (torch.optim.LBFGS semantics; docs/optimizers.md#l-bfgs).

torch's algorithm step for step: the same iterations, stopping tests, line
search and state. The parameters are taken as one vector (their
concatenation, as torch flattens them) and every vector operation on it (dot
products, norms, y <- a x + b y, copies) is one multi-tensor C call
(optkern/vector.h), or on CuPy arrays one GPU launch (docs/gpu.md), not a
loop over elements or a temporary array. The
history's vectors are reused once the history is full, so a step without a
line search allocates nothing after its first iterations. The line search's
bracketing and cubic interpolation are scalar logic, as torch's are.

The closure differs from torch's, which has autograd fill .grad: here it
returns (loss, grads) for the parameters as they are when it is called,
grads holding one array (or None: zeros) per parameter.
"""

import math
import numbers
from collections.abc import Mapping

import numpy as np

from optkern import _backend, _core
from optkern._checks import real, require
from optkern.optim.optimizer import Optimizer, _array_like, _as_step

__all__ = ["LBFGS"]

# torch's state keys, all kept under the first parameter
_STATE_KEYS = ("func_evals", "n_iter", "d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad",
               "prev_loss", "al")


def _int(value, name, least):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < least:
        raise ValueError(f"{name} must be >= {least}, got {value}")
    return int(value)


def _hparams(lr, max_iter, max_eval, tolerance_grad, tolerance_change, history_size, line_search_fn):
    """The L-BFGS hyperparameters, checked: torch's lr check with its message,
    and what torch leaves to fail later (or never) refused here."""
    lr_ = real(lr, "lr")
    require(lr_ >= 0.0, "Invalid learning rate: {}", lr)
    tolerance_grad_, tolerance_change_ = real(tolerance_grad, "tolerance_grad"), real(tolerance_change, "tolerance_change")
    require(not math.isnan(tolerance_grad_), "Invalid tolerance_grad: {}", tolerance_grad)
    require(not math.isnan(tolerance_change_), "Invalid tolerance_change: {}", tolerance_change)
    if line_search_fn not in (None, "strong_wolfe"):
        raise ValueError("only 'strong_wolfe' is supported")
    return {"lr": lr_, "max_iter": _int(max_iter, "max_iter", 0), "max_eval": _int(max_eval, "max_eval", 0),
            "tolerance_grad": tolerance_grad_, "tolerance_change": tolerance_change_,
            "history_size": _int(history_size, "history_size", 1), "line_search_fn": line_search_fn}


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes
    g1 and g2, clamped to bounds (default: between x1 and x2); their
    midpoint when the cubic has no minimum."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if d2_square < 0:
        return (lo + hi) / 2.0
    d2 = math.sqrt(d2_square)
    if x1 <= x2:
        at = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        at = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(at, lo), hi)


def _strong_wolfe(ops, evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """torch's strong-Wolfe line search along d from the current point (loss
    f, gradient g, slope gtd = g.d), first trying step t: bracketing, then
    zooming in by cubic interpolation. evaluate(t) -> (loss, flat gradient)
    at the point + t d; ops: the vector operations (optkern._backend
    .vector_ops). Returns (loss, flat gradient, t, evaluations)."""
    d_norm = ops.vec_abs_max([d])
    f_new, g_new = evaluate(t)
    evals = 1
    gtd_new = ops.vec_dot([g_new], [d])
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f, bracket_g, bracket_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f, bracket_g, bracket_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new], [gtd_prev, gtd_new]
            break
        # extrapolate, between 1.01 t and 10 t
        min_step, max_step = t + 0.01 * (t - t_prev), t * 10
        t_prev, t = t, _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        f_prev, g_prev, gtd_prev = f_new, g_new, gtd_new
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = ops.vec_dot([g_new], [d])
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket until a point meets the conditions
    insufficient_progress = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        # a point too close to an end of the bracket: moved 10% of its length
        # inside it when the last one was too close too, or it is at an end
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insufficient_progress or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) else min(bracket) + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = ops.vec_dot([g_new], [d])
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low]:
            # not enough decrease: the new point is the high end
            bracket[high], bracket_f[high], bracket_g[high], bracket_gtd[high] = t, f_new, g_new, gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low], bracket_g[low], bracket_gtd[low] = t, f_new, g_new, gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], evals


class LBFGS(Optimizer):
    """L-BFGS, as torch.optim.LBFGS: same arguments, defaults, iterations,
    stopping tests, line search and state; one param group.

    step(closure) runs up to max_iter iterations. Unlike torch's closure
    (autograd fills .grad), optkern's returns (loss, grads): the loss at the
    parameters as they are when it is called, and grads, one array (the
    parameter's shape and dtype) or None (zeros) per parameter. step
    returns the loss of its first evaluation.

    Each iteration: the direction d from the two-loop recursion over the
    last history_size pairs (s, y) (a pair is kept when y.s > 1e-10;
    H_diag = y.s / y.y), the first iteration of all d = -g with
    t = min(1, 1/|g|_1) lr, later ones t = lr; then either a fixed step
    p <- p + t d and a new evaluation, or line_search_fn="strong_wolfe"
    (torch's cubic-interpolation search). Stops after max_iter iterations or
    max_eval evaluations, when max|g| <= tolerance_grad, when g.d >
    -tolerance_change, when max|t d| <= tolerance_change, or when the loss
    changed by less than tolerance_change.

    State (torch's keys, under the first parameter): func_evals, n_iter, d,
    t, old_dirs, old_stps, ro, H_diag, prev_flat_grad, prev_loss, al;
    vectors are flat arrays of the parameters' dtype.

    Every parameter must have one dtype (float32 or float64). Raises
    ValueError for lr < 0 (torch's message), a second param group,
    line_search_fn other than None and "strong_wolfe" (torch raises at its
    step), max_iter or max_eval < 0, history_size < 1 and NaN tolerances;
    TypeError for those counts when they are not ints.
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        _hparams(lr, max_iter, max_eval, tolerance_grad, tolerance_change, history_size, line_search_fn)
        defaults = {
            "lr": lr,
            "max_iter": max_iter,
            "max_eval": max_eval,
            "tolerance_grad": tolerance_grad,
            "tolerance_change": tolerance_change,
            "history_size": history_size,
            "line_search_fn": line_search_fn,
        }
        self._lbfgs = {}   # torch's state (its keys), kept under params[0]
        self._spare = []   # flat vectors no longer in use, for the next ones
        super().__init__(params, defaults)

    @property
    def _state_names(self):
        return ()  # no per-parameter state arrays: one state for all

    def _add_param_group(self, param_group):
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super()._add_param_group(param_group)

    def _hparams(self, group):
        hp = _hparams(group["lr"], group["max_iter"], group["max_eval"], group["tolerance_grad"],
                      group["tolerance_change"], group["history_size"], group["line_search_fn"])
        dtypes = {p.dtype for p in group["params"] if hasattr(p, "dtype")}
        if len(dtypes) > 1:
            raise TypeError(f"LBFGS takes its parameters as one vector, of one dtype; got {sorted(map(str, dtypes))}")
        return hp

    def _state_entry(self, plan, i):
        return self._lbfgs if i == 0 and self._lbfgs else None

    def __getstate__(self):
        state = super().__getstate__()
        state["_spare"] = []  # scratch: a copy makes its own
        state.pop("_ops", None), state.pop("_xp", None)  # modules, set again by each step's _layout
        return state

    def _load_state_dict(self, state_dict):
        """torch's layout: one param group, the state (if any) under the
        first parameter, its vectors flat arrays (or lists of them) of the
        parameters' total size; copied and cast to the parameters' dtype.
        Everything is checked before anything changes."""
        if not isinstance(state_dict, Mapping) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError('state_dict must be a dict with "state" and "param_groups"')
        saved_state, saved_groups = state_dict["state"], state_dict["param_groups"]
        if not isinstance(saved_groups, (list, tuple)) or len(saved_groups) != 1 or \
                not isinstance(saved_groups[0], Mapping) or not isinstance(saved_groups[0].get("params"), (list, tuple)):
            raise ValueError('an LBFGS state dict has one param group, a dict with a "params" list')
        if not isinstance(saved_state, Mapping):
            raise ValueError(f'the state dict\'s "state" must be a dict, got {type(saved_state).__name__}')
        params = self.param_groups[0]["params"]
        saved = saved_groups[0]
        if len(saved["params"]) != len(params):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        group = {**self.defaults, **{k: v for k, v in saved.items() if k != "params"}, "params": params}
        hp = self._hparams(group)
        unknown = set(saved_state) - {saved["params"][0] if saved["params"] else None}
        if unknown:
            raise ValueError(f"LBFGS keeps its state under the first parameter; got state for {sorted(map(repr, unknown))}")
        entry = next(iter(saved_state.values()), {})
        if not isinstance(entry, Mapping):
            raise ValueError(f"the state must be a dict {{name: value}}, got {type(entry).__name__}")
        state = self._loaded_state(entry, params, hp["history_size"])
        self.param_groups[:] = [group]
        self._lbfgs = state
        self._spare = []

    @staticmethod
    def _loaded_state(entry, params, history_size):
        """The state of a saved entry (torch's keys), checked and copied."""
        unknown = set(entry) - set(_STATE_KEYS)
        if unknown:
            raise ValueError(f"unexpected LBFGS state {sorted(unknown)}")
        numel, dtype = sum(p.size for p in params), params[0].dtype

        def vector(value, name):
            array = _array_like(value, dtype, params[0])  # on the parameters' side: CPU or GPU
            if array.ndim != 1 or array.size != numel:
                raise ValueError(f"LBFGS state {name} must be a flat vector of the parameters' {numel} elements, "
                                 f"got shape {array.shape}")
            return array

        def number(value, name):
            number = float(np.asarray(value, dtype=np.float64))
            if math.isnan(number):
                raise ValueError(f"LBFGS state {name} is NaN")
            return number

        state = {}
        for name in ("func_evals", "n_iter"):
            if name in entry:
                state[name] = _as_step(entry[name])
        for name in ("d", "prev_flat_grad"):
            if entry.get(name) is not None:
                state[name] = vector(entry[name], name)
        for name in ("t", "H_diag", "prev_loss"):
            if entry.get(name) is not None:
                state[name] = number(entry[name], name)
        lists = [entry.get(name) for name in ("old_dirs", "old_stps", "ro")]
        if any(v is not None for v in lists):
            if not all(isinstance(v, (list, tuple)) for v in lists) or len({len(v) for v in lists}) != 1:
                raise ValueError("LBFGS state old_dirs, old_stps and ro must be lists of one length")
            if len(lists[0]) > history_size:
                raise ValueError(f"LBFGS state holds {len(lists[0])} pairs, more than history_size={history_size}")
            state["old_dirs"] = [vector(v, "old_dirs") for v in lists[0]]
            state["old_stps"] = [vector(v, "old_stps") for v in lists[1]]
            state["ro"] = [number(v, "ro") for v in lists[2]]
        if entry.get("al") is not None:
            al = [None if v is None else number(v, "al") for v in entry["al"]]
            state["al"] = al + [None] * (history_size - len(al))
        if state.get("n_iter", 0) > 0 and any(name not in state for name in ("d", "t", "prev_flat_grad", "old_dirs")):
            raise ValueError("LBFGS state has iterations (n_iter > 0) but lacks d, t, prev_flat_grad or the history")
        return state

    # ------------------------------------------------------------- vectors

    def _layout(self, params, device):
        """The parameters as one vector: their total size, their dtype, where
        each lies in it, and the vector operations and array module of the
        side they live on (device: their GPU, or None). Spare vectors of
        another size, dtype or side go."""
        ends = np.cumsum([p.size for p in params], dtype=np.int64).tolist()
        self._ops = _backend.vector_ops(device)
        self._xp = np if device is None else device.xp
        self._params = params
        self._bounds = list(zip([0] + ends[:-1], ends))
        self._numel = ends[-1]
        self._dtype = params[0].dtype
        self._spare = [v for v in self._spare if v.size == self._numel and v.dtype == self._dtype and
                       isinstance(v, self._xp.ndarray)]

    def _vector(self):
        """A flat vector of the parameters' size and dtype (contents
        undefined): a spare one when there is one."""
        return self._spare.pop() if self._spare else self._xp.empty(self._numel, self._dtype)

    def _views(self, flat):
        """The pieces of a flat vector, shaped like the parameters."""
        return [flat[a:b].reshape(p.shape) for p, (a, b) in zip(self._params, self._bounds)]

    def _gather(self, grads, flat):
        """flat <- the concatenated gradients (None: zeros)."""
        views = self._views(flat)
        present = [i for i, g in enumerate(grads) if g is not None]
        for i in range(len(grads)):
            if grads[i] is None:
                views[i].fill(0)
        self._ops.vec_axpby(1.0, [grads[i] for i in present], 0.0, [views[i] for i in present])
        return flat

    def _evaluate(self, closure, flat):
        """Call the closure at the current parameters: (its loss as given,
        that loss as a float, flat holding the gradient)."""
        result = closure()
        if not isinstance(result, tuple) or len(result) != 2:
            raise TypeError("the closure must return (loss, grads): the loss and one gradient array (or None) "
                            f"per parameter; got {type(result).__name__}")
        loss, grads = result
        if hasattr(grads, "dtype") or not hasattr(grads, "__len__"):
            raise TypeError("the closure's grads must be a sequence with one array per parameter")
        grads = list(grads)
        if len(grads) != len(self._params):
            raise ValueError(f"the closure returned {len(grads)} grads for {len(self._params)} parameters")
        for i, (g, p) in enumerate(zip(grads, self._params)):
            if g is None:
                continue
            if not isinstance(g, self._xp.ndarray):
                raise TypeError(f"grads[{i}] must be a {self._xp.__name__}.ndarray, like the parameters; got "
                                f"{type(g).__name__}")
            if g.dtype != p.dtype:
                raise TypeError(f"grads[{i}] has dtype {g.dtype} but params[{i}] has dtype {p.dtype}")
            if g.shape != p.shape:
                raise ValueError(f"grads[{i}] has shape {g.shape} but params[{i}] has shape {p.shape}")
        return loss, float(loss), self._gather(grads, flat)

    def _move(self, t, d):
        """params <- params + t d."""
        self._ops.vec_axpby(t, self._views(d), 1.0, self._params)

    # ---------------------------------------------------------------- step

    def step(self, closure):
        """Run up to max_iter L-BFGS iterations; closure() returns (loss,
        grads) at the current parameters. Returns the first loss."""
        with self._lock:
            return self._run(closure)

    def _run(self, closure):
        plan = self._sync()
        group = self.param_groups[0]
        hp = self._hparams(group)
        # the parameters are written only after the closure has run and the
        # state has moved on: their checks (writeable, layout) come first
        if plan.device is None:  # (the GPU's were checked with the parameter list)
            _core.WrittenIndex([("params", plan.params)])
        lr, max_iter, max_eval = hp["lr"], hp["max_iter"], hp["max_eval"]
        tolerance_grad, tolerance_change = hp["tolerance_grad"], hp["tolerance_change"]
        history_size = hp["history_size"]
        self._layout(plan.params, plan.device)
        ops = self._ops

        state = self._lbfgs
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        flat_grad = self._vector()
        orig_loss, loss, flat_grad = self._evaluate(closure, flat_grad)
        current_evals = 1
        state["func_evals"] += 1
        opt_cond = ops.vec_abs_max([flat_grad]) <= tolerance_grad
        if opt_cond:
            self._spare.append(flat_grad)
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag, prev_flat_grad, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # the direction
            if state["n_iter"] == 1:
                if d is None:
                    d = self._vector()
                ops.vec_axpby(-1.0, [flat_grad], 0.0, [d])       # d = -g
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                y = prev_flat_grad                                   # y = g - g_prev, in place
                ops.vec_axpby(1.0, [flat_grad], -1.0, [y])
                s = d                                                # s = t d, in place
                ops.vec_axpby(t, [d], 0.0, [s])
                prev_flat_grad = d = None
                ys = ops.vec_dot([y], [s])
                if ys > 1e-10:
                    if len(old_dirs) == history_size:  # drop the oldest pair
                        self._spare += [old_dirs.pop(0), old_stps.pop(0)]
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / ops.vec_dot([y], [y])
                else:
                    self._spare += [y, s]
                # the two-loop recursion: d = -H g
                num_old = len(old_dirs)
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = state["al"]
                q = self._vector()
                ops.vec_axpby(-1.0, [flat_grad], 0.0, [q])
                for i in range(num_old - 1, -1, -1):
                    al[i] = ops.vec_dot([old_stps[i]], [q]) * ro[i]
                    ops.vec_axpby(-al[i], [old_dirs[i]], 1.0, [q])
                d = r = q
                ops.vec_axpby(H_diag, [q], 0.0, [r])
                for i in range(num_old):
                    be_i = ops.vec_dot([old_dirs[i]], [r]) * ro[i]
                    ops.vec_axpby(al[i] - be_i, [old_stps[i]], 1.0, [r])

            if prev_flat_grad is None:
                prev_flat_grad = self._vector()
            ops.vec_axpby(1.0, [flat_grad], 0.0, [prev_flat_grad])
            prev_loss = loss

            # the step length
            if state["n_iter"] == 1:
                l1 = ops.vec_abs_sum([flat_grad])
                t = min(1.0, 1.0 / l1 if l1 else math.inf) * lr
            else:
                t = lr
            gtd = ops.vec_dot([flat_grad], [d])
            if gtd > -tolerance_change:
                break

            ls_func_evals = 0
            if hp["line_search_fn"] is not None:
                x_init = self._vector()
                ops.vec_axpby(1.0, self._params, 0.0, self._views(x_init))

                def evaluate(step_t, x=x_init, direction=d):
                    """(loss, flat gradient) at x + step_t d; the parameters go back to x."""
                    self._move(step_t, direction)
                    try:
                        _, value, gradient = self._evaluate(closure, self._xp.empty(self._numel, self._dtype))
                    finally:
                        ops.vec_axpby(1.0, self._views(x), 0.0, self._params)
                    return value, gradient

                # as torch: the search stops shrinking its bracket at its own
                # tolerance_change of 1e-9, whatever the group's
                loss, new_grad, t, ls_func_evals = _strong_wolfe(ops, evaluate, t, d, loss, flat_grad, gtd,
                                                                 max_ls=max_eval - current_evals)
                self._spare.append(x_init)
                flat_grad = new_grad
                self._move(t, d)
                opt_cond = ops.vec_abs_max([flat_grad]) <= tolerance_grad
            else:
                self._move(t, d)
                if n_iter != max_iter:
                    _, loss, flat_grad = self._evaluate(closure, flat_grad)
                    opt_cond = ops.vec_abs_max([flat_grad]) <= tolerance_grad
                    ls_func_evals = 1

            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # the stopping tests
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if ops.vec_abs_max([d]) * abs(t) <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        self._spare.append(flat_grad)
        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss
