/*
 * kl_div, one vector of elements (a kernel body; docs/losses.md#kl_div).
 * torch computes xlogy(y, y) - y x, which is 0 where y = 0 unless x is
 * infinite or NaN; the gradient is -y, lin_grad y with lin_grad = -s. With
 * log_target: e^y (y - x), gradient -e^y. No weight: w and p are ones.
 */
OK_INLINE vec_t DT_NAME(kl_div_lanes)(const ok_ew_task *t, vec_t x, vec_t y, vec_t w, vec_t p, vec_t x2, vec_t *g,
                                 vec_t *g2) {
    (void)w, (void)p, (void)x2, (void)g2;
    vec_t ylogy = vselect(veq(y, vzero()), vzero(), vmul(y, DT_NAME(vlog)(y)));
    *g = vmul(vset1((real_t)t->lin_grad), y);
    return vfnma(y, x, ylogy);
}

OK_INLINE vec_t DT_NAME(kl_div_log_target_lanes)(const ok_ew_task *t, vec_t x, vec_t y, vec_t w, vec_t p, vec_t x2,
                                                 vec_t *g, vec_t *g2) {
    (void)w, (void)p, (void)x2, (void)g2;
    vec_t e = DT_NAME(vexp)(y);
    *g = vmul(vset1((real_t)t->lin_grad), e);
    return vmul(e, vsub(y, x));
}
