/*
 * Adafactor's kernel bodies, one per pass (included once per variant
 * through optim/optimizers.h; the passes and their order are in
 * optim/adafactor.h). docs/optimizers.md#adafactor:
 *
 *   g <- -g if maximize;  w = t^beta2_decay
 *   a vector:  v <- lerp(v, g^2, w);  V = v
 *   a matrix:  row_var <- lerp(row_var, mean of g^2 over each row, w)
 *              col_var <- lerp(col_var, mean of g^2 over each column, w)
 *              V = (row_var / max(mean(row_var), eps1)) col_var   (an outer product)
 *   U = g / sqrt(max(V, eps1^2))
 *   p <- p (1 - lr wd) - alpha / max(1, RMS(U) / d) U,  alpha = max(eps2, RMS(p)) min(lr, 1/sqrt(t))
 *
 * with torch's lerp (ok_vlerp, optim/pointwise-inl.h). The sums behind the
 * means and the RMS are accumulated in double. The stats and rms passes
 * leave maximize out: g^2 and U^2 do not depend on the sign of g.
 */

OK_INLINE real_t DT_NAME(af_eps1)(const ok_adafactor_coeffs *c) {
    return c->eps1_machine ? (real_t)PARAM_EPSILON : (real_t)c->eps1;
}

/* eps1^2, squared in double (as torch squares its Python float) */
OK_INLINE vec_t DT_NAME(af_eps1_sq)(const ok_adafactor_coeffs *c) {
    return vset1(c->eps1_machine ? (real_t)((double)PARAM_EPSILON * (double)PARAM_EPSILON) : (real_t)c->eps1_sq);
}

/* U = g / sqrt(max(V, eps1^2)); the max propagates NaN, as torch's clamp_min. */
OK_INLINE vec_t DT_NAME(af_update)(vec_t g, vec_t v, vec_t eps1_sq) { return vdiv(g, vsqrt(vmaxn(v, eps1_sq))); }

/* Row r (of the flattened batch) of matrix tensor t: row_var[r] / m in
 * every lane, m = max(the mean of its matrix's row_var, eps1), which the
 * cols pass left in the matrix's first slot. */
OK_INLINE vec_t DT_NAME(af_row_scale)(const ok_adafactor_coeffs *c, const ok_af_tensor *t, const state_t *row_var,
                                      size_t r) {
    vec_t m = vmaxn(vset1((real_t)ok_af_slot(t, r / t->rows, 0)[0]), vset1(DT_NAME(af_eps1)(c)));
    real_t lane[LANES];
    vstore(lane, vdiv(vld_state(row_var + r, 1), m));
    return vset1(lane[0]);
}

/* ------------------------------------------------------------ stats pass */

OK_INLINE void DT_NAME(af_vector_stats_lanes)(const ok_adafactor_coeffs *c, vec_t eps1_sq, const param_t *p,
                                              const grad_t *gp, state_t *v, size_t lanes, acc_t *sum_p2,
                                              acc_t *sum_u2) {
    vec_t param = vld_param(&ok_io_none, 0, p, lanes);
    *sum_p2 = vacc_add(*sum_p2, vmul(param, param));
    vec_t g = DT_NAME(ok_vld_grad)(&c->grad, gp, lanes);
    vec_t vv = DT_NAME(ok_vlerp)(vld_state(v, lanes), vmul(g, g), c->lerp);
    vst_state(&ok_io_none, 0, OK_OPT_STATE, v, vv, lanes);
    *sum_u2 = DT_NAME(ok_vacc_sq)(*sum_u2, DT_NAME(af_update)(g, vv, eps1_sq), lanes);
}

/* Elements of a matrix row: p^2 into sum_p2, g^2 into the row's sum and
 * into the column sums `col` (doubles). */
