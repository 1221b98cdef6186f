# What only code linked with the C library (libokcore) can use: its test
# hooks (kernels/include/optkern/internal/testing.h) and its C-API table.
# The public API's declarations are python/optkern/capi.pxd, which the
# package ships for other Cython modules.
from libc.stdint cimport uint8_t, uint32_t

from optkern.capi cimport ok_dtype, ok_elementwise_options, ok_reduction, ok_status

cdef extern from "optkern/internal/testing.h" nogil:
    ok_status ok_roofline(ok_dtype dtype, int n_inplace, int n_writeonly, int n_readonly,
                          size_t count, const size_t *numel, void ***streams)
    void ok_mt_set_parallel_min(size_t elements)
    int ok_threads_for(size_t elements)
    void ok_threads_observe(double wall, double busiest)
    void ok_threads_set_backoff(int on)
    unsigned long ok_threads_regions()
    ok_status ok_vmath(int op, ok_dtype dtype, size_t n, const void *x, void *y)
    size_t ok_simd_width(ok_dtype dtype)
    ok_status ok_simd_probe(int op, ok_dtype dtype, size_t n, const void *x, void *y, void *z)
    ok_status ok_q8_probe_codes(int unsigned_map, size_t n, const float *x, uint8_t *q)
    size_t ok_q8_check_all(int unsigned_map, uint32_t *first)

cdef extern from "optkern/internal/gpu.h" nogil:
    enum: OK_EW_TASK_WORDS
    ok_status ok_elementwise_task(const char *name, size_t n, const ok_elementwise_options *options,
                                  ok_reduction reduction, void *task, size_t *task_size, double *denominator,
                                  int *by_weight)

cdef extern from "optkern/optkern_capi.h":
    ctypedef struct ok_capi:
        pass
    const ok_capi *ok_capi_table()
    const char *OPTKERN_CAPI_CAPSULE
