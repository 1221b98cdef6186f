/*
 * The C library on its own: preconditions return status codes and write
 * nothing, updates and losses compute the documented rule (the losses
 * against closed forms in double), instruction sets switch.
 * Built and run by tests/test_c_api.py; prints one line per failed check and
 * exits non-zero if any failed.
 */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "optkern/optkern.h"
#include "optkern/optkern_capi.h" /* linked (OPTKERN_LINKED): no Python */

#include "check.h"

#if defined(__unix__) || defined(__APPLE__)
#include <sys/wait.h>
#include <unistd.h>
#define HAVE_FORK 1
#endif

#define N 37

/* |got - want| within tol, relatively (want may be 0). */
static int close_to(double got, double want, double tol) { return fabs(got - want) <= tol * (1.0 + fabs(want)); }

static void test_adam_rule(void) {
    float p[N], g[N], m[N], v[N];
    for (int i = 0; i < N; i++) {
        p[i] = (float)(i - 18) / 7.0f;
        g[i] = (float)((i * 7) % 11 - 5) / 3.0f;
        m[i] = v[i] = 0.0f;
    }
    float p0[N];
    memcpy(p0, p, sizeof p);
    ok_adam_hparams hp = OK_ADAM_DEFAULTS;
    hp.lr = 0.01;
    size_t numel = N;
    float *pp = p, *mp = m, *vp = v;
    const float *gp = g;
    CHECK(ok_adam_f32(&hp, 1, NULL, 1, &numel, &pp, &gp, &mp, &vp, NULL) == OK_SUCCESS);
    for (int i = 0; i < N; i++) {
        /* First step: m = 0.1 g, v = 0.001 g^2, both bias-corrected to g and g^2. */
        double gi = g[i];
        double want = p0[i] - 0.01 * gi / (fabs(gi) + 1e-8);
        CHECK(fabs(p[i] - want) <= 1e-6 * (1 + fabs(want)));
        CHECK(fabsf(m[i] - 0.1f * g[i]) <= 1e-7f);
    }
}

static void test_preconditions_write_nothing(void) {
    double p[N], g[N], b[N];
    for (int i = 0; i < N; i++) p[i] = g[i] = b[i] = 1.0;
    size_t numel = N;
    double *pp = p, *bp = b;
    const double *gp = g;
    ok_sgd_hparams hp = OK_SGD_DEFAULTS;
    hp.momentum = 0.9;

    ok_sgd_hparams bad = hp;
    bad.lr = -1;
    CHECK(ok_sgd_f64(&bad, 1, NULL, 1, &numel, &pp, &gp, &bp) == OK_ERR_HYPERPARAMETER);
    bad = hp;
    bad.lr = NAN;
    CHECK(ok_sgd_f64(&bad, 1, NULL, 1, &numel, &pp, &gp, &bp) == OK_ERR_HYPERPARAMETER);
    bad = hp;
    bad.nesterov = 1;
    bad.dampening = 0.5;
    CHECK(ok_sgd_f64(&bad, 1, NULL, 1, &numel, &pp, &gp, &bp) == OK_ERR_HYPERPARAMETER);

    CHECK(ok_sgd_f64(NULL, 1, NULL, 1, &numel, &pp, &gp, &bp) == OK_ERR_NULL_POINTER);
    CHECK(ok_sgd_f64(&hp, 1, NULL, 1, &numel, &pp, &gp, NULL) == OK_ERR_NULL_POINTER); /* momentum needs b */
    double *null_param = NULL;
    CHECK(ok_sgd_f64(&hp, 1, NULL, 1, &numel, &null_param, &gp, &bp) == OK_ERR_NULL_POINTER);

    uint32_t index = 1; /* only one set */
    CHECK(ok_sgd_f64(&hp, 1, &index, 1, &numel, &pp, &gp, &bp) == OK_ERR_INDEX);
    CHECK(ok_sgd_f64(&hp, 0, NULL, 1, &numel, &pp, &gp, &bp) == OK_ERR_INDEX);

    const double *alias = p; /* grad is the parameter */
    CHECK(ok_sgd_f64(&hp, 1, NULL, 1, &numel, &pp, &alias, &bp) == OK_ERR_ALIASING);
    double *buf_alias = p + 3; /* buffer overlaps the parameter */
    CHECK(ok_sgd_f64(&hp, 1, NULL, 1, &numel, &pp, &gp, &buf_alias) == OK_ERR_ALIASING);

    for (int i = 0; i < N; i++) CHECK(p[i] == 1.0 && b[i] == 1.0);

    /* momentum == 0 needs no buffer; nothing to do is fine too */
    hp.momentum = 0;
    CHECK(ok_sgd_f64(&hp, 1, NULL, 1, &numel, &pp, &gp, NULL) == OK_SUCCESS);
    CHECK(fabs(p[0] - (1.0 - 1e-3)) < 1e-15);
    CHECK(ok_sgd_f64(NULL, 0, NULL, 0, NULL, NULL, NULL, NULL) == OK_SUCCESS);

    ok_adam_hparams ahp = OK_ADAM_DEFAULTS;
    ahp.step = 0;
    CHECK(ok_adam_check(&ahp) == OK_ERR_HYPERPARAMETER);
    ahp.step = 1;
    ahp.beta2 = 1.0;
    CHECK(ok_adam_check(&ahp) == OK_ERR_HYPERPARAMETER);
}

/* One call over a float32 and a float64 tensor: each updated in its own
 * dtype, exactly as the typed entry points update it. */
static void test_mixed_dtypes(void) {
    float p32[N], g32[N], m32[N], v32[N], q32[N], n32[N], w32[N];
    double p64[N], g64[N], m64[N], v64[N], q64[N], n64[N], w64[N];
    for (int i = 0; i < N; i++) {
        p32[i] = q32[i] = (float)i / 5.0f;
        g32[i] = (float)(i % 7) - 3.0f;
        p64[i] = q64[i] = (double)i / 3.0;
        g64[i] = (double)(i % 5) - 2.0;
        m32[i] = v32[i] = n32[i] = w32[i] = 0.0f;
        m64[i] = v64[i] = n64[i] = w64[i] = 0.0;
    }
    ok_adam_hparams hp = OK_ADAM_DEFAULTS;
    size_t numel[2] = {N, N};
    ok_dtype dtype[2] = {OK_FLOAT32, OK_FLOAT64};
    void *param[2] = {p32, p64}, *m[2] = {m32, m64}, *v[2] = {v32, v64};
    const void *grad[2] = {g32, g64};
    CHECK(ok_adam(&hp, 1, NULL, 2, numel, dtype, param, grad, m, v, NULL) == OK_SUCCESS);
    float *qp32 = q32, *np32 = n32, *wp32 = w32;
    const float *gp32 = g32;
    double *qp64 = q64, *np64 = n64, *wp64 = w64;
    const double *gp64 = g64;
    size_t one = N;
    CHECK(ok_adam_f32(&hp, 1, NULL, 1, &one, &qp32, &gp32, &np32, &wp32, NULL) == OK_SUCCESS);
    CHECK(ok_adam_f64(&hp, 1, NULL, 1, &one, &qp64, &gp64, &np64, &wp64, NULL) == OK_SUCCESS);
    CHECK(memcmp(p32, q32, sizeof p32) == 0 && memcmp(p64, q64, sizeof p64) == 0);

    ok_dtype bad[2] = {OK_FLOAT32, (ok_dtype)7};
    CHECK(ok_adam(&hp, 1, NULL, 2, numel, bad, param, grad, m, v, NULL) == OK_ERR_UNSUPPORTED);
    CHECK(ok_adam(&hp, 1, NULL, 2, numel, NULL, param, grad, m, v, NULL) == OK_ERR_NULL_POINTER);
    CHECK(memcmp(p32, q32, sizeof p32) == 0); /* the valid first tensor was not touched either */
}

static void test_overlap_check(void) {
    char buf[100];
    ok_span spans[3] = {
        {(uintptr_t)buf, (uintptr_t)buf + 40, 0, 1},
        {(uintptr_t)buf + 40, (uintptr_t)buf + 80, 1, 1},
        {(uintptr_t)buf + 80, (uintptr_t)buf + 100, 2, 0},
    };
    size_t a = 99, b = 99;
    CHECK(ok_check_overlap(spans, 3, &a, &b) == OK_SUCCESS);
    ok_span reads[2] = {
        {(uintptr_t)buf, (uintptr_t)buf + 50, 0, 0},
        {(uintptr_t)buf + 10, (uintptr_t)buf + 20, 1, 0},
    };
    CHECK(ok_check_overlap(reads, 2, &a, &b) == OK_SUCCESS); /* two readers may share */
    ok_span clash[3] = {
        {(uintptr_t)buf + 60, (uintptr_t)buf + 70, 7, 0},
        {(uintptr_t)buf, (uintptr_t)buf + 50, 5, 0},
        {(uintptr_t)buf + 45, (uintptr_t)buf + 55, 6, 1},
    };
    CHECK(ok_check_overlap(clash, 3, &a, &b) == OK_ERR_ALIASING);
    CHECK((a == 5 && b == 6) || (a == 6 && b == 5));
    /* The clash is not between neighbours in sorted order: a long read-only
     * span, a short one inside it, then a written one inside the first. */
    ok_span far[3] = {
        {(uintptr_t)buf, (uintptr_t)buf + 100, 0, 0},
        {(uintptr_t)buf + 10, (uintptr_t)buf + 20, 1, 0},
        {(uintptr_t)buf + 30, (uintptr_t)buf + 40, 2, 1},
    };
    CHECK(ok_check_overlap(far, 3, &a, &b) == OK_ERR_ALIASING);
    CHECK((a == 0 && b == 2) || (a == 2 && b == 0));
}

/* ok_sgd_f32 computes torch's SGD with momentum: the first step copies g
 * into the buffer (no dampening), the second damps it. */
static void test_sgd_rule(void) {
    float p[N], g[N], b[N];
    for (int i = 0; i < N; i++) p[i] = (float)i / 4.0f, g[i] = (float)(i % 5) - 2.0f, b[i] = -7.0f;
    ok_sgd_hparams hp = OK_SGD_DEFAULTS;
    hp.lr = 0.5, hp.momentum = 0.5, hp.dampening = 0.25, hp.first_step = 1;
    size_t numel = N;
    float *pp = p, *bp = b;
    const float *gp = g;
    CHECK(ok_sgd_f32(&hp, 1, NULL, 1, &numel, &pp, &gp, &bp) == OK_SUCCESS);
    for (int i = 0; i < N; i++) CHECK(b[i] == g[i] && p[i] == (float)i / 4.0f - 0.5f * g[i]);
    hp.first_step = 0;
    CHECK(ok_sgd_f32(&hp, 1, NULL, 1, &numel, &pp, &gp, &bp) == OK_SUCCESS);
    for (int i = 0; i < N; i++) {
        float buf = 0.5f * g[i] + 0.75f * g[i]; /* mu b + (1 - dampening) g, exact in float */
        CHECK(b[i] == buf && fabsf(p[i] - ((float)i / 4.0f - 0.5f * g[i] - 0.5f * buf)) <= 1e-6f);
    }
}

/* Set field `name` of a hyperparameter struct through the descriptor's
 * table, as a binding does. */
static int set_field(const ok_optimizer *opt, void *hp, const char *name, double value) {
    for (size_t k = 0; k < ok_optimizer_field_count(opt); k++) {
        const ok_field *f = ok_optimizer_field(opt, k);
        if (strcmp(f->name, name) != 0) continue;
        char *at = (char *)hp + f->offset;
        if (f->type == OK_FIELD_DOUBLE) *(double *)at = value;
        else if (f->type == OK_FIELD_INT) *(int *)at = value != 0;
        else *(int64_t *)at = (int64_t)value;
        return 1;
    }
    return 0;
}

/* The optimizers described by data: the registry, the fields and states,
 * the required-state rule, and ok_optimizer_step doing exactly what the
 * typed entry point does. */
