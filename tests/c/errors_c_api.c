/*
 * Every public entry point's error returns (the headers of optkern/): each bad argument
 * gives its status code, never a crash, and writes nothing: every array a
 * call could write starts filled with a canary and is compared after the
 * call. The bad arguments: NULL pointers, sizes whose byte count does not
 * fit in memory (SIZE_MAX and friends, with real pointers), a written array
 * overlapping another, hyperparameters out of their ranges (for every
 * optimizer of the registry, driven by its field table), unknown dtypes,
 * reductions, index types and names.
 *
 * tests/c/test_c_api.c checks what the calls compute; tests/test_c_api.py
 * builds and runs both (also under AddressSanitizer and
 * UndefinedBehaviorSanitizer) and fails if a function the headers declare
 * is called in no program of tests/c. Prints one line per failed check
 * and exits non-zero if any failed.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "optkern/optkern.h"

#include "check.h"

/* A status and an untouched canary: the two halves of every check here. */
#define REFUSED(call, status, canary) CHECK((call) == (status) && intact(canary))

#define N 16
#define CANARY (-1234.5)
#define HUGE_COUNT ((size_t)SIZE_MAX / 8 + 2) /* times 8 bytes, wraps to 16 */

/* Every array a call may write lives in one of these, canary-filled. */
typedef struct canary {
    double d[8][N];
    float f[8][N];
} canary;

static void fill(canary *c) {
    for (int a = 0; a < 8; a++)
        for (int i = 0; i < N; i++) c->d[a][i] = c->f[a][i] = (float)CANARY;
}

static int intact(const canary *c) {
    for (int a = 0; a < 8; a++)
        for (int i = 0; i < N; i++)
            if (c->d[a][i] != (float)CANARY || c->f[a][i] != (float)CANARY) return 0;
    return 1;
}

/* ------------------------------------------------------------- optimizers */

/* Each optimizer's default hyperparameters, by name: every OK_*_DEFAULTS.
 * test_defaults_cover_registry fails when an optimizer of the registry has
 * no row here. */
#define DEFAULTS(name, NAME) static const ok_##name##_hparams name##_defaults = OK_##NAME##_DEFAULTS;
DEFAULTS(sgd, SGD)
DEFAULTS(adam, ADAM)
DEFAULTS(radam, RADAM)
DEFAULTS(rprop, RPROP)
DEFAULTS(nadam, NADAM)
DEFAULTS(asgd, ASGD)
DEFAULTS(muon, MUON)
DEFAULTS(adagrad, ADAGRAD)
DEFAULTS(rmsprop, RMSPROP)
DEFAULTS(adadelta, ADADELTA)
DEFAULTS(adamax, ADAMAX)
DEFAULTS(adafactor, ADAFACTOR)
DEFAULTS(lion, LION)
DEFAULTS(adan, ADAN)
DEFAULTS(ademamix, ADEMAMIX)
DEFAULTS(adopt, ADOPT)
DEFAULTS(sgd_schedulefree, SGD_SCHEDULEFREE)
DEFAULTS(adamw_schedulefree, ADAMW_SCHEDULEFREE)
DEFAULTS(lamb, LAMB)
DEFAULTS(lars, LARS)
#undef DEFAULTS

#define ROW(name) {#name, &name##_defaults, sizeof name##_defaults},
static const struct {
    const char *name;
    const void *hparams;
    size_t size;
} defaults[] = {ROW(sgd) ROW(adam) ROW(radam) ROW(rprop) ROW(nadam) ROW(asgd) ROW(muon) ROW(adagrad) ROW(rmsprop)
                    ROW(adadelta) ROW(adamax) ROW(adafactor) ROW(lion) ROW(adan) ROW(ademamix) ROW(adopt)
                        ROW(sgd_schedulefree) ROW(adamw_schedulefree) ROW(lamb) ROW(lars)};
#undef ROW
#define N_DEFAULTS (sizeof defaults / sizeof defaults[0])

static const void *defaults_of(const ok_optimizer *opt) {
    for (size_t k = 0; k < N_DEFAULTS; k++)
        if (strcmp(defaults[k].name, ok_optimizer_name(opt)) == 0 && defaults[k].size == ok_optimizer_hparams_size(opt))
            return defaults[k].hparams;
    return NULL;
}

static void test_defaults_cover_registry(void) {
    CHECK(ok_optimizer_count() == N_DEFAULTS);
    for (size_t i = 0; i < ok_optimizer_count(); i++) {
        const ok_optimizer *opt = ok_optimizer_at(i);
        const void *hp = defaults_of(opt);
        CHECK(hp != NULL);
        if (hp) CHECK(ok_optimizer_check(opt, hp) == OK_SUCCESS);
    }
}

/* Hyperparameter structs, aligned as the library requires. */
typedef union hparams {
    char bytes[512];
    double aligned;
} hparams;

/* The values of field f that are out of range for every optimizer: NaN for
 * any double; below 0 for a rate, an epsilon, a decay or a momentum, and a
 * beta beyond 1; a negative step count or mode. The number written to
 * `out`. */
static int bad_values(const ok_field *f, double *out) {
    int n = 0;
    const char *name = f->name;
    const int beta = !strncmp(name, "beta", 4) && strlen(name) == 5; /* beta1, beta2, beta3 */
    if (f->type == OK_FIELD_INT) return 0; /* flags: any value means true or false */
    if (!strcmp(name, "eps1")) return 0;   /* Adafactor's, ignored while eps1_machine is set (its default) */
    if (f->type == OK_FIELD_INT64) {
        out[n++] = -1.0;
        return n;
    }
    out[n++] = NAN;
    if (!strcmp(name, "lr") || !strcmp(name, "eps") || !strcmp(name, "weight_decay") || !strcmp(name, "momentum") ||
        beta)
        out[n++] = -1.0;
    if (beta) out[n++] = 2.0;
    return n;
}

static void set(const ok_field *f, void *hp, double value) {
    char *at = (char *)hp + f->offset;
    if (f->type == OK_FIELD_DOUBLE)
        memcpy(at, &value, sizeof value);
    else {
        int64_t v = (int64_t)value;
        memcpy(at, &v, sizeof v);
    }
}

