/*
 * ASGD, one span of one tensor (a kernel body: included once per variant
 * through optim/optimizers.h). docs/optimizers.md#asgd, with the tensor's
 * eta and mu (its scalar states; lr and 1 on step 1):
 *
 *   g <- -g if maximize;  g <- g + wd*p if wd != 0
 *   p <- p * (1 - lambd*eta);  p <- p - eta*g
 *   ax <- ax + (p - ax)*mu if mu != 1, else ax <- p
 *
 * eta and mu themselves are written after the pass (ok_asgd_advance).
 */
OK_INLINE void DT_NAME(asgd_lanes)(const ok_asgd_coeffs *c, const ok_io *io, size_t j, real_t decay, real_t eta, real_t mu, int average,
                                   param_t *p, const grad_t *gp, state_t *ax, size_t lanes) {
    vec_t param = vld_param(io, j, p, lanes);
    vec_t g = DT_NAME(ok_vld_grad)(&c->grad, gp, lanes);
    if (c->maximize) g = vneg(g);
    if (c->has_weight_decay) g = vfma(vset1((real_t)c->weight_decay), param, g);
    param = vfnma(vset1(eta), g, vmul(param, vset1(decay)));
    vst_param(io, j, p, param, lanes);
    if (average) {
        vec_t avg = vld_state(ax, lanes);
        param = vadd(avg, vmul(vsub(param, avg), vset1(mu)));
    }
    vst_state(io, j, 2, ax, param, lanes);
}

OK_BODY void DT_NAME(asgd_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {
    const ok_asgd_coeffs k = *(const ok_asgd_coeffs *)ok_mt_coeffs(task, i), *c = &k; /* a local copy: no reloads */
    const float eta = c->first ? c->first_eta : OK_MT_SCALAR(task, OK_ASGD_ETA, i);
    const float mu = c->first ? 1.0f : OK_MT_SCALAR(task, OK_ASGD_MU, i);
    /* torch: 1 - lambd * eta in double (its eta.item()), rounded to the dtype */
    const real_t decay = (real_t)(1.0 - c->lambd * eta);
    const int average = mu != 1.0f;
    param_t *p = OK_MT_PTR(param_t, task, OK_OPT_PARAM, i, begin);
    const ok_io io_ = ok_io_of(task, i, begin), *io = &io_;
    const grad_t *g = OK_MT_PTR(const grad_t, task, OK_OPT_GRAD, i, begin);
    state_t *ax = OK_MT_PTR(state_t, task, OK_ASGD_AX, i, begin);
    size_t n = end - begin, j = 0;
    for (; j + LANES <= n; j += LANES) {
        vprefetch(p + j), vprefetch(g + j), vprefetch(ax + j);
        DT_NAME(asgd_lanes)(c, io, j, decay, (real_t)eta, (real_t)mu, average, p + j, g + j, ax + j, LANES);
    }
    if (j < n) DT_NAME(asgd_lanes)(c, io, j, decay, (real_t)eta, (real_t)mu, average, p + j, g + j, ax + j, n - j);
}