OK_INLINE void DT_NAME(af_row_stats_lanes)(const ok_grad_scaling *gs, const param_t *p, const grad_t *gp,
                                           double *col, size_t lanes, acc_t *sum_p2, acc_t *row) {
    vec_t param = vld_param(&ok_io_none, 0, p, lanes);
    *sum_p2 = vacc_add(*sum_p2, vmul(param, param));
    vec_t g = DT_NAME(ok_vld_grad)(gs, gp, lanes);
    vec_t g2 = vmul(g, g);
    *row = vacc_add(*row, g2);
    if (lanes == (size_t)LANES) {
        vacc_store(col, vacc_add(vacc_load(col), g2));
    } else { /* the same additions, lane by lane: the slot ends with the row */
        real_t sq[LANES];
        vstore(sq, g2);
        for (size_t l = 0; l < lanes; l++) col[l] += (double)sq[l];
    }
}

/* Matrix m of tensor i, once its parts' stats are in: col_var from the
 * column sums (the parts' slots added in order), and the mean of its new
 * row_var into its first slot. */
OK_BODY void DT_NAME(adafactor_cols)(const ok_af_task *task, size_t i, size_t m) {
    const ok_af_tensor *t = &task->tensors[i];
    const ok_adafactor_coeffs k = *(const ok_adafactor_coeffs *)ok_mt_coeffs(&task->mt, i), *c = &k;
    state_t *col = OK_MT_PTR(state_t, &task->mt, OK_ADAFACTOR_COL_VAR, i, m * t->cols);
    double *first = ok_af_slot(t, m, 0);
    for (size_t j = 0; j < t->cols; j += LANES) {
        size_t lanes = t->cols - j < (size_t)LANES ? t->cols - j : (size_t)LANES;
        real_t mean[LANES];
        for (size_t l = 0; l < lanes; l++) {
            double sum = first[1 + j + l];
            for (size_t part = 1; part < t->parts; part++) sum += ok_af_slot(t, m, part)[1 + j + l];
            mean[l] = (real_t)(sum / (double)t->rows);
        }
        vst_state(&ok_io_none, 0, OK_OPT_STATE, col + j, DT_NAME(ok_vlerp)(vld_state(col + j, lanes), vld(mean, lanes), c->lerp), lanes);
    }
    double rows_sum = first[0];
    for (size_t part = 1; part < t->parts; part++) rows_sum += ok_af_slot(t, m, part)[0];
    first[0] = rows_sum / (double)t->rows;
}

OK_BODY void DT_NAME(af_vector_stats)(const ok_af_task *task, ok_af_block *blk, const ok_adafactor_coeffs *c) {
    const param_t *p = OK_MT_PTR(const param_t, &task->mt, OK_OPT_PARAM, blk->tensor, blk->begin);
    const grad_t *g = OK_MT_PTR(const grad_t, &task->mt, OK_OPT_GRAD, blk->tensor, blk->begin);
    state_t *v = OK_MT_PTR(state_t, &task->mt, OK_ADAFACTOR_VARIANCE, blk->tensor, blk->begin);
    vec_t eps1_sq = DT_NAME(af_eps1_sq)(c);
    acc_t sum_p2 = vacc_zero(), sum_u2 = vacc_zero();
    size_t n = blk->end - blk->begin, j = 0;
    for (; j + LANES <= n; j += LANES) {
        vprefetch(p + j), vprefetch(g + j), vprefetch(v + j);
        DT_NAME(af_vector_stats_lanes)(c, eps1_sq, p + j, g + j, v + j, LANES, &sum_p2, &sum_u2);
    }
    if (j < n) DT_NAME(af_vector_stats_lanes)(c, eps1_sq, p + j, g + j, v + j, n - j, &sum_p2, &sum_u2);
    blk->sum_p2 = vacc_sum(sum_p2);
    blk->sum_u2 = vacc_sum(sum_u2);
}

