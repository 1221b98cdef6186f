/*
 * SGD, one span of one tensor (a kernel body: included once per variant
 * through optim/optimizers.h). docs/optimizers.md#sgd:
 *
 *   g <- -g if maximize;  g <- g + wd*p if wd != 0
 *   if momentum != 0:  b <- g on the first step, else b <- mu*b + (1 - dampening)*g
 *                      g <- g + mu*b if nesterov, else g <- b
 *   p <- p - lr*g
 *
 * LARS (optim/lars-inl.h) is this update of the gradient scaled, after the
 * weight decay, by its tensor's trust ratio: `scaled` and `ratio` below.
 */
OK_INLINE void DT_NAME(sgd_lanes)(const ok_sgd_coeffs *c, const ok_io *io, size_t j, const int scaled, vec_t ratio, param_t *p, const grad_t *gp,
                                  state_t *b, size_t lanes) {
    vec_t param = vld_param(io, j, p, lanes);
    vec_t g = DT_NAME(ok_vld_grad)(&c->grad, gp, lanes);
    if (c->maximize) g = vneg(g);
    if (c->has_weight_decay) g = vfma(vset1((real_t)c->weight_decay), param, g);
    if (scaled) g = vmul(g, ratio);
    if (c->has_momentum) {
        vec_t buf;
        if (c->first_step) {
            buf = g;
        } else {
            /* torch: buf.mul_(momentum).add_(grad, alpha=1 - dampening) */
            buf = vfma(vset1((real_t)c->one_minus_dampening), g, vmul(vset1((real_t)c->momentum), vld_state(b, lanes)));
        }
        vst_state(io, j, 2, b, buf, lanes);
        g = c->nesterov ? vfma(vset1((real_t)c->momentum), buf, g) : buf;
    }
    vst_param(io, j, p, vfnma(vset1((real_t)c->lr), g, param), lanes);
}

/* Elements [begin, end) of tensor i, with coefficients c; `scaled` is a
 * constant wherever this is inlined. */
OK_INLINE void DT_NAME(sgd_loop)(const ok_mt_task *task, size_t i, size_t begin, size_t end, const ok_sgd_coeffs *c,
                                 const int scaled, vec_t ratio) {
    param_t *p = OK_MT_PTR(param_t, task, OK_OPT_PARAM, i, begin);
    const ok_io io_ = ok_io_of(task, i, begin), *io = &io_;
    const grad_t *g = OK_MT_PTR(const grad_t, task, OK_OPT_GRAD, i, begin);
    state_t *b = c->has_momentum ? OK_MT_PTR(state_t, task, OK_SGD_BUF, i, begin) : NULL;
    size_t n = end - begin, j = 0;
    for (; j + LANES <= n; j += LANES) {
        vprefetch(p + j), vprefetch(g + j);
        if (b) vprefetch(b + j);
        DT_NAME(sgd_lanes)(c, io, j, scaled, ratio, p + j, g + j, b ? b + j : NULL, LANES);
    }
    if (j < n) DT_NAME(sgd_lanes)(c, io, j, scaled, ratio, p + j, g + j, b ? b + j : NULL, n - j);
}

OK_BODY void DT_NAME(sgd_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {
    const ok_sgd_coeffs k = *(const ok_sgd_coeffs *)ok_mt_coeffs(task, i); /* a local copy: no reloads */
    DT_NAME(sgd_loop)(task, i, begin, end, &k, 0, vzero());
}
