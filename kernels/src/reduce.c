/* The deterministic reduction drivers; see reduce.h. */
#include "reduce.h"

#include "multi_tensor.h"

#ifdef _OPENMP
#include <omp.h>

/* The first block whose work starts at or after `work` (n_blocks if none). */
static size_t first_block_from(const size_t *ends, size_t n_blocks, size_t work) {
    size_t lo = 0, hi = n_blocks;
    while (lo < hi) { /* block b starts at ends[b - 1] (0 for b = 0) */
        size_t mid = lo + (hi - lo) / 2;
        if ((mid ? ends[mid - 1] : 0) < work)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}
#endif

void ok_blocks_run(const void *task, ok_blocks_fn fn, size_t n_blocks, const size_t *ends) {
    if (n_blocks == 0) return;
    size_t work = ends[n_blocks - 1];
    int threads = ok_threads_for(work);
    if ((size_t)threads > n_blocks) threads = (int)n_blocks;
#ifdef _OPENMP
    /* No OpenMP call at all on one thread: in a forked child (runtime.c) the
     * inherited pool must not be touched, not even by a serial region. */
    if (threads > 1) {
        double busy[OK_MAX_THREADS] = {0}, start = omp_get_wtime();
#pragma omp parallel num_threads(threads)
        {
            double t0 = omp_get_wtime();
            size_t nth = (size_t)omp_get_num_threads(), tid = (size_t)omp_get_thread_num();
            /* the blocks that start in this thread's share of the work */
            size_t b = tid ? first_block_from(ends, n_blocks, ok_share(work, tid, nth)) : 0;
            size_t stop = tid + 1 < nth ? first_block_from(ends, n_blocks, ok_share(work, tid + 1, nth)) : n_blocks;
            for (; b < stop; b++) fn(task, b);
            busy[tid] = omp_get_wtime() - t0;
        }
        ok_threads_observe(omp_get_wtime() - start, ok_busiest(busy, threads));
        return;
    }
#endif
    for (size_t b = 0; b < n_blocks; b++) fn(task, b);
}

/* The blocks of ok_reduce_run and ok_reduce_max: items [start[b],
 * start[b + 1]), one partial each. */
typedef struct partial_task {
    const void *task;
    ok_block_fn fn;
    size_t start[OK_REDUCE_MAX_BLOCKS + 1];
    double partial[OK_REDUCE_MAX_BLOCKS];
} partial_task;

static void partial_block(const void *task, size_t b) {
    partial_task *t = (partial_task *)task; /* each block writes its own partial */
    t->partial[b] = t->fn(t->task, t->start[b], t->start[b + 1]);
}

/* The partials of fn over [0, n), combined in block order: summed, or
 * (largest) their maximum, NaN winning. */
static double reduce(const void *task, ok_block_fn fn, size_t n, size_t align, size_t work_per_item, int largest) {
    if (n == 0) return 0.0;
    if (align == 0) align = 1;
    if (work_per_item == 0) work_per_item = 1;
    size_t blocks = n * work_per_item / OK_REDUCE_MIN_WORK;
    if (blocks > (n + align - 1) / align) blocks = (n + align - 1) / align;
    if (blocks > OK_REDUCE_MAX_BLOCKS) blocks = OK_REDUCE_MAX_BLOCKS;
    if (blocks < 1) blocks = 1;

    partial_task t;
    size_t ends[OK_REDUCE_MAX_BLOCKS];
    t.task = task;
    t.fn = fn;
    /* block b starts at b*n/blocks, rounded down to `align` */
    for (size_t b = 0; b < blocks; b++) t.start[b] = ok_share(n, b, blocks) / align * align;
    t.start[blocks] = n;
    for (size_t b = 0; b < blocks; b++) ends[b] = t.start[b + 1] * work_per_item;
    ok_blocks_run(&t, partial_block, blocks, ends);
    double result = 0.0;
    if (!largest) {
        for (size_t b = 0; b < blocks; b++) result += t.partial[b];
        return result;
    }
    /* a larger partial replaces the result, and so does a NaN, which stays */
    result = t.partial[0];
    for (size_t b = 1; b < blocks; b++)
        if (result == result && !(t.partial[b] <= result)) result = t.partial[b];
    return result;
}

double ok_reduce_run(const void *task, ok_block_fn fn, size_t n, size_t align, size_t work_per_item) {
    return reduce(task, fn, n, align, work_per_item, 0);
}

double ok_reduce_max(const void *task, ok_block_fn fn, size_t n, size_t align, size_t work_per_item) {
    return reduce(task, fn, n, align, work_per_item, 1);
}
