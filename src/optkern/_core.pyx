# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The binding between optkern's Python API and its C kernels.

This layer only checks arrays, gathers their pointers, releases the GIL and
calls C: no arithmetic here. Every check of a call runs before the first
byte is written, so a call that raises has changed nothing.

A tensor list, whatever mix of float32 and float64 it holds, is one C call,
threaded over the whole list.
"""

cimport numpy as cnp
from cpython.mem cimport PyMem_Calloc, PyMem_Free, PyMem_Malloc
from cpython.pycapsule cimport PyCapsule_New
from cpython.unicode cimport PyUnicode_AsUTF8
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t, uintptr_t

from optkern.capi cimport *
from libokcore cimport *

import numpy as np

cnp.import_array()

# The C API for extension modules that link nothing: a table of every public
# function (optkern/optkern_capi.h; docs/embedding.md#the-c-api-capsule).
_C_API = PyCapsule_New(<void *>ok_capi_table(), OPTKERN_CAPI_CAPSULE, NULL)

cdef enum:
    MAX_STREAMS = 8     # param, grad and up to six states

include "_config.pxi"
include "_checks.pxi"
include "_arrays.pxi"
include "_optim.pxi"
include "_eightbit.pxi"
include "_losses.pxi"
include "_vector.pxi"
include "_testing.pxi"
