/*
 * optkern: optimizer updates and loss gradients as plain C kernels.
 *
 * The umbrella header of the C library: include this one. It needs nothing
 * but a C99 (or C++11) compiler and the library: no Python. Every function
 * that can fail returns an ok_status and never aborts, exits or prints; a
 * call that returns an error has written nothing. Each header says, per
 * function or per block of functions that share one contract, what it
 * computes, its preconditions and the status each bad argument gives.
 *
 *   optkern/common.h  status codes, instruction sets, threads
 *   optkern/optim.h   optimizer updates (SGD, Adam, AdamW, ...; and every
 *                     optimizer described by data: ok_optimizer_*)
 *   optkern/losses.h  losses with their gradients (cross-entropy, MSE, ...)
 *   optkern/vector.h  a list of arrays as one vector: dot products, norms,
 *                     y <- alpha x + beta y (L-BFGS's vector work)
 *
 * Every optimizer and loss of the Python package runs on these calls; the
 * pieces it composes itself, a C caller composes the same way
 * (python/optkern holds each recipe):
 *   - a training loop's bookkeeping: step counts (the hyperparameter's step,
 *     first_step on a tensor's first update), states allocated as zeros
 *     (Adagrad's sum at initial_accumulator_value), learning-rate schedules
 *     (pass each step's lr), checkpoints;
 *   - fields the classes derive: Lion's decoupled weight decay (divided by
 *     the constructor's lr), ADOPT's clip (clip_lambda(step - 1)), Muon's lr_ratio
 *     (from the matrix's shape), Adafactor's eps1=None (eps1_machine), the
 *     schedule-free lr_t and ckp1 from the warmup and the group's running
 *     sums (docs/optimizers.md#schedule-free-sgd-and-adamw);
 *   - L-BFGS: its two-loop recursion, line search and stopping tests are
 *     scalar logic over ok_vec_dot, ok_vec_abs_sum, ok_vec_abs_max and
 *     ok_vec_axpby on the flattened parameters (docs/optimizers.md#l-bfgs);
 *   - Muon's Newton-Schulz orthogonalisation: matrix products (any BLAS)
 *     and ok_vec_axpby, between the two stages of ok_muon_hparams;
 *   - clip_grad_norm_: the norm from ok_vec_dot (p = 2), ok_vec_abs_sum
 *     (1) or ok_vec_abs_max (inf), the scaling by ok_vec_axpby (beta = 0,
 *     y = x), or folded into a step (ok_grad_scaling, docs/clipping.md);
 *     other p and clip_grad_value_ are plain loops;
 *   - a GradScaler: inf/NaN found by ok_vec_abs_max, unscaling by
 *     ok_grad_scaling (or ok_vec_axpby), the scale's growth and backoff;
 *   - linear_cross_entropy: logits = hidden weight^T (+ bias) one chunk of
 *     rows at a time (any BLAS), ok_cross_entropy on each chunk, its
 *     gradient multiplied back (docs/losses.md).
 */
#ifndef OPTKERN_OPTKERN_H
#define OPTKERN_OPTKERN_H

#include "optkern/common.h"
#include "optkern/optim.h"
#include "optkern/losses.h"
#include "optkern/vector.h"

#endif /* OPTKERN_OPTKERN_H */