OK_BODY void DT_NAME(af_matrix_stats)(const ok_af_task *task, ok_af_block *blk, const ok_adafactor_coeffs *c) {
    const ok_af_tensor *t = &task->tensors[blk->tensor];
    const size_t cols = t->cols, m = blk->begin / t->rows;
    const param_t *p = OK_MT_PTR(const param_t, &task->mt, OK_OPT_PARAM, blk->tensor, 0);
    const grad_t *g = OK_MT_PTR(const grad_t, &task->mt, OK_OPT_GRAD, blk->tensor, 0);
    state_t *row_var = OK_MT_PTR(state_t, &task->mt, OK_ADAFACTOR_ROW_VAR, blk->tensor, 0);
    double *slot = ok_af_slot(t, m, blk->part);
    for (size_t j = 0; j <= cols; j++) slot[j] = 0.0;
    acc_t sum_p2 = vacc_zero(), rows_sum = vacc_zero();
    for (size_t r = blk->begin; r < blk->end; r++) {
        const param_t *pr = p + r * cols;
        const grad_t *gr = g + r * cols;
        acc_t row = vacc_zero();
        size_t j = 0;
        for (; j + LANES <= cols; j += LANES) {
            vprefetch(pr + j), vprefetch(gr + j);
            DT_NAME(af_row_stats_lanes)(&c->grad, pr + j, gr + j, slot + 1 + j, LANES, &sum_p2, &row);
        }
        if (j < cols) DT_NAME(af_row_stats_lanes)(&c->grad, pr + j, gr + j, slot + 1 + j, cols - j, &sum_p2, &row);
        real_t mean[LANES];
        mean[0] = (real_t)(vacc_sum(row) / (double)cols);
        /* one lane: the others are lerp(0, 0) = 0, so rows_sum adds row_var[r] alone */
        vec_t rv = DT_NAME(ok_vlerp)(vld_state(row_var + r, 1), vld(mean, 1), c->lerp);
        vst_state(&ok_io_none, 0, OK_OPT_STATE, row_var + r, rv, 1);
        rows_sum = vacc_add(rows_sum, rv);
    }
    slot[0] = vacc_sum(rows_sum);
    blk->sum_p2 = vacc_sum(sum_p2);
    if (t->parts == 1) DT_NAME(adafactor_cols)(task, blk->tensor, m); /* the block holds the whole matrix */
}

/* The stats pass over block b of an ok_af_task. */
OK_BODY void DT_NAME(adafactor_stats)(const void *task, size_t b) {
    const ok_af_task *at = (const ok_af_task *)task;
    ok_af_block *blk = &at->blocks[b];
    const ok_adafactor_coeffs k = *(const ok_adafactor_coeffs *)ok_mt_coeffs(&at->mt, blk->tensor), *c = &k;
    if (at->tensors[blk->tensor].matrix)
        DT_NAME(af_matrix_stats)(at, blk, c);
    else
        DT_NAME(af_vector_stats)(at, blk, c);
}

/* -------------------------------------------------------------- rms pass */

OK_INLINE void DT_NAME(af_rms_lanes)(const ok_grad_scaling *gs, vec_t eps1_sq, vec_t scale, const grad_t *gp,
                                     const state_t *col, size_t lanes, acc_t *sum_u2) {
    vec_t u = DT_NAME(af_update)(DT_NAME(ok_vld_grad)(gs, gp, lanes), vmul(scale, vld_state(col, lanes)), eps1_sq);
    *sum_u2 = DT_NAME(ok_vacc_sq)(*sum_u2, u, lanes);
}

/* The rms pass over block b of an ok_af_task (a matrix's block: the
 * runner skips the others). */
OK_BODY void DT_NAME(adafactor_rms)(const void *task, size_t b) {
    const ok_af_task *at = (const ok_af_task *)task;
    ok_af_block *blk = &at->blocks[b];
    const ok_af_tensor *t = &at->tensors[blk->tensor];
    const ok_adafactor_coeffs k = *(const ok_adafactor_coeffs *)ok_mt_coeffs(&at->mt, blk->tensor), *c = &k;
    const size_t cols = t->cols;
    const grad_t *g = OK_MT_PTR(const grad_t, &at->mt, OK_OPT_GRAD, blk->tensor, 0);
    const state_t *row_var = OK_MT_PTR(const state_t, &at->mt, OK_ADAFACTOR_ROW_VAR, blk->tensor, 0);
    const state_t *col = OK_MT_PTR(const state_t, &at->mt, OK_ADAFACTOR_COL_VAR, blk->tensor, blk->begin / t->rows * cols);
    vec_t eps1_sq = DT_NAME(af_eps1_sq)(c);
    acc_t sum_u2 = vacc_zero();
    for (size_t r = blk->begin; r < blk->end; r++) {
        vec_t scale = DT_NAME(af_row_scale)(c, t, row_var, r);
        const grad_t *gr = g + r * cols;
        size_t j = 0;
        for (; j + LANES <= cols; j += LANES) {
            vprefetch(gr + j);
            DT_NAME(af_rms_lanes)(&c->grad, eps1_sq, scale, gr + j, col + j, LANES, &sum_u2);
        }
        if (j < cols) DT_NAME(af_rms_lanes)(&c->grad, eps1_sq, scale, gr + j, col + j, cols - j, &sum_u2);
    }
    blk->sum_u2 = vacc_sum(sum_u2);
}

