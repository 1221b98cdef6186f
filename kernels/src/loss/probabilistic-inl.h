/*
 * Negative log-likelihoods of probabilities, counts and Gaussians, one
 * vector of elements each (a kernel body: included once per variant by
 * target/bodies-inl.h; docs/losses.md#binary_cross_entropy,
 * #poisson_nll_loss, #gaussian_nll_loss). The signature is every
 * elementwise formula's (elementwise-inl.h); s below is the reduction's
 * scale, lin_grad.
 */

/* binary_cross_entropy of probabilities x in [0, 1] (checked on the host):
 *   loss  w [(y - 1) max(log(1 - x), -100) - y max(log x, -100)]
 *   grad  s w (x - y) / max((1 - x) x, 1e-12)
 * torch's clamps: log 0 = -inf becomes -100, and the gradient stays finite
 * at x = 0 and x = 1. */
OK_INLINE vec_t DT_NAME(bce_lanes)(const ok_ew_task *t, vec_t x, vec_t y, vec_t w, vec_t p, vec_t x2, vec_t *g,
                                   vec_t *g2) {
    (void)p, (void)x2, (void)g2;
    const vec_t one = vset1((real_t)1), floor = vset1((real_t)-100);
    vec_t log_x = vmaxb(DT_NAME(vlog)(x), floor);
    vec_t log_rest = vmaxb(DT_NAME(vlog1p)(vneg(x)), floor);
    vec_t den = vmaxb(vmul(vsub(one, x), x), vset1((real_t)1e-12));
    *g = vmul(vmul(vset1((real_t)t->lin_grad), w), vdiv(vsub(x, y), den));
    return vmul(w, vfnma(y, log_x, vmul(vsub(y, one), log_rest)));
}

/* Stirling's approximation of log(y!), y log y - y + log(2 pi y) / 2, where
 * y > 1, and 0 where y <= 1 (poisson_nll_loss's full). */
OK_INLINE vec_t DT_NAME(stirling)(vec_t y) {
    vec_t term = vfma(y, DT_NAME(vlog)(y), vneg(y));
    term = vfma(vset1((real_t)0.5), DT_NAME(vlog)(vmul(vset1((real_t)6.283185307179586), y)), term);
    return vselect(vle(y, vset1((real_t)1)), vzero(), term);
}

/* poisson_nll_loss with log_input: rate e^x,
 *   loss  e^x - y x (+ Stirling's term with full),  grad  s (e^x - y). */
OK_INLINE vec_t DT_NAME(poisson_log_lanes)(const ok_ew_task *t, vec_t x, vec_t y, vec_t w, vec_t p, vec_t x2,
                                           vec_t *g, vec_t *g2) {
    (void)w, (void)p, (void)x2, (void)g2;
    vec_t e = DT_NAME(vexp)(x);
    *g = vmul(vset1((real_t)t->lin_grad), vsub(e, y));
    vec_t loss = vfnma(y, x, e);
    return t->full ? vadd(loss, DT_NAME(stirling)(y)) : loss;
}

/* poisson_nll_loss without log_input: rate x,
 *   loss  x - y log(x + eps) (+ Stirling's term),  grad  s (1 - y / (x + eps)). */
OK_INLINE vec_t DT_NAME(poisson_lanes)(const ok_ew_task *t, vec_t x, vec_t y, vec_t w, vec_t p, vec_t x2, vec_t *g,
                                       vec_t *g2) {
    (void)w, (void)p, (void)x2, (void)g2;
    vec_t shifted = vadd(x, vset1((real_t)t->eps));
    *g = vmul(vset1((real_t)t->lin_grad), vsub(vset1((real_t)1), vdiv(y, shifted)));
    vec_t loss = vfnma(y, DT_NAME(vlog)(shifted), x);
    return t->full ? vadd(loss, DT_NAME(stirling)(y)) : loss;
}

/* gaussian_nll_loss of mean x and variance x2 (input2, >= 0, checked on the
 * host), with v = max(x2, eps) (NaN stays NaN) and d = x - y:
 *   loss  (log v + d^2 / v) / 2 + offset   (offset log(2 pi) / 2 with full)
 *   grad  s d / v;   input2's: s (1/v - d^2/v^2) / 2
 * (torch clamps v without tracking it: the gradient is v's, as if unclamped). */
OK_INLINE vec_t DT_NAME(gaussian_lanes)(const ok_ew_task *t, vec_t x, vec_t y, vec_t w, vec_t p, vec_t x2, vec_t *g,
                                        vec_t *g2) {
    (void)w, (void)p;
    const vec_t half = vset1((real_t)0.5), s = vset1((real_t)t->lin_grad);
    vec_t v = vmaxn(x2, vset1((real_t)t->eps));
    vec_t r = vdiv(vset1((real_t)1), v);
    vec_t d = vsub(x, y), dr = vmul(d, r);
    *g = vmul(s, dr);
    *g2 = vmul(vmul(s, half), vfnma(dr, dr, r));
    return vfma(half, vfma(d, dr, DT_NAME(vlog)(v)), vset1((real_t)t->offset));
}
