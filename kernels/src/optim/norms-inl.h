/*
 * The sums the optimizers with per-tensor norms share (optim/norms.h), as
 * blocks of an ok_norm_task (a kernel body: included once per variant
 * through optim/optimizers.h). The gradient is loaded as the update loads
 * it, with the call's scaling (ok_vld_grad), which every coefficient set
 * begins with. Masked tails load zeros, which add nothing.
 */

OK_INLINE void DT_NAME(norms_sq_lanes)(const ok_grad_scaling *gs, const ok_io *io, size_t j, const int with_p, const param_t *p, const grad_t *gp,
                                       size_t lanes, acc_t *p2, acc_t *g2) {
    if (with_p) {
        vec_t param = vld_param(io, j, p, lanes);
        *p2 = vacc_add(*p2, vmul(param, param));
    }
    vec_t g = DT_NAME(ok_vld_grad)(gs, gp, lanes);
    *g2 = vacc_add(*g2, vmul(g, g));
}

/* Block b's sum of p^2 (with_p: a constant wherever this is inlined) into
 * sum[0], and of g^2 into sum[1]. */
OK_INLINE void DT_NAME(norms_sq)(const void *task, size_t b, const int with_p) {
    const ok_norm_task *t = (const ok_norm_task *)task;
    ok_norm_block *blk = &t->blocks[b];
    const ok_grad_scaling *gs = (const ok_grad_scaling *)ok_mt_coeffs(&t->mt, blk->tensor);
    const param_t *p = OK_MT_PTR(const param_t, &t->mt, OK_OPT_PARAM, blk->tensor, blk->begin);
    const ok_io io_ = ok_io_of(&t->mt, blk->tensor, blk->begin), *io = &io_;
    const grad_t *g = OK_MT_PTR(const grad_t, &t->mt, OK_OPT_GRAD, blk->tensor, blk->begin);
    acc_t p2 = vacc_zero(), g2 = vacc_zero();
    size_t n = blk->end - blk->begin, j = 0;
    for (; j + LANES <= n; j += LANES) {
        if (with_p) vprefetch(p + j);
        vprefetch(g + j);
        DT_NAME(norms_sq_lanes)(gs, io, j, with_p, p + j, g + j, LANES, &p2, &g2);
    }
    if (j < n) DT_NAME(norms_sq_lanes)(gs, io, j, with_p, p + j, g + j, n - j, &p2, &g2);
    blk->sum[0] = vacc_sum(p2);
    blk->sum[1] = vacc_sum(g2);
}

/* The sum of g^2 over block b (LAMB's global norm). */
OK_BODY void DT_NAME(norms_grad_sq)(const void *task, size_t b) { DT_NAME(norms_sq)(task, b, 0); }

/* The sums of p^2 and g^2 over block b (LARS's norms). */
OK_BODY void DT_NAME(norms_param_grad_sq)(const void *task, size_t b) { DT_NAME(norms_sq)(task, b, 1); }
