/* The test and benchmark hooks; see testing.h. */
#include "optkern/internal/testing.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_table.h"
#include "quant8.h"

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

ok_status ok_q8_probe_codes(int unsigned_map, size_t n, const float *x, uint8_t *q) {
    if (n == 0) return OK_SUCCESS;
    if (!x || !q) return OK_ERR_NULL_POINTER;
    ok_active_kernels()->testing.q8_codes(unsigned_map != 0, n, x, q);
    return OK_SUCCESS;
}

/* The float32 of an ordered key: -0x3f800000 is -1, 0 is +0, 0x3f800000 is 1. */
static float q8_key_float(int64_t key) {
    uint32_t u = key < 0 ? 0x80000000u | (uint32_t)-key : (uint32_t)key;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* The thresholds in increasing order: the heap's in-order walk. */
static void q8_sorted(const float *heap, unsigned k, float *t, int *at) {
    if (k >= 256) return;
    q8_sorted(heap, 2 * k, t, at);
    t[(*at)++] = heap[k];
    q8_sorted(heap, 2 * k + 1, t, at);
}

#define OK_Q8_CHUNK ((int64_t)1 << 16)

size_t ok_q8_check_all(int unsigned_map, uint32_t *first) {
    /* Walked in increasing x, chunk by chunk: the search's code starts each
     * chunk, then goes up by one at each threshold passed, where the search
     * is asked again. The search compares x with thresholds only, so its
     * code is constant from one threshold to the next: checked at each, it
     * is checked everywhere; the encoder is checked at every value. */
    const float *heap = ok_q8_heap(unsigned_map != 0);
    float t[257]; /* past the last threshold: never passed */
    int count = 0;
    q8_sorted(heap, 1, t, &count);
    t[255] = t[256] = INFINITY;
    const int64_t lo = -0x3f800000, hi = 0x3f800000, chunks = (hi - lo + OK_Q8_CHUNK) / OK_Q8_CHUNK;
    size_t bad = 0;
    int64_t lowest = hi + 1;
    int failed = 0;
#ifdef _OPENMP /* without it, one thread walks every chunk */
#pragma omp parallel num_threads(ok_get_num_threads()) reduction(+ : bad) reduction(min : lowest) reduction(| : failed)
#endif
    {
        float *x = malloc(OK_Q8_CHUNK * sizeof *x);
        uint8_t *q = malloc(OK_Q8_CHUNK);
        failed |= !x || !q;
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 16)
#endif
        for (int64_t c = 0; c < chunks; c++) {
            if (!x || !q) continue;
            const int64_t start = lo + c * OK_Q8_CHUNK, n = hi + 1 - start < OK_Q8_CHUNK ? hi + 1 - start : OK_Q8_CHUNK;
            for (int64_t i = 0; i < n; i++) x[i] = q8_key_float(start + i);
            ok_active_kernels()->testing.q8_codes(unsigned_map != 0, (size_t)n, x, q);
            unsigned k = ok_q8_nearest(heap, x[0]);
            for (int64_t i = 0; i < n; i++) {
                if (x[i] >= t[k]) {
                    while (x[i] >= t[k]) k++;
                    if (ok_q8_nearest(heap, x[i]) != k) k = 256; /* the walk is no longer the search */
                }
                if (q[i] != k) {
                    bad++;
                    lowest = start + i < lowest ? start + i : lowest;
                }
            }
        }
        free(x);
        free(q);
    }
    if (failed) return (size_t)-1;
    if (bad) {
        const float x = q8_key_float(lowest);
        memcpy(first, &x, sizeof *first);
    }
    return bad;
}