static void test_optimizer_descriptors(void) {
    CHECK(ok_optimizer_count() >= 2);
    CHECK(ok_optimizer_at(ok_optimizer_count()) == NULL && ok_optimizer_find("nope") == NULL);
    for (size_t i = 0; i < ok_optimizer_count(); i++)
        CHECK(ok_optimizer_find(ok_optimizer_name(ok_optimizer_at(i))) == ok_optimizer_at(i));
    const ok_optimizer *adam = ok_optimizer_find("adam"), *sgd = ok_optimizer_find("sgd");
    CHECK(adam && sgd);
    if (!adam || !sgd) return;
    CHECK(ok_optimizer_hparams_size(adam) == sizeof(ok_adam_hparams));
    CHECK(ok_optimizer_field_count(adam) == 9 && ok_optimizer_field(adam, 9) == NULL);
    CHECK(strcmp(ok_optimizer_field(adam, 0)->name, "lr") == 0 && ok_optimizer_field(adam, 0)->type == OK_FIELD_DOUBLE);
    CHECK(ok_optimizer_state_count(adam) == 3 && strcmp(ok_optimizer_state_name(adam, 2), "max_exp_avg_sq") == 0);
    CHECK(ok_optimizer_state_count(sgd) == 1 && strcmp(ok_optimizer_state_name(sgd, 0), "momentum_buffer") == 0);

    ok_adam_hparams hp = OK_ADAM_DEFAULTS;
    CHECK(set_field(adam, &hp, "lr", 0.01) && set_field(adam, &hp, "step", 3) && set_field(adam, &hp, "amsgrad", 1));
    CHECK(!set_field(adam, &hp, "nope", 1.0));
    CHECK(hp.lr == 0.01 && hp.step == 3 && hp.amsgrad == 1 && hp.beta1 == 0.9 && hp.eps == 1e-8);
    CHECK(ok_optimizer_required_states(adam, &hp) == 7u);
    hp.amsgrad = 0;
    CHECK(ok_optimizer_required_states(adam, &hp) == 3u);
    ok_sgd_hparams shp = OK_SGD_DEFAULTS;
    CHECK(ok_optimizer_required_states(sgd, &shp) == 0u);
    shp.momentum = 0.9;
    CHECK(ok_optimizer_required_states(sgd, &shp) == 1u);

    char coeffs[512];
    CHECK(ok_optimizer_coefficients_size(adam) > 0 && ok_optimizer_coefficients_size(adam) <= sizeof coeffs);
    CHECK(ok_optimizer_coefficients(adam, &hp, coeffs) == OK_SUCCESS);
    hp.beta1 = 1.0;
    CHECK(ok_optimizer_check(adam, &hp) == OK_ERR_HYPERPARAMETER);
    CHECK(ok_optimizer_coefficients(adam, &hp, coeffs) == OK_ERR_HYPERPARAMETER);
    hp.beta1 = 0.9;

    float p[N], q[N], g[N], m[N], v[N], m2[N], v2[N];
    for (int i = 0; i < N; i++) {
        p[i] = q[i] = (float)(i - 9) / 3.0f;
        g[i] = (float)((i * 5) % 7) - 3.0f;
        m[i] = v[i] = m2[i] = v2[i] = 0.25f;
    }
    size_t numel = N;
    ok_dtypes dtypes = {OK_FLOAT32, OK_FLOAT32, OK_FLOAT32};
    void *param[1] = {p}, *ms[1] = {m}, *vs[1] = {v};
    const void *grad[1] = {g};
    void *const *streams[] = {param, (void *const *)grad, ms, vs, NULL};
    CHECK(ok_optimizer_step(adam, &hp, 1, NULL, 1, &numel, &dtypes, streams) == OK_SUCCESS);
    float *qp = q, *mp = m2, *vp = v2;
    const float *gp = g;
    CHECK(ok_adam_f32(&hp, 1, NULL, 1, &numel, &qp, &gp, &mp, &vp, NULL) == OK_SUCCESS);
    CHECK(memcmp(p, q, sizeof p) == 0 && memcmp(m, m2, sizeof m) == 0 && memcmp(v, v2, sizeof v) == 0);

    /* A signature no kernel variant covers, and a missing required state:
     * refused, nothing written. */
    ok_dtypes mixed = {OK_FLOAT32, OK_FLOAT64, OK_FLOAT32};
    CHECK(ok_optimizer_step(adam, &hp, 1, NULL, 1, &numel, &mixed, streams) == OK_ERR_UNSUPPORTED);
    hp.amsgrad = 1;
    CHECK(ok_optimizer_step(adam, &hp, 1, NULL, 1, &numel, &dtypes, streams) == OK_ERR_NULL_POINTER);
    CHECK(memcmp(p, q, sizeof p) == 0 && memcmp(m, m2, sizeof m) == 0);
    CHECK(ok_optimizer_step(NULL, &hp, 1, NULL, 1, &numel, &dtypes, streams) == OK_ERR_NULL_POINTER);
    CHECK(ok_dtype_size(OK_FLOAT32) == 4 && ok_dtype_size(OK_FLOAT64) == 8 && ok_dtype_size((ok_dtype)9) == 0);
}

/* Adafactor through the shaped entry point: a 2 x 2 matrix at t = 1 (the
 * factors are the row and column means of g^2, V = r c / mean(r)) and a
 * vector (V = g^2, U = sign(g)); its state shapes; its preconditions. */
static void test_adafactor_shaped(void) {
    const ok_optimizer *af = ok_optimizer_find("adafactor");
    CHECK(af != NULL);
    if (!af) return;
    CHECK(ok_optimizer_state_count(af) == 3 && strcmp(ok_optimizer_state_name(af, 0), "row_var") == 0);
    CHECK(ok_optimizer_state_shape(af, 0) == OK_STATE_ROWS && ok_optimizer_state_shape(af, 1) == OK_STATE_COLS &&
          ok_optimizer_state_shape(af, 2) == OK_STATE_VECTOR && ok_optimizer_state_shape(af, 3) == -1);
    CHECK(ok_optimizer_state_shape(ok_optimizer_find("adam"), 0) == OK_STATE_PARAM);
    ok_adafactor_hparams hp = OK_ADAFACTOR_DEFAULTS;
    CHECK(ok_optimizer_check(af, &hp) == OK_SUCCESS && hp.eps1_machine && hp.lr == 1e-2 && hp.d == 1.0);

    double p[4] = {1, -2, 3, 4}, g[4] = {1, 2, 3, 4}, row[2] = {7, 7}, col[2] = {7, 7};
    size_t dims[2] = {2, 2};
    ok_shape shape = {2, dims};
    ok_dtypes dtypes = {OK_FLOAT64, OK_FLOAT64, OK_FLOAT64};
    void *param[1] = {p}, *rows[1] = {row}, *cols[1] = {col};
    const void *grad[1] = {g};
    void *const *streams[] = {param, (void *const *)grad, rows, cols, NULL};
    /* refused, nothing written: no shapes, a missing factor, overlapping factors */
    CHECK(ok_optimizer_step_shaped(af, &hp, 1, NULL, 1, NULL, &dtypes, streams) == OK_ERR_NULL_POINTER);
    ok_shape no_dims = {2, NULL};
    CHECK(ok_optimizer_step_shaped(af, &hp, 1, NULL, 1, &no_dims, &dtypes, streams) == OK_ERR_NULL_POINTER);
    void *const *no_cols[] = {param, (void *const *)grad, rows, NULL, NULL};
    CHECK(ok_optimizer_step_shaped(af, &hp, 1, NULL, 1, &shape, &dtypes, no_cols) == OK_ERR_NULL_POINTER);
    double both[3] = {7, 7, 7};
    void *r3[1] = {both}, *c3[1] = {both + 1};
    void *const *overlapping[] = {param, (void *const *)grad, r3, c3, NULL};
    CHECK(ok_optimizer_step_shaped(af, &hp, 1, NULL, 1, &shape, &dtypes, overlapping) == OK_ERR_ALIASING);
    CHECK(p[1] == -2 && row[0] == 7 && col[1] == 7 && both[1] == 7);

    CHECK(ok_optimizer_step_shaped(af, &hp, 1, NULL, 1, &shape, &dtypes, streams) == OK_SUCCESS);
    CHECK(row[0] == 2.5 && row[1] == 12.5 && col[0] == 5 && col[1] == 10);
    double alpha = sqrt(7.5) * 0.01, p0[4] = {1, -2, 3, 4}, v[4] = {12.5 / 7.5, 25 / 7.5, 62.5 / 7.5, 125 / 7.5};
    for (int i = 0; i < 4; i++) /* RMS(U) = sqrt(0.96) < d: no clipping */
        CHECK(fabs(p[i] - (p0[i] - alpha * g[i] / sqrt(v[i]))) <= 1e-15 * (1 + fabs(p0[i])));

    /* ok_optimizer_step takes every tensor as a vector: the variance */
    double q[4] = {1, -2, 3, 4}, h[4] = {1, -2, 0.5, 4}, var[4] = {0, 0, 0, 0};
    size_t numel = 4;
    void *qs[1] = {q}, *vs[1] = {var};
    const void *hs[1] = {h};
    void *const *flat[] = {qs, (void *const *)hs, NULL, NULL, vs};
    CHECK(ok_optimizer_step(af, &hp, 1, NULL, 1, &numel, &dtypes, flat) == OK_SUCCESS);
    for (int i = 0; i < 4; i++) {
        CHECK(var[i] == h[i] * h[i]);
        CHECK(fabs(q[i] - (p0[i] - alpha * (h[i] > 0 ? 1 : -1))) <= 1e-15 * (1 + fabs(p0[i])));
    }

    /* an elementwise optimizer runs the same through the shaped entry */
    const ok_optimizer *adam = ok_optimizer_find("adam");
    ok_adam_hparams ahp = OK_ADAM_DEFAULTS;
    double a[4] = {1, 2, 3, 4}, b[4] = {1, 2, 3, 4}, m1[4] = {0}, v1[4] = {0}, m2[4] = {0}, v2[4] = {0};
    void *as[1] = {a}, *bs[1] = {b}, *m1s[1] = {m1}, *v1s[1] = {v1}, *m2s[1] = {m2}, *v2s[1] = {v2};
    void *const *sa[] = {as, (void *const *)hs, m1s, v1s, NULL}, *const *sb[] = {bs, (void *const *)hs, m2s, v2s, NULL};
    CHECK(ok_optimizer_step_shaped(adam, &ahp, 1, NULL, 1, &shape, &dtypes, sa) == OK_SUCCESS);
    CHECK(ok_optimizer_step(adam, &ahp, 1, NULL, 1, &numel, &dtypes, sb) == OK_SUCCESS);
    CHECK(memcmp(a, b, sizeof a) == 0 && memcmp(m1, m2, sizeof m1) == 0);
}

/* Scalar states (NAdam's mu_product): one float per tensor, present and
 * advanced even for an empty tensor, not read on step 1, checked for
 * aliasing as 4 bytes; the update against its closed form on step 1. */