/* One float64 tensor of N elements with every stream (states and work
 * arrays included) in the canary, its gradient too (never written). */
typedef struct tensor {
    void *ptr[10][1];
    void **streams[10];
    size_t numel;
    ok_dtypes dtypes;
} tensor;

static void tensor_in(tensor *t, const ok_optimizer *opt, canary *c) {
    size_t n = 2 + ok_optimizer_state_count(opt) + ok_optimizer_work_count(opt);
    for (size_t s = 0; s < 10; s++) {
        t->ptr[s][0] = s < n && s < 8 ? c->d[s] : NULL;
        t->streams[s] = t->ptr[s];
    }
    t->numel = N;
    t->dtypes.param = t->dtypes.grad = t->dtypes.state = OK_FLOAT64;
}

static ok_status step(const ok_optimizer *opt, const void *hp, tensor *t) {
    return ok_optimizer_step(opt, hp, 1, NULL, 1, &t->numel, &t->dtypes, (void *const *const *)t->streams);
}

/* Every field of every optimizer set to each of its bad values: refused
 * by ok_optimizer_check, ok_optimizer_coefficients and ok_optimizer_step,
 * with nothing written (the step's arrays, the coefficients). The same set
 * in second place of two sets, picked by hp_index, as well. */
static void test_hyperparameter_ranges(void) {
    for (size_t i = 0; i < ok_optimizer_count(); i++) {
        const ok_optimizer *opt = ok_optimizer_at(i);
        const void *good = defaults_of(opt);
        const size_t size = ok_optimizer_hparams_size(opt);
        if (!good || 2 * size > sizeof(hparams)) continue; /* test_defaults_cover_registry failed */
        hparams two;
        union {
            char bytes[1024];
            double aligned;
        } coeffs;
        canary c;
        tensor t;
        for (size_t k = 0; k < ok_optimizer_field_count(opt); k++) {
            const ok_field *f = ok_optimizer_field(opt, k);
            double values[4];
            int n = bad_values(f, values);
            for (int v = 0; v < n; v++) {
                const int before = failures;
                memcpy(two.bytes, good, size);
                memcpy(two.bytes + size, good, size);
                set(f, two.bytes + size, values[v]);
                const char *bad = two.bytes + size;
                fill(&c);
                tensor_in(&t, opt, &c);
                memset(coeffs.bytes, 0x5a, sizeof coeffs.bytes);
                CHECK(ok_optimizer_check(opt, bad) == OK_ERR_HYPERPARAMETER);
                CHECK(ok_optimizer_coefficients(opt, bad, coeffs.bytes) == OK_ERR_HYPERPARAMETER &&
                      coeffs.bytes[0] == 0x5a && coeffs.bytes[ok_optimizer_coefficients_size(opt) - 1] == 0x5a);
                REFUSED(step(opt, bad, &t), OK_ERR_HYPERPARAMETER, &c);
                const uint32_t second = 1;
                REFUSED(ok_optimizer_step(opt, two.bytes, 2, &second, 1, &t.numel, &t.dtypes,
                                          (void *const *const *)t.streams),
                        OK_ERR_HYPERPARAMETER, &c);
                if (failures > before) printf("  (%s.%s = %g)\n", ok_optimizer_name(opt), f->name, values[v]);
            }
        }
    }
}

/* The arguments of ok_optimizer_step and its shaped and scaled forms, each
 * made bad in turn on an Adam tensor whose every array is in the canary. */
