/*
 * Adam and AdamW, one span of one tensor (a kernel body: included once per
 * variant through optim/optimizers.h). docs/optimizers.md#adam-and-adamw:
 *
 *   g <- -g if maximize
 *   wd != 0:  decoupled ? p <- p*(1 - lr*wd) : g <- g + wd*p
 *   m <- lerp(m, g, 1 - beta1)           (torch's two-sided lerp, = beta1*m + (1 - beta1)*g)
 *   v <- beta2*v + (1 - beta2)*g*g
 *   amsgrad:  vmax <- maximum(vmax, v), used for v below
 *   p <- p - step_size * m / (sqrt(v)/sqrt(1 - beta2^t) + eps),  step_size = lr/(1 - beta1^t)
 *
 * eps is added AFTER the bias-corrected root, as torch does.
 */
OK_INLINE void DT_NAME(adam_lanes)(const ok_adam_coeffs *c, param_t *p, const grad_t *gp, state_t *m, state_t *v,
                                   state_t *vmax, size_t lanes) {
    vec_t param = vld_param(p, lanes);
    vec_t g = vld_grad(gp, lanes);
    if (c->maximize) g = vneg(g);
    if (c->wd_mode == OK_WD_COUPLED) g = vfma(vset1((real_t)c->weight_decay), param, g);
    if (c->wd_mode == OK_WD_DECOUPLED) param = vmul(param, vset1((real_t)c->decay));
    vec_t mm = DT_NAME(ok_vlerp)(vld_state(m, lanes), g, c->exp_avg_lerp);
    vec_t vv = vfma(vmul(vset1((real_t)c->one_minus_beta2), g), g, vmul(vset1((real_t)c->beta2), vld_state(v, lanes)));
    vst_state(m, mm, lanes);
    vst_state(v, vv, lanes);
    if (c->amsgrad) {
        vv = vmaxn(vld_state(vmax, lanes), vv);
        vst_state(vmax, vv, lanes);
    }
    vec_t denom = vfma(vsqrt(vv), vset1((real_t)c->inv_bias_correction2_sqrt), vset1((real_t)c->eps));
    vst_param(p, vfnma(vset1((real_t)c->step_size), vdiv(mm, denom), param), lanes);
}

static void DT_NAME(adam_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {
    const ok_adam_coeffs k = *(const ok_adam_coeffs *)ok_mt_coeffs(task, i), *c = &k; /* a local copy: no reloads */
    param_t *p = OK_MT_PTR(param_t, task, OK_OPT_PARAM, i, begin);
    const grad_t *g = OK_MT_PTR(const grad_t, task, OK_OPT_GRAD, i, begin);
    state_t *m = OK_MT_PTR(state_t, task, OK_ADAM_EXP_AVG, i, begin);
    state_t *v = OK_MT_PTR(state_t, task, OK_ADAM_EXP_AVG_SQ, i, begin);
    state_t *vmax = c->amsgrad ? OK_MT_PTR(state_t, task, OK_ADAM_MAX_EXP_AVG_SQ, i, begin) : NULL;
    size_t n = end - begin, j = 0;
    for (; j + LANES <= n; j += LANES) {
        vprefetch(p + j), vprefetch(g + j), vprefetch(m + j), vprefetch(v + j);
        if (vmax) vprefetch(vmax + j);
        DT_NAME(adam_lanes)(c, p + j, g + j, m + j, v + j, vmax ? vmax + j : NULL, LANES);
    }
    if (j < n) DT_NAME(adam_lanes)(c, p + j, g + j, m + j, v + j, vmax ? vmax + j : NULL, n - j);
}
