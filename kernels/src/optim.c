/*
 * The optimizer entry points: check the preconditions, derive each
 * hyperparameter set's coefficients in double, run the selected target's
 * kernel over the whole tensor list. Every optimizer goes through the same
 * runner, told apart only by its descriptor (optim/descriptor.h).
 */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_table.h"
#include "optkern/optim.h"

/* Coefficient sets live on the stack up to this many, else on the heap. */
#define OK_STACK_SETS 16
/* Room for any optimizer's coefficient set, as the stack holds them. */
#define OK_COEFFS_UNION_MEMBER(name) ok_##name##_coeffs name;
typedef union ok_any_coeffs {
    OK_OPTIMIZERS(OK_COEFFS_UNION_MEMBER)
} ok_any_coeffs;

/* ------------------------------------------------------------ the registry */

#define OK_REGISTRY_ROW(name) &ok_##name##_optimizer,
static const ok_optimizer *const registry[] = {OK_OPTIMIZERS(OK_REGISTRY_ROW)};

size_t ok_optimizer_count(void) { return OK_COUNT_OF(registry); }

const ok_optimizer *ok_optimizer_at(size_t i) { return i < OK_COUNT_OF(registry) ? registry[i] : NULL; }

const ok_optimizer *ok_optimizer_find(const char *name) {
    if (!name) return NULL;
    for (size_t i = 0; i < OK_COUNT_OF(registry); i++)
        if (strcmp(registry[i]->name, name) == 0) return registry[i];
    return NULL;
}

const char *ok_optimizer_name(const ok_optimizer *opt) { return opt ? opt->name : NULL; }
size_t ok_optimizer_hparams_size(const ok_optimizer *opt) { return opt ? opt->hparams_size : 0; }
size_t ok_optimizer_field_count(const ok_optimizer *opt) { return opt ? opt->n_fields : 0; }
const ok_field *ok_optimizer_field(const ok_optimizer *opt, size_t k) {
    return opt && k < opt->n_fields ? &opt->fields[k] : NULL;
}
size_t ok_optimizer_state_count(const ok_optimizer *opt) { return opt ? opt->n_states : 0; }
const char *ok_optimizer_state_name(const ok_optimizer *opt, size_t k) {
    return opt && k < opt->n_states ? opt->states[k] : NULL;
}
int ok_optimizer_state_is_scalar(const ok_optimizer *opt, size_t k) {
    return opt && k < opt->n_states && opt->scalars >> k & 1;
}
int ok_optimizer_state_shape(const ok_optimizer *opt, size_t k) {
    if (!opt || k >= opt->n_states) return -1;
    return opt->state_shapes ? opt->state_shapes[k] : OK_STATE_PARAM;
}

size_t ok_optimizer_work_count(const ok_optimizer *opt) { return opt ? opt->n_work : 0; }
int ok_optimizer_is_elementwise(const ok_optimizer *opt) { return opt && !opt->run; }
const char *ok_optimizer_work_name(const ok_optimizer *opt, size_t k) {
    return opt && k < opt->n_work ? opt->work[k] : NULL;
}

ok_status ok_optimizer_check(const ok_optimizer *opt, const void *hparams) {
    if (!opt || !hparams) return OK_ERR_NULL_POINTER;
    if (!ok_aligned(hparams, sizeof(double))) return OK_ERR_ALIGNMENT;
    return opt->check(hparams);
}

unsigned ok_optimizer_required_states(const ok_optimizer *opt, const void *hparams) {
    return opt && hparams && ok_aligned(hparams, sizeof(double)) ? opt->required(hparams) : 0u;
}

size_t ok_optimizer_coefficients_size(const ok_optimizer *opt) { return opt ? opt->coeffs_size : 0; }

/* The coefficients of a checked set, with the call's gradient scaling
 * (which every coefficient struct begins with: optim/descriptor.h). */
static void prepare_set(const ok_optimizer *opt, const void *hparams, void *coeffs, const ok_grad_scaling *scaling) {
    opt->prepare(hparams, coeffs);
    memcpy(coeffs, scaling, sizeof *scaling);
}

static const ok_grad_scaling no_scaling = OK_GRAD_SCALING_NONE;

ok_status ok_optimizer_coefficients(const ok_optimizer *opt, const void *hparams, void *coeffs) {
    if (!opt || !hparams || !coeffs) return OK_ERR_NULL_POINTER;
    if (!ok_aligned(hparams, sizeof(double)) || !ok_aligned(coeffs, sizeof(double))) return OK_ERR_ALIGNMENT;
    ok_status st = opt->check(hparams);
    if (st == OK_SUCCESS) prepare_set(opt, hparams, coeffs, &no_scaling);
    return st;
}

/* -------------------------------------------------------------- the runner */

/* Every stream but the gradient is written. */
#define OK_OPT_WRITTEN (~(1u << OK_OPT_GRAD))

