/*
 * binary_cross_entropy_with_logits, one vector of elements (a kernel body;
 * docs/losses.md#binary_cross_entropy_with_logits). With p the pos_weight,
 * w the weight and L = 1 + (p - 1) y:
 *   loss  w [(1 - y) x + L softplus(-x)]
 *   grad  w [L sigmoid(x) - p y]   (times lin_grad = s)
 * the stable forms torch uses. One exponential serves both: with
 * e = exp(-|x|) (never overflows), softplus(-x) = max(-x, 0) + log1p(e) and
 * sigmoid(x) = (x >= 0 ? 1 : e) / (1 + e).
 */

/* The loss lanes above; *g gets the gradient lanes times s. Also
 * multilabel_soft_margin_loss's terms (p = 1; multilabel_soft_margin-inl.h). */
OK_INLINE vec_t DT_NAME(bce_logits_terms)(vec_t x, vec_t y, vec_t w, vec_t p, vec_t s, vec_t *g) {
    const vec_t one = vset1((real_t)1);
    vec_t e = DT_NAME(vexp)(vneg(vabs(x)));
    vec_t softplus = vadd(vmaxb(vneg(x), vzero()), DT_NAME(vlog1p)(e));
    vec_t sigmoid = vdiv(vselect(vle(vzero(), x), one, e), vadd(one, e));
    vec_t big_l = vfma(vsub(p, one), y, one);
    *g = vmul(vmul(s, w), vfnma(p, y, vmul(big_l, sigmoid)));
    return vmul(w, vfma(vsub(one, y), x, vmul(big_l, softplus)));
}

OK_INLINE vec_t DT_NAME(bce_with_logits_lanes)(const ok_ew_task *t, vec_t x, vec_t y, vec_t w, vec_t p, vec_t x2,
                                               vec_t *g, vec_t *g2) {
    (void)x2, (void)g2;
    return DT_NAME(bce_logits_terms)(x, y, w, p, vset1((real_t)t->lin_grad), g);
}
