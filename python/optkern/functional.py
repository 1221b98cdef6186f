"""Optimizer updates as functions, for code that keeps its own state.

Each function updates a list of parameters in place from a list of
gradients and explicit state arrays, in one call into C, with the same
rules, checks and numbers as the optimizer classes (torch.optim): the class
and the function of an optimizer take the same path (optim/_engine.py).
All lists are aligned: entry i of each belongs to params[i]. A None
gradient skips its parameter. Every array is checked before anything is
written; on an exception nothing has changed.

Raises TypeError for a non-array, an unsupported dtype (float32 and float64
are supported) or mixed dtypes within a tensor; ValueError for shape
mismatches, wrong list lengths, non-contiguous or read-only arrays that are
written, arrays that overlap one that is written, and hyperparameters out
of range.
"""

from optkern.optim import functional_forms

globals().update(functional_forms())

__all__ = sorted(functional_forms())
