/* The multi-tensor driver; see multi_tensor.h. */
#include "multi_tensor.h"

#include "optkern/internal/testing.h"

#include "optkern/common.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/*
 * Below this many elements a pass stays on one thread: waking a second
 * thread costs more than it saves. Measured with bench/threshold.py (Adam
 * float32, 1 vs 2 threads): see bench/RESULTS.md.
 */
#define OK_PARALLEL_MIN_ELEMENTS ((size_t)1 << 14)

static size_t parallel_min = OK_PARALLEL_MIN_ELEMENTS;

void ok_mt_set_parallel_min(size_t elements) {
    __atomic_store_n(&parallel_min, elements ? elements : OK_PARALLEL_MIN_ELEMENTS, __ATOMIC_RELAXED);
}

/*
 * Contention (bench/contention.py). When other work keeps every core busy,
 * a region's threads are scheduled among it, and the region ends only when
 * its last thread, started late or preempted, has finished: a 2-thread step
 * then takes many times the 1-thread one. Each threaded region reports its
 * wall time and its busiest thread's working time (ok_threads_observe);
 * when the region took over 5/4 of that plus OK_CONTENTION_SLACK seconds,
 * its threads waited for each other, and the next `backoff` passes run on
 * one thread before threads are tried again. The pause doubles while the
 * contention lasts (up to OK_BACKOFF_MAX passes) and falls back to
 * OK_BACKOFF_MIN once a region runs clean. The thread count never changes a
 * result, so this changes only the time.
 */
#define OK_CONTENTION_SLACK 50e-6
#define OK_BACKOFF_MIN 16
#define OK_BACKOFF_MAX 4096

static int backoff_left;              /* passes still to run on one thread */
static int backoff = OK_BACKOFF_MIN;  /* the next pause */
static int backoff_on = 1;            /* off only for tests (ok_threads_set_backoff) */
static unsigned long regions;         /* threaded regions reported, for tests */

double ok_busiest(const double *busy, int threads) {
    double most = 0.0;
    for (int t = 0; t < threads; t++) most = busy[t] > most ? busy[t] : most;
    return most;
}

void ok_threads_set_backoff(int on) {
    __atomic_store_n(&backoff_on, on != 0, __ATOMIC_RELAXED);
    __atomic_store_n(&backoff_left, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&backoff, OK_BACKOFF_MIN, __ATOMIC_RELAXED);
}

unsigned long ok_threads_regions(void) { return __atomic_load_n(&regions, __ATOMIC_RELAXED); }

void ok_threads_observe(double wall, double busiest) {
    __atomic_add_fetch(&regions, 1, __ATOMIC_RELAXED);
    if (!__atomic_load_n(&backoff_on, __ATOMIC_RELAXED)) return;
    if (wall > 1.25 * busiest + OK_CONTENTION_SLACK) {
        int pause = __atomic_load_n(&backoff, __ATOMIC_RELAXED);
        __atomic_store_n(&backoff_left, pause, __ATOMIC_RELAXED);
        __atomic_store_n(&backoff, pause < OK_BACKOFF_MAX ? 2 * pause : OK_BACKOFF_MAX, __ATOMIC_RELAXED);
    } else {
        __atomic_store_n(&backoff, OK_BACKOFF_MIN, __ATOMIC_RELAXED);
    }
}

int ok_threads_for(size_t elements) {
    int n = ok_get_num_threads();
    size_t min = __atomic_load_n(&parallel_min, __ATOMIC_RELAXED);
    if (elements < min || n < 2) return 1;
    if (__atomic_load_n(&backoff_left, __ATOMIC_RELAXED) > 0) {
        __atomic_sub_fetch(&backoff_left, 1, __ATOMIC_RELAXED);
        return 1;
    }
    /* Keep every thread's share at least half the break-even size. */
    size_t most = elements / (min / 2 ? min / 2 : 1);
    return (size_t)n > most ? (int)most : n;
}

/* Where the global element index `at` falls: tensor *tensor, local offset
 * *offset rounded up to the grain (or to the tensor's end). Adjacent threads
 * compute the same answer for their shared boundary, so pieces neither
 * overlap nor leave gaps. */
