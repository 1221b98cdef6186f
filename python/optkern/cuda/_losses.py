"""The losses on the GPU (docs/gpu.md#losses): the checks the binding makes
for NumPy arrays, the plan of kernels/cuda/losses.cu, and its launches.

Losses(device) has the binding's loss functions (optkern._core
.elementwise_loss, .cross_entropy), with the same arguments and results,
so optkern.losses calls either one the same way. A reduced loss comes back
as a 0-d array on the GPU (reading it would wait for the GPU).
"""

import functools
import re

import numpy as np

from optkern import _core
from optkern.cuda import _device, _optim

__all__ = ["Losses"]

_FLOAT = tuple(_optim._DTYPES)  # the float dtypes the GPU kernels take
_INDEX = {"int64": 0, "int32": 1}  # OK_LABELS_INT64, OK_LABELS_INT32 (loss/tasks.h)
_PROBS = 2                          # OK_LABELS_PROBS


@functools.lru_cache(maxsize=None)
def _layout():
    """{word name: index} of enum ok_loss_word in the shipped losses.cu, but
    for its last member (OK_LOSS_TASK, which follows the parts)."""
    text = (_device.sources() / "cuda" / "losses.cu").read_text()
    body = re.search(r"enum ok_loss_word \{(.*?)\};", text, re.S).group(1)
    names = [line.split(",")[0].split("/*")[0].strip() for line in body.splitlines()]
    names = [n for n in names if n and not n.startswith("OK_LOSS_TASK")]
    return {name: k for k, name in enumerate(names)}


def _double(x):
    return np.float64(x).view(np.uint64)


