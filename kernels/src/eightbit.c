/*
 * The 8-bit optimizers' entry points (optkern/optim.h, "8-bit optimizer
 * states"): the checks, each set's coefficients, one pass of the
 * multi-tensor driver over the 8-bit spans (optim/eightbit-inl.h); and the
 * format's conversions.
 */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_table.h"
#include "optkern/optim.h"
#include "quant8.h"

_Static_assert(OK_Q8_STREAM_COUNT == OK_Q8_STREAMS && OK_Q8_BLOCK_SIZE == OK_Q8_BLOCK,
               "optkern/optim.h's 8-bit constants are optim/eightbit.h's and quant8.h's");

const float *ok_q8_map(int unsigned_map) { return ok_q8_codes(unsigned_map != 0); }

/* The spans of opt's 8-bit form and its state count; NULL when it has none. */
static const ok_mt_span_fn *q8_spans(const ok_optimizer *opt, int *states) {
#define OK_Q8_FIND(name, n)                                                                                        \
    if (opt->kernel == OK_OPT_##name) {                                                                            \
        *states = n;                                                                                               \
        return ok_active_kernels()->eightbit[OK_Q8_##name];                                                        \
    }
    OK_Q8_OPTIMIZERS(OK_Q8_FIND)
#undef OK_Q8_FIND
    return NULL;
}

/* The byte span of n elements of `elem` bytes at p, as ok_check_overlap takes it. */
static ok_span span_of(const void *p, size_t n, size_t elem, size_t id, int written) {
    ok_span s = {(uintptr_t)p, (uintptr_t)p + n * elem, id, written};
    return s;
}

static ok_status check_tensor(const ok_mt_task *task, size_t i, int states, unsigned required) {
    const size_t n = task->numel[i];
    const ok_dtypes d = task->dtypes[i];
    if (d.state != OK_FLOAT32 || d.param == OK_FLOAT64 || ok_variant_of(d) < 0) return OK_ERR_UNSUPPORTED;
    if (required != (1u << states) - 1u) return OK_ERR_UNSUPPORTED;
    if (!ok_fits(n, 1, ok_dtype_bytes(d.param)) || !ok_fits(n, 1, sizeof(float))) return OK_ERR_SIZE;
    if (task->master && task->master[i]) {
        if (d.param != OK_BFLOAT16 && d.param != OK_FLOAT16) return OK_ERR_UNSUPPORTED;
        if (!ok_aligned(task->master[i], sizeof(float))) return OK_ERR_ALIGNMENT;
    }
    if (n == 0) return OK_SUCCESS;
    ok_span spans[2 + 2 * 2 + 1];
    size_t k = 0;
    spans[k] = span_of(task->stream[OK_OPT_PARAM][i], n, ok_dtype_bytes(d.param), k, 1), k++;
    spans[k] = span_of(task->stream[OK_OPT_GRAD][i], n, ok_dtype_bytes(d.grad), k, 0), k++;
    for (int s = 0; s < states; s++) {
        spans[k] = span_of(task->stream[OK_Q8_STATE1 + s][i], n, 1, k, 1), k++;
        spans[k] = span_of(task->stream[OK_Q8_ABSMAX1 + s][i], ok_q8_blocks(n), sizeof(float), k, 1), k++;
    }
    if (task->master && task->master[i]) spans[k] = span_of(task->master[i], n, sizeof(float), k, 1), k++;
    for (size_t s = 0; s < k; s++)
        if (!spans[s].begin) return OK_ERR_NULL_POINTER;
    if (!ok_aligned(task->stream[OK_OPT_PARAM][i], ok_dtype_bytes(d.param)) ||
        !ok_aligned(task->stream[OK_OPT_GRAD][i], ok_dtype_bytes(d.grad)))
        return OK_ERR_ALIGNMENT;
    for (int s = 0; s < states; s++)
        if (!ok_aligned(task->stream[OK_Q8_ABSMAX1 + s][i], sizeof(float))) return OK_ERR_ALIGNMENT;
    return ok_check_overlap(spans, k, NULL, NULL);
}

ok_status ok_optimizer_step_8bit(const ok_optimizer *opt, const void *hparams, size_t n_hp, const uint32_t *hp_index,
                                 size_t count, const size_t *numel, const ok_dtypes *dtypes,
                                 void *const *const *streams, const ok_step_options *options) {
    static const ok_step_options defaults = OK_STEP_OPTIONS_DEFAULT;
    if (!options) options = &defaults;
    if (!opt) return OK_ERR_NULL_POINTER;
    int states = 0;
    const ok_mt_span_fn *spans = q8_spans(opt, &states);
    if (!spans) return OK_ERR_UNSUPPORTED;
    if (count == 0) return OK_SUCCESS;
    if (!hparams || !numel || !dtypes || !streams) return OK_ERR_NULL_POINTER;
    if (!ok_aligned(hparams, sizeof(double))) return OK_ERR_ALIGNMENT;
    if (n_hp == 0) return OK_ERR_INDEX;
    const ok_grad_scaling *scaling = &options->scaling;
    if (!(scaling->unscale > 0 && scaling->unscale <= DBL_MAX)) return OK_ERR_HYPERPARAMETER;
    for (size_t k = 0; k < n_hp; k++)
        if (opt->check((const char *)hparams + k * opt->hparams_size) != OK_SUCCESS) return OK_ERR_HYPERPARAMETER;
    ok_mt_task task = {count, numel, dtypes, NULL, OK_FLOAT32, {0}, NULL, opt->coeffs_size, hp_index, NULL, NULL,
                       options->master, options->rounding_key};
    for (int s = 0; s < OK_Q8_STREAMS; s++) {
        const int used = s < OK_Q8_STATE1 || (s - OK_Q8_STATE1) % 2 < states;
        if (used && !streams[s]) return OK_ERR_NULL_POINTER;
        task.stream[s] = used ? streams[s] : NULL;
    }
    for (size_t i = 0; i < count; i++) {
        if (hp_index && hp_index[i] >= n_hp) return OK_ERR_INDEX;
        const void *hp = (const char *)hparams + (hp_index ? hp_index[i] : 0) * opt->hparams_size;
        ok_status st = check_tensor(&task, i, states, opt->required(hp));
        if (st != OK_SUCCESS) return st;
    }
    char *sets = malloc(n_hp * opt->coeffs_size);
    if (!sets) return OK_ERR_NO_MEMORY;
    for (size_t k = 0; k < n_hp; k++) {
        opt->prepare((const char *)hparams + k * opt->hparams_size, sets + k * opt->coeffs_size);
        memcpy(sets + k * opt->coeffs_size, scaling, sizeof *scaling);
    }
    task.coeffs = sets;
    ok_mt_run(&task, spans);
    free(sets);
    return OK_SUCCESS;
}

/* The arrays of a conversion: NULL, misaligned or overlapping ones refused. */
static ok_status check_conversion(size_t n, const float *x, const uint8_t *q, const float *absmax, int quantise) {
    if (n == 0) return OK_SUCCESS;
    if (!x || !q || !absmax) return OK_ERR_NULL_POINTER;
    if (!ok_fits(n, 1, sizeof(float))) return OK_ERR_SIZE;
    if (!ok_aligned(x, sizeof(float)) || !ok_aligned(absmax, sizeof(float))) return OK_ERR_ALIGNMENT;
    ok_span spans[3] = {span_of(x, n, sizeof(float), 0, !quantise), span_of(q, n, 1, 1, quantise),
                        span_of(absmax, ok_q8_blocks(n), sizeof(float), 2, quantise)};
    return ok_check_overlap(spans, 3, NULL, NULL);
}

ok_status ok_quantize_8bit(int unsigned_map, size_t n, const float *x, uint8_t *q, float *absmax) {
    ok_status st = check_conversion(n, x, q, absmax, 1);
    if (st == OK_SUCCESS && n) ok_active_kernels()->quantize8(unsigned_map != 0, n, x, q, absmax);
    return st;
}

ok_status ok_dequantize_8bit(int unsigned_map, size_t n, const uint8_t *q, const float *absmax, float *x) {
    ok_status st = check_conversion(n, x, q, absmax, 0);
    if (st == OK_SUCCESS && n) ok_active_kernels()->dequantize8(unsigned_map != 0, n, q, absmax, x);
    return st;
}
