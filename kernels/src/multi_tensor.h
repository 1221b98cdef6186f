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
#include "half.h"
#include "portable.h"
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
    /* Each tensor's shape (ok_optimizer_step_shaped; NULL: each is a
     * vector of numel[i] elements) and the ok_state_shape of each stream
     * after the gradient (NULL: each has its parameter's shape). */
    const ok_shape *shape;
    const unsigned char *state_shape;
    /* The float32 master copy of each 16-bit parameter (NULL, or NULL
     * entries: none), and each tensor's stochastic rounding key (NULL:
     * round to nearest): ok_step_options, optkern/optim.h. */
    void *const *master;
    const uint64_t *round_key;
} ok_mt_task;

typedef void (*ok_mt_span_fn)(const ok_mt_task *task, size_t tensor, size_t begin, size_t end);

OK_FN ok_dtypes ok_mt_dtypes(const ok_mt_task *task, size_t i) {
    if (task->dtypes) return task->dtypes[i];
    ok_dtype d = task->dtype ? task->dtype[i] : task->uniform;
    ok_dtypes all = {d, d, d};
    return all;
}

/* The dtype of stream s of a tensor: the parameter's, the gradient's, or
 * (any later stream) the states'. */
OK_FN ok_dtype ok_stream_dtype(ok_dtypes d, int s) { return s == 0 ? d.param : s == 1 ? d.grad : d.state; }

/* Tensor i as a batch of matrices (ndim >= 2, shaped calls): 1 and its
 * batch (the product of the leading dims), rows and cols; else 0. */
OK_FN int ok_mt_matrix(const ok_mt_task *task, size_t i, size_t *batch, size_t *rows, size_t *cols) {
    if (!task->shape || task->shape[i].ndim < 2) return 0;
    const ok_shape *sh = &task->shape[i];
    *rows = sh->dims[sh->ndim - 2];
    *cols = sh->dims[sh->ndim - 1];
    *batch = 1;
    for (size_t d = 0; d + 2 < sh->ndim; d++) *batch *= sh->dims[d];
    return 1;
}

/* The elements of stream s of tensor i: numel[i], or what its state shape
 * leaves of it (0 where the state is absent). */
OK_FN size_t ok_mt_extent(const ok_mt_task *task, size_t i, int s) {
    size_t n = task->numel[i], batch, rows, cols;
    if (s < 2 || !task->state_shape || n == 0) return n;
    int matrix = ok_mt_matrix(task, i, &batch, &rows, &cols);
    switch (task->state_shape[s - 2]) {
    case OK_STATE_VECTOR: return matrix ? 0 : n;
    case OK_STATE_ROWS: return matrix ? batch * rows : 0;
    case OK_STATE_COLS: return matrix ? batch * cols : 0;
    default: return n;
    }
}

/* What a span of an optimizer body needs to move its streams
 * (target/storage-inl.h): tensor i's master copy and rounding from
 * element `first` on. */
typedef struct ok_io {
    float *master;      /* the float32 master copy at element `first`, or NULL */
    size_t first;       /* the span's first element within its tensor */
    int stochastic;     /* round bfloat16 stores stochastically */
    uint64_t key;       /* the tensor's rounding key */
    uint32_t index_key; /* ok_index_key(key, first >> 32) (half.h) */
} ok_io;

OK_FN ok_io ok_io_of(const ok_mt_task *task, size_t i, size_t first) {
    ok_io io;
    io.master = task->master && task->master[i] ? (float *)task->master[i] + first : NULL;
    io.first = first;
    io.stochastic = task->round_key != NULL;
    io.key = io.stochastic ? task->round_key[i] : 0;
    io.index_key = io.stochastic ? ok_index_key(io.key, (uint64_t)first >> 32) : 0;
    return io;
}

/* Streams without master copies, rounded to nearest: for the passes that
 * support nothing else (Adafactor's). */
OK_DEVICE_DATA const ok_io ok_io_none = {NULL, 0, 0, 0, 0};

/* The coefficient set of tensor i. */
OK_FN const void *ok_mt_coeffs(const ok_mt_task *task, size_t i) {
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
 * entries are skipped; the other streams span their ok_mt_extent. The
 * master copies (task->master) count as one more written stream. */
int ok_mt_streams_overlap(const ok_mt_task *task, unsigned written, unsigned scalar, int n_streams);

#endif /* OPTKERN_MULTI_TENSOR_H */
