/*
 * What the GPU backend (python/optkern/cuda, docs/gpu.md) asks of the C
 * library: the host side of a call, everything that does not read the
 * arrays, so that its CUDA kernels run the same kernel bodies on the same
 * coefficients. Internal: not part of the public C API, no stability
 * promise.
 */
#ifndef OPTKERN_INTERNAL_GPU_H
#define OPTKERN_INTERNAL_GPU_H

#include <stddef.h>

#include "optkern/losses.h"

/* The size of the task an elementwise loss runs on (loss/tasks.h's
 * ok_ew_task), at most OK_EW_TASK_WORDS 8-byte words. */
#define OK_EW_TASK_WORDS 32

/*
 * ok_elementwise_loss's prepare step alone: its checks of the name, the
 * options and the reduction (OK_ERR_UNSUPPORTED, OK_ERR_HYPERPARAMETER), and
 * the task its kernel body reads, written to `task`: the operands' pointers
 * are the options' (not read here), input, target, loss and grad are NULL
 * (the caller sets them). *denominator is the reduction's (n, batch, or 1) and *by_weight 1
 * where 'mean' divides by the sum of the weights instead; the gradient
 * coefficients are not yet divided by either. Reads no array.
 */
ok_status ok_elementwise_task(const char *name, size_t n, const ok_elementwise_options *options,
                              ok_reduction reduction, void *task, size_t *task_size, double *denominator,
                              int *by_weight);

#endif /* OPTKERN_INTERNAL_GPU_H */
