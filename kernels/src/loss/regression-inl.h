/*
 * Regression losses, one vector of elements (a kernel body: included once per
 * variant by target/bodies-inl.h; docs/losses.md#regression-losses). Each
 * has the signature of every elementwise formula (elementwise-inl.h): input
 * x, target y, weight w (ones when none), pos_weight p (BCE's; ones), and
 * returns the loss lanes and sets *g to the gradient lanes. s below is the
 * reduction's scale, folded into quad_grad and lin_grad on the host.
 */

/* mse_loss: loss w (x - y)^2, gradient 2 s w (x - y) (quad_grad = 2 s). */
OK_INLINE vec_t DT_NAME(mse_lanes)(const ok_ew_task *t, vec_t x, vec_t y, vec_t w, vec_t p, vec_t x2, vec_t *g,
                                 vec_t *g2) {
    (void)p, (void)x2, (void)g2;
    vec_t d = vsub(x, y);
    vec_t wd = vmul(w, d);
    *g = vmul(vset1((real_t)t->quad_grad), wd);
    return vmul(wd, d);
}

/* sign(d) as torch computes it, (d > 0) - (d < 0): 0 at +-0 and at NaN. */
OK_INLINE vec_t DT_NAME(torch_sign)(vec_t d) {
    return vselect(vgt(d, vzero()), vset1((real_t)1), vselect(vlt(d, vzero()), vset1((real_t)-1), vzero()));
}

/* l1_loss: loss w |x - y|, gradient s w sign(x - y) (lin_grad = s): torch's
 * gradient is 0 where x - y is NaN. */
OK_INLINE vec_t DT_NAME(l1_lanes)(const ok_ew_task *t, vec_t x, vec_t y, vec_t w, vec_t p, vec_t x2, vec_t *g,
                                 vec_t *g2) {
    (void)p, (void)x2, (void)g2;
    vec_t d = vsub(x, y);
    *g = vmul(vmul(vset1((real_t)t->lin_grad), w), DT_NAME(torch_sign)(d));
    return vmul(w, vabs(d));
}

/*
 * huber_loss and smooth_l1_loss: with d = x - y,
 *   loss  quad d^2             where |d| < delta, else lin (|d| - delta/2)
 *   grad  quad_grad d          where |d| < delta, else lin_grad sign(d)
 * (times w; quad_grad = 2 quad s, lin_grad = lin s).
 * huber: quad 1/2, lin delta; smooth_l1: delta beta, quad 1/(2 beta), lin 1.
 * torch splits at the same place, and its two gradient forms agree at
 * |d| = delta; a NaN d takes the quadratic side, so its gradient is NaN.
 */
OK_INLINE vec_t DT_NAME(huber_lanes)(const ok_ew_task *t, vec_t x, vec_t y, vec_t w, vec_t p, vec_t x2, vec_t *g,
                                 vec_t *g2) {
    (void)p, (void)x2, (void)g2;
    vec_t d = vsub(x, y), a = vabs(d);
    mask_t outside = vle(vset1((real_t)t->delta), a);
    vec_t loss = vselect(outside, vmul(vset1((real_t)t->lin), vsub(a, vset1((real_t)t->half_delta))),
                     vmul(vmul(vset1((real_t)t->quad), d), d));
    *g = vmul(w, vselect(outside, vmul(vset1((real_t)t->lin_grad), DT_NAME(torch_sign)(d)),
                         vmul(vset1((real_t)t->quad_grad), d)));
    return vmul(w, loss);
}
