/*
 * A timed random fuzz of the public C API: optimizer steps (every optimizer
 * of the registry, through ok_optimizer_step and ok_optimizer_step_shaped),
 * every loss and the vector operations, called with random sizes and
 * shapes, NULL pointers, aliasing arrays, random bytes as values
 * (NaN, infinities, subnormals, out-of-range class targets), bad
 * hyperparameters, bad enums, huge sizes with NULL pointers, and arrays
 * and hyperparameter structs misaligned for their element type.
 *
 * Every array lives in one arena between two guard zones. The fuzzer
 * checks, after every call, that the status is a valid one, that a call
 * which returned an error wrote nothing at all, and that one which
 * succeeded wrote only into the arrays it was given to write (and so not
 * into the guard zones). Arrays of different tensors of one optimizer call never overlap
 * (the C API leaves that check to ok_check_overlap); everything else may.
 *
 * Usage: fuzz_c_api [seconds] [seed]. Built by tests/c/CMakeLists.txt and
 * run by tests/test_c_api.py, also under AddressSanitizer and
 * UndefinedBehaviorSanitizer. Prints one line per failure and exits 1.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "optkern/optkern.h"

#define GUARD 4096
#define SPACE 65536 /* bytes the arrays of one call are placed in */
#define ARENA (GUARD + SPACE + GUARD)

static unsigned char arena[ARENA], shadow[ARENA], writable[ARENA];
static uint64_t rng_state;
static long failures, calls, successes;

