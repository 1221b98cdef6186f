/*
 * Deterministic sums on the GPU (docs/gpu.md#reductions): a sum over n
 * items is cut into OK_CUDA_PARTS contiguous parts, one block each; a
 * block's threads take the items of its part in a fixed interleave, add in
 * double, and a tree in shared memory adds the OK_CUDA_BLOCK thread sums;
 * the parts' sums are added by one block the same way. Neither the order
 * nor the partition depends on the GPU or the run, so a result is bitwise
 * the same every time, on every device.
 */
#ifndef OPTKERN_CUDA_REDUCE_CUH
#define OPTKERN_CUDA_REDUCE_CUH

/* Threads per block (a power of two) and parts of a sum: fixed, not
 * chosen per device. The emulated GPU builds with fewer of both. */
#ifndef OK_CUDA_BLOCK
#define OK_CUDA_BLOCK 256
#endif
#ifndef OK_CUDA_PARTS
#define OK_CUDA_PARTS 1024
#endif

/* The sum over the block of each thread's v, in a fixed tree; every thread
 * gets it. */
OK_INLINE double ok_block_sum(double v) {
    __shared__ double tree[OK_CUDA_BLOCK];
    tree[threadIdx.x] = v;
    __syncthreads();
    for (unsigned s = OK_CUDA_BLOCK / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) tree[threadIdx.x] += tree[threadIdx.x + s];
        __syncthreads();
    }
    const double sum = tree[0];
    __syncthreads();
    return sum;
}

/* The largest of the block's v (NaN if one is NaN), in a fixed tree;
 * every thread gets it. */
OK_INLINE double ok_block_max(double v) {
    __shared__ double tree[OK_CUDA_BLOCK];
    tree[threadIdx.x] = v;
    __syncthreads();
    for (unsigned s = OK_CUDA_BLOCK / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) {
            const double a = tree[threadIdx.x], b = tree[threadIdx.x + s];
            tree[threadIdx.x] = (a != a || a > b) ? a : b;
        }
        __syncthreads();
    }
    const double max = tree[0];
    __syncthreads();
    return max;
}

/* The first of part b's items of n: the parts cover [0, n) in order, their
 * sizes differing by at most one. */
OK_INLINE size_t ok_part_begin(size_t n, size_t b) {
    const size_t q = n / OK_CUDA_PARTS, r = n % OK_CUDA_PARTS;
    return q * b + (b < r ? b : r);
}

/* The sum of the OK_CUDA_PARTS partial sums at part, in a fixed order (one
 * block). */
OK_INLINE double ok_parts_sum(const double *part) {
    double v = 0.0;
    for (unsigned k = threadIdx.x; k < OK_CUDA_PARTS; k += OK_CUDA_BLOCK) v += part[k];
    return ok_block_sum(v);
}

#endif /* OPTKERN_CUDA_REDUCE_CUH */
