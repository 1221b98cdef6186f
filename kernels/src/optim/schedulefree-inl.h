/*
 * Schedule-free SGD and AdamW, one span of one tensor (kernel bodies:
 * included once per variant through optim/optimizers.h), in the operation
 * order of facebookresearch's schedulefree package,
 * docs/optimizers.md#schedule-free-sgd-and-adamw. The parameter p is y;
 * z is its state, the average x is implied.
 *
 *   SGD:    u = g
 *   AdamW:  v <- beta2*v + (1 - beta2)*g*g;  u = g / (sqrt(v / (1 - beta2^t)) + eps)
 *   both:   u <- u + wd*y                     (weight decay taken at y)
 *           y <- lerp(y, z, ckp1) + lr*(beta*(1 - ckp1) - 1) * u
 *           z <- z - lr*u
 *
 * On a parameter's first step z is a copy of y (and v zeros), read as such,
 * not loaded. A switch (train(), eval()) is p <- lerp(p, z, w) instead,
 * with z in the gradient's stream. Every lerp is torch's two-sided one
 * (ok_vlerp, optim/pointwise-inl.h).
 */

/* The end of a step, shared by both: y and z from the direction u. */
OK_INLINE void DT_NAME(schedulefree_apply_lanes)(const ok_schedulefree_coeffs *c, const ok_io *io, size_t j, param_t *p, state_t *zp, vec_t u,
                                                 size_t lanes) {
    vec_t y = vld_param(io, j, p, lanes);
    vec_t z = c->first_step ? y : vld_state(zp, lanes);
    if (c->has_weight_decay) u = vfma(vset1((real_t)c->weight_decay), y, u);
    vst_param(io, j, p, vfma(vset1((real_t)c->y_step), u, DT_NAME(ok_vlerp)(y, z, c->toward_z)), lanes);
    vst_state(io, j, 2, zp, vfnma(vset1((real_t)c->lr), u, z), lanes);
}

/* train() or eval(): p <- lerp(p, z, w) over one span, z read from the
 * gradient's stream (never scaled: the caller passes no scaling). */
OK_BODY void DT_NAME(schedulefree_switch_span)(const ok_schedulefree_coeffs *c, const ok_mt_task *task, size_t i,
                                              size_t begin, size_t end) {
    param_t *p = OK_MT_PTR(param_t, task, OK_OPT_PARAM, i, begin);
    const ok_io io_ = ok_io_of(task, i, begin), *io = &io_;
    const grad_t *z = OK_MT_PTR(const grad_t, task, OK_OPT_GRAD, i, begin);
    size_t n = end - begin, j = 0;
    for (; j + LANES <= n; j += LANES) {
        vprefetch(p + j), vprefetch(z + j);
        vec_t y = DT_NAME(ok_vlerp)(vld_param(io, j, p + j, LANES), vld_grad(z + j, LANES), c->toward_z);
        vst_param(io, j, p + j, y, LANES);
    }
    if (j < n) {
        vec_t y = DT_NAME(ok_vlerp)(vld_param(io, j, p + j, n - j), vld_grad(z + j, n - j), c->toward_z);
        vst_param(io, j, p + j, y, n - j);
    }
}

OK_INLINE void DT_NAME(sgd_schedulefree_lanes)(const ok_sgd_schedulefree_coeffs *c, const ok_io *io, size_t j, param_t *p, const grad_t *gp,
                                               state_t *z, size_t lanes) {
    DT_NAME(schedulefree_apply_lanes)(c, io, j, p, z, DT_NAME(ok_vld_grad)(&c->grad, gp, lanes), lanes);
}

OK_BODY void DT_NAME(sgd_schedulefree_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {
    const ok_sgd_schedulefree_coeffs k = *(const ok_sgd_schedulefree_coeffs *)ok_mt_coeffs(task, i), *c = &k;
    if (c->mode != OK_SCHEDULEFREE_STEP) {
        DT_NAME(schedulefree_switch_span)(c, task, i, begin, end);
        return;
    }
    param_t *p = OK_MT_PTR(param_t, task, OK_OPT_PARAM, i, begin);
    const ok_io io_ = ok_io_of(task, i, begin), *io = &io_;
    const grad_t *g = OK_MT_PTR(const grad_t, task, OK_OPT_GRAD, i, begin);
    state_t *z = OK_MT_PTR(state_t, task, OK_SGD_SCHEDULEFREE_Z, i, begin);
    size_t n = end - begin, j = 0;
    for (; j + LANES <= n; j += LANES) {
        vprefetch(p + j), vprefetch(g + j), vprefetch(z + j);
        DT_NAME(sgd_schedulefree_lanes)(c, io, j, p + j, g + j, z + j, LANES);
    }
    if (j < n) DT_NAME(sgd_schedulefree_lanes)(c, io, j, p + j, g + j, z + j, n - j);
}

/* torch: v.mul_(beta2).addcmul_(g, g, value=1 - beta2);
 *        u = g / v.div(1 - beta2^t).sqrt_().add_(eps) */
OK_INLINE void DT_NAME(adamw_schedulefree_lanes)(const ok_adamw_schedulefree_coeffs *c, const ok_io *io, size_t j, param_t *p,
                                                 const grad_t *gp, state_t *z, state_t *v, size_t lanes) {
    vec_t g = DT_NAME(ok_vld_grad)(&c->sf.grad, gp, lanes);
    vec_t vv = c->sf.first_step ? vzero() : vld_state(v, lanes);
    vv = vfma(vmul(vset1((real_t)c->one_minus_beta2), g), g, vmul(vset1((real_t)c->beta2), vv));
    vst_state(io, j, 3, v, vv, lanes);
    vec_t denom = vadd(vsqrt(vdiv(vv, vset1((real_t)c->bias_correction2))), vset1((real_t)c->eps));
    DT_NAME(schedulefree_apply_lanes)(&c->sf, io, j, p, z, vdiv(g, denom), lanes);
}

OK_BODY void DT_NAME(adamw_schedulefree_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {
    const ok_adamw_schedulefree_coeffs k = *(const ok_adamw_schedulefree_coeffs *)ok_mt_coeffs(task, i), *c = &k;
    if (c->sf.mode != OK_SCHEDULEFREE_STEP) {
        DT_NAME(schedulefree_switch_span)(&c->sf, task, i, begin, end);
        return;
    }
    param_t *p = OK_MT_PTR(param_t, task, OK_OPT_PARAM, i, begin);
    const ok_io io_ = ok_io_of(task, i, begin), *io = &io_;
    const grad_t *g = OK_MT_PTR(const grad_t, task, OK_OPT_GRAD, i, begin);
    state_t *z = OK_MT_PTR(state_t, task, OK_ADAMW_SCHEDULEFREE_Z, i, begin);
    state_t *v = OK_MT_PTR(state_t, task, OK_ADAMW_SCHEDULEFREE_EXP_AVG_SQ, i, begin);
    size_t n = end - begin, j = 0;
    for (; j + LANES <= n; j += LANES) {
        vprefetch(p + j), vprefetch(g + j), vprefetch(z + j), vprefetch(v + j);
        DT_NAME(adamw_schedulefree_lanes)(c, io, j, p + j, g + j, z + j, v + j, LANES);
    }
    if (j < n) DT_NAME(adamw_schedulefree_lanes)(c, io, j, p + j, g + j, z + j, v + j, n - j);
}