static void test_optimizer_step_arguments(void) {
    const ok_optimizer *adam = ok_optimizer_find("adam");
    const ok_adam_hparams hp = OK_ADAM_DEFAULTS;
    canary c;
    tensor t;
    fill(&c);
    tensor_in(&t, adam, &c);
    void *const *const *streams = (void *const *const *)t.streams;
    size_t dims[2] = {4, 4};
    ok_shape shape = {2, dims};
    const uint32_t far = 1;
    REFUSED(ok_optimizer_step(NULL, &hp, 1, NULL, 1, &t.numel, &t.dtypes, streams), OK_ERR_NULL_POINTER, &c);
    REFUSED(ok_optimizer_step(adam, NULL, 1, NULL, 1, &t.numel, &t.dtypes, streams), OK_ERR_NULL_POINTER, &c);
    REFUSED(ok_optimizer_step(adam, &hp, 1, NULL, 1, NULL, &t.dtypes, streams), OK_ERR_NULL_POINTER, &c);
    REFUSED(ok_optimizer_step(adam, &hp, 1, NULL, 1, &t.numel, NULL, streams), OK_ERR_NULL_POINTER, &c);
    REFUSED(ok_optimizer_step(adam, &hp, 1, NULL, 1, &t.numel, &t.dtypes, NULL), OK_ERR_NULL_POINTER, &c);
    REFUSED(ok_optimizer_step(adam, &hp, 0, NULL, 1, &t.numel, &t.dtypes, streams), OK_ERR_INDEX, &c);
    REFUSED(ok_optimizer_step(adam, &hp, 1, &far, 1, &t.numel, &t.dtypes, streams), OK_ERR_INDEX, &c);
    ok_dtypes unknown = {(ok_dtype)5, (ok_dtype)5, (ok_dtype)5};
    REFUSED(ok_optimizer_step(adam, &hp, 1, NULL, 1, &t.numel, &unknown, streams), OK_ERR_UNSUPPORTED, &c);
    /* a byte count that wraps (to 16 bytes) is not a small array */
    size_t huge = HUGE_COUNT;
    REFUSED(ok_optimizer_step(adam, &hp, 1, NULL, 1, &huge, &t.dtypes, streams), OK_ERR_SIZE, &c);
    size_t halves[2] = {SIZE_MAX / 16, SIZE_MAX / 16}; /* each fits; together they do not */
    ok_dtypes two_dtypes[2] = {t.dtypes, t.dtypes};
    void *p2[2] = {c.d[0], c.d[4]}, *g2[2] = {c.d[1], c.d[5]}, *m2[2] = {c.d[2], c.d[6]}, *v2[2] = {c.d[3], c.d[7]};
    void *const *two[] = {p2, g2, m2, v2, NULL};
    REFUSED(ok_optimizer_step(adam, &hp, 1, NULL, 2, halves, two_dtypes, two), OK_ERR_SIZE, &c);
    /* the exp_avg overlaps the parameter */
    t.ptr[2][0] = c.d[0] + 1;
    REFUSED(step(adam, &hp, &t), OK_ERR_ALIASING, &c);
    t.ptr[2][0] = c.d[2];

    REFUSED(ok_optimizer_step_shaped(NULL, &hp, 1, NULL, 1, &shape, &t.dtypes, streams), OK_ERR_NULL_POINTER, &c);
    REFUSED(ok_optimizer_step_shaped(adam, &hp, 1, NULL, 1, NULL, &t.dtypes, streams), OK_ERR_NULL_POINTER, &c);
    REFUSED(ok_optimizer_step_shaped(adam, &hp, 1, NULL, 1, &shape, NULL, streams), OK_ERR_NULL_POINTER, &c);
    size_t wraps[2] = {SIZE_MAX / 2 + 1, 2}; /* the product wraps to 0: no empty tensor */
    ok_shape huge_shape = {2, wraps};
    REFUSED(ok_optimizer_step_shaped(adam, &hp, 1, NULL, 1, &huge_shape, &t.dtypes, streams), OK_ERR_SIZE, &c);
    const ok_optimizer *adafactor = ok_optimizer_find("adafactor");
    const ok_adafactor_hparams ahp = OK_ADAFACTOR_DEFAULTS;
    size_t empty_but_wide[2] = {0, SIZE_MAX / 4}; /* no element, but a column factor of SIZE_MAX / 4 */
    ok_shape wide = {2, empty_but_wide};
    REFUSED(ok_optimizer_step_shaped(adafactor, &ahp, 1, NULL, 1, &wide, &t.dtypes, streams), OK_ERR_SIZE, &c);
    ok_grad_scaling scaling = {NAN, 1.0};
    REFUSED(ok_optimizer_step_scaled(adam, &hp, 1, NULL, 1, &shape, &t.dtypes, streams, &scaling),
            OK_ERR_HYPERPARAMETER, &c);
    scaling.unscale = 1.0;
    REFUSED(ok_optimizer_step_scaled(NULL, &hp, 1, NULL, 1, &shape, &t.dtypes, streams, &scaling),
            OK_ERR_NULL_POINTER, &c);
    /* and the same call, nothing wrong with it, succeeds */
    CHECK(ok_optimizer_step_scaled(adam, &hp, 1, NULL, 1, &shape, &t.dtypes, streams, &scaling) == OK_SUCCESS);
    CHECK(!intact(&c));
}

/* ok_optimizer_step_ex's options (master copies, stochastic rounding): each
 * bad one refused with nothing written. */
static void test_step_options(void) {
    const ok_optimizer *adam = ok_optimizer_find("adam");
    const ok_adam_hparams hp = OK_ADAM_DEFAULTS;
    canary c;
    fill(&c);
    size_t dims[1] = {N};
    ok_shape shape = {1, dims};
    /* bfloat16 parameter and gradient (N of them in a row of floats), float32 states */
    void *p[1] = {c.f[0]}, *g[1] = {c.f[1]}, *m[1] = {c.f[2]}, *v[1] = {c.f[3]};
    void *const *streams[] = {p, g, m, v, NULL};
    const ok_dtypes bf16 = {OK_BFLOAT16, OK_BFLOAT16, OK_FLOAT32}, f32 = {OK_FLOAT32, OK_FLOAT32, OK_FLOAT32};
    void *master[1] = {c.f[4]};
    uint64_t key = ok_rounding_key(1, 2, 3);
    CHECK(key != ok_rounding_key(1, 2, 4) && key != ok_rounding_key(1, 3, 3) && key != ok_rounding_key(2, 2, 3));
    ok_step_options options = OK_STEP_OPTIONS_DEFAULT;
    options.master = master;
    options.rounding_key = &key;
    /* a master copy of a float32 parameter */
    REFUSED(ok_optimizer_step_ex(adam, &hp, 1, NULL, 1, &shape, &f32, streams, &options), OK_ERR_UNSUPPORTED, &c);
    master[0] = (char *)c.f[4] + 2;
    REFUSED(ok_optimizer_step_ex(adam, &hp, 1, NULL, 1, &shape, &bf16, streams, &options), OK_ERR_ALIGNMENT, &c);
    master[0] = c.f[2] + 1; /* overlaps exp_avg */
    REFUSED(ok_optimizer_step_ex(adam, &hp, 1, NULL, 1, &shape, &bf16, streams, &options), OK_ERR_ALIASING, &c);
    master[0] = c.f[4];
    const ok_dtypes f16_bf16 = {OK_FLOAT16, OK_FLOAT16, OK_BFLOAT16}; /* no kernel has this signature */
    REFUSED(ok_optimizer_step_ex(adam, &hp, 1, NULL, 1, &shape, &f16_bf16, streams, &options), OK_ERR_UNSUPPORTED,
            &c);
    const ok_adafactor_hparams ahp = OK_ADAFACTOR_DEFAULTS; /* Adafactor has neither option */
    REFUSED(ok_optimizer_step_ex(ok_optimizer_find("adafactor"), &ahp, 1, NULL, 1, &shape, &bf16, streams, &options),
            OK_ERR_UNSUPPORTED, &c);
    options.scaling.unscale = NAN;
    REFUSED(ok_optimizer_step_ex(adam, &hp, 1, NULL, 1, &shape, &bf16, streams, &options), OK_ERR_HYPERPARAMETER, &c);
    options.scaling.unscale = 1.0;
    REFUSED(ok_optimizer_step_ex(NULL, &hp, 1, NULL, 1, &shape, &bf16, streams, &options), OK_ERR_NULL_POINTER, &c);
    /* the same call, nothing wrong with it, succeeds; so does one without options */
    CHECK(ok_optimizer_step_ex(adam, &hp, 1, NULL, 1, &shape, &bf16, streams, &options) == OK_SUCCESS);
    CHECK(!intact(&c));
    CHECK(ok_optimizer_step_ex(adam, &hp, 1, NULL, 1, &shape, &bf16, streams, NULL) == OK_SUCCESS);
}

