/*
 * optkern vector operations: a LIST of arrays taken as one vector, the
 * concatenation of x[0], ..., x[count - 1] (numel[i] elements each, all of
 * one dtype), in one threaded call. This is what an optimizer that works on
 * the whole parameter vector needs (L-BFGS: its two-loop recursion and line
 * search; Muon: the steps of its orthogonalisation between matrix
 * products): dot products, norms, and y <- alpha x + beta y.
 *
 * Reductions are accumulated in double, in blocks whose bounds depend only
 * on the total length (never on the thread count), and the block results
 * are combined in block order: every result is bitwise the same for any
 * thread count. Formulas: docs/optimizers.md#vector-operations.
 *
 * Preconditions checked (nothing is written when one fails):
 *   - a dtype the library has kernels for (OK_ERR_UNSUPPORTED);
 *   - a total element count whose byte count fits in a ptrdiff_t
 *     (OK_ERR_SIZE);
 *   - no NULL pointer where numel[i] > 0, and a result pointer
 *     (OK_ERR_NULL_POINTER);
 *   - every array aligned to its element type, the result to a double
 *     (OK_ERR_ALIGNMENT);
 *   - in ok_vec_axpby, y[i] either is x[i] (the same array: an in-place
 *     scaling) or does not overlap it (OK_ERR_ALIASING).
 * Not checked (it costs a sort): overlaps between DIFFERENT tensors of a
 * call; ok_check_overlap (optim.h) does that for callers who need it.
 */
#ifndef OPTKERN_VECTOR_H
#define OPTKERN_VECTOR_H

#include "optkern/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* *result = sum_i sum_j x[i][j] * y[i][j]. Each product is rounded to the
 * compute type (float32 for bfloat16 and float16 arrays, read widened),
 * then added in double. */
ok_status ok_vec_dot(ok_dtype dtype, size_t count, const size_t *numel, const void *const *x, const void *const *y,
                     double *result);

/* *result = sum_i sum_j |x[i][j]| (the L1 norm), added in double. */
ok_status ok_vec_abs_sum(ok_dtype dtype, size_t count, const size_t *numel, const void *const *x, double *result);

/* *result = max_i max_j |x[i][j]| (the infinity norm): NaN when any element
 * is NaN, 0 for an empty vector. Exact (one of the elements). */
ok_status ok_vec_abs_max(ok_dtype dtype, size_t count, const size_t *numel, const void *const *x, double *result);

/*
 * y[i][j] <- alpha * x[i][j] + beta * y[i][j], in the dtype (alpha and beta
 * rounded to it once; for bfloat16 and float16 arrays in float32, the result
 * rounded to the dtype, to nearest even, as it is stored). With beta == 0, y is not read: y <- alpha * x (a
 * copy when alpha == 1, whatever y held, NaN included). With beta == 1,
 * y <- y + alpha * x with one rounding; with alpha == 1, y <- x + beta * y
 * with one rounding; otherwise beta * y is rounded, then added to
 * alpha * x with one rounding (the vector targets fuse these multiply-adds;
 * the scalar target rounds the product and the sum separately).
 */
ok_status ok_vec_axpby(ok_dtype dtype, size_t count, const size_t *numel, double alpha, const void *const *x,
                       double beta, void *const *y);

#ifdef __cplusplus
}
#endif

#endif /* OPTKERN_VECTOR_H */
