/*
 * The runtime's shared settings under two threads: one keeps switching the
 * instruction set and the thread count while the other runs updates and
 * reads the settings. Built and run by tests/test_c_api.py under
 * ThreadSanitizer (without OpenMP, whose runtime is not instrumented), which
 * fails the run on any data race.
 */
#include <pthread.h>
#include <stdio.h>

#include "optkern/optkern.h"

#define ROUNDS 20000

static void *switch_settings(void *arg) {
    (void)arg;
    unsigned available = ok_isa_available();
    for (int i = 0; i < ROUNDS; i++) {
        ok_isa isa = (ok_isa)(i % OK_ISA_COUNT);
        if (available & (1u << isa)) ok_set_isa(isa);
        ok_set_num_threads(1 + i % 2);
    }
    return NULL;
}

static void *update(void *arg) {
    (void)arg;
    float p[64], g[64], m[64], v[64];
    for (int i = 0; i < 64; i++) p[i] = g[i] = 0.5f, m[i] = v[i] = 0.0f;
    ok_adam_hparams hp = OK_ADAM_DEFAULTS;
    size_t n = 64;
    float *pp = p, *mp = m, *vp = v;
    const float *gp = g;
    for (int i = 0; i < ROUNDS; i++) {
        if (ok_adam_f32(&hp, 1, NULL, 1, &n, &pp, &gp, &mp, &vp, NULL) != OK_SUCCESS) return (void *)1;
        (void)ok_get_isa();
        (void)ok_isa_best();
        (void)ok_get_num_threads();
    }
    return NULL;
}

int main(void) {
    pthread_t a, b;
    void *failed = NULL;
    if (pthread_create(&a, NULL, switch_settings, NULL) || pthread_create(&b, NULL, update, NULL)) return 2;
    pthread_join(a, NULL);
    pthread_join(b, &failed);
    puts(failed ? "an update failed" : "no race");
    return failed != NULL;
}
