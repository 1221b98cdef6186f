/*
 * Entry points for the benchmarks, not part of the public C API.
 */
#ifndef OPTKERN_BENCH_API_H
#define OPTKERN_BENCH_API_H

#include <stddef.h>

#include "optkern/common.h"

typedef struct ok_roofline_coeffs {
    int n_inplace, n_writeonly, n_readonly;
} ok_roofline_coeffs;

/* The memory roofline (see roofline.h): streams[s][i] is stream s of tensor
 * i, ordered as there; elem_size 4 (float32) or 8 (float64). */
ok_status ok_roofline(size_t elem_size, int n_inplace, int n_writeonly, int n_readonly,
                      size_t count, const size_t *numel, void **const *streams);

/* The single-thread break-even size of the threaded driver; see
 * multi_tensor.c. 0 restores the default. For bench/threshold.py. */
void ok_mt_set_parallel_min(size_t elements);

#endif /* OPTKERN_BENCH_API_H */
