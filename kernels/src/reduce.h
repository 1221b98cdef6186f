/*
 * The reduction driver of the loss kernels and the vector operations: a
 * threaded pass over n items (elements, or rows of a row-wise loss) that
 * also reduces one double per item range (their sum, or their maximum),
 * with a result that is bitwise the same for any thread count.
 *
 * The items are cut into blocks whose boundaries depend only on n (and the
 * caller's alignment and work per item), never on the thread count: at most
 * OK_REDUCE_MAX_BLOCKS blocks of at least OK_REDUCE_MIN_WORK units of work.
 * Each block's partial result is computed by one thread, alone and in a
 * fixed order; the partials, kept in a stack array, are then combined in
 * block order by the calling thread. Threads take contiguous runs of blocks.
 */
#ifndef OPTKERN_REDUCE_H
#define OPTKERN_REDUCE_H

#include <stddef.h>

#define OK_REDUCE_MAX_BLOCKS 64
#define OK_REDUCE_MIN_WORK ((size_t)1 << 13)

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
