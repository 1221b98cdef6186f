/*
 * Adadelta, one span of one tensor (a kernel body: included once per
 * variant through optim/optimizers.h). docs/optimizers.md#adadelta:
 *
 *   g <- -g if maximize;  g <- g + wd*p if wd != 0
 *   v <- rho*v + (1 - rho)*g*g
 *   d = sqrt(u + eps) / sqrt(v + eps) * g
 *   u <- rho*u + (1 - rho)*d*d
 *   p <- p - lr*d
 *
 * eps is added inside both roots, as torch does.
 */
OK_INLINE void DT_NAME(adadelta_lanes)(const ok_adadelta_coeffs *c, const ok_io *io, size_t j, param_t *p, const grad_t *gp, state_t *v,
                                       state_t *u, size_t lanes) {
    vec_t param = vld_param(io, j, p, lanes);
    vec_t g = DT_NAME(ok_vld_grad)(&c->grad, gp, lanes);
    if (c->maximize) g = vneg(g);
    if (c->has_weight_decay) g = vfma(vset1((real_t)c->weight_decay), param, g);
    vec_t rho = vset1((real_t)c->rho), one_minus_rho = vset1((real_t)c->one_minus_rho), eps = vset1((real_t)c->eps);
    vec_t vv = vfma(vmul(one_minus_rho, g), g, vmul(rho, vld_state(v, lanes)));
    vec_t uu = vld_state(u, lanes);
    vec_t delta = vmul(vdiv(vsqrt(vadd(uu, eps)), vsqrt(vadd(vv, eps))), g);
    uu = vfma(vmul(one_minus_rho, delta), delta, vmul(rho, uu));
    vst_state(io, j, 2, v, vv, lanes);
    vst_state(io, j, 3, u, uu, lanes);
    vst_param(io, j, p, vfnma(vset1((real_t)c->lr), delta, param), lanes);
}

OK_BODY void DT_NAME(adadelta_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {
    const ok_adadelta_coeffs k = *(const ok_adadelta_coeffs *)ok_mt_coeffs(task, i), *c = &k; /* a local copy: no reloads */
    param_t *p = OK_MT_PTR(param_t, task, OK_OPT_PARAM, i, begin);
    const ok_io io_ = ok_io_of(task, i, begin), *io = &io_;
    const grad_t *g = OK_MT_PTR(const grad_t, task, OK_OPT_GRAD, i, begin);
    state_t *v = OK_MT_PTR(state_t, task, OK_ADADELTA_SQUARE_AVG, i, begin);
    state_t *u = OK_MT_PTR(state_t, task, OK_ADADELTA_ACC_DELTA, i, begin);
    size_t n = end - begin, j = 0;
    for (; j + LANES <= n; j += LANES) {
        vprefetch(p + j), vprefetch(g + j), vprefetch(v + j), vprefetch(u + j);
        DT_NAME(adadelta_lanes)(c, io, j, p + j, g + j, v + j, u + j, LANES);
    }
    if (j < n) DT_NAME(adadelta_lanes)(c, io, j, p + j, g + j, v + j, u + j, n - j);
}
