/*
 * Adam and AdamW, one span of one tensor (a kernel body: included once per
 * dtype by kernels_target.c). torch.optim.Adam, shared/spec/optimizers.md:
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
OK_INLINE void DT_NAME(adam_lanes)(const ok_adam_coeffs *c, T *p, const T *gp, T *m, T *v, T *vmax, size_t lanes) {
    V param = vld(p, lanes);
    V g = vld(gp, lanes);
    if (c->maximize) g = vneg(g);
    if (c->wd_mode == OK_WD_COUPLED) g = vfma(vset1((T)c->weight_decay), param, g);
    if (c->wd_mode == OK_WD_DECOUPLED) param = vmul(param, vset1((T)c->decay));
    V mm = vld(m, lanes);
    mm = vfma(vset1((T)c->lerp_coeff), vsub(g, mm), c->lerp_from_grad ? g : mm);
    V vv = vfma(vmul(vset1((T)c->one_minus_beta2), g), g, vmul(vset1((T)c->beta2), vld(v, lanes)));
    vst(m, mm, lanes);
    vst(v, vv, lanes);
    if (c->amsgrad) {
        vv = vmaximum(vld(vmax, lanes), vv);
        vst(vmax, vv, lanes);
    }
    V denom = vfma(vsqrt(vv), vset1((T)c->inv_bias_correction2_sqrt), vset1((T)c->eps));
    vst(p, vfnma(vset1((T)c->step_size), vdiv(mm, denom), param), lanes);
}

static void DT_NAME(adam_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {
    const ok_adam_coeffs k = *(const ok_adam_coeffs *)ok_mt_coeffs(task, i), *c = &k; /* a local copy: no reloads */
    T *p = OK_MT_PTR(T, task, OK_OPT_PARAM, i, begin);
    const T *g = OK_MT_PTR(const T, task, OK_OPT_GRAD, i, begin);
    T *m = OK_MT_PTR(T, task, OK_ADAM_EXP_AVG, i, begin);
    T *v = OK_MT_PTR(T, task, OK_ADAM_EXP_AVG_SQ, i, begin);
    T *vmax = c->amsgrad ? OK_MT_PTR(T, task, OK_ADAM_MAX_EXP_AVG_SQ, i, begin) : NULL;
    size_t n = end - begin, j = 0;
    for (; j + W <= n; j += W) {
        vprefetch(p + j), vprefetch(g + j), vprefetch(m + j), vprefetch(v + j);
        if (vmax) vprefetch(vmax + j);
        DT_NAME(adam_lanes)(c, p + j, g + j, m + j, v + j, vmax ? vmax + j : NULL, W);
    }
    if (j < n) DT_NAME(adam_lanes)(c, p + j, g + j, m + j, v + j, vmax ? vmax + j : NULL, n - j);
}