/* The streams of a call: parameter, gradient, states, work arrays. */
static size_t stream_count(const ok_optimizer *opt) { return OK_OPT_STATE + opt->n_states + opt->n_work; }

static ok_status check_task(const ok_optimizer *opt, const ok_mt_task *task, const void *hp, size_t n_sets) {
    if (!task->numel) return OK_ERR_NULL_POINTER;
    if (opt->nearest_only && (task->master || task->round_key)) return OK_ERR_UNSUPPORTED;
    const int n_streams = (int)stream_count(opt);
    const unsigned scalar = opt->scalars << OK_OPT_STATE;
    size_t left = (size_t)PTRDIFF_MAX; /* bytes the rest of the parameters may span (ok_fits) */
    for (size_t i = 0; i < task->count; i++) {
        const size_t param_bytes = ok_dtype_bytes(ok_mt_dtypes(task, i).param);
        if (param_bytes && task->numel[i] > left / param_bytes) return OK_ERR_SIZE;
        left -= task->numel[i] * param_bytes;
        if (task->coeff_index && task->coeff_index[i] >= n_sets) return OK_ERR_INDEX;
        if (ok_variant_of(ok_mt_dtypes(task, i)) < 0) return OK_ERR_UNSUPPORTED;
        size_t k = task->coeff_index ? task->coeff_index[i] : 0;
        /* the parameter and gradient always, the states and work arrays the
         * set needs; of an empty tensor only its scalars, which every step
         * writes */
        unsigned needed = 3u | opt->required((const char *)hp + k * opt->hparams_size) << OK_OPT_STATE;
        if (task->numel[i] == 0) needed &= scalar;
        const ok_dtypes dtypes = ok_mt_dtypes(task, i);
        if (task->master && task->master[i]) {
            if (dtypes.param != OK_BFLOAT16 && dtypes.param != OK_FLOAT16) return OK_ERR_UNSUPPORTED;
            if (!ok_aligned(task->master[i], sizeof(float))) return OK_ERR_ALIGNMENT;
        }
        for (int s = 0; s < n_streams; s++) {
            if (!(scalar >> s & 1 || ok_mt_extent(task, i, s))) continue; /* a state the tensor's shape has none of */
            if (needed >> s & 1 && (!task->stream[s] || !task->stream[s][i])) return OK_ERR_NULL_POINTER;
            size_t elem = scalar >> s & 1 ? sizeof(float) : ok_dtype_bytes(ok_stream_dtype(dtypes, s));
            if (task->stream[s] && (task->numel[i] || needed >> s & 1) && !ok_aligned(task->stream[s][i], elem))
                return OK_ERR_ALIGNMENT;
        }
    }
    if (ok_mt_streams_overlap(task, OK_OPT_WRITTEN, scalar, n_streams)) return OK_ERR_ALIASING;
    return OK_SUCCESS;
}

/* Each tensor's new scalar states, once the elementwise pass is over. */
static void advance_scalars(const ok_optimizer *opt, const ok_mt_task *task) {
    for (size_t i = 0; i < task->count; i++) {
        float *scalar[OK_MT_MAX_STREAMS] = {NULL};
        for (size_t k = 0; k < opt->n_states; k++)
            if (opt->scalars >> k & 1 && task->stream[OK_OPT_STATE + k])
                scalar[k] = (float *)task->stream[OK_OPT_STATE + k][i];
        opt->advance(ok_mt_coeffs(task, i), scalar);
    }
}

/* Check everything, derive every set's coefficients, then run the kernel
 * over the tensor list (task: its arrays, without coefficients yet) with
 * the gradients scaled as `scaling` says. Nothing is written unless every
 * check passes. */
static ok_status run_task(const ok_optimizer *opt, const void *hp, size_t n_hp, ok_mt_task *task,
                          void *const *const *streams, const ok_grad_scaling *scaling) {
    if (!hp || !streams) return OK_ERR_NULL_POINTER;
    if (!ok_aligned(hp, sizeof(double))) return OK_ERR_ALIGNMENT;
    if (n_hp == 0) return OK_ERR_INDEX;
    if (!scaling) scaling = &no_scaling;
    if (!(scaling->unscale > 0 && scaling->unscale <= DBL_MAX)) return OK_ERR_HYPERPARAMETER;
    for (size_t k = 0; k < n_hp; k++)
        if (opt->check((const char *)hp + k * opt->hparams_size) != OK_SUCCESS) return OK_ERR_HYPERPARAMETER;
    for (size_t s = 0; s < stream_count(opt); s++) task->stream[s] = streams[s];
    task->coeff_size = opt->coeffs_size;
    task->state_shape = opt->state_shapes;
    ok_status st = check_task(opt, task, hp, n_hp);
    if (st != OK_SUCCESS) return st;
    ok_any_coeffs stack[OK_STACK_SETS];
    char *sets = n_hp <= OK_STACK_SETS ? (char *)stack : malloc(n_hp * opt->coeffs_size);
    if (!sets) return OK_ERR_NO_MEMORY;
    for (size_t k = 0; k < n_hp; k++)
        prepare_set(opt, (const char *)hp + k * opt->hparams_size, sets + k * opt->coeffs_size, scaling);
    task->coeffs = sets;
    if (opt->run)
        st = opt->run(task);
    else
        ok_mt_run(task, ok_active_kernels()->optimizer[opt->kernel]);
    if (st == OK_SUCCESS && opt->advance) advance_scalars(opt, task);
    if (sets != (char *)stack) free(sets);
    return st;
}