static void locate(const ok_mt_task *task, size_t at, size_t *tensor, size_t *offset) {
    size_t i = 0;
    while (i < task->count && at >= task->numel[i]) {
        at -= task->numel[i];
        i++;
    }
    if (i == task->count) {
        *tensor = task->count;
        *offset = 0;
        return;
    }
    size_t rounded = (at + OK_MT_GRAIN - 1) / OK_MT_GRAIN * OK_MT_GRAIN;
    *tensor = i;
    *offset = rounded < task->numel[i] ? rounded : task->numel[i];
}

static void run_piece(const ok_mt_task *task, const ok_mt_span_fn *fns, size_t lo, size_t hi) {
    size_t t0, o0, t1, o1;
    locate(task, lo, &t0, &o0);
    locate(task, hi, &t1, &o1);
    for (size_t i = t0; i <= t1 && i < task->count; i++) {
        size_t begin = i == t0 ? o0 : 0;
        size_t end = i == t1 ? o1 : task->numel[i];
        if (begin < end) fns[ok_variant_of(ok_mt_dtypes(task, i))](task, i, begin, end);
    }
}

void ok_mt_run(const ok_mt_task *task, const ok_mt_span_fn *fns) {
    size_t total = 0;
    for (size_t i = 0; i < task->count; i++) total += task->numel[i];
    if (total == 0) return;
    int threads = ok_threads_for(total);
    if (threads <= 1) {
        for (size_t i = 0; i < task->count; i++)
            if (task->numel[i]) fns[ok_variant_of(ok_mt_dtypes(task, i))](task, i, 0, task->numel[i]);
        return;
    }
#ifdef _OPENMP
    double busy[OK_MAX_THREADS] = {0}, start = omp_get_wtime();
#pragma omp parallel num_threads(threads)
    {
        double t0 = omp_get_wtime();
        size_t nth = (size_t)omp_get_num_threads();
        size_t tid = (size_t)omp_get_thread_num();
        /* total * tid / nth without overflow for any realistic total */
        size_t lo = total / nth * tid + total % nth * tid / nth;
        size_t hi = total / nth * (tid + 1) + total % nth * (tid + 1) / nth;
        run_piece(task, fns, lo, hi);
        busy[tid] = omp_get_wtime() - t0;
    }
    ok_threads_observe(omp_get_wtime() - start, ok_busiest(busy, threads));
#else
    run_piece(task, fns, 0, total);
#endif
}

int ok_mt_streams_overlap(const ok_mt_task *task, unsigned written, unsigned scalar, int n_streams) {
    /* the streams, then the master copy (written) as one more */
    const int master = n_streams;
    written |= 1u << master;
    for (size_t i = 0; i < task->count; i++) {
        ok_dtypes dtypes = ok_mt_dtypes(task, i);
        const char *ptr[OK_MT_MAX_STREAMS + 1];
        size_t nbytes[OK_MT_MAX_STREAMS + 1];
        for (int s = 0; s < n_streams; s++) {
            ptr[s] = task->stream[s] ? (const char *)task->stream[s][i] : NULL;
            nbytes[s] = scalar >> s & 1 ? sizeof(float)
                                        : ok_mt_extent(task, i, s) * ok_dtype_bytes(ok_stream_dtype(dtypes, s));
        }
        ptr[master] = task->master ? (const char *)task->master[i] : NULL;
        nbytes[master] = task->numel[i] * sizeof(float);
        /* Each pair once; a pair counts when either side is written (an
         * empty array overlaps nothing). */
        for (int a = 0; a <= master; a++) {
            if (!ptr[a] || !nbytes[a]) continue;
            for (int b = a + 1; b <= master; b++)
                if (ptr[b] && nbytes[b] && (written >> a & 1 || written >> b & 1) && ptr[a] < ptr[b] + nbytes[b] &&
                    ptr[b] < ptr[a] + nbytes[a])
                    return 1;
        }
    }
    return 0;
}
