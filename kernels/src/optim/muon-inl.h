/*
 * Muon's two elementwise stages, one span of one tensor (a kernel body:
 * included once per variant through optim/optimizers.h).
 * docs/optimizers.md#muon:
 *
 *   stage 0:  b <- lerp(b, g, 1 - mu)
 *             u <- lerp(g, b, mu) if nesterov, else b
 *   (the caller orthogonalises u in place)
 *   stage 1:  p <- p * (1 - lr*wd)      (skipped when wd == 0: a factor of 1)
 *             p <- p - lr*lr_ratio * u
 *
 * Both lerps are torch's two-sided one (ok_vlerp, optim/pointwise-inl.h).
 */
OK_INLINE void DT_NAME(muon_momentum_lanes)(const ok_muon_coeffs *c, const ok_io *io, size_t j, const grad_t *gp, state_t *b, state_t *u,
                                            size_t lanes) {
    vec_t g = DT_NAME(ok_vld_grad)(&c->grad, gp, lanes), buf = vld_state(b, lanes);
    buf = DT_NAME(ok_vlerp)(buf, g, c->momentum_lerp);
    vst_state(io, j, 2, b, buf, lanes);
    if (c->nesterov) buf = DT_NAME(ok_vlerp)(g, buf, c->nesterov_lerp);
    vst_state(io, j, 3, u, buf, lanes);
}

OK_INLINE void DT_NAME(muon_apply_lanes)(const ok_muon_coeffs *c, const ok_io *io, size_t j, param_t *p, const state_t *u, size_t lanes) {
    vec_t param = vld_param(io, j, p, lanes);
    if (c->has_decay) param = vmul(param, vset1((real_t)c->decay));
    vst_param(io, j, p, vfnma(vset1((real_t)c->step_size), vld_state(u, lanes), param), lanes);
}

OK_BODY void DT_NAME(muon_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {
    const ok_muon_coeffs k = *(const ok_muon_coeffs *)ok_mt_coeffs(task, i), *c = &k; /* a local copy: no reloads */
    state_t *u = OK_MT_PTR(state_t, task, OK_MUON_UPDATE, i, begin);
    const ok_io io_ = ok_io_of(task, i, begin), *io = &io_;
    size_t n = end - begin, j = 0;
    if (c->stage == 0) {
        const grad_t *g = OK_MT_PTR(const grad_t, task, OK_OPT_GRAD, i, begin);
        state_t *b = OK_MT_PTR(state_t, task, OK_MUON_MOMENTUM_BUFFER, i, begin);
        for (; j + LANES <= n; j += LANES) {
            vprefetch(g + j), vprefetch(b + j), vprefetch(u + j);
            DT_NAME(muon_momentum_lanes)(c, io, j, g + j, b + j, u + j, LANES);
        }
        if (j < n) DT_NAME(muon_momentum_lanes)(c, io, j, g + j, b + j, u + j, n - j);
    } else {
        param_t *p = OK_MT_PTR(param_t, task, OK_OPT_PARAM, i, begin);
        for (; j + LANES <= n; j += LANES) {
            vprefetch(p + j), vprefetch(u + j);
            DT_NAME(muon_apply_lanes)(c, io, j, p + j, u + j, LANES);
        }
        if (j < n) DT_NAME(muon_apply_lanes)(c, io, j, p + j, u + j, n - j);
    }
}