static ok_status run(const ok_optimizer *opt, const void *hp, size_t n_hp, const uint32_t *hp_index, size_t count,
                     const size_t *numel, const ok_dtypes *dtypes, const ok_dtype *dtype, ok_dtype uniform,
                     void *const *const *streams) {
    if (!opt) return OK_ERR_NULL_POINTER;
    if (count == 0) return OK_SUCCESS;
    ok_mt_task task = {count, numel, dtypes, dtype, uniform, {0}, NULL, 0, hp_index, NULL, NULL, NULL, NULL};
    return run_task(opt, hp, n_hp, &task, streams, NULL);
}

ok_status ok_optimizer_step(const ok_optimizer *opt, const void *hparams, size_t n_hp, const uint32_t *hp_index,
                            size_t count, const size_t *numel, const ok_dtypes *dtypes, void *const *const *streams) {
    if (count && !dtypes) return OK_ERR_NULL_POINTER;
    return run(opt, hparams, n_hp, hp_index, count, numel, dtypes, NULL, OK_FLOAT32, streams);
}

/* Element counts live on the stack for up to this many tensors. */
#define OK_STACK_TENSORS 64

ok_status ok_optimizer_step_shaped(const ok_optimizer *opt, const void *hparams, size_t n_hp,
                                   const uint32_t *hp_index, size_t count, const ok_shape *shapes,
                                   const ok_dtypes *dtypes, void *const *const *streams) {
    return ok_optimizer_step_scaled(opt, hparams, n_hp, hp_index, count, shapes, dtypes, streams, NULL);
}

ok_status ok_optimizer_step_scaled(const ok_optimizer *opt, const void *hparams, size_t n_hp,
                                   const uint32_t *hp_index, size_t count, const ok_shape *shapes,
                                   const ok_dtypes *dtypes, void *const *const *streams,
                                   const ok_grad_scaling *scaling) {
    ok_step_options options = OK_STEP_OPTIONS_DEFAULT;
    if (scaling) options.scaling = *scaling;
    return ok_optimizer_step_ex(opt, hparams, n_hp, hp_index, count, shapes, dtypes, streams, &options);
}

uint64_t ok_rounding_key(uint64_t seed, uint64_t step, uint64_t tensor) {
    return ok_mix64(ok_mix64(ok_mix64(seed) ^ step) ^ tensor);
}

ok_status ok_optimizer_step_ex(const ok_optimizer *opt, const void *hparams, size_t n_hp, const uint32_t *hp_index,
                               size_t count, const ok_shape *shapes, const ok_dtypes *dtypes,
                               void *const *const *streams, const ok_step_options *options) {
    static const ok_step_options defaults = OK_STEP_OPTIONS_DEFAULT;
    if (!options) options = &defaults;
    if (!opt) return OK_ERR_NULL_POINTER;
    if (count == 0) return OK_SUCCESS;
    if (!shapes || !dtypes) return OK_ERR_NULL_POINTER;
    for (size_t i = 0; i < count; i++)
        if (shapes[i].ndim && !shapes[i].dims) return OK_ERR_NULL_POINTER;
    size_t stack[OK_STACK_TENSORS];
    size_t *numel = count <= OK_STACK_TENSORS ? stack : malloc(count * sizeof *numel);
    if (!numel) return OK_ERR_NO_MEMORY;
    /* The product of the nonzero dims a size (ok_fits), so that every state's
     * extent (a product of some of them) is one too. */
    for (size_t i = 0; i < count; i++) {
        size_t nonzero = 1, zeros = 0;
        for (size_t d = 0; d < shapes[i].ndim; d++) {
            const size_t dim = shapes[i].dims[d];
            if (!ok_fits(nonzero, dim ? dim : 1, sizeof(double))) {
                if (numel != stack) free(numel);
                return OK_ERR_SIZE;
            }
            nonzero *= dim ? dim : 1;
            zeros += dim == 0;
        }
        numel[i] = zeros ? 0 : nonzero;
    }
    ok_mt_task task = {count, numel, dtypes, NULL, OK_FLOAT32, {0}, NULL, 0, hp_index, shapes, NULL,
                       options->master, options->rounding_key};
    ok_status st = run_task(opt, hparams, n_hp, &task, streams, &options->scaling);
    if (numel != stack) free(numel);
    return st;
}

