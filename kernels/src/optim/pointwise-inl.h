/*
 * torch's compound pointwise operations in a kernel body, rounded as its
 * CPU kernels round them, for the optimizer bodies that follow torch's
 * operation order (docs/optimizers.md#host-scalars-and-per-element-arithmetic).
 * Included once per variant through optim/optimizers.h, before the bodies.
 */

/* lerp(a, b, w), for a weight the host prepared with ok_lerp_weight
 * (optim/descriptor.h): one fused multiply-add, a + w(b - a) or
 * b + (w - 1)(b - a), the form torch picks for that w. */
OK_INLINE vec_t DT_NAME(ok_vlerp)(vec_t a, vec_t b, ok_lerp w) {
    return vfma(vset1((real_t)w.coeff), vsub(b, a), w.from_end ? b : a);
}

/* addcdiv(a, t1, t2, value) = a + (value * t1) / t2, each step rounded:
 * the product, the quotient, the sum. */
OK_INLINE vec_t DT_NAME(ok_vaddcdiv)(vec_t a, double value, vec_t t1, vec_t t2) {
    return vadd(a, vdiv(vmul(vset1((real_t)value), t1), t2));
}

/* sign(x): 1, -1, or 0 for a zero (either sign) and for NaN, as torch's
 * sign and sgn of a real tensor. */
OK_INLINE vec_t DT_NAME(ok_vsign)(vec_t x) {
    const vec_t zero = vzero(), one = vset1((real_t)1);
    return vselect(vgt(x, zero), one, vselect(vlt(x, zero), vneg(one), zero));
}

/* A gradient as an update reads it: loaded, then multiplied by the call's
 * unscale and clip factors, each product rounded (optkern/optim.h,
 * ok_grad_scaling); a factor of exactly 1 is skipped. */
OK_INLINE vec_t DT_NAME(ok_vld_grad)(const ok_grad_scaling *s, const grad_t *gp, size_t lanes) {
    vec_t g = vld_grad(gp, lanes);
    if (s->unscale != 1.0) g = vmul(g, vset1((real_t)s->unscale));
    if (s->clip != 1.0) g = vmul(g, vset1((real_t)s->clip));
    return g;
}

/* acc + x^2 over the first `lanes` lanes, x^2 rounded to the dtype and
 * added in double: a tensor's sum of squares (Adafactor's RMS, the norms of
 * optim/norms.h). The other lanes count as 0 whatever x holds there (a
 * quotient of the zeros a masked load gives may be NaN). */
OK_INLINE acc_t DT_NAME(ok_vacc_sq)(acc_t acc, vec_t x, size_t lanes) {
    if (lanes != (size_t)LANES) x = vselect(mfirst(lanes), x, vzero());
    return vacc_add(acc, vmul(x, x));
}