/* ------------------------------------------------------------ apply pass */

/* V = scale * s: a vector's v (scale 1: exact) or a matrix row's
 * (row_var / m) col_var. */
OK_INLINE void DT_NAME(adafactor_lanes)(const ok_adafactor_coeffs *c, vec_t step, vec_t eps1_sq, vec_t scale,
                                        param_t *p, const grad_t *gp, const state_t *s, size_t lanes) {
    vec_t param = vld_param(&ok_io_none, 0, p, lanes);
    if (c->has_weight_decay) param = vmul(param, vset1((real_t)c->decay));
    vec_t g = DT_NAME(ok_vld_grad)(&c->grad, gp, lanes);
    if (c->maximize) g = vneg(g);
    vec_t u = DT_NAME(af_update)(g, vmul(scale, vld_state(s, lanes)), eps1_sq);
    vst_param(&ok_io_none, 0, p, vfma(step, u, param), lanes);
}

OK_INLINE void DT_NAME(af_apply)(const ok_adafactor_coeffs *c, vec_t step, vec_t eps1_sq, vec_t scale, param_t *p,
                                 const grad_t *g, const state_t *s, size_t n) {
    size_t j = 0;
    for (; j + LANES <= n; j += LANES) {
        vprefetch(p + j), vprefetch(g + j), vprefetch(s + j);
        DT_NAME(adafactor_lanes)(c, step, eps1_sq, scale, p + j, g + j, s + j, LANES);
    }
    if (j < n) DT_NAME(adafactor_lanes)(c, step, eps1_sq, scale, p + j, g + j, s + j, n - j);
}

/* The apply pass over elements [begin, end) of tensor i of an ok_af_task,
 * a span of the multi-tensor driver: p <- p (1 - lr wd) + step U. */
OK_BODY void DT_NAME(adafactor_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {
    const ok_af_tensor *t = &((const ok_af_task *)task)->tensors[i];
    const ok_adafactor_coeffs k = *(const ok_adafactor_coeffs *)ok_mt_coeffs(task, i), *c = &k;
    param_t *p = OK_MT_PTR(param_t, task, OK_OPT_PARAM, i, 0);
    const grad_t *g = OK_MT_PTR(const grad_t, task, OK_OPT_GRAD, i, 0);
    vec_t step = vset1((real_t)t->step), eps1_sq = DT_NAME(af_eps1_sq)(c);
    if (!t->matrix) {
        const state_t *v = OK_MT_PTR(const state_t, task, OK_ADAFACTOR_VARIANCE, i, 0);
        DT_NAME(af_apply)(c, step, eps1_sq, vset1((real_t)1), p + begin, g + begin, v + begin, end - begin);
        return;
    }
    const state_t *row_var = OK_MT_PTR(const state_t, task, OK_ADAFACTOR_ROW_VAR, i, 0);
    const state_t *col_var = OK_MT_PTR(const state_t, task, OK_ADAFACTOR_COL_VAR, i, 0);
    for (size_t e = begin; e < end;) { /* row by row */
        size_t r = e / t->cols, stop = (r + 1) * t->cols < end ? (r + 1) * t->cols : end;
        vec_t scale = DT_NAME(af_row_scale)(c, t, row_var, r);
        DT_NAME(af_apply)(c, step, eps1_sq, scale, p + e, g + e, col_var + r / t->rows * t->cols + e % t->cols,
                          stop - e);
        e = stop;
    }
}
