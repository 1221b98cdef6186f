/*
 * The test hooks of testing.h, one variant at a time (a kernel body:
 * included once per variant by bodies-inl.h): the vector math functions and
 * the SIMD primitives, each applied elementwise with the selected target's
 * vectors, tails through the same masked loads and stores as every kernel.
 */

/* y[i] = f(x[i]) for one vector math function. */
OK_INLINE vec_t DT_NAME(vmath_apply)(int op, vec_t x) {
    switch (op) {
    case OK_VMATH_EXP: return DT_NAME(vexp)(x);
    case OK_VMATH_LOG: return DT_NAME(vlog)(x);
    case OK_VMATH_LOG1P: return DT_NAME(vlog1p)(x);
    default: return DT_NAME(vtanh)(x);
    }
}

static void DT_NAME(vmath_eval)(int op, size_t n, const void *xv, void *yv) {
    const real_t *x = (const real_t *)xv;
    real_t *y = (real_t *)yv;
    size_t j = 0;
    for (; j + LANES <= n; j += LANES) vst(y + j, DT_NAME(vmath_apply)(op, vld(x + j, LANES)), LANES);
    if (j < n) vst(y + j, DT_NAME(vmath_apply)(op, vld(x + j, n - j)), n - j);
}

/* The lanes of this variant's vectors. */
static size_t DT_NAME(simd_width)(void) { return LANES; }

/* One vector of a SIMD primitive (OK_SIMD_* of testing.h). */
OK_INLINE vec_t DT_NAME(simd_apply)(int op, vec_t a, vec_t b, vec_t *e) {
    switch (op) {
    case OK_SIMD_MAXN: return vmaxn(a, b);
    case OK_SIMD_MAXB: return vmaxb(a, b);
    case OK_SIMD_CLAMP: return vclamp(a, vset1((real_t)-1), vset1((real_t)1));
    case OK_SIMD_LDEXP: return vldexp(a, b);
    case OK_SIMD_FREXP: return vfrexp(a, e);
    case OK_SIMD_ROUND: return vround(a);
    case OK_SIMD_COPYSIGN: return vcopysign(a, b);
    default: return a; /* OK_SIMD_LOAD_PART: the load and store alone */
    }
}

static void DT_NAME(simd_probe)(int op, size_t n, const void *xv, void *yv, void *zv) {
    const real_t *x = (const real_t *)xv;
    real_t *y = (real_t *)yv, *z = (real_t *)zv;
    for (size_t j = 0; j < n; j += LANES) {
        size_t lanes = n - j < (size_t)LANES ? n - j : (size_t)LANES;
        if (op == OK_SIMD_HMAX) {
            z[j / LANES] = vhmax(vld_fill(x + j, lanes, (real_t)-INFINITY));
            continue;
        }
        vec_t e = vzero(), r = DT_NAME(simd_apply)(op, vld(x + j, lanes), vld(y + j, lanes), &e);
        if (op == OK_SIMD_FREXP) vst(y + j, e, lanes);
        vst(z + j, r, lanes);
    }
}
