"""The vector operations on the GPU (kernels/cuda/vector.cu): what
optkern.clip calls on optkern._core for NumPy arrays, with the same names
and results, over a list of arrays of one dtype taken as one vector. The
reductions return Python floats, so they wait for the GPU.
"""

import numpy as np

from optkern.cuda import _optim

__all__ = ["Vectors"]

# ok_axpby_coeffs (vector/task.h): alpha, beta (doubles), form (int), padded
_AXPBY = np.dtype([("alpha", "<f8"), ("beta", "<f8"), ("form", "<i4"), ("pad", "<i4")])
_SCALE, _AXPY, _XPBY, _GENERAL = range(4)  # OK_AXPBY_* (vector/task.h)


class Vectors:
    """The vector operations on `device` (optkern.cuda._device)."""

    def __init__(self, device):
        self.device = device

    def _checked(self, arrays, name):
        for k, a in enumerate(arrays):
            _optim.checked_array(self.device, a, f"{name}[{k}]")
        return arrays

    def _variant(self, arrays):
        number = _optim._dtype_number(arrays[0], "the arrays")
        return _optim._variants()[(number,) * 3]

    def _reduce(self, arrays, others, kernel, final):
        if not arrays:
            return 0.0
        words = _optim.plan_words(self.device, [a.size for a in arrays], [arrays, others], scratch=True)
        plan = self.device.upload(words)
        variant = self._variant(arrays)
        self.device.launch("vector.cu", variant, kernel, self.device.parts, self.device.block, plan)
        self.device.launch("vector.cu", variant, final, 1, self.device.block, plan)
        at = int(words[_optim._plan_layout()["OK_PLAN_SCRATCH"]])
        return float(self.device.download(plan, at + 1)[at:].view(np.float64)[0])

    def vec_dot(self, x, y):
        """The dot product of two lists taken as vectors, in double."""
        x, y = self._checked(list(x), "x"), self._checked(list(y), "y")
        if [a.shape for a in x] != [b.shape for b in y]:
            raise ValueError("x and y must hold arrays of the same shapes")
        return self._reduce(x, y, "ok_cuda_vec_sum", "ok_cuda_vec_total")

    def vec_abs_sum(self, x):
        return self._reduce(self._checked(list(x), "x"), None, "ok_cuda_vec_sum", "ok_cuda_vec_total")

    def vec_abs_max(self, x):
        return self._reduce(self._checked(list(x), "x"), None, "ok_cuda_vec_abs_max", "ok_cuda_vec_most")

    def _elementwise(self, kernel, coeffs, y, x):
        if not y:
            return
        words = _optim.plan_words(self.device, [a.size for a in y], [y, x], [coeffs.tobytes()])
        chunks = int(words[_optim._plan_layout()["OK_PLAN_CHUNKS"]])
        if chunks:
            self.device.launch("vector.cu", self._variant(y), kernel, self.device.grid(chunks), self.device.block,
                               words)

    def vec_axpby(self, alpha, x, beta, y):
        """y <- alpha x + beta y, in place, in the form vector.c chooses."""
        x, y = self._checked(list(x), "x"), self._checked(list(y), "y")
        form = _SCALE if beta == 0 else _AXPY if beta == 1 else _XPBY if alpha == 1 else _GENERAL
        self._elementwise("ok_cuda_vec_axpby", np.array([(alpha, beta, form, 0)], dtype=_AXPBY), y, x)

    def clamp_(self, arrays, value):
        """Every element clamped to [-value, value] in place (clip_grad_value_)."""
        self._elementwise("ok_cuda_vec_clamp", np.array([(value, 0.0, 0, 0)], dtype=_AXPBY),
                          self._checked(list(arrays), "grads"), None)