static void test_scalar_states(void) {
    const ok_optimizer *nadam = ok_optimizer_find("nadam"), *adam = ok_optimizer_find("adam");
    CHECK(nadam && adam);
    if (!nadam || !adam) return;
    CHECK(ok_optimizer_state_count(nadam) == 3 && strcmp(ok_optimizer_state_name(nadam, 2), "mu_product") == 0);
    CHECK(ok_optimizer_state_is_scalar(nadam, 2) && !ok_optimizer_state_is_scalar(nadam, 0));
    CHECK(!ok_optimizer_state_is_scalar(nadam, 3) && !ok_optimizer_state_is_scalar(adam, 0));

    float p[N], g[N], m[N], v[N], mu_product[2] = {123.0f, -4.0f}; /* step 1 does not read them */
    for (int i = 0; i < N; i++) {
        p[i] = (float)(i - 18) / 7.0f;
        g[i] = (float)((i * 7) % 11 - 5) / 3.0f;
        m[i] = v[i] = 0.0f;
    }
    ok_nadam_hparams hp = OK_NADAM_DEFAULTS;
    size_t numel[2] = {0, N};
    ok_dtypes dtypes[2] = {{OK_FLOAT32, OK_FLOAT32, OK_FLOAT32}, {OK_FLOAT32, OK_FLOAT32, OK_FLOAT32}};
    void *param[2] = {p, p}, *ms[2] = {m, m}, *vs[2] = {v, v}, *mus[2] = {NULL, &mu_product[1]};
    const void *grad[2] = {g, g};
    void *const *streams[] = {param, (void *const *)grad, ms, vs, mus};
    /* the empty tensor's scalar is missing, then it lies inside exp_avg: refused, nothing written */
    CHECK(ok_optimizer_step(nadam, &hp, 1, NULL, 2, numel, dtypes, streams) == OK_ERR_NULL_POINTER);
    mus[0] = &mu_product[0];
    mus[1] = &m[3];
    CHECK(ok_optimizer_step(nadam, &hp, 1, NULL, 2, numel, dtypes, streams) == OK_ERR_ALIASING);
    CHECK(mu_product[0] == 123.0f && m[3] == 0.0f && p[0] == -18.0f / 7.0f);
    mus[1] = &mu_product[1];
    float p0[N];
    memcpy(p0, p, sizeof p);
    CHECK(ok_optimizer_step(nadam, &hp, 1, NULL, 2, numel, dtypes, streams) == OK_SUCCESS);
    double mu1 = 0.9 * (1 - 0.5 * pow(0.96, 0.004)), mu2 = 0.9 * (1 - 0.5 * pow(0.96, 0.008));
    CHECK(mu_product[0] == (float)mu1 && mu_product[1] == (float)mu1);
    /* step 1: m = g/10, v = g^2/1000, v/(1 - beta2) = g^2: denom = |g| + eps, and
     * p - lr (1 - mu1)/(1 - mu1) sign(g) - lr mu2/(1 - mu1 mu2) sign(g)/10 */
    for (int i = 0; i < N; i++) {
        double s = g[i] / (fabs(g[i]) + 1e-8);
        double want = p0[i] - 2e-3 * s - 2e-3 * mu2 / (1 - (float)mu1 * mu2) * 0.1 * s;
        CHECK(fabs(p[i] - want) <= 1e-6 * (1 + fabs(want)));
    }
    hp.step = 2;
    CHECK(ok_optimizer_step(nadam, &hp, 1, NULL, 2, numel, dtypes, streams) == OK_SUCCESS);
    CHECK(mu_product[0] == (float)mu1 * (float)mu2 && mu_product[1] == mu_product[0]);

    /* ASGD's two scalars: step 1 runs with eta = lr and mu = 1 (ax <- p),
     * then sets eta and mu from t = 1; step 2 reads them. */
    const ok_optimizer *asgd = ok_optimizer_find("asgd");
    CHECK(asgd && ok_optimizer_state_is_scalar(asgd, 1) && ok_optimizer_state_is_scalar(asgd, 2));
    if (!asgd) return;
    double q[2] = {1.0, -2.0}, dq[2] = {0.5, 0.25}, ax[2] = {7.0, 7.0};
    float mu = 5.0f, eta = 5.0f;
    ok_asgd_hparams ahp = OK_ASGD_DEFAULTS;
    ahp.t0 = 0.0;
    size_t two = 2;
    ok_dtypes f64 = {OK_FLOAT64, OK_FLOAT64, OK_FLOAT64};
    void *qs[1] = {q}, *axs[1] = {ax}, *mu_s[1] = {&mu}, *eta_s[1] = {&eta};
    const void *dqs[1] = {dq};
    void *const *asgd_streams[] = {qs, (void *const *)dqs, axs, mu_s, eta_s};
    CHECK(ok_optimizer_step(asgd, &ahp, 1, NULL, 1, &two, &f64, asgd_streams) == OK_SUCCESS);
    /* g = 0.5 makes eta * g exact: fused or not, one rounding each */
    double eta0 = (float)1e-2, eta1 = (float)(1e-2 / pow(1 + 1e-4 * 1e-2, 0.75));
    double p1 = 1.0 * (1 - 1e-4 * eta0) - eta0 * 0.5;
    CHECK(q[0] == p1 && ax[0] == q[0] && ax[1] == q[1]);
    CHECK(eta == (float)eta1 && mu == 1.0f);
    ahp.step = 2;
    CHECK(ok_optimizer_step(asgd, &ahp, 1, NULL, 1, &two, &f64, asgd_streams) == OK_SUCCESS);
    CHECK(q[0] == p1 * (1 - 1e-4 * eta1) - eta1 * 0.5);
    CHECK(mu == 0.5f && ax[0] == q[0]); /* mu was 1 at step 2: ax <- p; now 1 / max(1, 2 - 0) */
}

/* Rprop's closed forms: the first step moves by lr against the gradient's
 * sign; a kept sign grows the step by etaplus, a flipped one shrinks it by
 * etaminus, leaves the parameter and sets prev to 0. */
static void test_rprop_rule(void) {
    const ok_optimizer *rprop = ok_optimizer_find("rprop");
    CHECK(rprop != NULL);
    if (!rprop) return;
    double p[3] = {1.0, 1.0, 1.0}, g[3] = {2.0, -0.5, 0.0}, prev[3], size[3];
    ok_rprop_hparams hp = OK_RPROP_DEFAULTS;
    hp.first_step = 1;
    size_t numel = 3;
    ok_dtypes dtypes = {OK_FLOAT64, OK_FLOAT64, OK_FLOAT64};
    void *param[1] = {p}, *prevs[1] = {prev}, *sizes[1] = {size};
    const void *grad[1] = {g};
    void *const *streams[] = {param, (void *const *)grad, prevs, sizes};
    CHECK(ok_optimizer_step(rprop, &hp, 1, NULL, 1, &numel, &dtypes, streams) == OK_SUCCESS);
    CHECK(p[0] == 1.0 - 0.01 && p[1] == 1.0 + 0.01 && p[2] == 1.0);
    CHECK(size[0] == 0.01 && size[2] == 0.01 && prev[0] == 2.0 && prev[2] == 0.0);
    hp.first_step = 0;
    g[1] = 0.25;  /* flips */
    CHECK(ok_optimizer_step(rprop, &hp, 1, NULL, 1, &numel, &dtypes, streams) == OK_SUCCESS);
    CHECK(p[0] == 1.0 - 0.01 - 0.01 * 1.2 && size[0] == 0.01 * 1.2);
    CHECK(p[1] == 1.0 + 0.01 && size[1] == 0.01 * 0.5 && prev[1] == 0.0);
    hp.etaminus = 1.0;
    CHECK(ok_optimizer_check(rprop, &hp) == OK_ERR_HYPERPARAMETER);
}

/* One float64 tensor of N elements updated by the optimizer `name` through
 * ok_optimizer_step (the optimizers without typed entry points); states:
 * its state arrays in stream order, NULL where absent. */
static ok_status step_by_name(const char *name, const void *hp, double *p, const double *g, double *const *states) {
    const ok_optimizer *opt = ok_optimizer_find(name);
    if (!opt) return OK_ERR_NULL_POINTER;
    size_t numel = N;
    ok_dtypes dtypes = {OK_FLOAT64, OK_FLOAT64, OK_FLOAT64};
    void *param[1] = {p}, *lists[3][1];
    const void *grad[1] = {g};
    void *const *streams[5] = {param, (void *const *)grad, NULL, NULL, NULL};
    for (size_t k = 0; k < ok_optimizer_state_count(opt) && k < 3; k++) {
        lists[k][0] = states[k];
        if (states[k]) streams[2 + k] = lists[k];
    }
    return ok_optimizer_step(opt, hp, 1, NULL, 1, &numel, &dtypes, streams);
}

/* The inputs of the closed-form checks below: p (and its copy p0) and g,
 * and each of the n state arrays filled with `start`. */
static void rule_inputs(double *p, double *p0, double *g, double *const *states, size_t n, double start) {
    for (int i = 0; i < N; i++) {
        p[i] = p0[i] = (double)(i - 18) / 7.0;
        g[i] = (double)((i * 7) % 11 - 5) / 3.0;
        for (size_t k = 0; k < n; k++) states[k][i] = start;
    }
}

/* Adagrad at step 3 with lr_decay: clr = lr / (1 + 2 lr_decay), the sum
 * starting where the caller filled it. */
static void test_adagrad_rule(void) {
    double p[N], p0[N], g[N], s[N];
    double *states[] = {s};
    rule_inputs(p, p0, g, states, 1, 0.25);
    ok_adagrad_hparams hp = OK_ADAGRAD_DEFAULTS;
    hp.lr = 0.1, hp.lr_decay = 0.5, hp.step = 3;
    CHECK(step_by_name("adagrad", &hp, p, g, states) == OK_SUCCESS);
    for (int i = 0; i < N; i++) {
        CHECK(close_to(s[i], 0.25 + g[i] * g[i], 1e-15));
        CHECK(close_to(p[i], p0[i] - 0.05 * g[i] / (sqrt(0.25 + g[i] * g[i]) + 1e-10), 1e-14));
    }
    memcpy(p0, p, sizeof p);
    hp.lr_decay = -1.0;
    CHECK(step_by_name("adagrad", &hp, p, g, states) == OK_ERR_HYPERPARAMETER);
    hp.lr_decay = 0.0, hp.step = 0;
    CHECK(step_by_name("adagrad", &hp, p, g, states) == OK_ERR_HYPERPARAMETER);
    CHECK(memcmp(p, p0, sizeof p) == 0);
}

/* RMSprop's first step, centered with momentum: v = (1 - alpha) g^2 and
 * a = (1 - alpha) g, so avg = |g| sqrt(alpha (1 - alpha)) + eps and the
 * buffer is g / avg. */
static void test_rmsprop_rule(void) {
    double p[N], p0[N], g[N], v[N], a[N], b[N];
    double *states[] = {v, a, b};
    rule_inputs(p, p0, g, states, 3, 0.0);
    ok_rmsprop_hparams hp = OK_RMSPROP_DEFAULTS;
    hp.alpha = 0.75, hp.momentum = 0.5, hp.centered = 1;
    CHECK(step_by_name("rmsprop", &hp, p, g, states) == OK_SUCCESS);
    for (int i = 0; i < N; i++) {
        double buf = g[i] / (fabs(g[i]) * sqrt(0.75 * 0.25) + 1e-8);
        CHECK(close_to(v[i], 0.25 * g[i] * g[i], 1e-15) && close_to(a[i], 0.25 * g[i], 1e-15));
        CHECK(close_to(b[i], buf, 1e-12) && close_to(p[i], p0[i] - 0.01 * buf, 1e-14));
    }
    states[1] = NULL; /* centered needs grad_avg */
    CHECK(step_by_name("rmsprop", &hp, p, g, states) == OK_ERR_NULL_POINTER);
    hp.alpha = -0.5;
    CHECK(step_by_name("rmsprop", &hp, p, g, states) == OK_ERR_HYPERPARAMETER);
}

/* Adadelta's first step: v = (1 - rho) g^2, and the step
 * d = sqrt(eps) / sqrt(v + eps) g, eps inside both roots. */
static void test_adadelta_rule(void) {
    double p[N], p0[N], g[N], v[N], u[N];
    double *states[] = {v, u};
    rule_inputs(p, p0, g, states, 2, 0.0);
    ok_adadelta_hparams hp = OK_ADADELTA_DEFAULTS;
    hp.rho = 0.5, hp.eps = 0.0625;
    CHECK(step_by_name("adadelta", &hp, p, g, states) == OK_SUCCESS);
    for (int i = 0; i < N; i++) {
        double d = 0.25 / sqrt(0.5 * g[i] * g[i] + 0.0625) * g[i];
        CHECK(close_to(v[i], 0.5 * g[i] * g[i], 1e-15) && close_to(u[i], 0.5 * d * d, 1e-14));
        CHECK(close_to(p[i], p0[i] - d, 1e-14));
    }
    hp.rho = 1.5;
    CHECK(step_by_name("adadelta", &hp, p, g, states) == OK_ERR_HYPERPARAMETER);
}

/* Adamax's first step: m = (1 - beta1) g, u = |g| + eps, and the bias
 * correction cancels 1 - beta1: p moves by lr g / (|g| + eps). */
