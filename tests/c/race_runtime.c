/*
 * The runtime and the threaded kernels under ThreadSanitizer: one thread
 * keeps switching the instruction set and the thread count while two others
 * run threaded optimizer updates (multi_tensor.c) and losses (reduce.c) and
 * read the settings. The break-even size is lowered so that small arrays
 * take the threaded paths, and the contention backoff is off so that they
 * always do. Built and run by tests/test_c_api.py with clang's
 * ThreadSanitizer and LLVM's OpenMP runtime, whose Archer tool tells the
 * sanitizer how OpenMP synchronises; any data race fails the run.
 */
#include <pthread.h>
#include <stdio.h>

#include "optkern/internal/testing.h"
#include "optkern/optkern.h"

#define ROUNDS 200
#define N (1 << 15) /* the losses' reductions split work into blocks of 8192: 4 of them */

static void *switch_settings(void *arg) {
    (void)arg;
    unsigned available = ok_isa_available();
    for (int i = 0; i < ROUNDS; i++) {
        ok_isa isa = (ok_isa)(i % OK_ISA_COUNT);
        if (available & (1u << isa)) ok_set_isa(isa);
        ok_set_num_threads(1 + i % 3);
    }
    return NULL;
}

/* arg: which of the two updating threads (each its own arrays). */
static void *update(void *arg) {
    static float buffers[2][6][N];
    float *p = buffers[arg != NULL][0], *g = buffers[arg != NULL][1], *m = buffers[arg != NULL][2];
    float *v = buffers[arg != NULL][3], *x = buffers[arg != NULL][4], *grad = buffers[arg != NULL][5], loss;
    int64_t y[N / 8];
    for (int i = 0; i < N; i++) p[i] = g[i] = x[i] = 0.5f + (float)(i % 7), m[i] = v[i] = 0.0f;
    for (int i = 0; i < N / 8; i++) y[i] = i % 8;
    ok_adam_hparams hp = OK_ADAM_DEFAULTS;
    size_t n = N;
    float *pp = p, *mp = m, *vp = v;
    const float *gp = g;
    for (int i = 0; i < ROUNDS; i++) {
        if (ok_adam_f32(&hp, 1, NULL, 1, &n, &pp, &gp, &mp, &vp, NULL) != OK_SUCCESS) return (void *)1;
        if (ok_mse_loss_f32(N, x, g, NULL, OK_REDUCTION_MEAN, &loss, grad) != OK_SUCCESS) return (void *)1;
        if (ok_cross_entropy_f32(N / 8, 8, 1, x, y, OK_INDEX_INT64, NULL, &loss, grad) != OK_SUCCESS)
            return (void *)1;
        (void)ok_get_isa();
        (void)ok_isa_best();
        (void)ok_get_num_threads();
    }
    return NULL;
}

/* Two threads updating while a third, if `switcher`, switches the settings. */
static int race(void *(*switcher)(void *)) {
    pthread_t a, b, c;
    void *failed_b = NULL, *failed_c = NULL;
    if ((switcher && pthread_create(&a, NULL, switcher, NULL)) || pthread_create(&b, NULL, update, NULL) ||
        pthread_create(&c, NULL, update, (void *)1))
        return 1;
    if (switcher) pthread_join(a, NULL);
    pthread_join(b, &failed_b);
    pthread_join(c, &failed_c);
    return failed_b || failed_c;
}

int main(void) {
    ok_mt_set_parallel_min(16);
    ok_threads_set_backoff(0);
    /* The settings switched under running kernels. */
    int failed = race(switch_settings);
    /* The threaded kernels on the scalar instruction set: the sanitizer
     * sees its loads and stores, not those of vector intrinsics, so this is
     * where a piece of one thread overlapping another's would show. */
    ok_set_isa(OK_ISA_SCALAR);
    for (int threads = 2; threads <= 3; threads++) {
        ok_set_num_threads(threads);
        failed |= race(NULL);
    }
    unsigned long regions = ok_threads_regions();
    failed |= ok_has_openmp() && regions == 0;
    printf("%lu threaded regions, %s\n", regions, failed ? "an update failed or none threaded" : "no race");
    return failed;
}
