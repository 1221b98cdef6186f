/*
 * The vector operations of optkern/vector.h on the GPU (docs/gpu.md): what
 * clip_grad_norm_, clip_grad_value_ and an optimizer's max_grad_norm need,
 * over a list of tensors taken as one vector. Compiled once per data variant
 * (-DOK_CUDA_VARIANT=k); each kernel takes a plan of plan.cuh, stream 0
 * being x (y for axpby) and stream 1 y (x for axpby).
 *
 *   ok_cuda_vec_sum      the sum over the chunks of x*y (stream 1 present) or of
 *                   |x|, in double, then ok_cuda_vec_total
 *   ok_cuda_vec_abs_max  the largest |x| (NaN if one is NaN), then ok_cuda_vec_most
 *   ok_cuda_vec_total, ok_cuda_vec_most   the parts combined into the scratch's first
 *                   double (one block)
 *   ok_cuda_vec_axpby    y <- alpha x + beta y: vector/vector-inl.h's span, one
 *                   element per thread, on the plan's ok_axpby_coeffs
 *   ok_cuda_vec_clamp    x <- min(max(x, -v), v) with v = alpha (clip_grad_value_)
 *
 * A block takes the chunks b, b + OK_CUDA_PARTS, ...: the same partition on
 * every GPU, so the sums are bitwise the same everywhere (reduce.cuh).
 */
#include "launch.cuh"

#define OK_TARGET_SCALAR 1
#include "target/simd.h"
#include "optim/descriptor.h"
#include "vector/task.h"
#include "plan.cuh"

#ifndef OK_CUDA_VARIANT
#error "compile with -DOK_CUDA_VARIANT=k, a data variant of variants.h"
#endif
#define OK_VARIANT OK_CUDA_VARIANT
#include "target/dtype.h"
#include "target/storage-inl.h"
#include "vector/vector-inl.h"
#include "reduce.cuh"

/* Element e of each chunk of block b's, in order: body(i, e) for tensor i. */
#define OK_FOR_ELEMENTS(plan, first_chunk, chunk_step, body)                                              \
    for (uint64_t c_ = (first_chunk); c_ < plan[OK_PLAN_CHUNKS]; c_ += (chunk_step)) {                   \
        const ok_chunk chunk_ = ok_plan_chunk(plan, c_);                                                 \
        const size_t i = chunk_.tensor;                                                                  \
        for (size_t e = chunk_.begin + threadIdx.x; e < chunk_.end; e += blockDim.x) body;             \
    }

OK_INLINE double *ok_vec_scratch(const uint64_t *plan) { return (double *)(plan + plan[OK_PLAN_SCRATCH]); }

OK_KERNEL(ok_cuda_vec_sum, (const uint64_t *plan), (plan)) {
    const ok_mt_task task = ok_plan_task(plan);
    const int dot = task.stream[1] != 0;
    double v = 0.0;
    OK_FOR_ELEMENTS(plan, blockIdx.x, OK_CUDA_PARTS, {
        const real_t x = ld_data((const data_t *)task.stream[0][i] + e);
        v += dot ? (double)(x * ld_data((const data_t *)task.stream[1][i] + e)) : (double)fabs(x);
    });
    v = ok_block_sum(v);
    if (threadIdx.x == 0) ok_vec_scratch(plan)[1 + blockIdx.x] = v;
}

OK_KERNEL(ok_cuda_vec_total, (const uint64_t *plan), (plan)) {
    const double sum = ok_parts_sum(ok_vec_scratch(plan) + 1);
    if (threadIdx.x == 0) ok_vec_scratch(plan)[0] = sum;
}

OK_KERNEL(ok_cuda_vec_abs_max, (const uint64_t *plan), (plan)) {
    const ok_mt_task task = ok_plan_task(plan);
    double most = 0.0;
    OK_FOR_ELEMENTS(plan, blockIdx.x, OK_CUDA_PARTS, {
        const double a = (double)fabs(ld_data((const data_t *)task.stream[0][i] + e));
        most = (most != most || most > a) ? most : a;
    });
    most = ok_block_max(most);
    if (threadIdx.x == 0) ok_vec_scratch(plan)[1 + blockIdx.x] = most;
}

OK_KERNEL(ok_cuda_vec_most, (const uint64_t *plan), (plan)) {
    const double *part = ok_vec_scratch(plan) + 1;
    double most = 0.0;
    for (unsigned k = threadIdx.x; k < OK_CUDA_PARTS; k += OK_CUDA_BLOCK)
        most = (most != most || most > part[k]) ? most : part[k];
    most = ok_block_max(most);
    if (threadIdx.x == 0) ok_vec_scratch(plan)[0] = most;
}

OK_KERNEL(ok_cuda_vec_axpby, (const uint64_t *plan), (plan)) {
    const ok_mt_task task = ok_plan_task(plan);
    OK_FOR_ELEMENTS(plan, blockIdx.x, gridDim.x, DT_NAME(vec_axpby_span)(&task, i, e, e + 1));
}

OK_KERNEL(ok_cuda_vec_clamp, (const uint64_t *plan), (plan)) {
    const ok_mt_task task = ok_plan_task(plan);
    const real_t v = (real_t)((const ok_axpby_coeffs *)task.coeffs)->alpha;
    OK_FOR_ELEMENTS(plan, blockIdx.x, gridDim.x, {
        data_t *x = (data_t *)task.stream[0][i] + e;
        real_t r = ld_data(x);
        r = r < -v ? -v : r; /* torch's clamp_min(-v), then clamp_max(v): NaN stays NaN */
        r = r > v ? v : r;
        st_data(x, (double)r);
    });
}