static void test_adamax_rule(void) {
    double p[N], p0[N], g[N], m[N], u[N];
    double *states[] = {m, u};
    rule_inputs(p, p0, g, states, 2, 0.0);
    ok_adamax_hparams hp = OK_ADAMAX_DEFAULTS;
    CHECK(step_by_name("adamax", &hp, p, g, states) == OK_SUCCESS);
    for (int i = 0; i < N; i++) {
        CHECK(close_to(m[i], 0.1 * g[i], 1e-15) && u[i] == fabs(g[i]) + 1e-8);
        CHECK(close_to(p[i], p0[i] - 2e-3 * g[i] / (fabs(g[i]) + 1e-8), 1e-14));
    }
    hp.step = 0;
    CHECK(step_by_name("adamax", &hp, p, g, states) == OK_ERR_HYPERPARAMETER);
}

/* Lion's first step: m = 0, so p moves by lr sign(g) after its decay
 * (sign(0) = 0), and m becomes (1 - beta2) g. */
static void test_lion_rule(void) {
    double p[N], p0[N], g[N], m[N];
    double *states[] = {m};
    rule_inputs(p, p0, g, states, 1, 0.0);
    ok_lion_hparams hp = OK_LION_DEFAULTS;
    hp.lr = 0.125, hp.weight_decay = 0.5;
    CHECK(step_by_name("lion", &hp, p, g, states) == OK_SUCCESS);
    for (int i = 0; i < N; i++) {
        double sign = g[i] > 0 ? 1.0 : g[i] < 0 ? -1.0 : 0.0;
        CHECK(p[i] == p0[i] * (1.0 - 0.0625) - 0.125 * sign && close_to(m[i], 0.01 * g[i], 1e-15));
    }
    hp.beta1 = 1.5;
    CHECK(step_by_name("lion", &hp, p, g, states) == OK_ERR_HYPERPARAMETER);
}

/* ADOPT: step 1 only starts v = g^2; step 2 with the same g normalises it
 * by |g| (clipped at 1), so m = (1 - beta1) sign(g) and p moves by lr m. */
static void test_adopt_rule(void) {
    double p[N], p0[N], g[N], m[N], v[N];
    double *states[] = {m, v};
    rule_inputs(p, p0, g, states, 2, 0.0);
    ok_adopt_hparams hp = OK_ADOPT_DEFAULTS;
    hp.clip = 1.0;
    CHECK(step_by_name("adopt", &hp, p, g, states) == OK_SUCCESS);
    for (int i = 0; i < N; i++) CHECK(p[i] == p0[i] && m[i] == 0.0 && v[i] == g[i] * g[i]);
    hp.step = 2;
    CHECK(step_by_name("adopt", &hp, p, g, states) == OK_SUCCESS);
    for (int i = 0; i < N; i++) {
        double sign = g[i] > 0 ? 1.0 : g[i] < 0 ? -1.0 : 0.0;
        CHECK(close_to(m[i], 0.1 * sign, 1e-15) && close_to(p[i], p0[i] - 1e-4 * sign, 1e-15));
    }
    hp.clip = -1.0;
    CHECK(step_by_name("adopt", &hp, p, g, states) == OK_ERR_HYPERPARAMETER);
}

static void test_isa_selection(void) {
    unsigned available = ok_isa_available();
    CHECK(available & (1u << OK_ISA_SCALAR));
    CHECK(ok_get_isa() == ok_isa_best() || getenv("OPTKERN_ISA"));
    for (int k = 0; k < OK_ISA_COUNT; k++) {
        ok_isa isa;
        CHECK(ok_isa_from_name(ok_isa_name((ok_isa)k), &isa) == OK_SUCCESS && isa == (ok_isa)k);
        if (available & (1u << k)) {
            CHECK(ok_set_isa((ok_isa)k) == OK_SUCCESS && ok_get_isa() == (ok_isa)k);
            test_adam_rule();
        } else {
            CHECK(ok_set_isa((ok_isa)k) == OK_ERR_UNSUPPORTED);
        }
    }
    ok_isa isa;
    CHECK(ok_isa_from_name("AVX2", &isa) == OK_SUCCESS && isa == OK_ISA_AVX2);
    CHECK(ok_isa_from_name("sse9", &isa) == OK_ERR_UNSUPPORTED);
    CHECK(ok_isa_from_name(" avx2\n", &isa) == OK_SUCCESS && isa == OK_ISA_AVX2);
    CHECK(ok_isa_from_name("\tAvx512\r\n ", &isa) == OK_SUCCESS && isa == OK_ISA_AVX512);
    CHECK(ok_isa_from_name("scalar", &isa) == OK_SUCCESS && isa == OK_ISA_SCALAR);
    const char *bad[] = {"", " \n", "avx", "avx2x", "avx 2", "avx2\n2", "scalarx"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) CHECK(ok_isa_from_name(bad[k], &isa) == OK_ERR_UNSUPPORTED);
    CHECK(ok_isa_from_name(NULL, &isa) == OK_ERR_NULL_POINTER);
    CHECK(ok_isa_name((ok_isa)7) == NULL);
    CHECK(strcmp(ok_status_string(OK_ERR_ALIASING), "unknown status") != 0);
}

/* ----------------------------------------------------------------- threads */

static void test_thread_cap(void) {
    CHECK(ok_max_threads() == OK_MAX_THREADS && OK_MAX_THREADS >= 64);
    ok_set_num_threads(1000000);
    CHECK(ok_get_num_threads() == OK_MAX_THREADS);
    ok_set_num_threads(OK_MAX_THREADS);
    CHECK(ok_get_num_threads() == OK_MAX_THREADS);
    ok_set_num_threads(0);
    CHECK(ok_get_num_threads() >= 1 && ok_get_num_threads() <= OK_MAX_THREADS);
    ok_set_num_threads(2);
}

#define BIG 100000

/* A threaded Adam step (multi_tensor.c) and a reduction (reduce.c); the
 * parameters and the loss, in `p` and *loss. */
static void threaded_work(float *p, float *g, float *m, float *v, double *loss) {
    for (int i = 0; i < BIG; i++) {
        p[i] = (float)((i * 37) % 101 - 50) / 17.0f;
        g[i] = (float)((i * 13) % 29 - 14) / 5.0f;
        m[i] = v[i] = 0.0f;
    }
    ok_adam_hparams hp = OK_ADAM_DEFAULTS;
    size_t numel = BIG;
    const float *gp = g;
    CHECK(ok_adam_f32(&hp, 1, NULL, 1, &numel, &p, &gp, &m, &v, NULL) == OK_SUCCESS);
    float out;
    CHECK(ok_mse_loss_f32(BIG, p, g, NULL, OK_REDUCTION_SUM, &out, m) == OK_SUCCESS);
    *loss = out;
}

/* libgomp's pool does not survive fork: a child forked after a threaded
 * call runs single-threaded instead of hanging, with the same results. */
static void test_fork_after_threads(void) {
#ifdef HAVE_FORK
    static float p[BIG], g[BIG], m[BIG], v[BIG], q[BIG];
    double loss, child_loss;
    ok_set_num_threads(2);
    threaded_work(p, g, m, v, &loss);
    memcpy(q, p, sizeof q);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(60); /* a hang ends the child with SIGALRM */
        threaded_work(p, g, m, v, &child_loss);
        int ok = memcmp(p, q, sizeof q) == 0 && child_loss == loss && ok_get_num_threads() == 1;
        _exit(ok ? 0 : 3);
    }
    CHECK(pid > 0);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(ok_get_num_threads() == 2); /* the parent still threads */
    threaded_work(p, g, m, v, &child_loss);
    CHECK(memcmp(p, q, sizeof q) == 0 && child_loss == loss);
#endif
}

/* ------------------------------------------------------------------ losses */

#define LN 29 /* elements of the elementwise tests */
#define LC 5  /* classes of the row tests */
#define LS 6  /* samples of the row tests */

/* mse_loss with weight, every reduction, in float64 against
 * w (x - y)^2 and its gradient 2 s w (x - y). */
static void test_mse_loss(void) {
    double x[LN], y[LN], w[LN], loss[LN], grad[LN], wsum = 0.0, sum = 0.0;
    for (int i = 0; i < LN; i++) {
        x[i] = (double)(i - 14) / 4.0;
        y[i] = (double)((i * 5) % 7) / 3.0;
        w[i] = 0.5 + (double)(i % 3);
        wsum += w[i];
        sum += w[i] * (x[i] - y[i]) * (x[i] - y[i]);
    }
    const ok_reduction reductions[3] = {OK_REDUCTION_NONE, OK_REDUCTION_MEAN, OK_REDUCTION_SUM};
    for (int r = 0; r < 3; r++) {
        const double scale = reductions[r] == OK_REDUCTION_MEAN ? 1.0 / wsum : 1.0;
        CHECK(ok_mse_loss_f64(LN, x, y, w, reductions[r], loss, grad) == OK_SUCCESS);
        for (int i = 0; i < LN; i++) {
            double d = x[i] - y[i];
            CHECK(close_to(grad[i], 2.0 * scale * w[i] * d, 1e-14));
            if (reductions[r] == OK_REDUCTION_NONE) CHECK(close_to(loss[i], w[i] * d * d, 1e-14));
        }
        if (reductions[r] != OK_REDUCTION_NONE) CHECK(close_to(loss[0], sum * scale, 1e-14));
    }
    CHECK(ok_mse_loss_f64(LN, x, y, w, OK_REDUCTION_BATCHMEAN, loss, grad) == OK_ERR_HYPERPARAMETER);
}

/* The generic entry point is the typed one, bitwise; an unknown dtype is
 * OK_ERR_UNSUPPORTED with nothing written. */
static void test_generic_entry_point(void) {
    float x[LN], y[LN], w[LN], loss32, grad32[LN], loss, grad[LN];
    for (int i = 0; i < LN; i++) {
        x[i] = (float)(i - 9) / 7.0f;
        y[i] = (float)(i % 4) / 3.0f;
        w[i] = 1.0f + (float)(i % 2);
    }
    CHECK(ok_mse_loss_f32(LN, x, y, w, OK_REDUCTION_MEAN, &loss32, grad32) == OK_SUCCESS);
    CHECK(ok_mse_loss(OK_FLOAT32, LN, x, y, w, OK_REDUCTION_MEAN, &loss, grad) == OK_SUCCESS);
    CHECK(memcmp(&loss, &loss32, sizeof loss) == 0 && memcmp(grad, grad32, sizeof grad) == 0);
    memset(grad, 0, sizeof grad);
    loss = 0.0f;
    CHECK(ok_mse_loss((ok_dtype)7, LN, x, y, w, OK_REDUCTION_MEAN, &loss, grad) == OK_ERR_UNSUPPORTED);
    CHECK(ok_nll_loss((ok_dtype)7, 0, LC, 1, NULL, NULL, OK_INDEX_INT64, NULL, -100, OK_REDUCTION_SUM, &loss, NULL) ==
          OK_ERR_UNSUPPORTED);
    float zeros[LN] = {0};
    CHECK(loss == 0.0f && memcmp(grad, zeros, sizeof grad) == 0);
}

/* grad overlapping the target: OK_ERR_ALIASING, and neither array nor the
 * loss written. */
static void test_loss_aliasing(void) {
    double buf[LN + 1], copy[LN + 1], x[LN], loss = -1.0;
    for (int i = 0; i < LN; i++) x[i] = (double)i;
    for (int i = 0; i <= LN; i++) buf[i] = copy[i] = (double)(3 * i);
    CHECK(ok_l1_loss_f64(LN, x, buf, NULL, OK_REDUCTION_SUM, &loss, buf + 1) == OK_ERR_ALIASING);
    CHECK(memcmp(buf, copy, sizeof buf) == 0 && loss == -1.0);
}

/* bce_with_logits, float64, with a per-class weight {w, 1, C} broadcast
 * over (LS, LC) logits: w_k [(1 - y) x + softplus(-x)], gradient
 * s w_k (sigmoid(x) - y). */
