/*
 * Regression losses, one vector of elements (a kernel body: included once per
 * dtype by kernels_target.c). Each returns the loss lanes and sets *g to the
 * gradient lanes; w is the weight (ones when none). shared/spec/losses.md.
 */

/* mse_loss: loss w (x - y)^2, gradient 2 s w (x - y) (quad_grad = 2 s). */
OK_INLINE V DT_NAME(mse_lanes)(const ok_ew_task *t, V x, V y, V w, V *g) {
    V d = vsub(x, y);
    V wd = vmul(w, d);
    *g = vmul(vset1((T)t->quad_grad), wd);
    return vmul(wd, d);
}

/*
 * huber_loss, smooth_l1_loss and l1_loss: with d = x - y,
 *   loss  quad d^2             where |d| < delta, else lin (|d| - delta/2)
 *   grad  quad_grad d          where |d| < delta, else lin_grad sign(d)
 * huber: quad 1/2, lin delta; smooth_l1: delta beta, quad 1/(2 beta), lin 1;
 * l1: delta 0 (never inside), lin 1. torch splits at the same place, and
 * its two gradient forms agree at |d| = delta. sign(0) = 0, sign(NaN) = NaN.
 */
OK_INLINE V DT_NAME(huber_lanes)(const ok_ew_task *t, V x, V y, V w, V *g) {
    V d = vsub(x, y), a = vabs(d);
    M inside = vlt(a, vset1((T)t->delta));
    V sign = vselect(vgt(d, vzero()), vset1((T)1), vselect(vlt(d, vzero()), vset1((T)-1), d));
    V loss = vselect(inside, vmul(vmul(vset1((T)t->quad), d), d),
                     vmul(vset1((T)t->lin), vsub(a, vset1((T)t->half_delta))));
    *g = vmul(w, vselect(inside, vmul(vset1((T)t->quad_grad), d), vmul(vset1((T)t->lin_grad), sign)));
    return vmul(w, loss);
}
