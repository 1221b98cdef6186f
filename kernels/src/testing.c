/* The test and benchmark hooks; see testing.h. */
#include "optkern/internal/testing.h"

#include "kernel_table.h"

static int valid_dtype(ok_dtype dtype) { return ok_uniform_variant(dtype) >= 0; }

ok_status ok_roofline(ok_dtype dtype, int n_inplace, int n_writeonly, int n_readonly, size_t count,
                      const size_t *numel, void **const *streams) {
    if (n_inplace < 0 || n_writeonly < 0 || n_readonly < 0) return OK_ERR_INDEX;
    int n = n_inplace + n_writeonly + n_readonly;
    if (n > OK_MT_MAX_STREAMS || !valid_dtype(dtype)) return OK_ERR_UNSUPPORTED;
    if (count == 0) return OK_SUCCESS;
    if (!numel || !streams) return OK_ERR_NULL_POINTER;
    ok_roofline_coeffs c = {n_inplace, n_writeonly, n_readonly};
    ok_mt_task task = {count, numel, NULL, NULL, dtype, {0}, &c, sizeof c, NULL, NULL, NULL, NULL, NULL};
    for (int s = 0; s < n; s++) {
        if (!streams[s]) return OK_ERR_NULL_POINTER;
        task.stream[s] = streams[s];
    }
    ok_mt_run(&task, ok_active_kernels()->testing.roofline);
    return OK_SUCCESS;
}

ok_status ok_vmath(int op, ok_dtype dtype, size_t n, const void *x, void *y) {
    if (op < 0 || op >= OK_VMATH_COUNT || !valid_dtype(dtype)) return OK_ERR_UNSUPPORTED;
    if (n == 0) return OK_SUCCESS;
    if (!x || !y) return OK_ERR_NULL_POINTER;
    ok_active_kernels()->testing.vmath[ok_uniform_variant(dtype)](op, n, x, y);
    return OK_SUCCESS;
}

size_t ok_simd_width(ok_dtype dtype) {
    return valid_dtype(dtype) ? ok_active_kernels()->testing.simd_width[ok_uniform_variant(dtype)]() : 0;
}

ok_status ok_simd_probe(int op, ok_dtype dtype, size_t n, const void *x, void *y, void *z) {
    if (op < 0 || op >= OK_SIMD_COUNT || !valid_dtype(dtype)) return OK_ERR_UNSUPPORTED;
    if (n == 0) return OK_SUCCESS;
    if (!x || !y || !z) return OK_ERR_NULL_POINTER;
    ok_active_kernels()->testing.simd_probe[ok_uniform_variant(dtype)](op, n, x, y, z);
    return OK_SUCCESS;
}
