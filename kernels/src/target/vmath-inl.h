/*
 * Vector math for the loss kernels: exp, log, log1p, tanh (a kernel body:
 * included once per variant by target/bodies-inl.h, for its real_t).
 *
 * Each function is written once over the simd.h operations, so the scalar,
 * AVX2 and AVX-512 targets run the same algorithm (the scalar target in plain
 * C99: rint, ldexp, frexp). Every polynomial is a truncated Taylor series,
 * its coefficients exact rationals written as such and its truncation
 * error bounded in the comment, except float32 exp's, a minimax fit
 * (tools/fit_exp_poly.py) two terms shorter. The errors below are the maxima measured
 * by tests/test_vmath.py on every target, against float64 (for float32) and
 * long double (for float64) references, over the whole input range (for
 * float32 about a million inputs spread evenly over the bit patterns, for
 * float64 as many); the test asserts 4 ULP.
 *
 *   vexp    1.2 ULP (f32; 0.8 with FMA), 1.0 ULP (f64), every input; subnormal
 *           results are rounded once. exp(-inf) = 0, exp(+inf) = +inf.
 *           vexp_flush: the same, but 0 below e^-87 (f32) / e^-708 (f64).
 *   vlog    2.0 ULP (f32 and f64) for every x > 0, subnormals included;
 *           log(0) = -inf, log(x < 0) = NaN, log(+inf) = +inf.
 *   vlog1p  2.0 ULP (f32), 1.9 ULP (f64) for every a > -1; log1p(-1) = -inf.
 *   vtanh   2.2 ULP (f32), 2.1 ULP (f64) for every input; tanh(+-inf) = +-1.
 * NaN gives NaN everywhere.
 */
#undef VM_LOG2E
#undef VM_LN2_HI
#undef VM_LN2_LO
#undef VM_SQRT2
#undef VM_EXP_MIN
#undef VM_EXP_MAX
#undef VM_EXP_NORMAL
#undef VM_EXP_TERMS
#undef VM_EXPM1_TERMS
#undef VM_ATANH_TERMS
#undef VM_TANH_ONE

#if OK_REAL_BITS == 32
#define VM_LOG2E 0x1.715476p+0f
/* ln 2 = VM_LN2_HI + VM_LN2_LO; HI has 9 significant bits, so n * HI is
 * exact for |n| < 2^15 and x - n * HI loses nothing (Cody and Waite). */
#define VM_LN2_HI 0x1.63p-1f
#define VM_LN2_LO -0x1.bd0106p-13f
#define VM_SQRT2 0x1.6a09e6p+0f
/* exp(x) rounds to 0 below -104 (under half the smallest subnormal) and
 * overflows above 89: clamping there changes no result. */
#define VM_EXP_MIN -104.0f
#define VM_EXP_MAX 89.0f
/* exp(x) >= 1.6e-38, a normal number, for x >= -87 (vexp_flush). */
#define VM_EXP_NORMAL -87.0f
#define VM_EXP_TERMS 6
/* e^r - 1 to degree 7: truncation < r^8/8! < 2^-28 relative. */
#define VM_EXPM1_TERMS 6
/* atanh series of log: 5 terms after 2s, truncation < z^5/13 < 2^-28 relative. */
#define VM_ATANH_TERMS 5
/* tanh(x) rounds to 1 for x > 9.02. */
#define VM_TANH_ONE 9.1f
#else
#define VM_LOG2E 0x1.71547652b82fep+0
/* HI has 29 significant bits: n * HI exact for |n| < 2^24. */
#define VM_LN2_HI 0x1.62e42ffp-1
#define VM_LN2_LO -0x1.718432a1b0e26p-35
#define VM_SQRT2 0x1.6a09e667f3bcdp+0
#define VM_EXP_MIN -746.0
#define VM_EXP_MAX 710.0
#define VM_EXP_NORMAL -708.0
/* degree 13: truncation < r^14/14! < 2^-56 relative. */
#define VM_EXP_TERMS 14
#define VM_EXPM1_TERMS 12
/* 11 terms: truncation < z^11/25 < 2^-60 relative. */
#define VM_ATANH_TERMS 11
/* tanh(x) rounds to 1 for x > 18.72. */
#define VM_TANH_ONE 19.1
#endif

