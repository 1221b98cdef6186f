/*
 * torch's lerp(a, b, w) in a kernel body, for a weight the host prepared
 * with ok_lerp_weight (optim/descriptor.h): one fused multiply-add, either
 * a + w(b - a) or b + (w - 1)(b - a), the form torch picks for that w.
 * Included once per variant through optim/optimizers.h, before the bodies
 * that use it.
 */
OK_INLINE vec_t DT_NAME(ok_vlerp)(vec_t a, vec_t b, ok_lerp w) {
    return vfma(vset1((real_t)w.coeff), vsub(b, a), w.from_end ? b : a);
}
