/*
 * The margin losses of rows of c scores, with their gradients (a kernel
 * body: included once per variant by target/bodies-inl.h, after
 * bce_with_logits-inl.h): blocks of samples [begin, end) of an ok_rows_task
 * (inner == 1), returning the block's loss sum. Vectors run along the
 * classes; masked tails, kept out of the sums. Each row's sums are in
 * double; its loss is one double, rounded once (real_t) for 'none'.
 */

/* ------------------------------------------------------ multi_margin_loss */

/*
 * docs/losses.md#multi_margin_loss: with z_k = margin - x_y + x_k and
 * h_k = max(0, z_k) (0 where z_k is NaN, as torch's z > 0 test),
 *   loss = w_y sum_{k != y} h_k^p / c,
 *   g_k  = r w_y p h_k^(p-1) [z_k > 0] / c (k != y),  g_y = -sum_{k != y} g_k,
 * r the reduction's scale. x_y is read first and g_y written last, so the
 * gradient may overwrite the input.
 */

/* `lanes` classes of a row at x, g: the gradient stored, the loss terms
 * h^p and the gradient's d = h^(p-1) [z > 0] added to the sums. */
OK_INLINE void DT_NAME(mm_step)(const data_t *x, data_t *g, size_t lanes, const int p, vec_t base, vec_t coef,
                                acc_t *loss, acc_t *dsum) {
    vec_t z = vadd(base, vld_data(x, lanes));
    vec_t h = vmaxb(z, vzero());
    vec_t d = p == 2 ? h : vselect(vgt(z, vzero()), vset1((real_t)1), vzero());
    vec_t l = p == 2 ? vmul(h, h) : h;
    vst_data(g, vmul(coef, d), lanes);
    if (lanes < (size_t)LANES) {
        l = vselect(mfirst(lanes), l, vzero());
        d = vselect(mfirst(lanes), d, vzero());
    }
    *loss = vacc_add(*loss, l);
    *dsum = vacc_add(*dsum, d);
}

/* mm_step over the n classes of a row from x, g. */
OK_INLINE void DT_NAME(mm_range)(const data_t *x, data_t *g, size_t n, const int p, vec_t base, vec_t coef,
                                 acc_t *loss, acc_t *dsum) {
    size_t j = 0;
    for (; j + LANES <= n; j += LANES) DT_NAME(mm_step)(x + j, g + j, LANES, p, base, coef, loss, dsum);
    if (j < n) DT_NAME(mm_step)(x + j, g + j, n - j, p, base, coef, loss, dsum);
}

OK_INLINE double DT_NAME(mm_rows)(const ok_rows_task *t, const int p, size_t begin, size_t end) {
    const size_t c = t->c;
    const data_t *w = (const data_t *)t->weight;
    double sum = 0.0;
    for (size_t i = begin; i < end; i++) {
        const data_t *x = (const data_t *)t->logits + i * c;
        data_t *g = (data_t *)t->grad + i * c;
        const size_t y = (size_t)ok_target_at(t, i);
        const double wy = w ? (double)ld_data(w + y) : 1.0;
        const vec_t base = vset1((real_t)t->margin - ld_data(x + y));
        const vec_t coef = vset1((real_t)(t->scale * p * wy / (double)c));
        acc_t loss = vacc_zero(), dsum = vacc_zero();
        DT_NAME(mm_range)(x, g, y, p, base, coef, &loss, &dsum);
        DT_NAME(mm_range)(x + y + 1, g + y + 1, c - y - 1, p, base, coef, &loss, &dsum);
        st_data(g + y, 0.0 - t->scale * p * wy / (double)c * vacc_sum(dsum)); /* +0 without hinge, as torch */
        double row = wy * vacc_sum(loss) / (double)c;
        if (t->loss)
            ((real_t *)t->loss)[i] = (real_t)row;
        else
            sum += row;
    }
    return sum;
}

OK_BODY double DT_NAME(multi_margin_block)(const void *task, size_t begin, size_t end) {
    const ok_rows_task k = *(const ok_rows_task *)task, *t = &k;
    return t->p == 2 ? DT_NAME(mm_rows)(t, 2, begin, end) : DT_NAME(mm_rows)(t, 1, begin, end);
}

/* -------------------------------------------- multilabel_soft_margin_loss */

/*
 * docs/losses.md#multilabel_soft_margin_loss: binary cross-entropy of the
 * logits x with the labels y (bce_logits_terms with p = 1), weighted by the
 * class weights w and averaged over the c classes:
 *   loss = sum_k w_k [(1 - y_k) x_k + softplus(-x_k)] / c,
 *   g_k  = r w_k [sigmoid(x_k) - y_k] / c.
 * Each element is read before its gradient is written (in place allowed).
 * c = 0 gives each row 0 / 0 = NaN, as torch.
 */