static void test_bce_broadcast_weight(void) {
    double x[LS * LC], y[LS * LC], w[LC], loss, grad[LS * LC], sum = 0.0;
    for (int k = 0; k < LC; k++) w[k] = 0.25 * (double)(k + 1);
    for (int i = 0; i < LS * LC; i++) {
        x[i] = (double)(i % 11 - 5) / 2.0;
        y[i] = (double)(i % 3) / 2.0;
        sum += w[i % LC] * ((1.0 - y[i]) * x[i] + log1p(exp(-x[i])));
    }
    ok_bcast wb = {w, 1, LC};
    CHECK(ok_binary_cross_entropy_with_logits_f64(LS * LC, x, y, &wb, NULL, OK_REDUCTION_MEAN, &loss, grad) ==
          OK_SUCCESS);
    CHECK(close_to(loss, sum / (LS * LC), 1e-13));
    for (int i = 0; i < LS * LC; i++)
        CHECK(close_to(grad[i], w[i % LC] * (1.0 / (1.0 + exp(-x[i])) - y[i]) / (LS * LC), 1e-13));
}

/* kl_div batchmean: sum y (log y - x) / batch, gradient -y / batch. */
static void test_kl_div_batchmean(void) {
    double x[LS * LC], y[LS * LC], loss, grad[LS * LC], sum = 0.0;
    for (int i = 0; i < LS * LC; i++) {
        x[i] = -(double)(i % 7) / 3.0;
        y[i] = (double)(i % 4) / 8.0; /* some 0: no term */
        sum += y[i] == 0.0 ? 0.0 : y[i] * (log(y[i]) - x[i]);
    }
    CHECK(ok_kl_div_f64(LS * LC, LS, x, y, 0, OK_REDUCTION_BATCHMEAN, &loss, grad) == OK_SUCCESS);
    CHECK(close_to(loss, sum / LS, 1e-13));
    for (int i = 0; i < LS * LC; i++) CHECK(close_to(grad[i], -y[i] / LS, 1e-15));
}

/* Each elementwise loss by name is its typed entry point, bitwise, with
 * its arguments as options (weights broadcast per class, a param, log_target,
 * a batch); an unknown name is OK_ERR_UNSUPPORTED, an option the loss does
 * not take (or l1_loss's weight not full-shape) OK_ERR_HYPERPARAMETER, and
 * neither writes anything. */
static void test_elementwise_by_name(void) {
    enum { M = LS * LC };
    double x[M], y[M], w[M], pw[LC], loss[M], grad[M], want_loss[M], want_grad[M];
    for (int i = 0; i < M; i++) {
        x[i] = (double)(i % 11 - 5) / 3.0;
        y[i] = (double)(i % 4) / 5.0;
        w[i] = 0.5 + (double)(i % 3);
    }
    for (int k = 0; k < LC; k++) pw[k] = 0.5 * (double)(k + 1);
    const ok_bcast full = {w, 1, M}, per_class = {w, 1, LC}, pos = {pw, 1, LC};
    const ok_reduction reductions[2] = {OK_REDUCTION_NONE, OK_REDUCTION_MEAN};
    for (int r = 0; r < 2; r++) {
        const ok_reduction red = reductions[r];
        const size_t bytes = red == OK_REDUCTION_NONE ? sizeof loss : sizeof loss[0];
        ok_elementwise_options o = OK_ELEMENTWISE_DEFAULTS;
#define SAME_AS(call, name)                                                                         \
    do {                                                                                            \
        CHECK((call) == OK_SUCCESS);                                                                \
        CHECK(ok_elementwise_loss(name, OK_FLOAT64, M, x, y, &o, red, loss, grad) == OK_SUCCESS);   \
        CHECK(memcmp(loss, want_loss, bytes) == 0 && memcmp(grad, want_grad, sizeof grad) == 0);    \
    } while (0)
        o.weight = &full;
        SAME_AS(ok_mse_loss_f64(M, x, y, w, red, want_loss, want_grad), "mse_loss");
        SAME_AS(ok_l1_loss_f64(M, x, y, w, red, want_loss, want_grad), "l1_loss");
        o.param = 0.75;
        SAME_AS(ok_huber_loss_f64(M, x, y, w, 0.75, red, want_loss, want_grad), "huber_loss");
        o.weight = NULL;
        SAME_AS(ok_smooth_l1_loss_f64(M, x, y, 0.75, red, want_loss, want_grad), "smooth_l1_loss");
        o.param = 0.0;
        o.flag = 1;
        o.batch = LS;
        SAME_AS(ok_kl_div_f64(M, LS, x, y, 1, red, want_loss, want_grad), "kl_div");
        o.flag = 0;
        o.batch = 0;
        o.weight = &per_class;
        o.pos_weight = &pos;
        SAME_AS(ok_binary_cross_entropy_with_logits_f64(M, x, y, &per_class, &pos, red, want_loss, want_grad),
                "binary_cross_entropy_with_logits");
#undef SAME_AS
    }
    for (int i = 0; i < M; i++) loss[i] = grad[i] = -1.0;
    const ok_elementwise_options pos_only = {.pos_weight = &pos}, param_only = {.param = 2.0},
                                 weight_only = {.weight = &full}, class_weight = {.weight = &per_class};
    CHECK(ok_elementwise_loss("no_such_loss", OK_FLOAT64, M, x, y, NULL, OK_REDUCTION_NONE, loss, grad) ==
          OK_ERR_UNSUPPORTED);
    CHECK(ok_elementwise_loss(NULL, OK_FLOAT64, M, x, y, NULL, OK_REDUCTION_NONE, loss, grad) == OK_ERR_NULL_POINTER);
    CHECK(ok_elementwise_loss("mse_loss", OK_FLOAT64, M, x, y, &pos_only, OK_REDUCTION_NONE, loss, grad) ==
          OK_ERR_HYPERPARAMETER);
    CHECK(ok_elementwise_loss("kl_div", OK_FLOAT64, M, x, y, &param_only, OK_REDUCTION_NONE, loss, grad) ==
          OK_ERR_HYPERPARAMETER);
    CHECK(ok_elementwise_loss("smooth_l1_loss", OK_FLOAT64, M, x, y, &weight_only, OK_REDUCTION_NONE, loss,
                              grad) == OK_ERR_HYPERPARAMETER);
    CHECK(ok_elementwise_loss("l1_loss", OK_FLOAT64, M, x, y, &class_weight, OK_REDUCTION_NONE, loss, grad) ==
          OK_ERR_HYPERPARAMETER);
    for (int i = 0; i < M; i++) CHECK(loss[i] == -1.0 && grad[i] == -1.0);
}

/* margin_ranking_loss by name: a second input with its own gradient,
 * max(0, v) with v = margin - y (a - b), gradients -y [v >= 0] and y [v >= 0];
 * then a binary_cross_entropy probability outside [0, 1]: OK_ERR_DOMAIN,
 * with nothing written. */
static void test_second_input_and_domain(void) {
    enum { M = 9 };
    double a[M], b[M], y[M], g[M], g2[M], loss, want = 0.0;
    for (int i = 0; i < M; i++) a[i] = 0.1 * i, b[i] = 0.2, y[i] = i % 2 ? 1.0 : -1.0;
    ok_elementwise_options o = OK_ELEMENTWISE_DEFAULTS;
    o.param = 0.5;
    o.input2 = b;
    o.grad2 = g2;
    CHECK(ok_elementwise_loss("margin_ranking_loss", OK_FLOAT64, M, a, y, &o, OK_REDUCTION_SUM, &loss, g) ==
          OK_SUCCESS);
    for (int i = 0; i < M; i++) {
        const double v = 0.5 - y[i] * (a[i] - b[i]);
        want += v > 0 ? v : 0.0;
        CHECK(g[i] == (v >= 0 ? -y[i] : 0.0) && g2[i] == -g[i]);
    }
    CHECK(close_to(loss, want, 1e-14));
    o.grad2 = NULL;
    CHECK(ok_elementwise_loss("margin_ranking_loss", OK_FLOAT64, M, a, y, &o, OK_REDUCTION_SUM, &loss, g) ==
          OK_ERR_NULL_POINTER);
    o.grad2 = y; /* over the target */
    CHECK(ok_elementwise_loss("margin_ranking_loss", OK_FLOAT64, M, a, y, &o, OK_REDUCTION_SUM, &loss, g) ==
          OK_ERR_ALIASING);

    double p[M], t[M];
    for (int i = 0; i < M; i++) p[i] = 0.5, t[i] = 0.25, g[i] = -1.0;
    p[M - 1] = 1.5;
    loss = -1.0;
    CHECK(ok_elementwise_loss("binary_cross_entropy", OK_FLOAT64, M, p, t, NULL, OK_REDUCTION_MEAN, &loss, g) ==
          OK_ERR_DOMAIN);
    CHECK(loss == -1.0);
    for (int i = 0; i < M; i++) CHECK(g[i] == -1.0);
    CHECK(strcmp(ok_status_string(OK_ERR_DOMAIN), "unknown status") != 0);
}

/* multilabel_margin_loss of one sample: targets {3, 0} (the -1 ends them),
 * each against the non-targets {1, 2}: sum of max(0, 1 - (x_j - x_i)) / C,
 * gradient -(active pairs of j) / C at a target and +(active pairs of i) / C
 * elsewhere; a target past the -1 out of range: OK_ERR_INDEX, nothing
 * written. */
static void test_multilabel_margin(void) {
    const double x[4] = {0.1, 0.2, 0.4, 0.8};
    const float xf[4] = {0.1f, 0.2f, 0.4f, 0.8f};
    int64_t y[4] = {3, 0, -1, 1};
    double loss, grad[4];
    float lossf, gradf[4];
    CHECK(ok_multilabel_margin_loss_f64(1, 4, x, y, OK_INDEX_INT64, OK_REDUCTION_MEAN, &loss, grad) == OK_SUCCESS);
    CHECK(close_to(loss, (0.4 + 0.6 + 1.1 + 1.3) / 4, 1e-14));
    CHECK(close_to(grad[0], -0.5, 1e-14) && close_to(grad[1], 0.5, 1e-14) && close_to(grad[2], 0.5, 1e-14) &&
          close_to(grad[3], -0.5, 1e-14));
    CHECK(ok_multilabel_margin_loss_f32(1, 4, xf, y, OK_INDEX_INT64, OK_REDUCTION_SUM, &lossf, gradf) == OK_SUCCESS);
    CHECK(fabs(lossf - 0.85f) < 1e-6f && gradf[3] == -0.5f);
    y[3] = 4; /* after the -1, still checked */
    loss = grad[0] = -7.0;
    CHECK(ok_multilabel_margin_loss(OK_FLOAT64, 1, 4, x, y, OK_INDEX_INT64, OK_REDUCTION_MEAN, &loss, grad) ==
          OK_ERR_INDEX);
    CHECK(loss == -7.0 && grad[0] == -7.0);
}

/* The pair and margin row losses on cases worked by hand (docs/losses.md),
 * each through its three entry points, and a refused hyperparameter. */
