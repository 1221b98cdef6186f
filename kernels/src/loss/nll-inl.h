/*
 * nll_loss with its gradient (a kernel body: included once per variant by
 * target/bodies-inl.h; docs/losses.md#nll_loss): torch.nn.functional.nll_loss
 * on log-probabilities x,
 *   loss_i = -w_{y_i} x_{i, y_i},  dloss_i/dx_{i,k} = -w_{y_i} [k = y_i],
 * scaled by the reduction's r; ignored samples: loss 0, gradient 0. Every
 * gradient element is written (zeros but one per sample); x_{i,y_i} is read
 * first, so the gradient may overwrite the input. Shares rows-inl.h's helpers
 * with cross-entropy.
 */

/* Rows (inner == 1): samples [begin, end). */
OK_INLINE double DT_NAME(nll_rows)(const ok_rows_task *t, size_t begin, size_t end) {
    const size_t c = t->c;
    const data_t *w = (const data_t *)t->weight;
    double sum = 0.0;
    for (size_t i = begin; i < end; i++) {
        const data_t *x = (const data_t *)t->logits + i * c;
        data_t *g = (data_t *)t->grad + i * c;
        int64_t y = ok_target_at(t, i);
        double loss = 0.0, grad_y = 0.0;
        if (y != t->ignore_index) {
            double rho = w ? (double)ld_data(w + y) : 1.0;
            loss = -rho * (double)ld_data(x + y);
            grad_y = -t->scale * rho;
        }
        DT_NAME(rows_zero)(g, c);
        if (y != t->ignore_index) st_data(g + y, grad_y);
        if (t->loss)
            ((real_t *)t->loss)[i] = (real_t)loss;
        else
            sum += loss;
    }
    return sum;
}

/* Columns (inner > 1): samples (n, d0 .. d0 + lanes). The gradient's columns
 * are zeroed a vector at a time, then each lane's one entry is set on its
 * own: the class index is matched as an integer, never in real_t (a float32
 * holds integers exactly only up to 2^24). */
OK_INLINE double DT_NAME(nll_columns)(const ok_rows_task *t, size_t n, size_t d0, size_t lanes) {
    const size_t c = t->c, inner = t->inner, first = n * inner + d0;
    const data_t *x = (const data_t *)t->logits + n * c * inner + d0;
    data_t *g = (data_t *)t->grad + n * c * inner + d0;
    const data_t *w = (const data_t *)t->weight;
    int64_t y[LANES];
    double grad_y[LANES], sum = 0.0;
    for (size_t l = 0; l < (size_t)LANES; l++) {
        y[l] = t->ignore_index, grad_y[l] = 0.0;
        if (l >= lanes) continue;
        y[l] = ok_target_at(t, first + l);
        double loss = 0.0;
        if (y[l] != t->ignore_index) {
            double rho = w ? (double)ld_data(w + y[l]) : 1.0;
            loss = -rho * (double)ld_data(x + (size_t)y[l] * inner + l);
            grad_y[l] = -t->scale * rho;
        }
        if (t->loss)
            ((real_t *)t->loss)[first + l] = (real_t)loss;
        else
            sum += loss;
    }
    for (size_t k = 0; k < c; k++) vst_data(g + k * inner, vzero(), lanes);
    for (size_t l = 0; l < lanes; l++)
        if (y[l] != t->ignore_index) st_data(g + (size_t)y[l] * inner + l, grad_y[l]);
    return sum;
}

OK_BODY double DT_NAME(nll_block)(const void *task, size_t begin, size_t end) {
    const ok_rows_task k = *(const ok_rows_task *)task, *t = &k;
    if (t->inner == 1) return DT_NAME(nll_rows)(t, begin, end);
    double sum = 0.0;
    for (size_t p = begin, n, d, lanes; p < end; p += lanes) {
        lanes = DT_NAME(rows_run_at)(t, p, end, &n, &d);
        sum += DT_NAME(nll_columns)(t, n, d, lanes);
    }
    return sum;
}
