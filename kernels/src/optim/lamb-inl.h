/*
 * LAMB, the bodies of its moments and apply passes (included once per
 * variant through optim/optimizers.h; the passes are in optim/lamb.h).
 * docs/optimizers.md#lamb, in apex's order of operations:
 *
 *   g <- g / clip                      clip = G / max_grad_norm where G > max_grad_norm, else 1
 *   g <- g + wd p                      if adam_w_mode == 0 and wd != 0
 *   m <- beta1 m + beta3 g             beta3 = 1 - beta1, or 1 without grad_averaging
 *   v <- beta2 v + (1 - beta2) g^2
 *   u  = (m / bc1) / (sqrt(v / bc2) + eps)
 *   u <- u + wd p                      if adam_w_mode == 1 and wd != 0
 *   p <- p - lr r u                    r = |p| / |u| (1 if either is 0) where the trust ratio applies, else 1
 *
 * The apply pass computes u again from the stored m and v and the same p:
 * the u it applies is bitwise the one whose norm was taken.
 */

/* u, from the new moments m and v (and p, for the decoupled weight decay). */
OK_INLINE vec_t DT_NAME(lamb_update)(const ok_lamb_coeffs *c, vec_t m, vec_t v, vec_t param) {
    vec_t denom = vadd(vsqrt(vdiv(v, vset1((real_t)c->bias_correction2))), vset1((real_t)c->eps));
    vec_t u = vdiv(vdiv(m, vset1((real_t)c->bias_correction1)), denom);
    return c->wd_mode == OK_WD_DECOUPLED ? vfma(vset1((real_t)c->weight_decay), param, u) : u;
}

OK_INLINE void DT_NAME(lamb_moments_lanes)(const ok_lamb_coeffs *c, const ok_io *io, size_t j, const ok_norm_tensor *t, param_t *p,
                                           const grad_t *gp, state_t *mp, state_t *vp, size_t lanes, acc_t *p2,
                                           acc_t *u2) {
    vec_t param = vld_param(io, j, p, lanes);
    vec_t g = DT_NAME(ok_vld_grad)(&c->grad, gp, lanes);
    if (t->clip != 1.0) g = vdiv(g, vset1((real_t)t->clip));
    if (c->wd_mode == OK_WD_COUPLED) g = vfma(vset1((real_t)c->weight_decay), param, g);
    vec_t m = vfma(vset1((real_t)c->beta3), g, vmul(vset1((real_t)c->beta1), vld_state(mp, lanes)));
    vec_t v = vfma(vmul(vset1((real_t)c->one_minus_beta2), g), g, vmul(vset1((real_t)c->beta2), vld_state(vp, lanes)));
    vst_state(io, j, 2, mp, m, lanes);
    vst_state(io, j, 3, vp, v, lanes);
    vec_t u = DT_NAME(lamb_update)(c, m, v, param);
    if (t->adapt) {
        *p2 = vacc_add(*p2, vmul(param, param));
        *u2 = DT_NAME(ok_vacc_sq)(*u2, u, lanes);
    } else {
        vst_param(io, j, p, vfnma(vset1((real_t)c->lr), u, param), lanes);
    }
}

/* The moments pass over block b of an ok_norm_task: m and v; for a tensor
 * with the trust ratio the sums of p^2 (sum[0]) and u^2 (sum[1]), for the
 * others the whole step. */
OK_BODY void DT_NAME(lamb_moments)(const void *task, size_t b) {
    const ok_norm_task *nt = (const ok_norm_task *)task;
    ok_norm_block *blk = &nt->blocks[b];
    const size_t i = blk->tensor;
    const ok_lamb_coeffs k = *(const ok_lamb_coeffs *)ok_mt_coeffs(&nt->mt, i), *c = &k; /* a local copy: no reloads */
    const ok_norm_tensor t = nt->tensors[i];
    param_t *p = OK_MT_PTR(param_t, &nt->mt, OK_OPT_PARAM, i, blk->begin);
    const ok_io io_ = ok_io_of(&nt->mt, i, blk->begin), *io = &io_;
    const grad_t *g = OK_MT_PTR(const grad_t, &nt->mt, OK_OPT_GRAD, i, blk->begin);
    state_t *m = OK_MT_PTR(state_t, &nt->mt, OK_LAMB_EXP_AVG, i, blk->begin);
    state_t *v = OK_MT_PTR(state_t, &nt->mt, OK_LAMB_EXP_AVG_SQ, i, blk->begin);
    acc_t p2 = vacc_zero(), u2 = vacc_zero();
    size_t n = blk->end - blk->begin, j = 0;
    for (; j + LANES <= n; j += LANES) {
        vprefetch(p + j), vprefetch(g + j), vprefetch(m + j), vprefetch(v + j);
        DT_NAME(lamb_moments_lanes)(c, io, j, &t, p + j, g + j, m + j, v + j, LANES, &p2, &u2);
    }
    if (j < n) DT_NAME(lamb_moments_lanes)(c, io, j, &t, p + j, g + j, m + j, v + j, n - j, &p2, &u2);
    blk->sum[0] = vacc_sum(p2);
    blk->sum[1] = vacc_sum(u2);
}

OK_INLINE void DT_NAME(lamb_lanes)(const ok_lamb_coeffs *c, const ok_io *io, size_t j, vec_t scale, param_t *p, const state_t *m,
                                   const state_t *v, size_t lanes) {
    vec_t param = vld_param(io, j, p, lanes);
    vec_t u = DT_NAME(lamb_update)(c, vld_state(m, lanes), vld_state(v, lanes), param);
    vst_param(io, j, p, vfnma(scale, u, param), lanes);
}

/* The apply pass over elements [begin, end) of tensor i of an
 * ok_norm_task: p <- p - scale u, scale = lr |p| / |u|. */
OK_BODY void DT_NAME(lamb_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {
    const ok_lamb_coeffs k = *(const ok_lamb_coeffs *)ok_mt_coeffs(task, i), *c = &k;
    const vec_t scale = vset1((real_t)((const ok_norm_task *)task)->tensors[i].scale);
    param_t *p = OK_MT_PTR(param_t, task, OK_OPT_PARAM, i, begin);
    const ok_io io_ = ok_io_of(task, i, begin), *io = &io_;
    const state_t *m = OK_MT_PTR(const state_t, task, OK_LAMB_EXP_AVG, i, begin);
    const state_t *v = OK_MT_PTR(const state_t, task, OK_LAMB_EXP_AVG_SQ, i, begin);
    size_t n = end - begin, j = 0;
    for (; j + LANES <= n; j += LANES) {
        vprefetch(p + j), vprefetch(m + j), vprefetch(v + j);
        DT_NAME(lamb_lanes)(c, io, j, scale, p + j, m + j, v + j, LANES);
    }
    if (j < n) DT_NAME(lamb_lanes)(c, io, j, scale, p + j, m + j, v + j, n - j);
}