class Losses:
    """The GPU losses on `device` (optkern.cuda._device)."""

    def __init__(self, device):
        self.device = device
        self.xp = device.xp

    # ------------------------------------------------------------ checks

    def _input(self, a, name="input"):
        a = _optim.checked_array(self.device, a, name)
        if a.dtype.name not in _FLOAT:
            raise TypeError(f"{name} must be float32, float64, bfloat16 or float16, got {a.dtype}")
        return a

    def _same(self, a, name, x, shape=None):
        if a is None:
            return None
        a = _optim.checked_array(self.device, a, name, x.shape if shape is None else shape)
        if a.dtype != x.dtype:
            raise TypeError(f"{name} has dtype {a.dtype} but input has dtype {x.dtype}; "
                            "a loss's float arrays (target, weights, out) have the input's dtype")
        return a

    def _grad(self, out, x, reads, names):
        """A new gradient array, or `out` checked: the input itself, or an
        array overlapping none of `reads` (the binding's gradient_output)."""
        if out is None:
            return self.xp.empty_like(x)
        g = self._same(out, "out", x)
        if g.size and self.device.pointer(g) != self.device.pointer(x):
            _optim.check_no_overlap(self.device, [("out", g)], [("input", x)])
        _optim.check_no_overlap(self.device, [("out", g)], [(n, r) for n, r in zip(names, reads) if r is not None])
        return g

    def _loss(self, x, reduction, shape):
        dtype = np.float64 if x.dtype == np.float64 else np.float32
        return self.xp.empty(() if reduction != _core.REDUCTIONS["none"] else shape, dtype=dtype)

    def _plan(self, extra=0):
        L = _layout()
        return np.zeros(L["OK_LOSS_PARTS"] + 2 * self.device.parts + extra, dtype=np.uint64)

    def _variant(self, x):
        return _optim._variants()[(_optim._DTYPES[x.dtype.name],) * 3]

    def _run(self, variant, kernel, words, grid=None):
        self.device.launch("losses.cu", variant, kernel, self.device.parts if grid is None else grid,
                           self.device.block, words)

    def _ptr(self, a):
        return 0 if a is None else self.device.pointer(a)

    # ------------------------------------------------------------- losses

    def elementwise_loss(self, name, input, target, weight, w_block, w_period, pos_weight, p_block, p_period,
                         param, flag, batch, reduction, out, eps=0.0, full=False):
        """optkern._core.elementwise_loss on the GPU (the losses of one input)."""
        x = self._input(input)
        y = self._same(target, "target", x)
        n = x.size
        operands = []
        for op, block, period, label in ((weight, w_block, w_period, "weight"),
                                         (pos_weight, p_block, p_period, "pos_weight")):
            if op is None:
                operands.append((None, None))
                continue
            a = _optim.checked_array(self.device, op, label)
            if a.dtype != x.dtype:
                raise TypeError(f"{label} has dtype {a.dtype} but input has dtype {x.dtype}")
            if n and (block < 1 or period < 1 or a.size != period):
                raise ValueError(f"{label} of shape {a.shape} does not broadcast to {x.shape}")
            operands.append((a, (self._ptr(a), block, period) if n else None))
        task, den, by_weight = _core.elementwise_task(name, n, operands[0][1], operands[1][1], param, flag, batch,
                                                      reduction, eps, full)
        g = self._grad(out, x, (y, operands[0][0], operands[1][0]), ("target", "weight", "pos_weight"))
        loss = self._loss(x, reduction, x.shape)
        L = _layout()
        words = self._plan(-(-len(task) // 8))
        words[L["OK_LOSS_OUT"]] = self._ptr(loss)
        words[L["OK_LOSS_REDUCTION"]] = reduction
        words[L["OK_LOSS_DEN"]] = _double(den)
        words[L["OK_LOSS_N"]] = n
        words[L["OK_LOSS_INPUT"]], words[L["OK_LOSS_TARGET"]], words[L["OK_LOSS_GRAD"]] = (
            self._ptr(x), self._ptr(y), self._ptr(g))
        at = L["OK_LOSS_PARTS"] + 2 * self.device.parts
        words[at:].view(np.uint8)[:len(task)] = np.frombuffer(task, dtype=np.uint8)
        if by_weight:
            words[L["OK_LOSS_SUM_OF"]] = self._ptr(operands[0][0])
        if reduction == _core.REDUCTIONS["none"] and n == 0:
            return loss, g
        v, plan = self._variant(x), self.device.upload(words)
        if by_weight:
            self._run(v, "ok_cuda_loss_sum_of", plan)
            self._run(v, "ok_cuda_loss_den", plan, 1)
        self._run(v, "ok_cuda_ew_loss", plan)
        if reduction != _core.REDUCTIONS["none"]:
            self._run(v, "ok_cuda_loss_reduce", plan, 1)
        return loss, g

    def cross_entropy(self, input, target, n, c, inner, weight, ignore_index, label_smoothing, z_loss, softcap,
                      reduction, out, loss_shape):
        """optkern._core.cross_entropy on the GPU."""
        return self._rows("ok_cuda_ce_loss", input, target, n, c, inner, weight, ignore_index, label_smoothing, z_loss,
                          softcap, reduction, out, loss_shape)

    def nll_loss(self, input, target, n, c, inner, weight, ignore_index, reduction, out, loss_shape):
        """optkern._core.nll_loss on the GPU."""
        if _optim.checked_array(self.device, target, "target").dtype.name in _FLOAT:
            raise TypeError(f"nll_loss takes class targets, got {target.dtype}")
        return self._rows("ok_cuda_nll_loss", input, target, n, c, inner, weight, ignore_index, 0.0, 0.0, 0.0, reduction,
                          out, loss_shape)

    def _rows(self, kernel, input, target, n, c, inner, weight, ignore_index, label_smoothing, z_loss, softcap,
              reduction, out, loss_shape):
        """A row loss (`kernel`: cross_entropy's or nll_loss's) over logits
        laid out n x c x inner."""
        x = self._input(input)
        if x.shape and (x.size != n * c * inner):
            raise ValueError(f"input of shape {x.shape} is not {n} x {c} x {inner}")
        t = _optim.checked_array(self.device, target, "target")
        probs = t.dtype.name in _FLOAT
        if probs:
            t = self._same(t, "target", x)
            kind = _PROBS
        else:
            kind = _INDEX.get(t.dtype.name)
            if kind is None:
                raise TypeError(f"class targets must be int64 or int32, got {t.dtype}")
            if t.size != n * inner:
                raise ValueError(f"target has {t.size} entries for {n * inner} samples")
        w = None if weight is None else self._same(weight, "weight", x, (c,))
        g = self._grad(out, x, (t, w), ("target", "weight"))
        samples = n * inner
        loss = self._loss(x, reduction, loss_shape)
        L = _layout()
        words = self._plan()
        words[L["OK_LOSS_OUT"]] = self._ptr(loss)
        words[L["OK_LOSS_REDUCTION"]] = reduction
        words[L["OK_LOSS_DEN"]] = _double(samples)
        words[L["OK_LOSS_N"]] = samples
        words[L["OK_LOSS_INPUT"]], words[L["OK_LOSS_TARGET"]], words[L["OK_LOSS_GRAD"]] = (
            self._ptr(x), self._ptr(t), self._ptr(g))
        words[L["OK_LOSS_C"]], words[L["OK_LOSS_INNER"]] = c, inner
        words[L["OK_LOSS_TARGET_KIND"]], words[L["OK_LOSS_WEIGHT"]] = kind, self._ptr(w)
        words[L["OK_LOSS_IGNORE"]] = np.int64(ignore_index).view(np.uint64)
        words[L["OK_LOSS_KEEP"]] = _double(1.0 - label_smoothing)
        words[L["OK_LOSS_EPS_OVER_C"]] = _double(label_smoothing / c if c else 0.0)
        words[L["OK_LOSS_Z"]], words[L["OK_LOSS_CAP"]] = _double(z_loss), _double(softcap)
        if probs and samples * c == 0:
            return self._no_elements(loss, g, reduction, samples, z_loss)
        v, plan = self._variant(x), self.device.upload(words)
        if not probs:
            # the targets first (ok_ce_labels writes only the plan): one out
            # of range writes nothing. Reading the count waits for the GPU.
            self._run(v, "ok_cuda_ce_labels", plan)
            self._run(v, "ok_cuda_ce_labels_total", plan, 1)
            if self.device.download(plan, L["OK_LOSS_BAD"] + 1)[L["OK_LOSS_BAD"]].view(np.float64) > 0:
                raise IndexError("a class target is out of range (neither in [0, C) nor ignore_index)")
        if reduction == _core.REDUCTIONS["none"] and samples == 0:
            return loss, g
        self._run(v, kernel, plan)
        if reduction != _core.REDUCTIONS["none"]:
            self._run(v, "ok_cuda_loss_reduce", plan, 1)
        return loss, g

    def _no_elements(self, loss, g, reduction, samples, z_loss):
        """Probability targets over no element (losses.c's no_elements)."""
        each = np.inf if z_loss != 0 else -0.0
        if reduction == _core.REDUCTIONS["mean"]:
            loss[...] = np.nan
        elif reduction == _core.REDUCTIONS["sum"]:
            loss[...] = each if samples else -0.0
        else:
            loss[...] = each
        return loss, g
