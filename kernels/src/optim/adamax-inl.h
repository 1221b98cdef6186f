/*
 * Adamax, one span of one tensor (a kernel body: included once per variant
 * through optim/optimizers.h). docs/optimizers.md#adamax:
 *
 *   g <- -g if maximize;  g <- g + wd*p if wd != 0
 *   m <- lerp(m, g, 1 - beta1)           (torch's two-sided lerp, as Adam's)
 *   u <- maximum(beta2*u, |g| + eps)     (NaN propagates, as torch.maximum)
 *   p <- p - step_size * m / u,  step_size = lr/(1 - beta1^t)
 *
 * eps is added to |g| inside the maximum, as torch does; the update is
 * torch's addcdiv, p + (-step_size*m) / u.
 */
OK_INLINE void DT_NAME(adamax_lanes)(const ok_adamax_coeffs *c, const ok_io *io, size_t j, param_t *p, const grad_t *gp, state_t *m, state_t *u,
                                     size_t lanes) {
    vec_t param = vld_param(io, j, p, lanes);
    vec_t g = DT_NAME(ok_vld_grad)(&c->grad, gp, lanes);
    if (c->maximize) g = vneg(g);
    if (c->has_weight_decay) g = vfma(vset1((real_t)c->weight_decay), param, g);
    vec_t mm = DT_NAME(ok_vlerp)(vld_state(m, lanes), g, c->exp_avg_lerp);
    vec_t uu = vmaxn(vmul(vset1((real_t)c->beta2), vld_state(u, lanes)), vadd(vabs(g), vset1((real_t)c->eps)));
    vst_state(io, j, 2, m, mm, lanes);
    vst_state(io, j, 3, u, uu, lanes);
    vst_param(io, j, p, DT_NAME(ok_vaddcdiv)(param, -c->step_size, mm, uu), lanes);
}

OK_BODY void DT_NAME(adamax_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {
    const ok_adamax_coeffs k = *(const ok_adamax_coeffs *)ok_mt_coeffs(task, i), *c = &k; /* a local copy: no reloads */
    param_t *p = OK_MT_PTR(param_t, task, OK_OPT_PARAM, i, begin);
    const ok_io io_ = ok_io_of(task, i, begin), *io = &io_;
    const grad_t *g = OK_MT_PTR(const grad_t, task, OK_OPT_GRAD, i, begin);
    state_t *m = OK_MT_PTR(state_t, task, OK_ADAMAX_EXP_AVG, i, begin);
    state_t *u = OK_MT_PTR(state_t, task, OK_ADAMAX_EXP_INF, i, begin);
    size_t n = end - begin, j = 0;
    for (; j + LANES <= n; j += LANES) {
        vprefetch(p + j), vprefetch(g + j), vprefetch(m + j), vprefetch(u + j);
        DT_NAME(adamax_lanes)(c, io, j, p + j, g + j, m + j, u + j, LANES);
    }
    if (j < n) DT_NAME(adamax_lanes)(c, io, j, p + j, g + j, m + j, u + j, n - j);
}
