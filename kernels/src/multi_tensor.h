/*
 * The multi-tensor driver: one threaded pass over a LIST of tensors.
 *
 * A task is a list of `count` tensors; tensor i has numel[i] elements and
 * up to OK_MT_MAX_STREAMS arrays ("streams": param, grad, each state), all
 * of that length, at stream[s][i]. Each tensor has its dtype signature
 * (ok_dtypes: the parameter's, the gradient's, the states'), so tensors of
 * different dtypes may share a task. ok_mt_run splits the concatenated
 * element range into one contiguous piece per thread and calls the span
 * function of the tensor's kernel variant (variants.h) on each
 * (tensor, [begin, end)) piece. Piece boundaries fall on
 * multiples of OK_MT_GRAIN elements from the tensor's start. Since every
 * kernel treats each element with the same arithmetic wherever it lies (see
 * simd.h), the result does not depend on the thread count.
 */
#ifndef OPTKERN_MULTI_TENSOR_H
#define OPTKERN_MULTI_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "optkern/optim.h"
#include "variants.h"

#define OK_MT_MAX_STREAMS 8
#define OK_MT_GRAIN 64

typedef struct ok_mt_task {
    size_t count;
    const size_t *numel;
    /* The dtypes of tensor i: dtypes[i]; else every stream of dtype[i];
     * else (both NULL) every stream of every tensor `uniform`. */
    const ok_dtypes *dtypes;
    const ok_dtype *dtype;
    ok_dtype uniform;
    void *const *stream[OK_MT_MAX_STREAMS];
    const void *coeffs;          /* coefficient sets, coeff_size bytes each */
    size_t coeff_size;
    const uint32_t *coeff_index; /* set of tensor i; NULL: set 0 for all */
} ok_mt_task;

typedef void (*ok_mt_span_fn)(const ok_mt_task *task, size_t tensor, size_t begin, size_t end);

static inline ok_dtypes ok_mt_dtypes(const ok_mt_task *task, size_t i) {
    if (task->dtypes) return task->dtypes[i];
    ok_dtype d = task->dtype ? task->dtype[i] : task->uniform;
    ok_dtypes all = {d, d, d};
    return all;
}

/* The dtype of stream s of a tensor: the parameter's, the gradient's, or
 * (any later stream) the states'. */
static inline ok_dtype ok_stream_dtype(ok_dtypes d, int s) { return s == 0 ? d.param : s == 1 ? d.grad : d.state; }

/* The coefficient set of tensor i. */
static inline const void *ok_mt_coeffs(const ok_mt_task *task, size_t i) {
    size_t k = task->coeff_index ? task->coeff_index[i] : 0;
    return (const char *)task->coeffs + k * task->coeff_size;
}

/* Element-typed base pointer of stream s of tensor i, offset by `begin`. */
#define OK_MT_PTR(type, task, s, i, begin) ((type *)(task)->stream[s][i] + (begin))

/* The value of a scalar stream s (one float per tensor, whatever the
 * tensor's dtype: an optimizer's scalar state) of tensor i. */
#define OK_MT_SCALAR(task, s, i) (*(const float *)(task)->stream[s][i])

/* Run the span function of each tensor's variant (fns[ok_variant_of(...)],
 * which the caller has checked exists) over every element of the task,
 * threaded when the work is large enough to pay for it. */
void ok_mt_run(const ok_mt_task *task, const ok_mt_span_fn *fns);

/* Threads to use for `elements` of elementwise work: 1 below the measured
 * break-even size, or while a recent region waited on a busy machine; else
 * the configured count. ok_threads_observe (optkern/internal/testing.h)
 * is what a threaded region reports after it ran: its wall time and its
 * busiest thread's working time (ok_busiest of busy[t] per thread t), in
 * seconds; see multi_tensor.c on contention. */
int ok_threads_for(size_t elements);
double ok_busiest(const double *busy, int threads);
void ok_threads_observe(double wall, double busiest);

/* Within each tensor, does a written stream overlap any other stream?
 * Bit s of `written` is set for the streams that are written, bit s of
 * `scalar` for those that hold one float per tensor; NULL lists and NULL
 * entries are skipped. */
int ok_mt_streams_overlap(const ok_mt_task *task, unsigned written, unsigned scalar, int n_streams);

#endif /* OPTKERN_MULTI_TENSOR_H */
