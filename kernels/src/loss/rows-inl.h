/*
 * What the row losses (cross_entropy-inl.h, nll-inl.h) share (a kernel body:
 * included once per variant by target/bodies-inl.h).
 */

/* Zero the c gradient entries of a row. */
OK_INLINE void DT_NAME(rows_zero)(data_t *g, size_t c) {
    size_t j = 0;
    for (; j + LANES <= c; j += LANES) vst_data(g + j, vzero(), LANES);
    if (j < c) vst_data(g + j, vzero(), c - j);
}

/* The run of samples from p (< end) that share n, at most LANES along inner:
 * sample (n, d) and the run's length. */
OK_INLINE size_t DT_NAME(rows_run_at)(const ok_rows_task *t, size_t p, size_t end, size_t *n, size_t *d) {
    *n = p / t->inner, *d = p % t->inner;
    size_t lanes = t->inner - *d;
    if (lanes > (size_t)LANES) lanes = LANES;
    return lanes < end - p ? lanes : end - p;
}