static void test_pair_and_margin_rows(void) {
    /* cosine_embedding_loss: orthogonal unit rows, target 1: loss 1 - cos = 1,
     * gradients -x2 and -x1 */
    const double u[2] = {1.0, 0.0}, v[2] = {0.0, 1.0}, one = 1.0;
    const float uf[2] = {1.0f, 0.0f}, vf[2] = {0.0f, 1.0f}, onef = 1.0f;
    double loss, g1[2], g2[2], g3[2];
    float lossf, f1[2], f2[2], f3[2];
    CHECK(ok_cosine_embedding_loss_f64(1, 2, u, v, &one, 0.0, OK_REDUCTION_MEAN, &loss, g1, g2) == OK_SUCCESS);
    CHECK(close_to(loss, 1.0, 1e-9) && close_to(g1[1], -1.0, 1e-9) && close_to(g2[0], -1.0, 1e-9));
    CHECK(ok_cosine_embedding_loss_f32(1, 2, uf, vf, &onef, 0.0, OK_REDUCTION_SUM, &lossf, f1, f2) == OK_SUCCESS);
    CHECK(fabsf(lossf - 1.0f) < 1e-6f);
    CHECK(ok_cosine_embedding_loss(OK_FLOAT64, 1, 2, u, v, &one, 0.0, (ok_reduction)9, &loss, g1, g2) ==
          OK_ERR_HYPERPARAMETER);
    /* triplet_margin_loss, d = 1, eps = 0: max(0, 1 + |0 - 1| - |0 - 1.5|) = 0.5,
     * gradients sign(a - p) - sign(a - n) = 0, -sign(a - p) = 1, sign(a - n) = -1 */
    const double a = 0.0, q = 1.0, n = 1.5;
    const float af = 0.0f, qf = 1.0f, nf = 1.5f;
    CHECK(ok_triplet_margin_loss_f64(1, 1, &a, &q, &n, 1.0, 2.0, 0.0, 0, OK_REDUCTION_MEAN, &loss, g1, g2, g3) ==
          OK_SUCCESS);
    CHECK(close_to(loss, 0.5, 1e-14) && g1[0] == 0.0 && close_to(g2[0], 1.0, 1e-14) && close_to(g3[0], -1.0, 1e-14));
    CHECK(ok_triplet_margin_loss_f32(1, 1, &af, &qf, &nf, 1.0, 2.0, 0.0, 1, OK_REDUCTION_SUM, &lossf, f1, f2, f3) ==
          OK_SUCCESS);
    CHECK(fabsf(lossf - 1.5f) < 1e-6f); /* swap: d(p, n) = 0.5 < d(a, n) */
    CHECK(ok_triplet_margin_loss(OK_FLOAT64, 1, 1, &a, &q, &n, 0.0, 2.0, 0.0, 0, OK_REDUCTION_MEAN, &loss, g1, g2,
                                 g3) == OK_ERR_HYPERPARAMETER); /* margin > 0 */
    /* multi_margin_loss, p = 1, margin 1, target 1: (0.6 + 0.7) / 3, gradient
     * 1/3 at each other class, -2/3 at the target */
    const double x[3] = {0.1, 0.5, 0.2};
    const float xf[3] = {0.1f, 0.5f, 0.2f};
    const int64_t y = 1;
    double g[3];
    float gf[3];
    CHECK(ok_multi_margin_loss_f64(1, 3, x, &y, OK_INDEX_INT64, 1, 1.0, NULL, OK_REDUCTION_MEAN, &loss, g) ==
          OK_SUCCESS);
    CHECK(close_to(loss, 1.3 / 3, 1e-14) && close_to(g[0], 1.0 / 3, 1e-14) && close_to(g[1], -2.0 / 3, 1e-14));
    CHECK(ok_multi_margin_loss_f32(1, 3, xf, &y, OK_INDEX_INT64, 2, 1.0, NULL, OK_REDUCTION_SUM, &lossf, gf) ==
          OK_SUCCESS);
    CHECK(fabsf(lossf - (0.36f + 0.49f) / 3) < 1e-6f);
    CHECK(ok_multi_margin_loss(OK_FLOAT64, 1, 3, x, &y, OK_INDEX_INT64, 3, 1.0, NULL, OK_REDUCTION_MEAN, &loss, g) ==
          OK_ERR_HYPERPARAMETER); /* p is 1 or 2 */
    /* multilabel_soft_margin_loss of one logit 0 with label 1: log 2, gradient -1/2 */
    const double zero = 0.0;
    const float zerof = 0.0f;
    CHECK(ok_multilabel_soft_margin_loss_f64(1, 1, &zero, &one, NULL, OK_REDUCTION_MEAN, &loss, g) == OK_SUCCESS);
    CHECK(close_to(loss, log(2.0), 1e-14) && close_to(g[0], -0.5, 1e-14));
    CHECK(ok_multilabel_soft_margin_loss_f32(1, 1, &zerof, &onef, NULL, OK_REDUCTION_SUM, &lossf, gf) == OK_SUCCESS);
    CHECK(fabsf(lossf - logf(2.0f)) < 1e-6f);
    CHECK(ok_multilabel_soft_margin_loss(OK_FLOAT64, 1, 1, &zero, &one, NULL, (ok_reduction)9, &loss, g) ==
          OK_ERR_HYPERPARAMETER);
}

/* log softmax of a row, in double. */
static void log_softmax(const double *x, double *out) {
    double m = x[0], s = 0.0;
    for (int k = 1; k < LC; k++) m = x[k] > m ? x[k] : m;
    for (int k = 0; k < LC; k++) s += exp(x[k] - m);
    for (int k = 0; k < LC; k++) out[k] = x[k] - m - log(s);
}

static void row_logits(double *x) {
    for (int i = 0; i < LS * LC; i++) x[i] = (double)((i * 7) % 13 - 6) / 3.0;
}

/* cross_entropy with class targets, class weights and an ignored sample:
 * w_y (lse - x_y), 'mean' over the weights of the samples not ignored,
 * gradient s w_y (softmax - onehot(y)), zero for the ignored sample. An
 * out-of-range target: OK_ERR_INDEX with nothing written. */
static void test_cross_entropy_classes(void) {
    double x[LS * LC], w[LC], loss, grad[LS * LC], lsm[LC], sum = 0.0, wsum = 0.0;
    int64_t y[LS] = {0, 4, -100, 2, 1, 4};
    row_logits(x);
    for (int k = 0; k < LC; k++) w[k] = 1.0 + 0.5 * (double)k;
    ok_cross_entropy_options o = OK_CROSS_ENTROPY_DEFAULTS;
    o.weight = w;
    CHECK(ok_cross_entropy_f64(LS, LC, 1, x, y, OK_INDEX_INT64, &o, &loss, grad) == OK_SUCCESS);
    for (int i = 0; i < LS; i++) {
        if (y[i] == -100) continue;
        log_softmax(x + i * LC, lsm);
        sum -= w[y[i]] * lsm[y[i]];
        wsum += w[y[i]];
    }
    CHECK(close_to(loss, sum / wsum, 1e-13));
    for (int i = 0; i < LS; i++) {
        log_softmax(x + i * LC, lsm);
        for (int k = 0; k < LC; k++) {
            double want = y[i] == -100 ? 0.0 : w[y[i]] * (exp(lsm[k]) - (k == y[i])) / wsum;
            CHECK(close_to(grad[i * LC + k], want, 1e-13));
        }
    }

    double before[LS * LC];
    for (int i = 0; i < LS * LC; i++) grad[i] = before[i] = -7.0;
    loss = -7.0;
    int64_t bad[LS] = {0, 1, 2, LC, 1, 0}; /* LC is out of range */
    CHECK(ok_cross_entropy_f64(LS, LC, 1, x, bad, OK_INDEX_INT64, &o, &loss, grad) == OK_ERR_INDEX);
    CHECK(loss == -7.0 && memcmp(grad, before, sizeof grad) == 0);
    o.reduction = OK_REDUCTION_NONE;
    double losses[LS] = {-7.0, -7.0, -7.0, -7.0, -7.0, -7.0}, losses_before[LS];
    memcpy(losses_before, losses, sizeof losses);
    CHECK(ok_cross_entropy_f64(LS, LC, 1, x, bad, OK_INDEX_INT64, &o, losses, grad) == OK_ERR_INDEX);
    CHECK(memcmp(losses, losses_before, sizeof losses) == 0 && memcmp(grad, before, sizeof grad) == 0);
}

/* cross_entropy with probability targets t: -sum_k t_k log_softmax_k per
 * sample, 'sum', gradient (sum_k t_k) softmax - t. */
static void test_cross_entropy_probs(void) {
    double x[LS * LC], t[LS * LC], loss, grad[LS * LC], lsm[LC], sum = 0.0;
    row_logits(x);
    for (int i = 0; i < LS * LC; i++) t[i] = (double)(i % 4) / 6.0;
    ok_cross_entropy_options o = OK_CROSS_ENTROPY_DEFAULTS;
    o.reduction = OK_REDUCTION_SUM;
    CHECK(ok_cross_entropy_probs_f64(LS, LC, 1, x, t, &o, &loss, grad) == OK_SUCCESS);
    for (int i = 0; i < LS; i++) {
        log_softmax(x + i * LC, lsm);
        double mass = 0.0;
        for (int k = 0; k < LC; k++) mass += t[i * LC + k], sum -= t[i * LC + k] * lsm[k];
        for (int k = 0; k < LC; k++) CHECK(close_to(grad[i * LC + k], mass * exp(lsm[k]) - t[i * LC + k], 1e-13));
    }
    CHECK(close_to(loss, sum, 1e-13));
}

/* nll_loss with int32 targets and an ignored sample: -x_y per sample,
 * 'mean' over the samples not ignored, gradient -1/D at y. */
static void test_nll_loss(void) {
    double x[LS * LC], loss[LS], grad[LS * LC], mean;
    int32_t y[LS] = {3, 0, 4, 7, 2, 2}; /* 7: ignored */
    row_logits(x);
    CHECK(ok_nll_loss_f64(LS, LC, 1, x, y, OK_INDEX_INT32, NULL, 7, OK_REDUCTION_NONE, loss, grad) == OK_SUCCESS);
    for (int i = 0; i < LS; i++) CHECK(loss[i] == (y[i] == 7 ? 0.0 : -x[i * LC + y[i]]));
    CHECK(ok_nll_loss_f64(LS, LC, 1, x, y, OK_INDEX_INT32, NULL, 7, OK_REDUCTION_MEAN, &mean, grad) == OK_SUCCESS);
    double sum = 0.0;
    for (int i = 0; i < LS; i++) sum += loss[i];
    CHECK(close_to(mean, sum / (LS - 1), 1e-15));
    for (int i = 0; i < LS; i++)
        for (int k = 0; k < LC; k++) CHECK(grad[i * LC + k] == (y[i] != 7 && k == y[i] ? -1.0 / (LS - 1) : 0.0));
}

/* An array (or a hyperparameter struct) that is not aligned to its
 * element type: OK_ERR_ALIGNMENT, with nothing written. A C caller can
 * hand such a pointer (a float in a byte buffer); a kernel's access to it
 * would be undefined behaviour. */
static void test_misaligned_arrays(void) {
    union {
        double d[LN + 1];
        char c[(LN + 1) * sizeof(double)];
    } a, g, out, copy;
    for (int i = 0; i <= LN; i++) a.d[i] = g.d[i] = out.d[i] = 0.5 * i;
    copy = a;
    size_t numel = LN;
    ok_dtype f32 = OK_FLOAT32;
    ok_sgd_hparams hp = OK_SGD_DEFAULTS;
    for (size_t skew = 1; skew < sizeof(float); skew++) {
        void *param = a.c + skew;
        const void *grad = g.c;
        CHECK(ok_sgd(&hp, 1, NULL, 1, &numel, &f32, &param, &grad, NULL) == OK_ERR_ALIGNMENT);
        param = a.c, grad = g.c + skew; /* the gradient misaligned */
        CHECK(ok_sgd(&hp, 1, NULL, 1, &numel, &f32, &param, &grad, NULL) == OK_ERR_ALIGNMENT);
    }
    ok_sgd_hparams sets[2] = {OK_SGD_DEFAULTS, OK_SGD_DEFAULTS};
    CHECK(ok_optimizer_check(ok_optimizer_find("sgd"), (char *)sets + 4) == OK_ERR_ALIGNMENT);
    double loss = -1.0;
    CHECK(ok_mse_loss(OK_FLOAT64, LN, a.c + 4, g.d, NULL, OK_REDUCTION_SUM, &loss, out.d) == OK_ERR_ALIGNMENT);
    CHECK(ok_mse_loss(OK_FLOAT64, LN, a.d, g.d, NULL, OK_REDUCTION_SUM, &loss, out.c + 4) == OK_ERR_ALIGNMENT);
    CHECK(ok_mse_loss(OK_FLOAT64, LN, a.d, g.d, NULL, OK_REDUCTION_NONE, out.c + 2, NULL) == OK_ERR_NULL_POINTER);
    CHECK(ok_mse_loss(OK_FLOAT64, LN, a.d, g.d, NULL, OK_REDUCTION_SUM, out.c + 2, a.d) == OK_ERR_ALIGNMENT);
    int64_t y[LS + 1] = {0};
    double x[LS * LC], grad[LS * LC];
    row_logits(x);
    CHECK(ok_cross_entropy_f64(LS, LC, 1, x, (char *)y + 4, OK_INDEX_INT64, NULL, &loss, grad) == OK_ERR_ALIGNMENT);
    CHECK(memcmp(&a, &copy, sizeof a) == 0 && memcmp(&out, &copy, sizeof out) == 0 && loss == -1.0);
    /* int32 class targets need only 4-byte alignment */
    CHECK(ok_cross_entropy_f64(LS, LC, 1, x, (char *)y + 4, OK_INDEX_INT32, NULL, &loss, grad) == OK_SUCCESS);
    loss = -1.0;
    const void *xs[1] = {a.c + 4};
    void *ys[1] = {out.c + 4};
    CHECK(ok_vec_dot(OK_FLOAT64, 1, &numel, xs, xs, &loss) == OK_ERR_ALIGNMENT);
    CHECK(ok_vec_axpby(OK_FLOAT64, 1, &numel, 1.0, xs, 1.0, ys) == OK_ERR_ALIGNMENT);
    xs[0] = a.d;
    CHECK(ok_vec_abs_sum(OK_FLOAT64, 1, &numel, xs, (double *)(out.c + 4)) == OK_ERR_ALIGNMENT);
    CHECK(memcmp(&out, &copy, sizeof out) == 0 && loss == -1.0);
    CHECK(strcmp(ok_status_string(OK_ERR_ALIGNMENT), "unknown status") != 0);
}

