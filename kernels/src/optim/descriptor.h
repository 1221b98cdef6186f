/*
 * What describes an optimizer to the rest of the library (optim.c, the
 * binding through the public accessors of optkern/optim.h, and its tests):
 * one ok_optimizer per optimizer, defined in optim/<name>.h beside the
 * struct of per-step coefficients its kernel body (optim/<name>-inl.h) reads.
 *
 * Every optimizer's task has the same stream order: the parameter, its
 * gradient (the one stream only read), then its states in the order of
 * `states`, then its work arrays in the order of `work`. A state has its
 * parameter's shape unless `state_shapes` says otherwise. A work array is
 * written by the kernel but is not part of the optimizer's state: it
 * belongs to one step, and lets an optimizer whose step is more than
 * elementwise work hand a result to its caller and take one back (Muon's
 * matrix to orthogonalise, optim/muon.h). Most optimizers have none. The
 * coefficients are everything that depends only on the
 * hyperparameters and the step count, derived once per call in double by
 * `prepare` (the host side) so that kernels do per-element work only;
 * kernels round them to the variant's real_t. Every coefficient struct
 * begins with an ok_grad_scaling (OK_GRAD_SCALING_FIRST): the call's
 * gradient scaling (optkern/optim.h), which the runner writes into every
 * set after `prepare` and every kernel applies as it loads a gradient
 * (ok_vld_grad, optim/pointwise-inl.h).
 *
 * A state may be a scalar (bit k of `scalars`): one float per tensor, not
 * an array, at stream[2 + k][i], present even for an empty tensor. torch
 * keeps such states as 0-d float32 tensors that it updates at each step
 * (NAdam's mu_product, ASGD's eta and mu), so their values depend on the
 * tensor's history, not only on its set and step count. The elementwise
 * pass only reads them: a span derives its tensor's coefficients from its
 * set's and the scalars (OK_MT_SCALAR). Once the pass is over, `advance`
 * writes every tensor's new scalars, from its set's coefficients and the
 * old scalars. A step with t = 1 does not read them: it starts them as
 * torch's constructor does, so a new scalar may hold anything.
 */
#ifndef OPTKERN_OPTIM_DESCRIPTOR_H
#define OPTKERN_OPTIM_DESCRIPTOR_H

#include <math.h>
#include <stddef.h>

#include "multi_tensor.h"
#include "optkern/optim.h"

enum { OK_OPT_PARAM = 0, OK_OPT_GRAD = 1, OK_OPT_STATE = 2 };

/* Weight decay, as the kernels apply it. */
enum { OK_WD_NONE = 0, OK_WD_COUPLED = 1, OK_WD_DECOUPLED = 2 };

struct ok_optimizer {
    const char *name;           /* the C name: ok_<name>, ok_<name>_hparams */
    int kernel;                 /* its row of the kernel table (OK_OPT_<name>) */
    size_t hparams_size;        /* sizeof(ok_<name>_hparams) */
    size_t n_fields;            /* the members of ok_<name>_hparams */
    const ok_field *fields;
    size_t n_states;            /* its state streams, torch's names */
    const char *const *states;
    size_t coeffs_size;         /* sizeof its coefficient struct */
    /* OK_SUCCESS or OK_ERR_HYPERPARAMETER; hp is not NULL. */
    ok_status (*check)(const void *hp);
    /* The coefficients of a checked set. */
    void (*prepare)(const void *hp, void *coeffs);
    /* Bit k set: states[k] must be present for a tensor using set hp
     * (where its state shape gives the tensor one); bit n_states + j:
     * work[j]. */
    unsigned (*required)(const void *hp);
    /* Bit k set: states[k] is a scalar (above); 0 when there are none. */
    unsigned scalars;
    /* One tensor's new scalars, after the pass: scalar[k] points at the
     * float of states[k] when it is a present scalar, else NULL. NULL
     * when there are no scalars. */
    void (*advance)(const void *coeffs, float *const *scalar);
    size_t n_work;              /* its work arrays (after the states); 0 for most */
    const char *const *work;
    /* The ok_state_shape of each state, then of each work array (every
     * stream after the gradient, in order: the extents read them all);
     * NULL: every one has its parameter's shape. */
    const unsigned char *state_shapes;
    /* NULL: an elementwise optimizer, one pass of the multi-tensor driver
     * over its kernel table row. Else the optimizer's own passes over a
     * checked task whose coefficient sets are prepared (Adafactor's
     * reductions between passes); OK_SUCCESS, or OK_ERR_NO_MEMORY with
     * nothing written. */
    ok_status (*run)(const ok_mt_task *task);
    /* 1: its passes read no master copy and round 16-bit stores to nearest
     * only, so a call with either option is OK_ERR_UNSUPPORTED
     * (Adafactor's). */
    int nearest_only;
};

/* Declarations for the host only: a descriptor points at host functions (a
 * runner, its checks), which the CUDA sources (kernels/cuda), compiling these
 * headers for their coefficient structs and kernel bodies, leave out. */
#ifdef __CUDACC__
#define OK_HOST_ONLY(...)
#else
#define OK_HOST_ONLY(...) __VA_ARGS__
#endif

/* The members every descriptor has, from its names: ok_<name>_hparams,
 * _fields, _states, _coeffs, _checked, _prepare, _required. A descriptor is
 * {OK_DESCRIPTOR(name)} plus, designated, the optional members it has
 * (.scalars and .advance, .n_work and .work, .state_shapes, .run). */
#define OK_DESCRIPTOR(NAME)                                                                                        \
    .name = #NAME, .kernel = OK_OPT_##NAME, .hparams_size = sizeof(ok_##NAME##_hparams),                           \
    .n_fields = OK_COUNT_OF(ok_##NAME##_fields), .fields = ok_##NAME##_fields,                                     \
    .n_states = OK_COUNT_OF(ok_##NAME##_states), .states = ok_##NAME##_states,                                     \
    .coeffs_size = sizeof(ok_##NAME##_coeffs), .check = ok_##NAME##_checked, .prepare = ok_##NAME##_prepare,       \
    .required = ok_##NAME##_required

/* torch's lerp(a, b, w) = a + w(b - a), as the kernels compute it
 * (ok_vlerp, optim/pointwise-inl.h; docs/optimizers.md#adam-and-adamw): when
 * |w| < 0.5, a + w(b - a) (coeff = w); else b - (1 - w)(b - a)
 * (coeff = w - 1, from_end), which is exact at w = 1 (the result is b). */
typedef struct ok_lerp {
    double coeff;
    int from_end;
} ok_lerp;

OK_FN ok_lerp ok_lerp_weight(double w) {
    ok_lerp l;
    l.from_end = fabs(w) >= 0.5;
    l.coeff = l.from_end ? w - 1.0 : w;
    return l;
}

/* Asserts that coefficient struct `type` begins with its ok_grad_scaling,
 * `member` (optim.c writes it at offset 0 of each set). */
#define OK_GRAD_SCALING_FIRST(type, member) \
    OK_STATIC_ASSERT(offsetof(type, member) == 0, #type " must begin with its ok_grad_scaling")

/* A field of hyperparameter struct `type`, for an ok_optimizer's table. */
#define OK_FIELD(type, member, kind) {#member, kind, offsetof(type, member)}

/* The table length of a static array. */
#define OK_COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

#endif /* OPTKERN_OPTIM_DESCRIPTOR_H */
