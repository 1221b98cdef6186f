/*
 * ADOPT, one span of one tensor (a kernel body: included once per variant
 * through optim/optimizers.h). docs/optimizers.md#adopt, in the official
 * implementation's order of operations:
 *
 *   g <- -g if maximize;  g <- g + wd*p if wd != 0 and coupled
 *   t = 1:  v <- v + g*g, and nothing else
 *   p <- p + (-lr*wd)*p                               if wd != 0 and decoupled
 *   n  = clamp(g / max(sqrt(v), eps), -clip, clip)    (the v of the steps before; no clamp without clip)
 *   m <- lerp(m, n, 1 - beta1)                        (torch's two-sided lerp, as Adam's)
 *   p <- p - lr*m
 *   v <- (beta2*v) + ((1 - beta2)*g)*g                (torch's addcmul)
 *
 * The maximum and the clamp keep a NaN, as torch's clamp does.
 */
OK_INLINE void DT_NAME(adopt_lanes)(const ok_adopt_coeffs *c, const ok_io *io, size_t j, param_t *p, const grad_t *gp, state_t *m, state_t *v,
                                    size_t lanes) {
    vec_t param = vld_param(io, j, p, lanes);
    vec_t g = DT_NAME(ok_vld_grad)(&c->grad, gp, lanes);
    vec_t sq = vld_state(v, lanes);
    if (c->maximize) g = vneg(g);
    if (c->wd_mode == OK_WD_COUPLED) g = vfma(vset1((real_t)c->weight_decay), param, g);
    if (c->first) {
        vst_state(io, j, 3, v, vfma(g, g, sq), lanes);
        return;
    }
    if (c->wd_mode == OK_WD_DECOUPLED) param = vfma(vset1((real_t)c->decay), param, param);
    vec_t normed = vdiv(g, vmaxn(vsqrt(sq), vset1((real_t)c->eps)));
    if (c->clipped) normed = vclamp(normed, vset1(-(real_t)c->clip), vset1((real_t)c->clip));
    vec_t avg = DT_NAME(ok_vlerp)(vld_state(m, lanes), normed, c->exp_avg_lerp);
    vst_state(io, j, 2, m, avg, lanes);
    vst_param(io, j, p, vfnma(vset1((real_t)c->lr), avg, param), lanes);
    vst_state(io, j, 3, v, vfma(vmul(vset1((real_t)c->one_minus_beta2), g), g, vmul(vset1((real_t)c->beta2), sq)), lanes);
}

OK_BODY void DT_NAME(adopt_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {
    const ok_adopt_coeffs k = *(const ok_adopt_coeffs *)ok_mt_coeffs(task, i), *c = &k; /* a local copy: no reloads */
    param_t *p = OK_MT_PTR(param_t, task, OK_OPT_PARAM, i, begin);
    const ok_io io_ = ok_io_of(task, i, begin), *io = &io_;
    const grad_t *g = OK_MT_PTR(const grad_t, task, OK_OPT_GRAD, i, begin);
    state_t *m = OK_MT_PTR(state_t, task, OK_ADOPT_EXP_AVG, i, begin);
    state_t *v = OK_MT_PTR(state_t, task, OK_ADOPT_EXP_AVG_SQ, i, begin);
    size_t n = end - begin, j = 0;
    for (; j + LANES <= n; j += LANES) {
        vprefetch(p + j), vprefetch(g + j), vprefetch(m + j), vprefetch(v + j);
        DT_NAME(adopt_lanes)(c, io, j, p + j, g + j, m + j, v + j, LANES);
    }
    if (j < n) DT_NAME(adopt_lanes)(c, io, j, p + j, g + j, m + j, v + j, n - j);
}
