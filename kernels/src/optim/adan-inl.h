/*
 * Adan, one span of one tensor (a kernel body: included once per variant
 * through optim/optimizers.h). docs/optimizers.md#adan, in
 * pytorch-optimizer's order of operations, with q = neg_pre_grad (-g of
 * the step before):
 *
 *   g  = g * clip                                     (the call's gradient scaling: max_grad_norm)
 *   q  = -g on the first step, when m, n, d count as 0 (so that g + q is g - g, as the reference's)
 *   x  = g + q                                        (the gradient's change)
 *   m <- lerp(m, g, 1 - beta1);  d <- lerp(d, x, 1 - beta2)    (torch's two-sided lerp)
 *   x  = (x*beta2) + g                                (each operation rounded)
 *   n <- (beta3*n) + ((1 - beta3)*x)*x                (torch's addcmul)
 *   denom = sqrt(n) / sqrt(1 - beta3^t) + eps
 *   p <- p * (1 - lr*wd)                              if no_prox
 *   p <- p + (-lr/(1 - beta1^t) * m) / denom;  p <- p + (-lr beta2/(1 - beta2^t) * d) / denom   (addcdiv)
 *   p <- p / (1 + lr*wd)                              if not no_prox
 *   q <- -g
 */
OK_INLINE void DT_NAME(adan_lanes)(const ok_adan_coeffs *c, const ok_io *io, size_t j, param_t *p, const grad_t *gp, state_t *m, state_t *n,
                                   state_t *d, state_t *q, size_t lanes) {
    vec_t param = vld_param(io, j, p, lanes);
    vec_t g = DT_NAME(ok_vld_grad)(&c->grad, gp, lanes), neg_g = vneg(g);
    const int first = c->first_step;
    vec_t diff = vadd(first ? neg_g : vld_state(q, lanes), g);
    vec_t avg = DT_NAME(ok_vlerp)(first ? vzero() : vld_state(m, lanes), g, c->exp_avg_lerp);
    vec_t avg_diff = DT_NAME(ok_vlerp)(first ? vzero() : vld_state(d, lanes), diff, c->diff_lerp);
    vec_t x = vadd(vmul(diff, vset1((real_t)c->beta2)), g);
    vec_t sq = vfma(vmul(vset1((real_t)c->one_minus_beta3), x), x,
                    vmul(vset1((real_t)c->beta3), first ? vzero() : vld_state(n, lanes)));
    vec_t denom = vadd(vdiv(vsqrt(sq), vset1((real_t)c->bias_correction3_sqrt)), vset1((real_t)c->eps));
    if (c->wd_mode == OK_ADAN_WD_NO_PROX) param = vmul(param, vset1((real_t)c->decay));
    param = DT_NAME(ok_vaddcdiv)(param, -c->step_size, avg, denom);
    param = DT_NAME(ok_vaddcdiv)(param, -c->diff_step_size, avg_diff, denom);
    if (c->wd_mode == OK_ADAN_WD_PROX) param = vdiv(param, vset1((real_t)c->prox));
    vst_param(io, j, p, param, lanes);
    vst_state(io, j, 2, m, avg, lanes);
    vst_state(io, j, 3, n, sq, lanes);
    vst_state(io, j, 4, d, avg_diff, lanes);
    vst_state(io, j, 5, q, neg_g, lanes);
}

OK_BODY void DT_NAME(adan_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {
    const ok_adan_coeffs k = *(const ok_adan_coeffs *)ok_mt_coeffs(task, i), *c = &k; /* a local copy: no reloads */
    param_t *p = OK_MT_PTR(param_t, task, OK_OPT_PARAM, i, begin);
    const ok_io io_ = ok_io_of(task, i, begin), *io = &io_;
    const grad_t *g = OK_MT_PTR(const grad_t, task, OK_OPT_GRAD, i, begin);
    state_t *m = OK_MT_PTR(state_t, task, OK_ADAN_EXP_AVG, i, begin);
    state_t *sq = OK_MT_PTR(state_t, task, OK_ADAN_EXP_AVG_SQ, i, begin);
    state_t *d = OK_MT_PTR(state_t, task, OK_ADAN_EXP_AVG_DIFF, i, begin);
    state_t *q = OK_MT_PTR(state_t, task, OK_ADAN_NEG_PRE_GRAD, i, begin);
    size_t n = end - begin, j = 0;
    for (; j + LANES <= n; j += LANES) {
        vprefetch(p + j), vprefetch(g + j), vprefetch(m + j), vprefetch(sq + j), vprefetch(d + j), vprefetch(q + j);
        DT_NAME(adan_lanes)(c, io, j, p + j, g + j, m + j, sq + j, d + j, q + j, LANES);
    }
    if (j < n) DT_NAME(adan_lanes)(c, io, j, p + j, g + j, m + j, sq + j, d + j, q + j, n - j);
}