static uint64_t next(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static size_t below(size_t n) { return n ? (size_t)(next() % n) : 0; }
static int chance(int percent) { return below(100) < (size_t)percent; }

static void fail(const char *what, const char *api) {
    if (failures < 20) printf("FAILED %s in %s (call %ld, seed state %llu)\n", what, api, calls,
                              (unsigned long long)rng_state);
    failures++;
}

/* Space for `bytes` within [lo, hi) of the arena's SPACE, at an 8-aligned
 * offset, or now and then 1 to 7 bytes past one (misaligned). */
static void *place(size_t lo, size_t hi, size_t bytes) {
    size_t skew = chance(3) ? 1 + below(7) : 0;
    if (bytes + skew > hi - lo) return NULL;
    size_t at = lo + below((hi - lo - bytes - skew) / 8 + 1) * 8 + skew;
    return arena + GUARD + at;
}

static double random_double(void) {
    static const double specials[] = {0.0, -0.0, 1.0, -1.0, 0.5, 1e-3, 0.9, 0.999, 2.0, 1e300, -1e300, NAN,
                                      INFINITY, -INFINITY, 1e-320};
    return chance(70) ? specials[below(sizeof specials / sizeof specials[0])] : (double)(int64_t)next() / 9e18;
}

static void fill_random(void) {
    for (size_t k = 0; k < ARENA; k += 8) {
        uint64_t v = next();
        memcpy(arena + k, &v, 8);
    }
}

/* Before a call: snapshot the arena; nothing is writable yet. */
static void begin_call(void) {
    memcpy(shadow, arena, ARENA);
    memset(writable, 0, ARENA);
}

/* The call may write `bytes` at p (p may be NULL). */
static void may_write(const void *p, size_t bytes) {
    if (!p) return;
    size_t at = (size_t)((const unsigned char *)p - arena);
    if (at < ARENA) memset(writable + at, 1, bytes < ARENA - at ? bytes : ARENA - at);
}

static void check_after(ok_status st, const char *api) {
    calls++;
    if ((unsigned)st > OK_ERR_DOMAIN) fail("an unknown status", api);
    if (st != OK_SUCCESS) {
        if (memcmp(arena, shadow, ARENA)) fail("a write by a call that failed", api);
        return;
    }
    successes++;
    for (size_t k = 0; k < ARENA; k++)
        if (arena[k] != shadow[k] && !writable[k]) {
            fail(k < GUARD || k >= GUARD + SPACE ? "a write into a guard zone" : "a write outside the outputs", api);
            break;
        }
}

/* Set every field of a hyperparameter struct, through the descriptor. */
static void random_hparams(const ok_optimizer *opt, void *hp) {
    for (size_t k = 0; k < ok_optimizer_field_count(opt); k++) {
        const ok_field *f = ok_optimizer_field(opt, k);
        char *at = (char *)hp + f->offset;
        if (f->type == OK_FIELD_DOUBLE) {
            double v = random_double();
            if (chance(60)) v = fabs(v) < 1 ? fabs(v) : 0.01; /* mostly valid */
            memcpy(at, &v, sizeof v);
        } else if (f->type == OK_FIELD_INT) {
            int v = (int)below(3);
            memcpy(at, &v, sizeof v);
        } else {
            int64_t v = chance(80) ? (int64_t)below(5) + 1 : (int64_t)next();
            memcpy(at, &v, sizeof v);
        }
    }
}

/* The bytes stream s of a tensor of numel elements may span: a scalar
 * state is one float whatever the size. */
static size_t bytes(const ok_optimizer *opt, size_t s, size_t numel) {
    return s >= 2 && ok_optimizer_state_is_scalar(opt, s - 2) ? sizeof(float) : numel * 8;
}

static void fuzz_optimizer(void) {
    const ok_optimizer *opt = ok_optimizer_at(below(ok_optimizer_count()));
    enum { MAX_TENSORS = 4, MAX_SETS = 3 };
    union {
        char bytes[256 + 8];
        double aligned;
    } hp[MAX_SETS];
    size_t n_hp = 1 + below(MAX_SETS), count = below(MAX_TENSORS + 1);
    size_t hp_size = ok_optimizer_hparams_size(opt);
    if (hp_size > 256) return;
    /* the sets back to back (as a C caller's array of structs), now and then misaligned */
    char *sets = hp[0].bytes + (chance(3) ? 1 + below(7) : 0);
    for (size_t k = 0; k < n_hp; k++) random_hparams(opt, sets + k * hp_size);
    size_t numel[MAX_TENSORS], dims[MAX_TENSORS][3];
    ok_shape shapes[MAX_TENSORS];
    int shaped = chance(50); /* ok_optimizer_step_shaped: each tensor's shape instead of its count */
    uint32_t index[MAX_TENSORS];
    ok_dtypes dtypes[MAX_TENSORS];
    void *ptr[2 + 8][MAX_TENSORS];
    void **streams[2 + 8];
    size_t n_streams = 2 + ok_optimizer_state_count(opt) + ok_optimizer_work_count(opt);
    if (n_streams > 2 + 8) return;
    const size_t slice = SPACE / MAX_TENSORS; /* tensors never share memory */
    for (size_t i = 0; i < count; i++) {
        ok_dtype d = chance(50) ? OK_FLOAT32 : OK_FLOAT64;
        dtypes[i].param = dtypes[i].grad = dtypes[i].state = d;
        if (chance(5)) dtypes[i].grad = (ok_dtype)below(4); /* mixed or invalid */
        numel[i] = below(70);
        shapes[i].ndim = below(4);
        shapes[i].dims = chance(3) ? NULL : dims[i];
        if (shaped) { /* up to 4 x 4 x 4: fewer than 70 elements */
            numel[i] = 1;
            for (size_t d = 0; d < shapes[i].ndim; d++) numel[i] *= dims[i][d] = below(5);
        }
        index[i] = (uint32_t)below(n_hp + (chance(5) ? 2 : 0));
        int huge = chance(3);
        if (huge) numel[i] = dims[i][0] = SIZE_MAX / 16, shapes[i].ndim = 1;
        for (size_t s = 0; s < n_streams; s++) {
            /* streams of one tensor may alias each other: the call must notice */
            ptr[s][i] = huge || chance(3) ? NULL : place(i * slice, (i + 1) * slice, bytes(opt, s, numel[i]));
        }
    }
    for (size_t s = 0; s < n_streams; s++) streams[s] = chance(2) ? NULL : ptr[s];
    begin_call();
    for (size_t i = 0; i < count; i++)
        for (size_t s = 0; s < n_streams; s++)
            if (s != 1 && streams[s] && numel[i] < SPACE) may_write(streams[s][i], bytes(opt, s, numel[i]));
    const void *hps = chance(2) ? NULL : sets;
    const uint32_t *idx = chance(30) ? index : NULL;
    ok_status st = shaped ? ok_optimizer_step_shaped(opt, hps, n_hp, idx, count, chance(2) ? NULL : shapes, dtypes,
                                                     (void *const *const *)streams)
                          : ok_optimizer_step(opt, hps, n_hp, idx, count, chance(2) ? NULL : numel, dtypes,
                                              (void *const *const *)streams);
    check_after(st, ok_optimizer_name(opt));
}

static const char *const ew_names[] = {"mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "kl_div",
                                       "binary_cross_entropy_with_logits", "binary_cross_entropy",
                                       "poisson_nll_loss", "gaussian_nll_loss", "hinge_embedding_loss",
                                       "soft_margin_loss", "margin_ranking_loss", "no_such_loss"};

static void fuzz_elementwise(void) {
    const char *name = ew_names[below(sizeof ew_names / sizeof ew_names[0])];
    ok_dtype d = chance(3) ? (ok_dtype)below(5) : chance(50) ? OK_FLOAT32 : OK_FLOAT64;
    size_t n = chance(3) ? SIZE_MAX / 16 : below(200), bytes = n * 8, room = SPACE / 5;
    int huge = n > 100000;
    const void *input = huge || chance(3) ? NULL : place(0, SPACE, bytes);
    const void *target = huge || chance(3) ? NULL : place(0, SPACE, bytes);
    void *grad = huge || chance(3) ? NULL : chance(20) ? (void *)input : place(0, SPACE, bytes);
    const size_t loss_bytes = bytes ? bytes : 8; /* n losses, or one reduced value */
    void *loss = chance(3) ? NULL : place(0, SPACE, loss_bytes);
    ok_bcast weight = {chance(50) ? NULL : place(0, room, bytes), 1 + below(3), 1 + below(3)};
    ok_bcast pos = {chance(50) ? NULL : place(0, room, 64), 1 + below(3), 1 + below(3)};
    if (chance(5)) weight.block = 0;
    if (weight.data && chance(50)) weight.block = 1, weight.period = n ? n : 1;
    ok_elementwise_options o = {.weight = chance(50) ? &weight : NULL,
                                .pos_weight = chance(30) ? &pos : NULL,
                                .param = chance(50) ? random_double() : 0.0,
                                .flag = (int)below(2),
                                .batch = chance(30) ? below(5) : 0,
                                .eps = chance(50) ? random_double() : 0.0,
                                .full = (int)below(2),
                                .input2 = huge || chance(40) ? NULL : place(0, SPACE, bytes),
                                .grad2 = huge || chance(40) ? NULL : chance(20) ? (void *)input : place(0, SPACE, bytes)};
    begin_call();
    if (!huge) may_write(grad, bytes), may_write(loss, loss_bytes), may_write(o.grad2, bytes);
    ok_status st = ok_elementwise_loss(chance(2) ? NULL : name, d, n, input, target, chance(10) ? NULL : &o,
                                       (ok_reduction)below(5), loss, grad);
    check_after(st, name);
}

static void fuzz_rows(void) {
    int kind = (int)below(3); /* cross_entropy, cross_entropy_probs, nll_loss */
    ok_dtype d = chance(3) ? (ok_dtype)below(5) : chance(50) ? OK_FLOAT32 : OK_FLOAT64;
    size_t n = below(6), c = below(20), inner = 1 + (chance(30) ? below(4) : 0);
    if (chance(2)) n = SIZE_MAX / 1024, c = 4;
    int huge = n > 1000;
    size_t elements = huge ? 0 : n * c * inner, samples = huge ? 0 : n * inner;
    ok_index_type tt = chance(50) ? OK_INDEX_INT64 : OK_INDEX_INT32;
    if (chance(3)) tt = (ok_index_type)7;
    void *logits = huge || chance(3) ? NULL : place(0, SPACE, elements * 8);
    void *target = huge || chance(3) ? NULL : place(0, SPACE, (kind == 1 ? elements : samples) * 8);
    if (target && kind != 1 && chance(70)) { /* valid classes now and then, so that the kernels run */
        for (size_t i = 0; i < samples; i++) {
            int64_t y = chance(10) ? -100 : (int64_t)below(c ? c : 1);
            if (tt == OK_INDEX_INT32) {
                int32_t y32 = (int32_t)y;
                memcpy((char *)target + 4 * i, &y32, 4);
            } else {
                memcpy((char *)target + 8 * i, &y, 8);
            }
        }
    }
    void *grad = huge || chance(3) ? NULL : chance(30) ? logits : place(0, SPACE, elements * 8);
    void *loss = chance(3) ? NULL : place(0, SPACE, (samples ? samples : 1) * 8);
    void *weight = chance(50) ? NULL : place(0, SPACE, c * 8);
    ok_reduction red = (ok_reduction)below(4);
    ok_cross_entropy_options o = {weight, chance(50) ? -100 : (int64_t)below(3), chance(50) ? 0.0 : random_double(),
                                  chance(50) ? 0.0 : random_double(), chance(50) ? 0.0 : random_double(), red};
    begin_call();
    may_write(grad, elements * 8), may_write(loss, (samples ? samples : 1) * 8);
    ok_status st;
    if (kind == 0)
        st = ok_cross_entropy(d, n, c, inner, logits, target, tt, chance(10) ? NULL : &o, loss, grad);
    else if (kind == 1)
        st = ok_cross_entropy_probs(d, n, c, inner, logits, target, chance(10) ? NULL : &o, loss, grad);
    else
        st = ok_nll_loss(d, n, c, inner, logits, target, tt, weight, o.ignore_index, red, loss, grad);
    check_after(st, kind == 0 ? "cross_entropy" : kind == 1 ? "cross_entropy_probs" : "nll_loss");
}

/* The vector operations: x and y of each tensor in its own slice (so they
 * may overlap each other, which axpby must refuse unless they are one array). */
static void fuzz_vector(void) {
    enum { MAX_TENSORS = 4 };
    int op = (int)below(4); /* dot, abs_sum, abs_max, axpby */
    ok_dtype d = chance(3) ? (ok_dtype)below(5) : chance(50) ? OK_FLOAT32 : OK_FLOAT64;
    size_t count = below(MAX_TENSORS + 1), numel[MAX_TENSORS];
    const void *x[MAX_TENSORS];
    void *y[MAX_TENSORS];
    const size_t slice = SPACE / MAX_TENSORS;
    for (size_t i = 0; i < count; i++) {
        numel[i] = chance(3) ? SIZE_MAX / 16 : below(300);
        int huge = numel[i] > 100000;
        x[i] = huge || chance(3) ? NULL : place(i * slice, (i + 1) * slice, numel[i] * 8);
        y[i] = huge || chance(3) ? NULL : chance(10) ? (void *)x[i] : place(i * slice, (i + 1) * slice, numel[i] * 8);
    }
    double *result = chance(5) ? NULL : place(0, SPACE, 8);
    double alpha = random_double(), beta = chance(30) ? (double)below(2) : random_double();
    begin_call();
    ok_status st;
    if (op == 3) {
        for (size_t i = 0; i < count; i++)
            if (numel[i] < SPACE) may_write(y[i], numel[i] * 8);
        st = ok_vec_axpby(d, count, chance(2) ? NULL : numel, alpha, chance(2) ? NULL : x, beta, chance(2) ? NULL : y);
    } else {
        may_write(result, 8);
        const void *const *xs = chance(2) ? NULL : x;
        if (op == 0)
            st = ok_vec_dot(d, count, numel, xs, chance(2) ? NULL : (const void *const *)y, result);
        else if (op == 1)
            st = ok_vec_abs_sum(d, count, numel, xs, result);
        else
            st = ok_vec_abs_max(d, count, numel, xs, result);
    }
    check_after(st, op == 3 ? "ok_vec_axpby" : "ok_vec reduction");
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 5.0;
    rng_state = argc > 2 ? strtoull(argv[2], NULL, 10) : 0x9e3779b97f4a7c15ull;
    if (!rng_state) rng_state = 1;
    ok_set_num_threads(2);
    clock_t start = clock();
    while ((double)(clock() - start) / CLOCKS_PER_SEC < seconds && failures < 20) {
        if (calls % 64 == 0) fill_random();
        switch (below(4)) {
        case 0: fuzz_optimizer(); break;
        case 1: fuzz_elementwise(); break;
        case 2: fuzz_vector(); break;
        default: fuzz_rows(); break;
        }
    }
    printf("fuzz: %ld calls, %ld succeeded, %ld failures\n", calls, successes, failures);
    return failures != 0;
}