/* The 8-bit states (ok_optimizer_step_8bit, ok_quantize_8bit,
 * ok_dequantize_8bit, ok_q8_map): each bad argument refused with nothing
 * written; then the calls' contract on one block. */
static void test_eightbit(void) {
    const ok_optimizer *adam = ok_optimizer_find("adam");
    ok_adam_hparams hp = OK_ADAM_DEFAULTS;
    canary c;
    fill(&c);
    /* N float32 parameters and gradients, the codes in c.f[2] and c.f[3] (N bytes each), the scales in c.f[4], c.f[5] */
    size_t numel = N;
    void *p[1] = {c.f[0]}, *g[1] = {c.f[1]}, *q1[1] = {c.f[2]}, *q2[1] = {c.f[3]}, *a1[1] = {c.f[4]},
         *a2[1] = {c.f[5]};
    void *const *streams[OK_Q8_STREAM_COUNT] = {p, g, q1, q2, a1, a2};
    const ok_dtypes f32 = {OK_FLOAT32, OK_FLOAT32, OK_FLOAT32}, f64 = {OK_FLOAT64, OK_FLOAT64, OK_FLOAT32},
                    bf16s = {OK_FLOAT32, OK_FLOAT32, OK_BFLOAT16};
    REFUSED(ok_optimizer_step_8bit(NULL, &hp, 1, NULL, 1, &numel, &f32, streams, NULL), OK_ERR_NULL_POINTER, &c);
    REFUSED(ok_optimizer_step_8bit(ok_optimizer_find("adadelta"), &hp, 1, NULL, 1, &numel, &f32, streams, NULL),
            OK_ERR_UNSUPPORTED, &c);
    REFUSED(ok_optimizer_step_8bit(adam, NULL, 1, NULL, 1, &numel, &f32, streams, NULL), OK_ERR_NULL_POINTER, &c);
    REFUSED(ok_optimizer_step_8bit(adam, &hp, 0, NULL, 1, &numel, &f32, streams, NULL), OK_ERR_INDEX, &c);
    REFUSED(ok_optimizer_step_8bit(adam, &hp, 1, NULL, 1, &numel, &f64, streams, NULL), OK_ERR_UNSUPPORTED, &c);
    REFUSED(ok_optimizer_step_8bit(adam, &hp, 1, NULL, 1, &numel, &bf16s, streams, NULL), OK_ERR_UNSUPPORTED, &c);
    hp.amsgrad = 1; /* a third state */
    REFUSED(ok_optimizer_step_8bit(adam, &hp, 1, NULL, 1, &numel, &f32, streams, NULL), OK_ERR_UNSUPPORTED, &c);
    hp.amsgrad = 0;
    hp.lr = NAN;
    REFUSED(ok_optimizer_step_8bit(adam, &hp, 1, NULL, 1, &numel, &f32, streams, NULL), OK_ERR_HYPERPARAMETER, &c);
    hp.lr = 1e-3;
    a2[0] = (char *)c.f[5] + 2;
    REFUSED(ok_optimizer_step_8bit(adam, &hp, 1, NULL, 1, &numel, &f32, streams, NULL), OK_ERR_ALIGNMENT, &c);
    a2[0] = c.f[2]; /* the scales of state2 over the codes of state1 */
    REFUSED(ok_optimizer_step_8bit(adam, &hp, 1, NULL, 1, &numel, &f32, streams, NULL), OK_ERR_ALIASING, &c);
    a2[0] = NULL;
    REFUSED(ok_optimizer_step_8bit(adam, &hp, 1, NULL, 1, &numel, &f32, streams, NULL), OK_ERR_NULL_POINTER, &c);
    a2[0] = c.f[5];
    CHECK(ok_optimizer_step_8bit(adam, &hp, 1, NULL, 0, NULL, NULL, NULL, NULL) == OK_SUCCESS);
    /* zero states (codes of any value, scales 0) and g = 1: m = 0.1, v = 0.001, p -= lr */
    for (int i = 0; i < N; i++) c.f[0][i] = 1.0f, c.f[1][i] = 1.0f;
    c.f[4][0] = c.f[5][0] = 0.0f;
    CHECK(ok_optimizer_step_8bit(adam, &hp, 1, NULL, 1, &numel, &f32, streams, NULL) == OK_SUCCESS);
    CHECK(fabsf(c.f[0][0] - (1.0f - 1e-3f)) < 1e-6f && fabsf(c.f[4][0] - 0.1f) < 1e-7f && fabsf(c.f[5][0] - 1e-3f) < 1e-9f);
    /* every code of a constant block is map[255] = 1 */
    const uint8_t *codes = (const uint8_t *)c.f[2];
    CHECK(codes[0] == 255 && codes[N - 1] == 255 && ok_q8_map(0)[255] == 1.0f && ok_q8_map(1)[0] == 0.0f);

    fill(&c);
    float *x = c.f[0], *absmax = c.f[2], *back = c.f[3];
    uint8_t *q = (uint8_t *)c.f[1];
    REFUSED(ok_quantize_8bit(0, N, NULL, q, absmax), OK_ERR_NULL_POINTER, &c);
    REFUSED(ok_quantize_8bit(0, N, x, q, (float *)((char *)absmax + 2)), OK_ERR_ALIGNMENT, &c);
    REFUSED(ok_quantize_8bit(0, N, x, (uint8_t *)x, absmax), OK_ERR_ALIASING, &c);
    REFUSED(ok_quantize_8bit(0, HUGE_COUNT, x, q, absmax), OK_ERR_SIZE, &c);
    REFUSED(ok_dequantize_8bit(0, N, q, absmax, NULL), OK_ERR_NULL_POINTER, &c);
    REFUSED(ok_dequantize_8bit(0, N, q, absmax, (float *)q), OK_ERR_ALIASING, &c);
    CHECK(ok_quantize_8bit(0, 0, NULL, NULL, NULL) == OK_SUCCESS && ok_dequantize_8bit(1, 0, NULL, NULL, NULL) == OK_SUCCESS);
    for (int i = 0; i < N; i++) x[i] = (float)(i - 8);
    CHECK(ok_quantize_8bit(0, N, x, q, absmax) == OK_SUCCESS && absmax[0] == 8.0f);
    CHECK(ok_dequantize_8bit(0, N, q, absmax, back) == OK_SUCCESS);
    CHECK(back[0] == 8.0f * ok_q8_map(0)[0]); /* -8 is -absmax: the lowest code, -0.99296875 */
    CHECK(back[8] == 0.0f && fabsf(back[15] - 7.0f) < 0.06f);
}