/* Muon's two stages through the generic entry point: the momentum buffer
 * and the update (a work array, not a state) after stage 0, the parameter
 * after stage 1 (which needs no buffer), and a missing work array refused
 * with nothing written. */
static void test_muon_stages(void) {
    const ok_optimizer *muon = ok_optimizer_find("muon");
    CHECK(muon && ok_optimizer_state_count(muon) == 1 && ok_optimizer_work_count(muon) == 1);
    CHECK(strcmp(ok_optimizer_state_name(muon, 0), "momentum_buffer") == 0 && ok_optimizer_state_name(muon, 1) == NULL);
    CHECK(strcmp(ok_optimizer_work_name(muon, 0), "update") == 0 && ok_optimizer_work_name(muon, 1) == NULL);
    CHECK(ok_optimizer_work_count(ok_optimizer_find("adam")) == 0);
    CHECK(ok_optimizer_is_elementwise(ok_optimizer_find("adam")) && ok_optimizer_is_elementwise(muon));
    CHECK(!ok_optimizer_is_elementwise(ok_optimizer_find("lamb")) &&
          !ok_optimizer_is_elementwise(ok_optimizer_find("adafactor")));
    double p[N], g[N], b[N], u[N];
    for (int i = 0; i < N; i++) p[i] = (double)i / 8.0, g[i] = (double)(i % 5) - 2.0, b[i] = 1.0, u[i] = NAN;
    ok_muon_hparams hp = OK_MUON_DEFAULTS; /* momentum 0.95, nesterov */
    hp.lr = 0.1, hp.weight_decay = 0.5, hp.lr_ratio = 2.0;
    size_t numel = N;
    ok_dtypes dtypes = {OK_FLOAT64, OK_FLOAT64, OK_FLOAT64};
    void *pp[1] = {p}, *gp[1] = {g}, *bp[1] = {b}, *up[1] = {u};
    void **streams[4] = {pp, gp, bp, NULL};
    CHECK(ok_optimizer_required_states(muon, &hp) == 3u);
    CHECK(ok_optimizer_step(muon, &hp, 1, NULL, 1, &numel, &dtypes, (void *const *const *)streams) ==
          OK_ERR_NULL_POINTER);
    CHECK(b[0] == 1.0 && u[0] != u[0]);
    streams[3] = up;
    CHECK(ok_optimizer_step(muon, &hp, 1, NULL, 1, &numel, &dtypes, (void *const *const *)streams) == OK_SUCCESS);
    for (int i = 0; i < N; i++) {
        double buf = 0.95 * 1.0 + 0.05 * g[i];
        CHECK(fabs(b[i] - buf) <= 1e-15 && fabs(u[i] - (0.05 * g[i] + 0.95 * buf)) <= 1e-15);
        CHECK(p[i] == (double)i / 8.0); /* stage 0 leaves the parameter alone */
        u[i] = (double)(i % 3);         /* the caller's orthogonalised update */
    }
    hp.stage = 1;
    CHECK(ok_optimizer_required_states(muon, &hp) == 2u);
    streams[2] = NULL; /* stage 1 needs no momentum buffer */
    CHECK(ok_optimizer_step(muon, &hp, 1, NULL, 1, &numel, &dtypes, (void *const *const *)streams) == OK_SUCCESS);
    for (int i = 0; i < N; i++) CHECK(fabs(p[i] - ((double)i / 8.0 * 0.95 - 0.2 * (i % 3))) <= 1e-15);
    hp.stage = 2;
    CHECK(ok_optimizer_check(muon, &hp) == OK_ERR_HYPERPARAMETER);
}

/* Schedule-free SGD through the generic entry point, on values whose
 * arithmetic is exact (momentum 0.5, lr 0.5): a first step (z starts as
 * the parameter's copy, ckp1 = 1) and a second (ckp1 = 1/2), then eval()
 * (y to x = 2y - z) and train() (back to y), which take z in the
 * gradient's stream and no state; an unknown mode writes nothing. */
static void test_schedulefree_modes(void) {
    const ok_optimizer *sf = ok_optimizer_find("sgd_schedulefree");
    CHECK(sf && ok_optimizer_state_count(sf) == 1 && strcmp(ok_optimizer_state_name(sf, 0), "z") == 0);
    double p[N], g[N], z[N], y1[N];
    for (int i = 0; i < N; i++) p[i] = (double)i / 8.0, g[i] = (double)(i % 5) - 2.0, z[i] = NAN;
    ok_sgd_schedulefree_hparams hp = OK_SGD_SCHEDULEFREE_DEFAULTS; /* a first step, ckp1 1 */
    hp.lr = 0.5, hp.momentum = 0.5;
    size_t numel = N;
    ok_dtypes dtypes = {OK_FLOAT64, OK_FLOAT64, OK_FLOAT64};
    void *pp[1] = {p}, *gp[1] = {g}, *zp[1] = {z};
    void **streams[3] = {pp, gp, zp};
    CHECK(ok_optimizer_required_states(sf, &hp) == 1u);
    CHECK(ok_optimizer_step(sf, &hp, 1, NULL, 1, &numel, &dtypes, (void *const *const *)streams) == OK_SUCCESS);
    for (int i = 0; i < N; i++) {
        y1[i] = (double)i / 8.0 - 0.5 * g[i];
        CHECK(p[i] == y1[i] && z[i] == y1[i]);
        g[i] = (double)(i % 3) - 1.0;
    }
    hp.first_step = 0, hp.ckp1 = 0.5;
    CHECK(ok_optimizer_step(sf, &hp, 1, NULL, 1, &numel, &dtypes, (void *const *const *)streams) == OK_SUCCESS);
    for (int i = 0; i < N; i++) CHECK(p[i] == y1[i] - 0.375 * g[i] && z[i] == y1[i] - 0.5 * g[i]);
    void **modes[3] = {pp, zp, NULL}; /* z where the gradient goes */
    hp.mode = OK_SCHEDULEFREE_TO_X;
    CHECK(ok_optimizer_required_states(sf, &hp) == 0u);
    CHECK(ok_optimizer_step(sf, &hp, 1, NULL, 1, &numel, &dtypes, (void *const *const *)modes) == OK_SUCCESS);
    for (int i = 0; i < N; i++) CHECK(p[i] == y1[i] - 0.25 * g[i]); /* x: (1 - c) x + c z with x = y1 */
    hp.mode = 3;
    CHECK(ok_optimizer_step(sf, &hp, 1, NULL, 1, &numel, &dtypes, (void *const *const *)modes) ==
          OK_ERR_HYPERPARAMETER);
    CHECK(p[1] == y1[1] - 0.25 * g[1]);
    hp.mode = OK_SCHEDULEFREE_TO_Y;
    CHECK(ok_optimizer_step(sf, &hp, 1, NULL, 1, &numel, &dtypes, (void *const *const *)modes) == OK_SUCCESS);
    for (int i = 0; i < N; i++) CHECK(p[i] == y1[i] - 0.375 * g[i]);
}

/* The vector operations over a list of three arrays taken as one vector
 * (sizes that split vectors and blocks at odd places): closed forms with
 * integer values (exact in double), the result the same bitwise on 1 and
 * 2 threads, the forms of axpby, and arguments refused with nothing
 * written. */
#define V0 1
#define V1 70001
#define V2 37
static void test_vector_operations(void) {
    static double a[V0 + V1 + V2], b[V0 + V1 + V2];
    const size_t numel[3] = {V0, V1, V2}, total = V0 + V1 + V2;
    double exact_dot = 0.0, exact_l1 = 0.0;
    for (size_t j = 0; j < total; j++) {
        a[j] = (double)((long)(j * 7 % 23) - 11);
        b[j] = (double)((long)(j % 5) - 2);
        exact_dot += a[j] * b[j];
        exact_l1 += fabs(a[j]);
    }
    a[V0 + 5] = -40.0; /* the largest |a| */
    exact_dot += (-40.0 - (double)((long)((V0 + 5) * 7 % 23) - 11)) * b[V0 + 5];
    exact_l1 += 40.0 - fabs((double)((long)((V0 + 5) * 7 % 23) - 11));
    const void *x[3] = {a, a + V0, a + V0 + V1}, *y[3] = {b, b + V0, b + V0 + V1};
    double dot = 0.0, l1 = 0.0, inf = 0.0, again = 0.0;
    CHECK(ok_vec_dot(OK_FLOAT64, 3, numel, x, y, &dot) == OK_SUCCESS && dot == exact_dot);
    CHECK(ok_vec_abs_sum(OK_FLOAT64, 3, numel, x, &l1) == OK_SUCCESS && l1 == exact_l1);
    CHECK(ok_vec_abs_max(OK_FLOAT64, 3, numel, x, &inf) == OK_SUCCESS && inf == 40.0);

    /* non-integers: a result that depends on the order of the sums, the same on 1 and 2 threads */
    static float f[V1], g[V1];
    for (size_t j = 0; j < V1; j++) f[j] = sinf((float)j), g[j] = cosf((float)j * 0.5f);
    const void *fx[1] = {f}, *gx[1] = {g};
    const size_t n1[1] = {V1};
    ok_set_num_threads(1);
    CHECK(ok_vec_dot(OK_FLOAT32, 1, n1, fx, gx, &dot) == OK_SUCCESS);
    ok_set_num_threads(2);
    CHECK(ok_vec_dot(OK_FLOAT32, 1, n1, fx, gx, &again) == OK_SUCCESS && memcmp(&dot, &again, sizeof dot) == 0);

    /* a NaN anywhere makes the maximum NaN */
    f[V1 - 1] = NAN;
    CHECK(ok_vec_abs_max(OK_FLOAT32, 1, n1, fx, &inf) == OK_SUCCESS && inf != inf);
    CHECK(ok_vec_abs_max(OK_FLOAT32, 0, NULL, NULL, &inf) == OK_SUCCESS && inf == 0.0);

    /* axpby: every form, and y = x (an in-place scaling) */
    double p[4] = {1, 2, 3, 4}, q[4] = {NAN, NAN, NAN, NAN};
    const size_t n4[1] = {4};
    const void *px[1] = {p};
    void *qy[1] = {q}, *py[1] = {p};
    CHECK(ok_vec_axpby(OK_FLOAT64, 1, n4, -1.0, px, 0.0, qy) == OK_SUCCESS); /* y not read: NaN is gone */
    for (int j = 0; j < 4; j++) CHECK(q[j] == -p[j]);
    CHECK(ok_vec_axpby(OK_FLOAT64, 1, n4, 0.5, px, 1.0, qy) == OK_SUCCESS); /* q = -p + 0.5 p */
    for (int j = 0; j < 4; j++) CHECK(q[j] == -0.5 * p[j]);
    CHECK(ok_vec_axpby(OK_FLOAT64, 1, n4, 1.0, px, 3.0, qy) == OK_SUCCESS); /* q = p + 3 q */
    for (int j = 0; j < 4; j++) CHECK(q[j] == -0.5 * p[j]);
    CHECK(ok_vec_axpby(OK_FLOAT64, 1, n4, 2.0, px, -1.0, qy) == OK_SUCCESS); /* q = 2 p - q */
    for (int j = 0; j < 4; j++) CHECK(q[j] == 2.5 * p[j]);
    CHECK(ok_vec_axpby(OK_FLOAT64, 1, n4, 2.0, px, 0.0, py) == OK_SUCCESS); /* p = 2 p, in place */
    for (int j = 0; j < 4; j++) CHECK(p[j] == 2.0 * (j + 1));

    /* refused, with nothing written */
    double before[4];
    memcpy(before, q, sizeof q);
    void *overlap[1] = {p + 1};
    CHECK(ok_vec_axpby(OK_FLOAT64, 1, n4, 1.0, px, 1.0, overlap) == OK_ERR_ALIASING);
    CHECK(ok_vec_axpby((ok_dtype)7, 1, n4, 1.0, px, 1.0, qy) == OK_ERR_UNSUPPORTED);
    void *null_y[1] = {NULL};
    CHECK(ok_vec_axpby(OK_FLOAT64, 1, n4, 1.0, px, 1.0, null_y) == OK_ERR_NULL_POINTER);
    CHECK(ok_vec_axpby(OK_FLOAT64, 1, NULL, 1.0, px, 1.0, qy) == OK_ERR_NULL_POINTER);
    CHECK(memcmp(before, q, sizeof q) == 0 && p[0] == 2.0);
    dot = -7.0;
    CHECK(ok_vec_dot(OK_FLOAT64, 1, n4, px, NULL, &dot) == OK_ERR_NULL_POINTER && dot == -7.0);
    CHECK(ok_vec_dot(OK_FLOAT64, 1, n4, px, px, NULL) == OK_ERR_NULL_POINTER);
    CHECK(ok_vec_abs_sum((ok_dtype)7, 1, n4, px, &dot) == OK_ERR_UNSUPPORTED && dot == -7.0);
}

