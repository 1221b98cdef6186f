/* The deterministic reduction driver; see reduce.h. */
#include "reduce.h"

#include "multi_tensor.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* The first item of block b of `blocks`: b*n/blocks, rounded down to `align`. */
static size_t block_start(size_t b, size_t blocks, size_t n, size_t align) {
    if (b >= blocks) return n;
    size_t at = n / blocks * b + n % blocks * b / blocks; /* n * b / blocks without overflow */
    return at / align * align;
}

/* The partials of fn over [0, n), combined in block order: summed, or
 * (largest) their maximum, NaN winning. */
static double reduce(const void *task, ok_block_fn fn, size_t n, size_t align, size_t work_per_item, int largest) {
    if (n == 0) return 0.0;
    if (align == 0) align = 1;
    if (work_per_item == 0) work_per_item = 1;
    size_t work = n * work_per_item;
    size_t blocks = work / OK_REDUCE_MIN_WORK;
    if (blocks > (n + align - 1) / align) blocks = (n + align - 1) / align;
    if (blocks > OK_REDUCE_MAX_BLOCKS) blocks = OK_REDUCE_MAX_BLOCKS;
    if (blocks < 1) blocks = 1;

    double partial[OK_REDUCE_MAX_BLOCKS];
    int threads = ok_threads_for(work);
    if ((size_t)threads > blocks) threads = (int)blocks;
#ifdef _OPENMP
    /* No OpenMP call at all on one thread: in a forked child (runtime.c) the
     * inherited pool must not be touched, not even by a serial region. */
    if (threads > 1) {
        double busy[OK_MAX_THREADS] = {0}, start = omp_get_wtime();
#pragma omp parallel num_threads(threads)
        {
            double t0 = omp_get_wtime();
            size_t nth = (size_t)omp_get_num_threads(), tid = (size_t)omp_get_thread_num();
            for (size_t b = blocks * tid / nth; b < blocks * (tid + 1) / nth; b++)
                partial[b] = fn(task, block_start(b, blocks, n, align), block_start(b + 1, blocks, n, align));
            busy[tid] = omp_get_wtime() - t0;
        }
        ok_threads_observe(omp_get_wtime() - start, ok_busiest(busy, threads));
    } else
#endif
    {
        for (size_t b = 0; b < blocks; b++)
            partial[b] = fn(task, block_start(b, blocks, n, align), block_start(b + 1, blocks, n, align));
    }
    double result = 0.0;
    if (!largest) {
        for (size_t b = 0; b < blocks; b++) result += partial[b];
        return result;
    }
    /* a larger partial replaces the result, and so does a NaN, which stays */
    result = partial[0];
    for (size_t b = 1; b < blocks; b++)
        if (result == result && !(partial[b] <= result)) result = partial[b];
    return result;
}

double ok_reduce_run(const void *task, ok_block_fn fn, size_t n, size_t align, size_t work_per_item) {
    return reduce(task, fn, n, align, work_per_item, 0);
}

double ok_reduce_max(const void *task, ok_block_fn fn, size_t n, size_t align, size_t work_per_item) {
    return reduce(task, fn, n, align, work_per_item, 1);
}
