/*
 * Margin losses of one value per element, one vector of elements each (a
 * kernel body: included once per variant by target/bodies-inl.h;
 * docs/losses.md#hinge_embedding_loss, #soft_margin_loss,
 * #margin_ranking_loss). The signature is every elementwise formula's
 * (elementwise-inl.h); s below is the reduction's scale, lin_grad, and m
 * the margin. Where a hinge max(0, v) is exactly at v = 0 its gradient is
 * that of v, as torch's clamp_min passes it (v >= 0); a NaN v gives a NaN
 * loss and no gradient.
 */

/* hinge_embedding_loss: loss [y != -1] x + [y != 1] max(0, m - x),
 * grad s ([y != -1] - [y != 1][m - x >= 0]). */
OK_INLINE vec_t DT_NAME(hinge_lanes)(const ok_ew_task *t, vec_t x, vec_t y, vec_t w, vec_t p, vec_t x2, vec_t *g,
                                     vec_t *g2) {
    (void)w, (void)p, (void)x2, (void)g2;
    const vec_t one = vset1((real_t)1), minus_one = vset1((real_t)-1);
    const mask_t positive = veq(y, one), negative = veq(y, minus_one);
    vec_t v = vsub(vset1((real_t)t->margin), x);
    vec_t self = vselect(negative, vzero(), one);
    vec_t push = vselect(positive, vzero(), vselect(vle(vzero(), v), minus_one, vzero()));
    *g = vmul(vset1((real_t)t->lin_grad), vadd(self, push));
    return vadd(vselect(positive, vzero(), vmaxn(v, vzero())), vselect(negative, vzero(), x));
}

/* soft_margin_loss: with z = -y x, loss log(1 + e^z), grad -s y sigmoid(z),
 * both from e = exp(-|z|) (never overflows): log(1 + e^z) = max(z, 0) +
 * log1p(e), sigmoid(z) = (z >= 0 ? 1 : e) / (1 + e). */
OK_INLINE vec_t DT_NAME(soft_margin_lanes)(const ok_ew_task *t, vec_t x, vec_t y, vec_t w, vec_t p, vec_t x2,
                                           vec_t *g, vec_t *g2) {
    (void)w, (void)p, (void)x2, (void)g2;
    const vec_t one = vset1((real_t)1);
    vec_t z = vneg(vmul(y, x));
    vec_t e = DT_NAME(vexp)(vneg(vabs(z)));
    vec_t sigmoid = vdiv(vselect(vle(vzero(), z), one, e), vadd(one, e));
    *g = vmul(vmul(vset1((real_t)-t->lin_grad), y), sigmoid);
    return vadd(vmaxb(z, vzero()), DT_NAME(vlog1p)(e));
}

/* margin_ranking_loss of x (input1) and x2 (input2): v = m - y (x - x2),
 * loss max(0, v), grad -s y [v >= 0] and input2's its negation. */
OK_INLINE vec_t DT_NAME(margin_ranking_lanes)(const ok_ew_task *t, vec_t x, vec_t y, vec_t w, vec_t p, vec_t x2,
                                              vec_t *g, vec_t *g2) {
    (void)w, (void)p;
    vec_t v = vfnma(y, vsub(x, x2), vset1((real_t)t->margin));
    *g = vselect(vle(vzero(), v), vmul(vset1((real_t)-t->lin_grad), y), vzero());
    *g2 = vneg(*g);
    return vmaxn(v, vzero());
}
