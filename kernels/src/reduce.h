/*
 * The deterministic reduction drivers: threaded passes whose results are
 * bitwise the same for any thread count.
 *
 * The work is cut into blocks whose boundaries depend only on the sizes
 * (and the caller's alignment and work per item), never on the thread
 * count. Each block is computed by one thread, alone and in a fixed order,
 * and stores its own results; the caller then combines them in block
 * order. Threads take contiguous runs of blocks of about equal work.
 *
 * ok_blocks_run is the driver: any blocks, any results per block
 * (Adafactor's per-row and per-column statistics). ok_reduce_run and
 * ok_reduce_max are its common case, for the loss kernels and the vector
 * operations: one double over n items (elements, or rows of a row-wise
 * loss), their sum or their maximum, in at most OK_REDUCE_MAX_BLOCKS blocks
 * of at least OK_REDUCE_MIN_WORK units of work, whose partials, kept in a
 * stack array, are combined in block order.
 */
#ifndef OPTKERN_REDUCE_H
#define OPTKERN_REDUCE_H

#include <stddef.h>

#include "portable.h"

#define OK_REDUCE_MAX_BLOCKS 64
#define OK_REDUCE_MIN_WORK ((size_t)1 << 13)

/* x * k / n, rounded down, without overflow for any realistic x (k <= n):
 * where block k of n over x items starts. */
OK_FN size_t ok_share(size_t x, size_t k, size_t n) { return x / n * k + x % n * k / n; }

/* The blocks of one tensor's sums over n elements (Adafactor's, the
 * per-tensor norms of optim/norms.h): at most OK_REDUCE_MAX_BLOCKS, of at
 * least OK_REDUCE_MIN_WORK elements where there are that many, at least one. */
OK_FN size_t ok_tensor_blocks(size_t n) {
    size_t blocks = n / OK_REDUCE_MIN_WORK;
    if (blocks > OK_REDUCE_MAX_BLOCKS) blocks = OK_REDUCE_MAX_BLOCKS;
    return blocks ? blocks : 1;
}

/* Where block k of those `blocks` starts: on a multiple of `grain` elements
 * (whole cache lines), n for k == blocks. */
OK_FN size_t ok_tensor_block_start(size_t n, size_t k, size_t blocks, size_t grain) {
    return k < blocks ? ok_share(n, k, blocks) / grain * grain : n;
}

/* Compute block b of `task` and store its results where the task says. */
typedef void (*ok_blocks_fn)(const void *task, size_t block);

/*
 * Run fn on blocks 0 .. n_blocks - 1, each whole by one thread. ends[b] is
 * the work of blocks 0 .. b together (non-decreasing): it balances the
 * threads and decides whether threading pays.
 */
void ok_blocks_run(const void *task, ok_blocks_fn fn, size_t n_blocks, const size_t *ends);

/* Process items [begin, end) of `task`; return their partial result. */
typedef double (*ok_block_fn)(const void *task, size_t begin, size_t end);

/*
 * Run fn over items [0, n) and return the sum of the block partials (0 for
 * n == 0). Block boundaries are multiples of `align` items (a whole number
 * of cache lines for elementwise work); work_per_item (>= 1) weighs the
 * item count against OK_REDUCE_MIN_WORK and the threading threshold.
 */
double ok_reduce_run(const void *task, ok_block_fn fn, size_t n, size_t align, size_t work_per_item);

/* The same, returning the largest block partial instead (NaN when any is
 * NaN; 0 for n == 0). */
double ok_reduce_max(const void *task, ok_block_fn fn, size_t n, size_t align, size_t work_per_item);

#endif /* OPTKERN_REDUCE_H */
