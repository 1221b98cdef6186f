/*
 * Adagrad, one span of one tensor (a kernel body: included once per
 * variant through optim/optimizers.h). docs/optimizers.md#adagrad:
 *
 *   g <- -g if maximize;  g <- g + wd*p if wd != 0
 *   s <- s + g*g
 *   p <- p - clr * g / (sqrt(s) + eps),  clr = lr / (1 + (t - 1)*lr_decay)
 *
 * eps is added outside the root, as torch does; the update is torch's
 * addcdiv, p + (-clr*g) / (sqrt(s) + eps).
 */
OK_INLINE void DT_NAME(adagrad_lanes)(const ok_adagrad_coeffs *c, const ok_io *io, size_t j, param_t *p, const grad_t *gp, state_t *s,
                                      size_t lanes) {
    vec_t param = vld_param(io, j, p, lanes);
    vec_t g = DT_NAME(ok_vld_grad)(&c->grad, gp, lanes);
    if (c->maximize) g = vneg(g);
    if (c->has_weight_decay) g = vfma(vset1((real_t)c->weight_decay), param, g);
    vec_t sum = vfma(g, g, vld_state(s, lanes));
    vst_state(io, j, 2, s, sum, lanes);
    vec_t std = vadd(vsqrt(sum), vset1((real_t)c->eps));
    vst_param(io, j, p, DT_NAME(ok_vaddcdiv)(param, -c->clr, g, std), lanes);
}

OK_BODY void DT_NAME(adagrad_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {
    const ok_adagrad_coeffs k = *(const ok_adagrad_coeffs *)ok_mt_coeffs(task, i), *c = &k; /* a local copy: no reloads */
    param_t *p = OK_MT_PTR(param_t, task, OK_OPT_PARAM, i, begin);
    const ok_io io_ = ok_io_of(task, i, begin), *io = &io_;
    const grad_t *g = OK_MT_PTR(const grad_t, task, OK_OPT_GRAD, i, begin);
    state_t *s = OK_MT_PTR(state_t, task, OK_ADAGRAD_SUM, i, begin);
    size_t n = end - begin, j = 0;
    for (; j + LANES <= n; j += LANES) {
        vprefetch(p + j), vprefetch(g + j), vprefetch(s + j);
        DT_NAME(adagrad_lanes)(c, io, j, p + j, g + j, s + j, LANES);
    }
    if (j < n) DT_NAME(adagrad_lanes)(c, io, j, p + j, g + j, s + j, n - j);
}