/* The typed entry points' own arguments (the rest is ok_optimizer_step's). */
static void test_typed_optimizers(void) {
    canary c;
    fill(&c);
    const ok_sgd_hparams sgd = OK_SGD_DEFAULTS;
    ok_sgd_hparams bad_sgd = sgd;
    bad_sgd.lr = NAN;
    CHECK(ok_sgd_check(&sgd) == OK_SUCCESS);
    CHECK(ok_sgd_check(&bad_sgd) == OK_ERR_HYPERPARAMETER);
    CHECK(ok_sgd_check(NULL) == OK_ERR_NULL_POINTER);
    CHECK(ok_adam_check(NULL) == OK_ERR_NULL_POINTER);
    size_t n = N, huge = HUGE_COUNT;
    float *p = c.f[0], *m = c.f[2];
    const float *g = c.f[1];
    double *pd = c.d[0];
    const double *gd = c.d[1];
    ok_dtype f32 = OK_FLOAT32, unknown = (ok_dtype)9;
    REFUSED(ok_sgd_f32(&bad_sgd, 1, NULL, 1, &n, &p, &g, NULL), OK_ERR_HYPERPARAMETER, &c);
    REFUSED(ok_sgd_f32(&sgd, 1, NULL, 1, &huge, &p, &g, NULL), OK_ERR_SIZE, &c);
    REFUSED(ok_sgd_f64(&sgd, 1, NULL, 1, &n, &pd, NULL, NULL), OK_ERR_NULL_POINTER, &c);
    const ok_adam_hparams adam = OK_ADAM_DEFAULTS;
    REFUSED(ok_adam_f32(&adam, 1, NULL, 1, &n, &p, &g, &m, NULL, NULL), OK_ERR_NULL_POINTER, &c);
    REFUSED(ok_adam_f64(&adam, 1, NULL, 1, &huge, &pd, &gd, &pd, &pd, NULL), OK_ERR_SIZE, &c);
    void *pv = p, *mv = m;
    const void *gv = g;
    REFUSED(ok_sgd(&sgd, 1, NULL, 1, &n, &unknown, &pv, &gv, NULL), OK_ERR_UNSUPPORTED, &c);
    REFUSED(ok_adam(&adam, 1, NULL, 1, &n, &f32, &pv, &gv, &mv, &pv, NULL), OK_ERR_ALIASING, &c);
}

/* The registry's accessors take any pointer and any index: NULL, 0 or -1
 * past the end or for NULL, never a crash. */
static void test_descriptor_accessors(void) {
    CHECK(ok_optimizer_at(SIZE_MAX) == NULL && ok_optimizer_find(NULL) == NULL && ok_optimizer_find("") == NULL);
    CHECK(ok_optimizer_name(NULL) == NULL && ok_optimizer_hparams_size(NULL) == 0);
    CHECK(ok_optimizer_field_count(NULL) == 0 && ok_optimizer_field(NULL, 0) == NULL);
    CHECK(ok_optimizer_state_count(NULL) == 0 && ok_optimizer_state_name(NULL, 0) == NULL);
    CHECK(ok_optimizer_state_is_scalar(NULL, 0) == 0 && ok_optimizer_state_shape(NULL, 0) == -1);
    CHECK(ok_optimizer_work_count(NULL) == 0 && ok_optimizer_work_name(NULL, 0) == NULL);
    CHECK(ok_optimizer_is_elementwise(NULL) == 0);
    CHECK(ok_optimizer_coefficients_size(NULL) == 0);
    const ok_optimizer *sgd = ok_optimizer_find("sgd");
    const ok_sgd_hparams hp = OK_SGD_DEFAULTS;
    CHECK(ok_optimizer_field(sgd, SIZE_MAX) == NULL && ok_optimizer_state_name(sgd, SIZE_MAX) == NULL);
    CHECK(ok_optimizer_state_shape(sgd, SIZE_MAX) == -1 && ok_optimizer_work_name(sgd, 0) == NULL);
    CHECK(ok_optimizer_required_states(NULL, &hp) == 0 && ok_optimizer_required_states(sgd, NULL) == 0);
    CHECK(ok_optimizer_check(NULL, &hp) == OK_ERR_NULL_POINTER && ok_optimizer_check(sgd, NULL) == OK_ERR_NULL_POINTER);
    double coeffs[64] = {0};
    CHECK(ok_optimizer_coefficients(NULL, &hp, coeffs) == OK_ERR_NULL_POINTER);
    CHECK(ok_optimizer_coefficients(sgd, NULL, coeffs) == OK_ERR_NULL_POINTER);
    CHECK(ok_optimizer_coefficients(sgd, &hp, NULL) == OK_ERR_NULL_POINTER);
    CHECK(ok_optimizer_coefficients(sgd, &hp, (char *)coeffs + 4) == OK_ERR_ALIGNMENT && coeffs[1] == 0.0);
    CHECK(ok_check_overlap(NULL, 1, NULL, NULL) == OK_ERR_NULL_POINTER);
    CHECK(ok_check_overlap(NULL, 0, NULL, NULL) == OK_SUCCESS);
}

/* ------------------------------------------------------------------ runtime */