/* `lanes` classes of a row: the gradient stored, the loss terms added to acc. */
OK_INLINE acc_t DT_NAME(mlsm_step)(const data_t *x, const data_t *y, const data_t *w, data_t *g, size_t lanes, vec_t s,
                                   acc_t acc) {
    const vec_t one = vset1((real_t)1);
    vec_t gv, l = DT_NAME(bce_logits_terms)(vld_data(x, lanes), vld_data(y, lanes), w ? vld_data(w, lanes) : one,
                                            one, s, &gv);
    vst_data(g, gv, lanes);
    if (lanes < (size_t)LANES) l = vselect(mfirst(lanes), l, vzero());
    return vacc_add(acc, l);
}

OK_BODY double DT_NAME(multilabel_soft_margin_block)(const void *task, size_t begin, size_t end) {
    const ok_rows_task k = *(const ok_rows_task *)task, *t = &k;
    const size_t c = t->c;
    const data_t *w = (const data_t *)t->weight;
    const vec_t s = vset1((real_t)(t->scale / (double)c));
    double sum = 0.0;
    for (size_t i = begin; i < end; i++) {
        const data_t *x = (const data_t *)t->logits + i * c, *y = (const data_t *)t->target + i * c;
        data_t *g = (data_t *)t->grad + i * c;
        acc_t acc = vacc_zero();
        size_t j = 0;
        for (; j + LANES <= c; j += LANES) acc = DT_NAME(mlsm_step)(x + j, y + j, w ? w + j : NULL, g + j, LANES, s, acc);
        if (j < c) acc = DT_NAME(mlsm_step)(x + j, y + j, w ? w + j : NULL, g + j, c - j, s, acc);
        double row = vacc_sum(acc) / (double)c;
        if (t->loss)
            ((real_t *)t->loss)[i] = (real_t)row;
        else
            sum += row;
    }
    return sum;
}

/* ------------------------------------------------- multilabel_margin_loss */

/*
 * docs/losses.md#multilabel_margin_loss: row i's target list y_1 .. y_T
 * (its targets before the first -1, duplicates counted each time), its
 * non-target classes k (not in the list; t->mask marks the others), and
 * z_jk = 1 - x_{y_j} + x_k in real_t, as torch:
 *   loss = sum_j sum_k max(0, z_jk) / c (0 where z_jk is NaN),
 *   g_k  = r #{j : z_jk > 0} / c,   g_y = -r sum_{j : y_j = y} #{k : z_jk > 0} / c,
 * r the reduction's scale; a hinge of exactly 0 gets no gradient. The row
 * is read from t->logits, apart from the gradient (the host copies an input
 * that is its own gradient).
 */
OK_BODY double DT_NAME(multilabel_margin_block)(const void *task, size_t begin, size_t end) {
    const ok_rows_task k = *(const ok_rows_task *)task, *t = &k;
    const size_t c = t->c;
    const double s = t->scale / (double)c;
    double sum = 0.0;
    for (size_t i = begin; i < end; i++) {
        const data_t *x = (const data_t *)t->logits + i * c;
        data_t *g = (data_t *)t->grad + i * c;
        const unsigned char *listed = t->mask + i * c;
        size_t targets = 0;
        while (targets < c && ok_target_at(t, i * c + targets) >= 0) targets++;
        double row = 0.0;
        for (size_t m = 0; m < c; m++) {
            if (listed[m]) continue;
            const real_t xm = ld_data(x + m);
            double hinged = 0.0;
            for (size_t j = 0; j < targets; j++) {
                const real_t z = (real_t)1 - ld_data(x + ok_target_at(t, i * c + j)) + xm;
                if (z > 0) row += (double)z, hinged += 1.0;
            }
            st_data(g + m, s * hinged);
        }
        for (size_t m = 0; m < c; m++) {
            if (!listed[m]) continue;
            double times = 0.0, hinged = 0.0;
            for (size_t j = 0; j < targets; j++) times += ok_target_at(t, i * c + j) == (int64_t)m;
            const real_t base = (real_t)1 - ld_data(x + m);
            for (size_t q = 0; q < c; q++)
                if (!listed[q] && base + ld_data(x + q) > 0) hinged += 1.0;
            st_data(g + m, 0.0 - s * times * hinged); /* +0 without hinge, as torch */
        }
        row /= (double)c;
        if (t->loss)
            ((real_t *)t->loss)[i] = (real_t)row;
        else
            sum += row;
    }
    return sum;
}
