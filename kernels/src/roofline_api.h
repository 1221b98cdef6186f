/*
 * The memory roofline, for benchmarks (not part of the public C API): see
 * roofline.h. streams[s][i] is stream s of tensor i, ordered as there.
 */
#ifndef OPTKERN_ROOFLINE_API_H
#define OPTKERN_ROOFLINE_API_H

#include <stddef.h>

#include "optkern/common.h"

typedef struct ok_roofline_coeffs {
    int n_inplace, n_writeonly, n_readonly;
} ok_roofline_coeffs;

/* elem_size 4 (float32) or 8 (float64). */
ok_status ok_roofline(size_t elem_size, int n_inplace, int n_writeonly, int n_readonly,
                      size_t count, const size_t *numel, void **const *streams);

#endif /* OPTKERN_ROOFLINE_API_H */