/* ---------------------------------------- the entry points of each optimizer */

ok_status ok_sgd_check(const ok_sgd_hparams *hp) { return hp ? ok_sgd_checked(hp) : OK_ERR_NULL_POINTER; }
ok_status ok_adam_check(const ok_adam_hparams *hp) { return hp ? ok_adam_checked(hp) : OK_ERR_NULL_POINTER; }

ok_status ok_sgd(const ok_sgd_hparams *hp, size_t n_hp, const uint32_t *hp_index, size_t count, const size_t *numel,
                 const ok_dtype *dtype, void *const *param, const void *const *grad, void *const *momentum_buffer) {
    if (count && !dtype) return OK_ERR_NULL_POINTER;
    void *const *streams[] = {param, (void *const *)grad, momentum_buffer};
    return run(&ok_sgd_optimizer, hp, n_hp, hp_index, count, numel, NULL, dtype, OK_FLOAT32, streams);
}

ok_status ok_adam(const ok_adam_hparams *hp, size_t n_hp, const uint32_t *hp_index, size_t count, const size_t *numel,
                  const ok_dtype *dtype, void *const *param, const void *const *grad, void *const *exp_avg,
                  void *const *exp_avg_sq, void *const *max_exp_avg_sq) {
    if (count && !dtype) return OK_ERR_NULL_POINTER;
    void *const *streams[] = {param, (void *const *)grad, exp_avg, exp_avg_sq, max_exp_avg_sq};
    return run(&ok_adam_optimizer, hp, n_hp, hp_index, count, numel, NULL, dtype, OK_FLOAT32, streams);
}

/* The typed entry points: every tensor of one dtype. */
#define OK_OPTIM_TYPED(T, suffix, DTYPE)                                                                            \
    ok_status ok_sgd_##suffix(const ok_sgd_hparams *hp, size_t n_hp, const uint32_t *hp_index, size_t count,        \
                              const size_t *numel, T *const *param, const T *const *grad,                          \
                              T *const *momentum_buffer) {                                                         \
        void *const *streams[] = {(void *const *)param, (void *const *)grad, (void *const *)momentum_buffer};      \
        return run(&ok_sgd_optimizer, hp, n_hp, hp_index, count, numel, NULL, NULL, DTYPE, streams);               \
    }                                                                                                              \
    ok_status ok_adam_##suffix(const ok_adam_hparams *hp, size_t n_hp, const uint32_t *hp_index, size_t count,      \
                               const size_t *numel, T *const *param, const T *const *grad, T *const *exp_avg,      \
                               T *const *exp_avg_sq, T *const *max_exp_avg_sq) {                                   \
        void *const *streams[] = {(void *const *)param, (void *const *)grad, (void *const *)exp_avg,               \
                                  (void *const *)exp_avg_sq, (void *const *)max_exp_avg_sq};                       \
        return run(&ok_adam_optimizer, hp, n_hp, hp_index, count, numel, NULL, NULL, DTYPE, streams);              \
    }

OK_OPTIM_TYPED(float, f32, OK_FLOAT32)
OK_OPTIM_TYPED(double, f64, OK_FLOAT64)

/* ------------------------------------------------------- the overlap check */

static int span_before(const void *a, const void *b) {
    const ok_span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

ok_status ok_check_overlap(ok_span *spans, size_t n, size_t *first, size_t *second) {
    if (n == 0) return OK_SUCCESS;
    if (!spans) return OK_ERR_NULL_POINTER;
    /* Arrays are often listed in the order they were allocated, which is
     * often address order: then the sort is not needed. */
    size_t k = 1;
    while (k < n && span_before(&spans[k - 1], &spans[k]) < 0) k++;
    if (k < n) qsort(spans, n, sizeof *spans, span_before);
    /* Sweep in order of start: a span overlaps an earlier one iff it starts
     * before that one's end. Track the furthest end of all earlier spans
     * and of the earlier written ones; a read-only span conflicts only with
     * a written one. */
    const ok_span *far_any = NULL, *far_written = NULL;
    for (k = 0; k < n; k++) {
        const ok_span *s = &spans[k];
        if (s->end <= s->begin) continue;
        const ok_span *other = s->written ? far_any : far_written;
        if (other && s->begin < other->end) {
            if (first) *first = other->id;
            if (second) *second = s->id;
            return OK_ERR_ALIASING;
        }
        if (!far_any || s->end > far_any->end) far_any = s;
        if (s->written && (!far_written || s->end > far_written->end)) far_written = s;
    }
    return OK_SUCCESS;
}