static void test_runtime_arguments(void) {
    const ok_isa before = ok_get_isa();
    CHECK(ok_set_isa((ok_isa)OK_ISA_COUNT) == OK_ERR_UNSUPPORTED && ok_get_isa() == before);
    CHECK(ok_set_isa((ok_isa)-1) == OK_ERR_UNSUPPORTED && ok_get_isa() == before);
    ok_isa isa = before;
    CHECK(ok_isa_from_name("avx2", NULL) == OK_ERR_NULL_POINTER);
    CHECK(ok_isa_from_name("neon", &isa) == OK_ERR_UNSUPPORTED && isa == before);
    CHECK(ok_isa_name((ok_isa)-1) == NULL && (ok_isa_best() >> 0) < OK_ISA_COUNT);
    CHECK(ok_dtype_size((ok_dtype)-1) == 0 && ok_dtype_size((ok_dtype)OK_DTYPE_COUNT) == 0);
    CHECK(strcmp(ok_status_string((ok_status)99), "unknown status") == 0);
    for (int s = OK_SUCCESS; s <= OK_ERR_DOMAIN; s++)
        CHECK(strcmp(ok_status_string((ok_status)s), "unknown status") != 0);
    CHECK(ok_has_openmp() == 0 || ok_has_openmp() == 1);
    CHECK(ok_version() != NULL && strchr(ok_version(), '.') != NULL);
}

/* -------------------------------------------------------------------- vector */

static void test_vector_arguments(void) {
    canary c;
    fill(&c);
    double result = CANARY;
    size_t huge = HUGE_COUNT, n = N, halves[2] = {SIZE_MAX / 16, SIZE_MAX / 16};
    const void *x[2] = {c.d[0], c.d[1]};
    void *y[2] = {c.d[2], c.d[3]};
    REFUSED(ok_vec_dot(OK_FLOAT64, 1, &huge, x, x, &result), OK_ERR_SIZE, &c);
    REFUSED(ok_vec_dot(OK_FLOAT64, 2, halves, x, x, &result), OK_ERR_SIZE, &c);
    REFUSED(ok_vec_abs_sum(OK_FLOAT64, 1, &huge, x, &result), OK_ERR_SIZE, &c);
    REFUSED(ok_vec_abs_max(OK_FLOAT64, 2, halves, x, &result), OK_ERR_SIZE, &c);
    REFUSED(ok_vec_axpby(OK_FLOAT64, 1, &huge, 1.0, x, 1.0, y), OK_ERR_SIZE, &c);
    REFUSED(ok_vec_axpby(OK_FLOAT64, 2, halves, 1.0, x, 1.0, y), OK_ERR_SIZE, &c);
    REFUSED(ok_vec_abs_max((ok_dtype)9, 1, &n, x, &result), OK_ERR_UNSUPPORTED, &c);
    REFUSED(ok_vec_abs_sum(OK_FLOAT64, 1, NULL, x, &result), OK_ERR_NULL_POINTER, &c);
    REFUSED(ok_vec_axpby(OK_FLOAT64, 1, &n, 1.0, x, 1.0, NULL), OK_ERR_NULL_POINTER, &c);
    CHECK(result == CANARY);
}

/* -------------------------------------------------------------------- losses */

/* An elementwise loss by its generic entry point, its typed float32 one or
 * by name (the options o), on arrays of n elements in the canary: input
 * d[0]/f[0], target d[1]/f[1], loss d[2]/f[2], grad d[3]/f[3]; `grad`
 * replaces the gradient where not NULL. */
typedef ok_status (*ew_fn)(ok_dtype dtype, size_t n, canary *c, ok_reduction r, void *grad);

#define EW_ARRAYS(T, A) (const T *)c->A[0], (const T *)c->A[1]
#define EW_OUT(T, A) (T *)c->A[2], grad ? (T *)grad : (T *)c->A[3]
#define EW_GENERIC(A) dtype == OK_FLOAT64 ? (const void *)c->d[A] : (const void *)c->f[A]
#define EW_OUT_GENERIC (dtype == OK_FLOAT64 ? (void *)c->d[2] : (void *)c->f[2]), \
                       grad ? grad : (dtype == OK_FLOAT64 ? (void *)c->d[3] : (void *)c->f[3])