/* ok_optimizer_step_scaled: the gradients multiplied by unscale, then by
 * clip, as the kernel reads them (never written): bitwise a plain step on
 * gradients scaled in place first, for float32 and float64, every ISA;
 * an unscale that is not finite and positive is refused, nothing written. */
static void test_scaled_step(void) {
    const ok_optimizer *adam = ok_optimizer_find("adam");
    ok_adam_hparams hp = OK_ADAM_DEFAULTS;
    ok_shape shape = {1, NULL};
    size_t n = N;
    shape.dims = &n;
    const ok_dtypes f32 = {OK_FLOAT32, OK_FLOAT32, OK_FLOAT32};
    const ok_isa before = ok_get_isa();
    for (int isa = 0; isa < OK_ISA_COUNT; isa++) {
        if (!(ok_isa_available() >> isa & 1)) continue;
        CHECK(ok_set_isa((ok_isa)isa) == OK_SUCCESS);
        float p[N], q[N], g[N], h[N], m1[N] = {0}, v1[N] = {0}, m2[N] = {0}, v2[N] = {0};
        for (int i = 0; i < N; i++) {
            p[i] = q[i] = (float)(i - 18) / 7.0f;
            g[i] = (float)((i * 7) % 11 - 5) * 1024.0f;
            h[i] = g[i] * (1.0f / 1024.0f) * 0.3f; /* unscaled, then clipped: two roundings */
        }
        void *ps[1] = {p}, *qs[1] = {q}, *m1s[1] = {m1}, *v1s[1] = {v1}, *m2s[1] = {m2}, *v2s[1] = {v2};
        const void *gs[1] = {g}, *hs[1] = {h};
        void *const *scaled[] = {ps, (void *const *)gs, m1s, v1s, NULL};
        void *const *plain[] = {qs, (void *const *)hs, m2s, v2s, NULL};
        ok_grad_scaling bad[] = {{0.0, 1.0}, {-1.0, 1.0}, {NAN, 1.0}, {INFINITY, 1.0}};
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
            CHECK(ok_optimizer_step_scaled(adam, &hp, 1, NULL, 1, &shape, &f32, scaled, &bad[k]) ==
                  OK_ERR_HYPERPARAMETER);
        CHECK(memcmp(p, q, sizeof p) == 0 && m1[0] == 0.0f);
        ok_grad_scaling s = {1.0 / 1024.0, 0.3};
        CHECK(ok_optimizer_step_scaled(adam, &hp, 1, NULL, 1, &shape, &f32, scaled, &s) == OK_SUCCESS);
        CHECK(ok_optimizer_step_scaled(adam, &hp, 1, NULL, 1, &shape, &f32, plain, NULL) == OK_SUCCESS);
        CHECK(memcmp(p, q, sizeof p) == 0 && memcmp(m1, m2, sizeof m1) == 0 && memcmp(v1, v2, sizeof v1) == 0);
        CHECK(g[3] == (float)((3 * 7) % 11 - 5) * 1024.0f); /* the gradient is not written */
    }
    ok_set_isa(before);
}

/* LAMB's first step: m / (1 - beta1) = g and v / (1 - beta2) = g^2 for g
 * clipped to norm 1 (max_grad_norm), so u = g / (|g| + eps) + wd p, and the
 * step is lr |p| / |u| u. */
static void test_lamb_rule(void) {
    double p[N], p0[N], g[N], m[N], v[N], u[N];
    double *states[] = {m, v};
    rule_inputs(p, p0, g, states, 2, 0.0);
    ok_lamb_hparams hp = OK_LAMB_DEFAULTS;
    hp.lr = 0.1;
    CHECK(step_by_name("lamb", &hp, p, g, states) == OK_SUCCESS);
    double g_norm = 0, p_norm = 0, u_norm = 0;
    for (int i = 0; i < N; i++) g_norm += g[i] * g[i];
    g_norm = sqrt(g_norm);
    CHECK(g_norm > 1.0);
    for (int i = 0; i < N; i++) {
        double clipped = g[i] / g_norm;
        CHECK(close_to(m[i], 0.1 * clipped, 1e-14) && close_to(v[i], 1e-3 * clipped * clipped, 1e-13));
        u[i] = clipped / (fabs(clipped) + 1e-6) + 0.01 * p0[i];
        p_norm += p0[i] * p0[i];
        u_norm += u[i] * u[i];
    }
    for (int i = 0; i < N; i++) CHECK(close_to(p[i], p0[i] - 0.1 * sqrt(p_norm / u_norm) * u[i], 1e-12));
    hp.max_grad_norm = 0.0;
    CHECK(step_by_name("lamb", &hp, p, g, states) == OK_ERR_HYPERPARAMETER);
}

/* LARS's first step: b = (g + wd p) r (the buffer starts at 0, no
 * dampening), r = trust_coefficient |p| / (|g| + wd |p|), p - lr b. */
static void test_lars_rule(void) {
    double p[N], p0[N], g[N], b[N];
    double *states[] = {b};
    rule_inputs(p, p0, g, states, 1, 0.0);
    ok_lars_hparams hp = OK_LARS_DEFAULTS;
    hp.lr = 0.5, hp.weight_decay = 0.1, hp.trust_coefficient = 0.02;
    CHECK(step_by_name("lars", &hp, p, g, states) == OK_SUCCESS);
    double g_norm = 0, p_norm = 0;
    for (int i = 0; i < N; i++) g_norm += g[i] * g[i], p_norm += p0[i] * p0[i];
    double r = 0.02 * sqrt(p_norm) / (sqrt(g_norm) + 0.1 * sqrt(p_norm));
    for (int i = 0; i < N; i++) {
        double want = (g[i] + 0.1 * p0[i]) * r;
        CHECK(close_to(b[i], want, 1e-13) && close_to(p[i], p0[i] - 0.5 * want, 1e-13));
    }
    hp.momentum = 1.0;
    CHECK(step_by_name("lars", &hp, p, g, states) == OK_ERR_HYPERPARAMETER);
}

/* The C-API capsule's table: its header fields, and every entry the
 * address of the function of its name. */
static void test_capi_table(void) {
    const ok_capi *t = ok_capi_table();
    CHECK(t->abi_version == OPTKERN_ABI_VERSION);
    CHECK(t->count == OPTKERN_CAPI_COUNT);
    CHECK(strcmp(t->version, ok_version()) == 0);
#define CHECK_ENTRY(ret, name, params) CHECK(t->name == &name);
    OPTKERN_CAPI_FUNCTIONS(CHECK_ENTRY)
#undef CHECK_ENTRY
}

/* ctc_loss through its three entry points: two steps of two classes, the
 * target {1} of one sequence, whose one alignment of two steps is (1, 1),
 * (blank, 1) or (1, blank) (docs/losses.md#ctc_loss); then a target equal
 * to blank, OK_ERR_INDEX with nothing written. */
static void test_ctc_loss(void) {
    const double lp[4] = {-0.5, -1.0, -2.0, -0.25}; /* t = 0: blank, 1; t = 1: blank, 1 */
    const int64_t target[1] = {1}, steps[1] = {2}, length[1] = {1};
    double loss = 0.0, grad[4];
    CHECK(ok_ctc_loss_f64(2, 1, 2, lp, target, 1, 1, steps, length, 0, 0, OK_REDUCTION_SUM, &loss, grad) ==
          OK_SUCCESS);
    const double want = -log(exp(-1.0 - 0.25) + exp(-0.5 - 0.25) + exp(-1.0 - 2.0));
    CHECK(fabs(loss - want) < 1e-14);
    double again = 0.0, grad2[4];
    CHECK(ok_ctc_loss(OK_FLOAT64, 2, 1, 2, lp, target, 1, 0, steps, length, 0, 0, OK_REDUCTION_SUM, &again,
                      grad2) == OK_SUCCESS);
    CHECK(memcmp(&loss, &again, sizeof loss) == 0 && memcmp(grad, grad2, sizeof grad) == 0);
    float lp32[4], loss32 = 0.0f, grad32[4];
    for (int i = 0; i < 4; i++) lp32[i] = (float)lp[i];
    CHECK(ok_ctc_loss_f32(2, 1, 2, lp32, target, 1, 1, steps, length, 0, 0, OK_REDUCTION_SUM, &loss32, grad32) ==
          OK_SUCCESS);
    CHECK(fabs(loss32 - want) < 1e-6);
    const int64_t blank_target[1] = {0};
    float untouched = 7.0f, grad_untouched[4] = {7.0f, 7.0f, 7.0f, 7.0f};
    CHECK(ok_ctc_loss_f32(2, 1, 2, lp32, blank_target, 1, 1, steps, length, 0, 0, OK_REDUCTION_SUM, &untouched,
                          grad_untouched) == OK_ERR_INDEX);
    CHECK(untouched == 7.0f && grad_untouched[0] == 7.0f && grad_untouched[3] == 7.0f);
}

int main(void) {
    printf("optkern %s, isa %s, %d threads\n", ok_version(), ok_isa_name(ok_get_isa()), ok_get_num_threads());
    ok_set_num_threads(2);
    CHECK(ok_get_num_threads() == 2);
    test_adam_rule();
    test_capi_table();
    test_preconditions_write_nothing();
    test_mixed_dtypes();
    test_overlap_check();
    test_sgd_rule();
    test_optimizer_descriptors();
    test_adafactor_shaped();
    test_scalar_states();
    test_rprop_rule();
    test_adagrad_rule();
    test_rmsprop_rule();
    test_adadelta_rule();
    test_adamax_rule();
    test_lion_rule();
    test_adopt_rule();
    test_isa_selection();
    test_thread_cap();
    test_fork_after_threads();
    test_mse_loss();
    test_generic_entry_point();
    test_loss_aliasing();
    test_ctc_loss();
    test_misaligned_arrays();
    test_bce_broadcast_weight();
    test_kl_div_batchmean();
    test_elementwise_by_name();
    test_second_input_and_domain();
    test_multilabel_margin();
    test_pair_and_margin_rows();
    test_cross_entropy_classes();
    test_cross_entropy_probs();
    test_nll_loss();
    test_vector_operations();
    test_muon_stages();
    test_schedulefree_modes();
    test_scaled_step();
    test_lamb_rule();
    test_lars_rule();
    if (failures) printf("%d checks failed\n", failures);
    return failures != 0;
}