/* exp(r) on |r| <= ln2/2, c[0] + c[1] r + ...; c[0] = c[1] = 1 exactly, so
 * exp(0) = 1. float32: degree 5, fitted for the least maximum relative
 * error (tools/fit_exp_poly.py): 1.15e-7 with its float32 coefficients.
 * float64: the degree-13 Taylor polynomial. */
OK_DEVICE_DATA const real_t DT_NAME(ok_exp_poly)[VM_EXP_TERMS] = {
#if OK_REAL_BITS == 32
    1.0f, 1.0f, 0x1.fffdfep-2f, 0x1.555736p-3f, 0x1.5729fcp-5f, 0x1.10a428p-7f,
#else
    1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040,
    1.0 / 40320, 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800.0,
#endif
};

/* (e^r - 1 - r) / r^2 = 1/2 + r/6 + r^2/24 + ...: 1/(k+2)!, Taylor, for
 * e^r - 1 with full relative accuracy near 0. */
OK_DEVICE_DATA const real_t DT_NAME(ok_expm1_taylor)[VM_EXPM1_TERMS] = {
    1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040,
#if OK_REAL_BITS == 64
    1.0 / 40320, 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800.0,
#endif
};

/* 1/(2k+3), k = 0 .. VM_ATANH_TERMS-1: log(m) = 2s (1 + z/3 + z^2/5 + ...). */
OK_DEVICE_DATA const real_t DT_NAME(ok_atanh_taylor)[VM_ATANH_TERMS] = {
    1.0 / 3, 1.0 / 5, 1.0 / 7, 1.0 / 9, 1.0 / 11,
#if OK_REAL_BITS == 64
    1.0 / 13, 1.0 / 15, 1.0 / 17, 1.0 / 19, 1.0 / 21, 1.0 / 23,
#endif
};

/* c[0] + x (c[1] + x (... + x c[n-1])), by Horner's rule. */
OK_INLINE vec_t DT_NAME(vpoly)(vec_t x, const real_t *c, int n) {
    vec_t p = vset1(c[n - 1]);
    for (int k = n - 2; k >= 0; k--) p = vfma(p, x, vset1(c[k]));
    return p;
}

/* x = n ln2 + r with n an integer and |r| <= ln2/2 (plus rounding). */
OK_INLINE vec_t DT_NAME(vexp_reduce)(vec_t x, vec_t *n) {
    *n = vround(vmul(x, vset1(VM_LOG2E)));
    vec_t r = vfnma(*n, vset1(VM_LN2_HI), x);
    return vfnma(*n, vset1(VM_LN2_LO), r);
}

/* e^x = 2^n e^r for x in [VM_EXP_MIN, VM_EXP_MAX]: the polynomial of e^r,
 * scaled by 2^n with one rounding (vldexp), so subnormal results keep
 * their accuracy. */
OK_INLINE vec_t DT_NAME(vexp_core)(vec_t x) {
    vec_t n, r = DT_NAME(vexp_reduce)(x, &n);
    return vldexp(DT_NAME(vpoly)(r, DT_NAME(ok_exp_poly), VM_EXP_TERMS), n);
}

OK_INLINE vec_t DT_NAME(vexp)(vec_t x) {
    return DT_NAME(vexp_core)(vclamp(x, vset1(VM_EXP_MIN), vset1(VM_EXP_MAX)));
}

/*
 * e^x for x <= VM_EXP_MAX (a softmax's x - max <= 0), but 0 where
 * x < VM_EXP_NORMAL, where e^x is below about 2^-125: in a sum that holds
 * e^0 = 1 such a term is lost in rounding anyway. No subnormal number is
 * ever produced, and so no microcode assist, which costs over a hundred
 * cycles on x86 and is otherwise hit by every -inf (a masked-off lane, a
 * logit of -inf).
 */
OK_INLINE vec_t DT_NAME(vexp_flush)(vec_t x) {
    vec_t e = DT_NAME(vexp_core)(vmaxb(vset1(VM_EXP_NORMAL), x)); /* NaN stays NaN */
    return vselect(vlt(x, vset1(VM_EXP_NORMAL)), vzero(), e);
}