static ok_status mse(ok_dtype dtype, size_t n, canary *c, ok_reduction r, void *grad) {
    return ok_mse_loss(dtype, n, EW_GENERIC(0), EW_GENERIC(1), NULL, r, EW_OUT_GENERIC);
}
static ok_status mse_f32(ok_dtype dtype, size_t n, canary *c, ok_reduction r, void *grad) {
    (void)dtype;
    return ok_mse_loss_f32(n, EW_ARRAYS(float, f), NULL, r, EW_OUT(float, f));
}
static ok_status l1(ok_dtype dtype, size_t n, canary *c, ok_reduction r, void *grad) {
    return ok_l1_loss(dtype, n, EW_GENERIC(0), EW_GENERIC(1), NULL, r, EW_OUT_GENERIC);
}
static ok_status l1_f32(ok_dtype dtype, size_t n, canary *c, ok_reduction r, void *grad) {
    (void)dtype;
    return ok_l1_loss_f32(n, EW_ARRAYS(float, f), NULL, r, EW_OUT(float, f));
}
static ok_status l1_f64(ok_dtype dtype, size_t n, canary *c, ok_reduction r, void *grad) {
    (void)dtype;
    return ok_l1_loss_f64(n, EW_ARRAYS(double, d), NULL, r, EW_OUT(double, d));
}
static ok_status huber(ok_dtype dtype, size_t n, canary *c, ok_reduction r, void *grad) {
    return ok_huber_loss(dtype, n, EW_GENERIC(0), EW_GENERIC(1), NULL, 1.0, r, EW_OUT_GENERIC);
}
static ok_status huber_f32(ok_dtype dtype, size_t n, canary *c, ok_reduction r, void *grad) {
    (void)dtype;
    return ok_huber_loss_f32(n, EW_ARRAYS(float, f), NULL, 1.0, r, EW_OUT(float, f));
}
static ok_status huber_f64(ok_dtype dtype, size_t n, canary *c, ok_reduction r, void *grad) {
    (void)dtype;
    return ok_huber_loss_f64(n, EW_ARRAYS(double, d), NULL, 1.0, r, EW_OUT(double, d));
}
static ok_status smooth_l1(ok_dtype dtype, size_t n, canary *c, ok_reduction r, void *grad) {
    return ok_smooth_l1_loss(dtype, n, EW_GENERIC(0), EW_GENERIC(1), 1.0, r, EW_OUT_GENERIC);
}
static ok_status smooth_l1_f32(ok_dtype dtype, size_t n, canary *c, ok_reduction r, void *grad) {
    (void)dtype;
    return ok_smooth_l1_loss_f32(n, EW_ARRAYS(float, f), 1.0, r, EW_OUT(float, f));
}
static ok_status smooth_l1_f64(ok_dtype dtype, size_t n, canary *c, ok_reduction r, void *grad) {
    (void)dtype;
    return ok_smooth_l1_loss_f64(n, EW_ARRAYS(double, d), 1.0, r, EW_OUT(double, d));
}
static ok_status kl_div(ok_dtype dtype, size_t n, canary *c, ok_reduction r, void *grad) {
    return ok_kl_div(dtype, n, 1, EW_GENERIC(0), EW_GENERIC(1), 0, r, EW_OUT_GENERIC);
}
static ok_status kl_div_f32(ok_dtype dtype, size_t n, canary *c, ok_reduction r, void *grad) {
    (void)dtype;
    return ok_kl_div_f32(n, 1, EW_ARRAYS(float, f), 0, r, EW_OUT(float, f));
}
static ok_status bce(ok_dtype dtype, size_t n, canary *c, ok_reduction r, void *grad) {
    return ok_binary_cross_entropy_with_logits(dtype, n, EW_GENERIC(0), EW_GENERIC(1), NULL, NULL, r,
                                               EW_OUT_GENERIC);
}
static ok_status bce_f32(ok_dtype dtype, size_t n, canary *c, ok_reduction r, void *grad) {
    (void)dtype;
    return ok_binary_cross_entropy_with_logits_f32(n, EW_ARRAYS(float, f), NULL, NULL, r, EW_OUT(float, f));
}
static ok_status bce_f64(ok_dtype dtype, size_t n, canary *c, ok_reduction r, void *grad) {
    (void)dtype;
    return ok_binary_cross_entropy_with_logits_f64(n, EW_ARRAYS(double, d), NULL, NULL, r, EW_OUT(double, d));
}
static ok_status by_name(ok_dtype dtype, size_t n, canary *c, ok_reduction r, void *grad) {
    return ok_elementwise_loss("l1_loss", dtype, n, EW_GENERIC(0), EW_GENERIC(1), NULL, r, EW_OUT_GENERIC);
}

/* Each elementwise entry point: a bad reduction, an unknown dtype (the
 * generic ones), a byte count that wraps, NULL input, a gradient
 * overlapping the target: each refused with nothing written; then the
 * call itself succeeds, writing (the canary can tell). */
static void test_elementwise_arguments(void) {
    const struct {
        ew_fn fn;
        ok_dtype dtype; /* the dtype a typed entry point has; OK_DTYPE_COUNT: generic */
    } calls[] = {{mse, OK_DTYPE_COUNT},       {mse_f32, OK_FLOAT32},    {l1, OK_DTYPE_COUNT},
                 {l1_f32, OK_FLOAT32},        {l1_f64, OK_FLOAT64},     {huber, OK_DTYPE_COUNT},
                 {huber_f32, OK_FLOAT32},     {huber_f64, OK_FLOAT64},  {smooth_l1, OK_DTYPE_COUNT},
                 {smooth_l1_f32, OK_FLOAT32}, {smooth_l1_f64, OK_FLOAT64}, {kl_div, OK_DTYPE_COUNT},
                 {kl_div_f32, OK_FLOAT32},    {bce, OK_DTYPE_COUNT},    {bce_f32, OK_FLOAT32},
                 {bce_f64, OK_FLOAT64},       {by_name, OK_DTYPE_COUNT}};
    for (size_t k = 0; k < sizeof calls / sizeof calls[0]; k++) {
        const int generic = calls[k].dtype == OK_DTYPE_COUNT;
        const ok_dtype dtype = generic ? OK_FLOAT32 : calls[k].dtype;
        const int before = failures;
        canary c;
        fill(&c);
        void *target = dtype == OK_FLOAT64 ? (void *)c.d[1] : (void *)c.f[1];
        REFUSED(calls[k].fn(dtype, N, &c, (ok_reduction)7, NULL), OK_ERR_HYPERPARAMETER, &c);
        REFUSED(calls[k].fn(dtype, HUGE_COUNT, &c, OK_REDUCTION_SUM, NULL), OK_ERR_SIZE, &c);
        REFUSED(calls[k].fn(dtype, N, &c, OK_REDUCTION_SUM, (char *)target + 8), OK_ERR_ALIASING, &c);
        if (generic) REFUSED(calls[k].fn((ok_dtype)4, N, &c, OK_REDUCTION_SUM, NULL), OK_ERR_UNSUPPORTED, &c);
        if (failures > before) printf("  (elementwise entry point %zu)\n", k);
        for (int i = 0; i < N; i++) c.d[1][i] = c.f[1][i] = 0.5f; /* a target kl_div and bce take */
        CHECK(calls[k].fn(dtype, N, &c, OK_REDUCTION_NONE, NULL) == OK_SUCCESS);
        CHECK(!intact(&c));
    }
    canary c;
    fill(&c);
    const ok_bcast wide = {c.d[4], 1, SIZE_MAX / 4}; /* a pos_weight no memory holds */
    REFUSED(ok_binary_cross_entropy_with_logits_f64(N, c.d[0], c.d[1], NULL, &wide, OK_REDUCTION_SUM, c.d[2], c.d[3]),
            OK_ERR_SIZE, &c);
    REFUSED(ok_mse_loss_f64(N, NULL, c.d[1], NULL, OK_REDUCTION_SUM, c.d[2], c.d[3]), OK_ERR_NULL_POINTER, &c);
    REFUSED(ok_elementwise_loss(NULL, OK_FLOAT64, N, c.d[0], c.d[1], NULL, OK_REDUCTION_SUM, c.d[2], c.d[3]),
            OK_ERR_NULL_POINTER, &c);
    REFUSED(ok_elementwise_loss("mse", OK_FLOAT64, N, c.d[0], c.d[1], NULL, OK_REDUCTION_SUM, c.d[2], c.d[3]),
            OK_ERR_UNSUPPORTED, &c);
}

