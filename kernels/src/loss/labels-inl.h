/*
 * The class-target scan of a row loss (a kernel body: included once per
 * variant by target/bodies-inl.h), run over every sample before the loss
 * kernel so that an out-of-range target is found before anything is
 * written: samples [begin, end) of an ok_rows_task with class targets,
 * returning the sum of the row weights w_y (1 without weights) of the
 * samples not ignored, the denominator of 'mean' (docs/losses.md#cross_entropy)
 * of the kinds with OK_ROWS_IGNORE_INDEX. A target neither in [0, C) nor
 * (with that flag) ignore_index sets *t->out_of_range.
 */
OK_BODY double DT_NAME(labels_block)(const void *task, size_t begin, size_t end) {
    const ok_rows_task *t = (const ok_rows_task *)task;
    const data_t *w = (const data_t *)t->weight;
    const int ignores = (ok_rows_flags(t->kind) & OK_ROWS_IGNORE_INDEX) != 0;
    double sum = 0.0;
    int bad = 0;
    if (ok_rows_flags(t->kind) & OK_ROWS_MULTILABEL) {
        const size_t c = t->c;
        for (size_t i = begin; i < end; i++) {
            int listed = 1;
            for (size_t k = 0; k < c; k++) {
                const int64_t y = ok_target_at(t, i * c + k);
                if (y < -1 || y >= (int64_t)c)
                    bad = 1;
                else if (y == -1)
                    listed = 0;
                else if (listed)
                    t->mask[i * c + (size_t)y] = 1;
            }
        }
        if (bad) __atomic_store_n(t->out_of_range, 1, __ATOMIC_RELAXED);
        return 0.0;
    }
    for (size_t i = begin; i < end; i++) {
        int64_t y = ok_target_at(t, i);
        if (ignores && y == t->ignore_index) continue;
        if (y < 0 || (uint64_t)y >= (uint64_t)t->c) {
            bad = 1;
            continue;
        }
        sum += w ? (double)ld_data(w + y) : 1.0;
    }
    if (bad) __atomic_store_n(t->out_of_range, 1, __ATOMIC_RELAXED);
    return sum;
}
