/*
 * The vector operations (optkern/vector.h): check the arguments, then run
 * the selected target's kernel through a driver: the reduction driver
 * (reduce.h) for the dot product and the norms, the multi-tensor driver
 * (multi_tensor.h) for y <- alpha x + beta y. Nothing is written unless
 * every check passes.
 */
#include "optkern/vector.h"

#include "kernel_table.h"
#include "vector/task.h"

/* Reduction blocks start on multiples of this many elements of the
 * concatenation: whole cache lines for either dtype. */
#define OK_VEC_ALIGN 64

/* A list of `count` arrays of `elem`-byte elements: numel given, their
 * total a size (ok_fits), no NULL where numel[i] > 0, and every array
 * aligned to its element. */
static ok_status check_list(size_t count, const size_t *numel, const void *const *x, size_t elem) {
    if (count == 0) return OK_SUCCESS;
    if (!numel || !x) return OK_ERR_NULL_POINTER;
    size_t left = (size_t)PTRDIFF_MAX / elem; /* elements the rest of the list may have */
    for (size_t i = 0; i < count; i++) {
        if (numel[i] > left) return OK_ERR_SIZE;
        left -= numel[i];
        if (numel[i] && !x[i]) return OK_ERR_NULL_POINTER;
        if (numel[i] && !ok_aligned(x[i], elem)) return OK_ERR_ALIGNMENT;
    }
    return OK_SUCCESS;
}

static size_t total_of(size_t count, const size_t *numel) {
    size_t total = 0;
    for (size_t i = 0; i < count; i++) total += numel[i];
    return total;
}

/* A reduction of x (and y) through block function fn[variant]: summed
 * blocks, or (largest) their maximum. */
static ok_status reduce(ok_dtype dtype, size_t count, const size_t *numel, const void *const *x,
                        const void *const *y, const ok_block_fn *fn, int largest, double *result) {
    int v = ok_data_variant(dtype);
    if (v < 0) return OK_ERR_UNSUPPORTED;
    if (!result) return OK_ERR_NULL_POINTER;
    if (!ok_aligned(result, sizeof(double))) return OK_ERR_ALIGNMENT;
    const size_t elem = ok_dtype_bytes(dtype);
    ok_status st = check_list(count, numel, x, elem);
    if (st == OK_SUCCESS && y) st = check_list(count, numel, y, elem);
    if (st != OK_SUCCESS) return st;
    ok_vec_task task = {count, numel, x, y};
    size_t n = total_of(count, numel);
    *result = largest ? ok_reduce_max(&task, fn[v], n, OK_VEC_ALIGN, 1) : ok_reduce_run(&task, fn[v], n, OK_VEC_ALIGN, 1);
    return OK_SUCCESS;
}

ok_status ok_vec_dot(ok_dtype dtype, size_t count, const size_t *numel, const void *const *x, const void *const *y,
                     double *result) {
    if (count && !y) return OK_ERR_NULL_POINTER;
    return reduce(dtype, count, numel, x, y, ok_active_kernels()->vec_sum, 0, result);
}

ok_status ok_vec_abs_sum(ok_dtype dtype, size_t count, const size_t *numel, const void *const *x, double *result) {
    return reduce(dtype, count, numel, x, NULL, ok_active_kernels()->vec_sum, 0, result);
}

ok_status ok_vec_abs_max(ok_dtype dtype, size_t count, const size_t *numel, const void *const *x, double *result) {
    return reduce(dtype, count, numel, x, NULL, ok_active_kernels()->vec_abs_max, 1, result);
}

ok_status ok_vec_axpby(ok_dtype dtype, size_t count, const size_t *numel, double alpha, const void *const *x,
                       double beta, void *const *y) {
    int v = ok_data_variant(dtype);
    if (v < 0) return OK_ERR_UNSUPPORTED;
    const size_t elem = ok_dtype_bytes(dtype);
    ok_status st = check_list(count, numel, x, elem);
    if (st == OK_SUCCESS) st = check_list(count, numel, (const void *const *)y, elem);
    if (st != OK_SUCCESS || count == 0) return st;
    /* y may be x itself (an in-place scaling), but not a part of it */
    for (size_t i = 0; i < count; i++) {
        const char *a = (const char *)x[i], *b = (const char *)y[i];
        if (numel[i] && a != b && a < b + numel[i] * elem && b < a + numel[i] * elem) return OK_ERR_ALIASING;
    }
    ok_axpby_coeffs c = {alpha, beta,
                         beta == 0    ? OK_AXPBY_SCALE
                         : beta == 1  ? OK_AXPBY_AXPY
                         : alpha == 1 ? OK_AXPBY_XPBY
                                      : OK_AXPBY_GENERAL};
    ok_mt_task task = {count, numel, NULL, NULL, dtype, {y, (void *const *)x}, &c, sizeof c, NULL, NULL, NULL,
                       NULL, NULL};
    ok_mt_run(&task, ok_active_kernels()->vec_axpby);
    return OK_SUCCESS;
}