/* The row losses (class targets all 0, in int64 or int32):
 * sizes whose product wraps, bad index types, reductions and options,
 * class targets out of range, NULL and overlapping arrays. */
static void test_row_arguments(void) {
    canary c;
    fill(&c);
    int64_t y64[N] = {0};
    int32_t y32[N] = {0};
    canary saved = c;
#define ROWS_INTACT (memcmp(&c, &saved, sizeof c) == 0)
    ok_cross_entropy_options o = OK_CROSS_ENTROPY_DEFAULTS;
    const size_t wrap_n = SIZE_MAX / 4 + 1, wrap_c = 4; /* n * c wraps to 0 */
    CHECK(ok_cross_entropy(OK_FLOAT64, wrap_n, wrap_c, 1, c.d[0], y64, OK_INDEX_INT64, &o, c.d[2], c.d[3]) ==
              OK_ERR_SIZE && ROWS_INTACT);
    CHECK(ok_cross_entropy_f32(4, 4, SIZE_MAX / 2, c.f[0], y32, OK_INDEX_INT32, &o, c.f[2], c.f[3]) == OK_ERR_SIZE &&
          ROWS_INTACT);
    CHECK(ok_cross_entropy_probs_f32(wrap_n, wrap_c, 1, c.f[0], c.f[1], &o, c.f[2], c.f[3]) == OK_ERR_SIZE &&
          ROWS_INTACT);
    CHECK(ok_nll_loss_f32(wrap_n, wrap_c, 1, c.f[0], y32, OK_INDEX_INT32, NULL, -100, OK_REDUCTION_SUM, c.f[2],
                          c.f[3]) == OK_ERR_SIZE && ROWS_INTACT);
    CHECK(ok_nll_loss_f64(2, SIZE_MAX / 4, 1, c.d[0], y64, OK_INDEX_INT64, c.d[4], -100, OK_REDUCTION_SUM, c.d[2],
                          c.d[3]) == OK_ERR_SIZE && ROWS_INTACT);
    CHECK(ok_cross_entropy_f64(2, 4, 1, c.d[0], y64, (ok_index_type)2, &o, c.d[2], c.d[3]) == OK_ERR_HYPERPARAMETER &&
          ROWS_INTACT);
    CHECK(ok_nll_loss(OK_FLOAT64, 2, 4, 1, c.d[0], y64, OK_INDEX_INT64, NULL, -100, OK_REDUCTION_BATCHMEAN, c.d[2],
                      c.d[3]) == OK_ERR_HYPERPARAMETER && ROWS_INTACT);
    const double bad_options[][3] = {{NAN, 0, 0}, {1.5, 0, 0}, {0, -1, 0}, {0, INFINITY, 0}, {0, 0, -1}, {0, 0, NAN}};
    for (size_t k = 0; k < sizeof bad_options / sizeof bad_options[0]; k++) {
        ok_cross_entropy_options b = o;
        b.label_smoothing = bad_options[k][0], b.z_loss = bad_options[k][1], b.softcap = bad_options[k][2];
        CHECK(ok_cross_entropy_probs(OK_FLOAT64, 2, 4, 1, c.d[0], c.d[5], &b, c.d[2], c.d[3]) ==
                  OK_ERR_HYPERPARAMETER && ROWS_INTACT);
    }
    y64[1] = 4; /* not in [0, 4) */
    CHECK(ok_cross_entropy_f64(2, 4, 1, c.d[0], y64, OK_INDEX_INT64, &o, c.d[2], c.d[3]) == OK_ERR_INDEX && ROWS_INTACT);
    CHECK(ok_nll_loss_f64(2, 4, 1, c.d[0], y64, OK_INDEX_INT64, NULL, -100, OK_REDUCTION_SUM, c.d[2], c.d[3]) ==
              OK_ERR_INDEX && ROWS_INTACT);
    y64[1] = 0;
    CHECK(ok_cross_entropy_f64(2, 4, 1, c.d[0], NULL, OK_INDEX_INT64, &o, c.d[2], c.d[3]) == OK_ERR_NULL_POINTER &&
          ROWS_INTACT);
    CHECK(ok_cross_entropy_probs_f64(2, 4, 1, c.d[0], c.d[5], &o, c.d[2], c.d[5] + 1) == OK_ERR_ALIASING && ROWS_INTACT);
    CHECK(ok_nll_loss_f32(2, 4, 1, c.f[0], y32, OK_INDEX_INT32, NULL, -100, OK_REDUCTION_SUM, c.f[0] + 2, c.f[3]) ==
              OK_ERR_ALIASING && ROWS_INTACT);
    CHECK(ok_cross_entropy((ok_dtype)9, 2, 4, 1, c.d[0], y64, OK_INDEX_INT64, &o, c.d[2], c.d[3]) ==
              OK_ERR_UNSUPPORTED && ROWS_INTACT);
    /* the same calls, nothing wrong with them, succeed and write */
    CHECK(ok_cross_entropy_probs_f32(2, 4, 1, c.f[0], c.f[5], &o, c.f[2], c.f[3]) == OK_SUCCESS && !ROWS_INTACT);
    saved = c;
    CHECK(ok_nll_loss_f32(2, 4, 1, c.f[0], y32, OK_INDEX_INT32, NULL, -100, OK_REDUCTION_SUM, c.f[2], c.f[6]) ==
              OK_SUCCESS && !ROWS_INTACT);
#undef ROWS_INTACT
}

int main(void) {
    ok_set_num_threads(2);
    test_defaults_cover_registry();
    test_hyperparameter_ranges();
    test_optimizer_step_arguments();
    test_step_options();
    test_eightbit();
    test_typed_optimizers();
    test_descriptor_accessors();
    test_runtime_arguments();
    test_vector_arguments();
    test_elementwise_arguments();
    test_row_arguments();
    if (failures) printf("%d checks failed\n", failures);
    printf("errors_c_api: %d failures\n", failures);
    return failures != 0;
}