/*
 * log(u + c) for finite u > 0 and a correction |c| <= ulp(u) (0 for log):
 * u = m 2^e with m in [sqrt(2)/2, sqrt(2)); then, with f = m - 1 (exact)
 * plus the correction scaled alike, log(1 + f) = 2 atanh(s) where
 * s = f/(2 + f), |s| <= 0.172, is 2s (1 + z/3 + z^2/5 + ...) with z = s^2.
 * The sum e ln2 + log(m) adds the large, exact part last.
 */
OK_INLINE vec_t DT_NAME(vlog_core)(vec_t u, vec_t c) {
    vec_t e, m = vfrexp(u, &e);
    mask_t high = vgt(m, vset1(VM_SQRT2));
    m = vselect(high, vmul(m, vset1((real_t)0.5)), m);
    e = vselect(high, vadd(e, vset1((real_t)1)), e);
    vec_t f = vadd(vsub(m, vset1((real_t)1)), vldexp(c, vneg(e)));
    vec_t s = vdiv(f, vadd(vset1((real_t)2), f));
    vec_t z = vmul(s, s);
    vec_t two_s = vadd(s, s);
    vec_t tail = vmul(vmul(two_s, z), DT_NAME(vpoly)(z, DT_NAME(ok_atanh_taylor), VM_ATANH_TERMS));
    return vfma(e, vset1(VM_LN2_HI), vadd(two_s, vfma(e, vset1(VM_LN2_LO), tail)));
}

/* The special values of log at u: -inf at 0, +inf at +inf, NaN below 0 and
 * for NaN; `core` everywhere else. */
OK_INLINE vec_t DT_NAME(vlog_special)(vec_t u, vec_t core) {
    const vec_t inf = vset1((real_t)INFINITY);
    vec_t special = vselect(veq(u, vzero()), vneg(inf), vselect(veq(u, inf), inf, vset1((real_t)NAN)));
    return vselect(mand(vgt(u, vzero()), vlt(u, inf)), core, special);
}

OK_INLINE vec_t DT_NAME(vlog)(vec_t x) {
    return DT_NAME(vlog_special)(x, DT_NAME(vlog_core)(x, vzero()));
}

/* log(1 + a): u = 1 + a rounds, but c = a - (u - 1) is its exact rounding
 * error, which vlog_core folds back in: no cancellation for small a. */
OK_INLINE vec_t DT_NAME(vlog1p)(vec_t a) {
    vec_t u = vadd(vset1((real_t)1), a);
    vec_t c = vsub(a, vsub(u, vset1((real_t)1)));
    return DT_NAME(vlog_special)(u, DT_NAME(vlog_core)(u, c));
}

/* e^x - 1 for 0 <= x <= 2 VM_TANH_ONE (tanh's use): with x = n ln2 + r,
 * e^x - 1 = 2^n (e^r - 1) + (2^n - 1), where e^r - 1 = r + r^2 (1/2 + r/6 +
 * ...) keeps full relative accuracy near 0 and 2^n - 1 is exact. */
OK_INLINE vec_t DT_NAME(vexpm1_small)(vec_t x) {
    vec_t n, r = DT_NAME(vexp_reduce)(x, &n);
    vec_t q = vfma(vmul(r, r), DT_NAME(vpoly)(r, DT_NAME(ok_expm1_taylor), VM_EXPM1_TERMS), r);
    vec_t t = vldexp(vset1((real_t)1), n);
    return vfma(t, q, vsub(t, vset1((real_t)1)));
}

/* tanh(x) = q/(q + 2) with q = e^{2|x|} - 1 >= 0 (no cancellation at any
 * |x|), the sign of x restored; |x| is clamped where tanh rounds to 1. */
OK_INLINE vec_t DT_NAME(vtanh)(vec_t x) {
    vec_t a = vclamp(vabs(x), vzero(), vset1(VM_TANH_ONE));
    vec_t q = DT_NAME(vexpm1_small)(vadd(a, a));
    return vcopysign(vdiv(q, vadd(q, vset1((real_t)2))), x);
}
